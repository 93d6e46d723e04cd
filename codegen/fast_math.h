// The fast-math flags the lowering puts on every floating-point instruction
// (builder.setFastMathFlags(fast_math_flags(numerics))). This is the only
// place Numerics becomes LLVM semantics: the target machine fuses to FMA
// only where `contract` is set (see host_target.cpp).
#pragma once

#include <llvm/IR/FMF.h>

#include "codegen/jit.h"

namespace fusejit {

inline llvm::FastMathFlags fast_math_flags(Numerics numerics) {
  llvm::FastMathFlags flags;
  if (numerics == Numerics::Fast) {
    // Not nnan/ninf/nsz/arcp: those change results on NaN, inf, -0 and
    // division, which fast numerics does not promise to give up.
    flags.setAllowContract(true);
    flags.setAllowReassoc(true);
  }
  return flags;
}

}  // namespace fusejit
