// fusejit: lazy tensors whose graphs are fused and compiled to native loops.
// The one header a user includes; every header it includes is under
// <fusejit/...> and holds only what a user needs.
#pragma once

#include <fusejit/data.h>
#include <fusejit/dtype.h>
#include <fusejit/dump.h>
#include <fusejit/error.h>
#include <fusejit/grad_mode.h>
#include <fusejit/nn.h>
#include <fusejit/optim.h>
#include <fusejit/row_ops.h>
#include <fusejit/serialize.h>
#include <fusejit/settings.h>
#include <fusejit/tensor.h>
