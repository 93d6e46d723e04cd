// fusejit: lazy tensors whose graphs are fused and compiled to native loops.
// The one header a user includes.
#pragma once

#include "engine/dump.h"
#include "engine/tensor.h"
#include "ir/error.h"
