#include "codegen/splat_mask_selects.h"

#include <vector>

#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>

namespace fusejit {

int splat_mask_selects(llvm::Module &module) {
  std::vector<llvm::SelectInst *> found;
  for (llvm::Function &f : module)
    for (llvm::BasicBlock &block : f)
      for (llvm::Instruction &i : block) {
        auto *select = llvm::dyn_cast<llvm::SelectInst>(&i);
        if (!select || select->getCondition()->getType()->isVectorTy()) continue;
        auto *type = llvm::dyn_cast<llvm::FixedVectorType>(select->getType());
        if (type && type->getElementType()->isIntegerTy(1)) found.push_back(select);
      }
  for (llvm::SelectInst *select : found) {
    llvm::IRBuilder<> b(select);
    auto *type = llvm::cast<llvm::FixedVectorType>(select->getType());
    llvm::Value *cond = b.CreateVectorSplat(type->getNumElements(), select->getCondition());
    llvm::Value *vector = b.CreateSelect(cond, select->getTrueValue(), select->getFalseValue());
    vector->takeName(select);
    select->replaceAllUsesWith(vector);
    select->eraseFromParent();
  }
  return static_cast<int>(found.size());
}

}  // namespace fusejit
