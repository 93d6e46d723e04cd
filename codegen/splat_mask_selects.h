// A rewrite after the O3 pipeline, before instruction selection, that keeps
// LLVM 19's X86 backend out of an endless DAG combine: with AVX-512 masks,
// `select i1 %c, <N x i1> A, <N x i1> B` (a scalar condition choosing
// between vectors of bools, which the loop vectorizer makes of a masked
// load's validity under an outer loop's index) combined with and/or/xor of
// such masks loops in the combiner forever (llvm/llvm-project#123333, fixed
// after 19). The same select on a splat of %c is the same value and does not.
#pragma once

namespace llvm {
class Module;
}  // namespace llvm

namespace fusejit {

// Rewrites every such select in `module`; returns how many.
int splat_mask_selects(llvm::Module &module);

}  // namespace fusejit
