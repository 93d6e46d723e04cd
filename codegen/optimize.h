// The LLVM optimization pipeline kernels go through, and the dumps that
// show its input and output (`fusejit dump --stage llvm|asm`).
#pragma once

#include <string>

#include "codegen/jit.h"

namespace llvm {
class Module;
class TargetMachine;
class Error;
}  // namespace llvm

namespace fusejit {

// Checks `module` with LLVM's verifier; the failure names what is broken.
llvm::Error verify_llvm_module(const llvm::Module &module);

// Runs the new pass manager's O3 pipeline with `tm`'s cost model (so the
// vectorizers see the host's vector width and FMA units). The module gets
// tm's triple and data layout first.
void optimize_module(llvm::Module &module, llvm::TargetMachine &tm);

// Loads glibc's vector math library (libmvec) into the process, once, so
// JIT'd code can call its vector exp/log/pow; false if it is not there.
// The JIT calls it before linking any kernel, cached objects included.
bool load_vector_math_library();

// Marks `module` so optimize_module computes its exp/log/pow through
// libmvec (when it is loaded), the same routine at every width
// (vector_math.h). Its results differ from scalar libm's by a few ulp, so
// only kernels that do not promise reproducible results may ask for it.
void request_vector_math(llvm::Module &module);

// `module` as text at `stage`: as given, after optimize_module, or as host
// assembly from the JIT's own target machine settings. Works on a clone;
// the caller must own module's LLVMContext (it is not locked here). Throws
// CompileError if the module is invalid.
std::string dump_llvm_module(const llvm::Module &module, DumpStage stage);

}  // namespace fusejit
