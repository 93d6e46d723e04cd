// A value the runtime attaches to a graph node: an input's data or a
// realized result. Opaque here so that ir/ depends on nothing of ours; the
// runtime's Storage is the only implementation.
#pragma once

namespace fusejit {

struct NodeValue {
  virtual ~NodeValue() = default;
};

}  // namespace fusejit
