// O3 for the host, and the IR/assembly dumps built on the same pipeline so
// that what is dumped is what runs.
#include "codegen/optimize.h"

#include <mutex>

#include <llvm/ADT/SmallString.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include "codegen/host_target.h"
#include "codegen/llvm_error.h"
#include "codegen/splat_mask_selects.h"
#include "codegen/vector_math.h"
#include "ir/check_stats.h"

namespace fusejit {

llvm::Error verify_llvm_module(const llvm::Module &module) {
  count_check(Check::LlvmModule);
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(module, &os))
    return llvm_error("module " + module.getModuleIdentifier() + " is invalid: " + os.str());
  return llvm::Error::success();
}

namespace {

constexpr const char *kVectorMathFlag = "fusejit.vector-math";

bool wants_vector_math(const llvm::Module &module) {
  return module.getModuleFlag(kVectorMathFlag) != nullptr;
}

}  // namespace

bool load_vector_math_library() {
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string error;
    loaded = !llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1", &error);
  });
  return loaded;
}

void request_vector_math(llvm::Module &module) {
  module.addModuleFlag(llvm::Module::ModFlagBehavior::Max, kVectorMathFlag, 1);
}

void optimize_module(llvm::Module &module, llvm::TargetMachine &tm) {
  module.setTargetTriple(tm.getTargetTriple().str());
  module.setDataLayout(tm.createDataLayout());

  // Clang's -O3 turns on both vectorizers; PassBuilder's defaults leave
  // SLP off.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  llvm::PassBuilder builder(&tm, tuning);

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  // libmvec is bound call by call (vector_math.h), not through
  // TargetLibraryInfo's vector-library table: that table would let the
  // vectorizer mix libmvec's and libm's results for one value.
  if (wants_vector_math(module) && load_vector_math_library()) bind_vector_math(module, tm);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);

  llvm::ModulePassManager pipeline =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  pipeline.run(module, modules);
  splat_mask_selects(module);
}

namespace {

std::string print_ir(const llvm::Module &module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, nullptr);
  return os.str();
}

std::string emit_assembly(llvm::Module &module, llvm::TargetMachine &tm) {
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager passes;
  if (tm.addPassesToEmitFile(passes, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    throw CompileError("jit: the host target cannot emit assembly");
  passes.run(module);
  return std::string(text.str());
}

}  // namespace

std::string dump_llvm_module(const llvm::Module &module, DumpStage stage) {
  check_llvm(verify_llvm_module(module), "jit: dump");
  if (stage == DumpStage::LlvmIr) return print_ir(module);
  std::unique_ptr<llvm::Module> clone = llvm::CloneModule(module);
  std::unique_ptr<llvm::TargetMachine> tm = create_host_target_machine();
  optimize_module(*clone, *tm);
  if (stage == DumpStage::OptimizedLlvmIr) return print_ir(*clone);
  return emit_assembly(*clone, *tm);
}

}  // namespace fusejit
