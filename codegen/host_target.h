// The machine kernels are compiled for: the CPU this process runs on, with
// all of its features, so the vectorizers cost and emit its widest units.
// Forward declarations only, so lowering code including this stays clear
// of ORC's headers.
#pragma once

#include <memory>

namespace llvm {
class Module;
class TargetMachine;
namespace orc {
class JITTargetMachineBuilder;
}
}  // namespace llvm

namespace fusejit {

// Registers the native target, its assembly printer and parser; once per
// process, any thread.
void initialize_host_target();

// detectHost() with codegen at -O3 and FP fusion left to the IR (see the
// definition). Throws CompileError if LLVM does not support this host.
llvm::orc::JITTargetMachineBuilder host_machine_builder();

std::unique_ptr<llvm::TargetMachine> create_host_target_machine();

// Gives `module` the host's triple and data layout. The lowering calls it
// before building IR so type sizes and alignments are the host's.
void set_host_target(llvm::Module &module);

}  // namespace fusejit
