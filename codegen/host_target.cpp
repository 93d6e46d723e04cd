// Detecting the host once, and describing it for cache keys.
#include "codegen/host_target.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>

#include "codegen/jit.h"
#include "codegen/llvm_error.h"

namespace fusejit {

void initialize_host_target() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

namespace {

llvm::orc::JITTargetMachineBuilder detect() {
  initialize_host_target();
  auto builder =
      unwrap_llvm(llvm::orc::JITTargetMachineBuilder::detectHost(), "jit: detecting the host CPU");
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // Standard fusion lets the backend form an FMA only from operations whose
  // IR carries the `contract` flag. Fast kernels set it, Strict kernels do
  // not; `Fast` here would fuse everything and make Strict a lie. Likewise
  // no unsafe-math option is set globally: the lowering decides per
  // instruction.
  builder.getOptions().AllowFPOpFusion = llvm::FPOpFusion::Standard;
  builder.getOptions().UnsafeFPMath = false;
  return builder;
}

}  // namespace

llvm::orc::JITTargetMachineBuilder host_machine_builder() {
  static const llvm::orc::JITTargetMachineBuilder host = detect();
  return host;
}

std::unique_ptr<llvm::TargetMachine> create_host_target_machine() {
  return unwrap_llvm(host_machine_builder().createTargetMachine(),
                     "jit: creating the host target machine");
}

void set_host_target(llvm::Module &module) {
  auto builder = host_machine_builder();
  module.setTargetTriple(builder.getTargetTriple().str());
  module.setDataLayout(
      unwrap_llvm(builder.getDefaultDataLayoutForTarget(), "jit: host data layout"));
}

std::string host_cpu_description() {
  static const std::string description = [] {
    auto builder = host_machine_builder();
    std::vector<std::string> enabled;
    for (const std::string &feature : builder.getFeatures().getFeatures())
      if (!feature.empty() && feature[0] == '+') enabled.push_back(feature);
    std::sort(enabled.begin(), enabled.end());
    std::string text = builder.getCPU();
    for (size_t i = 0; i < enabled.size(); ++i) text += (i == 0 ? " " : ",") + enabled[i];
    return text;
  }();
  return description;
}

}  // namespace fusejit
