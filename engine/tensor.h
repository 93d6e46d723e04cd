// The tensor type for fusejit's own code: the public Tensor
// (fusejit/tensor.h) with the graph IR it wraps in view.
#pragma once

#include <fusejit/grad_mode.h>
#include <fusejit/tensor.h>

#include "ir/error.h"
#include "ir/node.h"
#include "ir/shape.h"
