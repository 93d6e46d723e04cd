// Why not LLVM's own vector-library mapping: with it the loop vectorizer
// calls libmvec in a loop's vector body while the scalar tail, loops it does
// not vectorize and SLP leftovers call libm, and SSE-wide and AVX-wide
// routines are separate implementations too. Their results differ in the
// last bits, so a value recomputed by another kernel (max's backward tests
// `x == max(x)`) does not match. Here every occurrence, at any width, runs
// the same routine. An in-house polynomial used at both widths would do as
// well, but libmvec's routines are as fast and already tuned and tested.
// libmvec decides per lane (out-of-range lanes fall back to its scalar
// code for that lane only), so lane 0 of a splat is what any lane computes.
#include "codegen/vector_math.h"

#include <string>
#include <vector>

#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

#include "codegen/optimize.h"

namespace fusejit {

namespace {

constexpr const char *kVariantAttr = "vector-function-abi-variant";

// libmvec has had tanh since glibc 2.35, LLVM 19's table does not list it:
// without these, tanh is a libm call per element (about 14 ns each here,
// against under 1 ns a lane from the 8-wide routine).
const llvm::VecDesc kTanhRoutines[] = {
    {"tanhf", "_ZGVbN4v_tanhf", llvm::ElementCount::getFixed(4), false, "_ZGV_LLVM_N4v"},
    {"tanhf", "_ZGVdN8v_tanhf", llvm::ElementCount::getFixed(8), false, "_ZGV_LLVM_N8v"},
    {"tanh", "_ZGVbN2v_tanh", llvm::ElementCount::getFixed(2), false, "_ZGV_LLVM_N2v"},
    {"tanh", "_ZGVdN4v_tanh", llvm::ElementCount::getFixed(4), false, "_ZGV_LLVM_N4v"},
};

void mark_pure(llvm::Function &f) {
  f.setDoesNotAccessMemory();
  f.setDoesNotThrow();
  f.setWillReturn();
}

class VectorMathBinder {
 public:
  VectorMathBinder(llvm::Module &module, llvm::TargetMachine &tm)
      : module_(module), tm_(tm), library_(llvm::Triple(module.getTargetTriple())) {
    library_.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86,
                                                llvm::Triple(module.getTargetTriple()));
    if (vector_tanh_available()) library_.addVectorizableFunctions(kTanhRoutines);
  }

  void run() {
    std::vector<llvm::CallInst *> calls;
    for (llvm::Function &f : module_)
      for (llvm::BasicBlock &block : f)
        for (llvm::Instruction &i : block)
          if (auto *call = llvm::dyn_cast<llvm::CallInst>(&i)) calls.push_back(call);
    for (llvm::CallInst *call : calls) bind(*call);
  }

 private:
  // What a libmvec routine is for: the scalar function's name in LLVM's
  // table ("llvm.exp.f32"), and the routine picked for it.
  struct Binding {
    std::string scalar_name;
    const llvm::VecDesc *routine = nullptr;
  };

  // The name LLVM's vector-library table knows the call's scalar function
  // by: the callee itself for a scalar call, its element-type intrinsic for a
  // vector one; empty if there is none.
  std::string scalar_name(const llvm::CallInst &call) {
    llvm::Function *callee = call.getCalledFunction();
    if (!callee || !call.getType()->isFPOrFPVectorTy()) return "";
    if (!call.getType()->isVectorTy()) return callee->getName().str();
    llvm::Intrinsic::ID id = callee->getIntrinsicID();
    if (id == llvm::Intrinsic::not_intrinsic) return "";
    return llvm::Intrinsic::getName(id, {call.getType()->getScalarType()}, &module_, nullptr);
  }

  // The widest routine whose vectors fit the host's registers: the one the
  // vectorizer would pick, and the only one any width is allowed to use.
  Binding find(const llvm::CallInst &call) {
    Binding found{scalar_name(call), nullptr};
    if (found.scalar_name.empty() || !library_.isFunctionVectorizable(found.scalar_name))
      return found;
    const llvm::TargetTransformInfo tti = tm_.getTargetTransformInfo(*call.getFunction());
    uint64_t register_bits =
        tti.getRegisterBitWidth(llvm::TargetTransformInfo::RGK_FixedWidthVector).getFixedValue();
    uint64_t element_bits = call.getType()->getScalarSizeInBits();
    for (uint64_t lanes = register_bits / element_bits; lanes >= 2 && !found.routine; lanes /= 2)
      found.routine = library_.getVectorMappingInfo(
          found.scalar_name, llvm::ElementCount::getFixed(static_cast<unsigned>(lanes)), false);
    return found;
  }

  static unsigned lanes_of(const llvm::VecDesc &routine) {
    return routine.getVectorizationFactor().getFixedValue();
  }

  llvm::Function *declare_routine(const llvm::VecDesc &routine, llvm::Type *scalar, size_t arity) {
    auto *vector = llvm::FixedVectorType::get(scalar, lanes_of(routine));
    auto *type = llvm::FunctionType::get(vector, std::vector<llvm::Type *>(arity, vector), false);
    auto *fn = llvm::cast<llvm::Function>(
        module_.getOrInsertFunction(routine.getVectorFnName(), type).getCallee());
    mark_pure(*fn);
    // Kept declared for the vectorizer even once the wrapper is gone.
    llvm::appendToCompilerUsed(module_, {fn});
    return fn;
  }

  // `float fusejit.one.llvm.exp.f32(float x)`: lane 0 of the routine on a
  // splat of x. Not inlined, so the vectorizer sees a call it can map.
  llvm::Function *wrapper(const Binding &binding, llvm::Type *scalar, size_t arity) {
    std::string name = "fusejit.one." + binding.scalar_name;
    if (llvm::Function *existing = module_.getFunction(name)) return existing;
    auto *type = llvm::FunctionType::get(scalar, std::vector<llvm::Type *>(arity, scalar), false);
    auto *fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, module_);
    mark_pure(*fn);
    fn->addFnAttr(llvm::Attribute::NoInline);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(module_.getContext(), "entry", fn));
    std::vector<llvm::Value *> splats;
    for (llvm::Argument &arg : fn->args())
      splats.push_back(b.CreateVectorSplat(lanes_of(*binding.routine), &arg));
    llvm::Value *lanes = b.CreateCall(declare_routine(*binding.routine, scalar, arity), splats);
    b.CreateRet(b.CreateExtractElement(lanes, uint64_t(0)));
    return fn;
  }

  // A call of the wrapper that tells the vectorizer its `lanes`-wide form
  // is the routine: _ZGV_LLVM_N8v_fusejit.one.llvm.exp.f32(_ZGVdN8v_expf).
  llvm::Value *call_wrapper(llvm::IRBuilder<> &b, const Binding &binding,
                            const llvm::CallInst &like, const std::vector<llvm::Value *> &args) {
    llvm::Function *fn = wrapper(binding, args[0]->getType(), args.size());
    llvm::CallInst *call = b.CreateCall(fn, args);
    call->copyFastMathFlags(&like);
    call->setDoesNotAccessMemory();
    std::string variant = binding.routine->getVABIPrefix().str() + "_" + fn->getName().str() + "(" +
                          binding.routine->getVectorFnName().str() + ")";
    call->addFnAttr(llvm::Attribute::get(module_.getContext(), kVariantAttr, variant));
    return call;
  }

  void bind(llvm::CallInst &call) {
    Binding binding = find(call);
    if (!binding.routine) return;
    llvm::IRBuilder<> b(&call);
    std::vector<llvm::Value *> args(call.arg_begin(), call.arg_end());
    llvm::Type *type = call.getType();
    llvm::Value *result = nullptr;
    if (!type->isVectorTy()) {
      result = call_wrapper(b, binding, call, args);
    } else if (llvm::cast<llvm::FixedVectorType>(type)->getNumElements() ==
               lanes_of(*binding.routine)) {
      result =
          b.CreateCall(declare_routine(*binding.routine, type->getScalarType(), args.size()), args);
    } else {
      // Another width (a GEMM epilogue's row of lanes): lane by lane.
      unsigned n = llvm::cast<llvm::FixedVectorType>(type)->getNumElements();
      result = llvm::PoisonValue::get(type);
      for (unsigned l = 0; l < n; ++l) {
        std::vector<llvm::Value *> lane;
        for (llvm::Value *a : args) lane.push_back(b.CreateExtractElement(a, uint64_t(l)));
        result = b.CreateInsertElement(result, call_wrapper(b, binding, call, lane), uint64_t(l));
      }
    }
    call.replaceAllUsesWith(result);
    call.eraseFromParent();
  }

  llvm::Module &module_;
  llvm::TargetMachine &tm_;
  llvm::TargetLibraryInfoImpl library_;
};

}  // namespace

bool vector_tanh_available() {
  static const bool available = [] {
    if (!load_vector_math_library()) return false;
    for (const llvm::VecDesc &routine : kTanhRoutines)
      if (!llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(routine.getVectorFnName().str()))
        return false;
    return true;
  }();
  return available;
}

void bind_vector_math(llvm::Module &module, llvm::TargetMachine &tm) {
  VectorMathBinder(module, tm).run();
}

}  // namespace fusejit
