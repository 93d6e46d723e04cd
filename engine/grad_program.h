// The program a `--grad` run or dump works on: the original outputs plus,
// for every input, `grad_NAME`, the gradient of the sum of all outputs with
// respect to it, built by autodiff in the same graph so forward and backward
// are optimized and fused together.
#pragma once

#include "ir/program.h"

namespace fusejit {

Program with_gradients(const Program &p);

}  // namespace fusejit
