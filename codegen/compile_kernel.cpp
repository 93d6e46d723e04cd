#include "codegen/compile_kernel.h"

#include <memory>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/lower_kernel.h"
#include "codegen/optimize.h"

namespace fusejit {

CompiledKernel compile_kernel(JitEngine &jit, const Kernel &k, Numerics numerics) {
  std::string key = kernel_cache_key(k, numerics);
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module = lower_kernel(k, numerics, *context);
  CompiledKernel out;
  out.code = jit.compile(std::move(module), std::move(context), kKernelSymbol, key);
  out.fn = reinterpret_cast<KernelFn>(out.code.address);
  out.parallel_extent = parallel_extent(k);
  return out;
}

CompiledKernel compile_kernel(const Kernel &k, Numerics numerics) {
  return compile_kernel(jit_engine(), k, numerics);
}

std::string dump_kernel(const Kernel &k, Numerics numerics, DumpStage stage) {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = lower_kernel(k, numerics, context);
  return dump_llvm_module(*module, stage);
}

}  // namespace fusejit
