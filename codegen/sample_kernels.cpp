// IRBuilder versions of the sample kernels (see sample_kernels.h).
#include "codegen/sample_kernels.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/fast_math.h"
#include "codegen/host_target.h"
#include "codegen/optimize.h"

namespace fusejit {

namespace {

LoweredModule new_module(const std::string &name) {
  LoweredModule m;
  m.context = std::make_unique<llvm::LLVMContext>();
  m.module = std::make_unique<llvm::Module>(name, *m.context);
  set_host_target(*m.module);
  return m;
}

// for (i = 0; i < n; ++i) y[i] = a * x[i] + y[i], guarded for n <= 0.
void build_saxpy(llvm::Module &module, Numerics numerics) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *f32 = llvm::Type::getFloatTy(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, ptr, f32, i64}, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, kSaxpySymbol, module);
  llvm::Value *x = fn->getArg(0), *y = fn->getArg(1);
  llvm::Value *a = fn->getArg(2), *n = fn->getArg(3);
  // Distinct buffers, as plan_memory guarantees for kernels: lets the
  // vectorizer skip runtime overlap checks.
  fn->addParamAttr(0, llvm::Attribute::NoAlias);
  fn->addParamAttr(1, llvm::Attribute::NoAlias);

  auto *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto *loop = llvm::BasicBlock::Create(ctx, "loop", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, "exit", fn);
  llvm::IRBuilder<> b(entry);
  b.setFastMathFlags(fast_math_flags(numerics));
  b.CreateCondBr(b.CreateICmpSGT(n, b.getInt64(0)), loop, exit);

  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(b.getInt64(0), entry);
  llvm::Value *py = b.CreateGEP(f32, y, i);
  llvm::Value *xi = b.CreateLoad(f32, b.CreateGEP(f32, x, i), "xi");
  llvm::Value *yi = b.CreateLoad(f32, py, "yi");
  b.CreateStore(b.CreateFAdd(b.CreateFMul(a, xi), yi), py);
  llvm::Value *next = b.CreateAdd(i, b.getInt64(1), "next", true, true);
  i->addIncoming(next, loop);
  b.CreateCondBr(b.CreateICmpSLT(next, n), loop, exit);

  b.SetInsertPoint(exit);
  b.CreateRetVoid();
}

LoweredModule saxpy_module(Numerics numerics, const std::string &name) {
  LoweredModule m = new_module(name);
  build_saxpy(*m.module, numerics);
  return m;
}

}  // namespace

CompiledFunction compile_sample_saxpy(JitEngine &engine, Numerics numerics,
                                      const std::string &cache_key, const std::string &symbol) {
  return engine.compile(cache_key, symbol, [&] { return saxpy_module(numerics, cache_key); });
}

void *compile_sample_saxpy(Numerics numerics, const std::string &cache_key) {
  return compile_sample_saxpy(jit_engine(), numerics, cache_key).address;
}

std::string dump_sample_saxpy(Numerics numerics, DumpStage stage) {
  LoweredModule m = saxpy_module(numerics, "saxpy");
  std::string text = dump_llvm_module(*m.module, stage);
  m.module.reset();  // before its context
  return text;
}

CompiledFunction compile_sample_exp(JitEngine &engine, const std::string &cache_key) {
  return engine.compile(cache_key, "sample_exp", [&] {
    LoweredModule m = new_module(cache_key);
    llvm::LLVMContext &ctx = *m.context;
    llvm::Type *f64 = llvm::Type::getDoubleTy(ctx);
    auto *type = llvm::FunctionType::get(f64, {f64}, false);
    llvm::FunctionCallee exp = m.module->getOrInsertFunction("exp", type);
    auto *fn =
        llvm::Function::Create(type, llvm::Function::ExternalLinkage, "sample_exp", *m.module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
    b.CreateRet(b.CreateCall(exp, {fn->getArg(0)}));
    return m;
  });
}

}  // namespace fusejit
