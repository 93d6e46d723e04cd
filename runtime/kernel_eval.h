// Runs one kernel of the kernel IR with plain scalar loops. It checks the
// fusion pass (graph -> kernels) on its own, apart from LLVM: a plan run
// through it must agree with the reference interpreter.
#pragma once

#include <string>
#include <vector>

#include "ir/kernel.h"
#include "runtime/buffer.h"

namespace fusejit {

// `inputs` match k.inputs and `outputs` match k.outputs, in order.
void eval_kernel(const Kernel &k, const std::vector<const Buffer *> &inputs,
                 const std::vector<Buffer *> &outputs);

// The position an access reads at `domain_index`, or -1 where a range of
// the access excludes the point (a layer's position is unravelled only
// where it is valid). `values` are the kernel's instruction values at the
// point, where a gather finds its index; one outside its extent throws the
// IndexError naming it, kernel `kernel` and the point. Row kernels
// (runtime/row_eval.cpp) read through it too.
int64_t load_position(const Access &a, const Index &domain_index, const std::vector<double> &values,
                      const std::string &kernel);

// The value of instruction `in` of `k` at `index` (a Load, Iota, Valid,
// Const or Compute; a Reduced value is the caller's), before it is rounded
// to its dtype. `values` are the instructions evaluated so far at the point.
// An integer division by zero throws, naming the kernel and the point. The
// row evaluator evaluates its instructions through it too.
double eval_instr(const Kernel &k, const Instr &in, const Index &index,
                  const std::vector<double> &values, const std::vector<const Buffer *> &inputs);

}  // namespace fusejit
