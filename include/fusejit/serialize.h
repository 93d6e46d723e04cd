// Named tensors in and out, in the safetensors format (what PyTorch users
// exchange weights in): an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the data.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <fusejit/tensor.h>

namespace fusejit {

// Named tensors in order: "0.weight", "0.bias", ... as a state_dict's keys.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Writes `tensors` (realized together, in one plan) to `path`, in the given
// order; names must be distinct and not "__metadata__" (a ValueError). An
// IOError names the path if it cannot be written.
void save(const NamedTensors &tensors, const std::string &path);

// Reads every tensor of a safetensors file, in the header's order. The file
// is memory-mapped: f32 and f64 entries are read in place (the mapping lives
// while a tensor uses it), f16 and bf16 entries are converted to f32. A
// malformed file (truncated, a bad header, a byte range that does not fit
// its dtype and shape or the file, an unsupported dtype) is an IOError
// naming the path, the entry and the values that disagree.
NamedTensors load(const std::string &path);

}  // namespace fusejit
