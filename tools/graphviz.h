// Rendering DOT text with Graphviz's `dot`, for `fusejit dump --png`.
#pragma once

#include <string>

namespace fusejit::tool {

// Runs `dot -Tpng -o FILE` on `dot_text`. Throws ValueError when `dot` is
// not on PATH, IOError when it fails.
void render_png(const std::string &dot_text, const std::string &file);

}  // namespace fusejit::tool
