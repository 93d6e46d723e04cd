// The `.fj` parser (grammar in ../shared/DESIGN.md and ir/README.md).
// Errors throw ParseError with "FILE:LINE:COL: error: MESSAGE", the line, and
// a caret under the offending column. Shape errors found while building the
// graph are reported the same way, at the expression that caused them.
#pragma once

#include <string>
#include <string_view>

#include "ir/program.h"

namespace fusejit {

Program parse_program(std::string_view source, const std::string &filename = "<input>");
// Reads and parses a file; an unreadable file is an IOError naming the path.
Program parse_program_file(const std::string &path);

}  // namespace fusejit
