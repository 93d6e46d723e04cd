#include "codegen/compile_kernel.h"

#include <memory>
#include <optional>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/lower_kernel.h"
#include "codegen/optimize.h"

namespace fusejit {

CompiledKernel compile_kernel(JitEngine &jit, const Kernel &k, Numerics numerics) {
  std::optional<int64_t> extent;  // the lowering's, if the caches miss
  CompiledKernel out;
  out.code = jit.compile(kernel_cache_key(k, numerics), kKernelSymbol, [&] {
    LoweredModule m;
    m.context = std::make_unique<llvm::LLVMContext>();
    LoweredKernel lowered = lower_kernel(k, numerics, *m.context);
    m.module = std::move(lowered.module);
    extent = lowered.parallel_extent;
    return m;
  });
  out.fn = reinterpret_cast<KernelFn>(out.code.address);
  // On a hit the key stands for a kernel of this structure that verified
  // when it was lowered, so this kernel needs no verifying either.
  out.parallel_extent = extent ? *extent : parallel_extent(k);
  return out;
}

CompiledKernel compile_kernel(const Kernel &k, Numerics numerics) {
  return compile_kernel(jit_engine(), k, numerics);
}

std::string dump_kernel(const Kernel &k, Numerics numerics, DumpStage stage) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = lower_kernel(k, numerics, context).module;
  return dump_llvm_module(*module, stage);
}

}  // namespace fusejit
