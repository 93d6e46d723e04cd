// One definition per math function in fast numerics (codegen-internal):
// a value such as exp(x) must come out bit for bit the same wherever it is
// computed, in a loop's vector body, its scalar tail, or another kernel that
// recomputes it, or a comparison like `x == max(x)` fails on the maximum.
#pragma once

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace fusejit {

// Rewrites every call in `module` to a math function libmvec has a vector
// routine for (llvm.exp/log/pow/sin/cos..., scalar or vector) so that it
// computes through one routine: the widest that fits tm's vector registers.
// A scalar call goes through a wrapper that runs the routine on a splat and
// takes lane 0, tagged so the loop vectorizer calls the routine itself.
// Run before the O3 pipeline, in place of LLVM's own vector-library
// mapping (which mixes libm's scalar results with libmvec's vector ones).
// libmvec must be loaded (load_vector_math_library).
void bind_vector_math(llvm::Module &module, llvm::TargetMachine &tm);

// Whether the loaded libmvec has tanh's routines (glibc 2.35 and later):
// then bind_vector_math binds tanh too. Part of a kernel's cache key, as
// objects built with them call them.
bool vector_tanh_available();

}  // namespace fusejit
