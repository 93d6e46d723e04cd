// `for (i = lo; i < hi; i = next)` in LLVM IR, for the lowerings
// (codegen-internal). The caller emits the body between the constructor and
// close(); loops nest by opening one inside another.
#pragma once

#include <string>

#include <llvm/IR/IRBuilder.h>

namespace fusejit {

class CountedLoop {
 public:
  CountedLoop(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi, const std::string &name)
      : b_(&b), hi_(hi), name_(name) {
    llvm::Function *fn = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *preheader = b.GetInsertBlock();
    body_ = llvm::BasicBlock::Create(b.getContext(), name + ".body", fn);
    exit_ = llvm::BasicBlock::Create(b.getContext(), name + ".exit", fn);
    b.CreateCondBr(b.CreateICmpSLT(lo, hi), body_, exit_);
    b.SetInsertPoint(body_);
    index_ = b.CreatePHI(b.getInt64Ty(), 2, name);
    index_->addIncoming(lo, preheader);
  }

  llvm::Value *index() const { return index_; }

  // Asks LLVM's unrollers to leave the loop rolled (the vectorizer still
  // widens and interleaves it): set before close().
  void keep_rolled() { rolled_ = true; }

  // Ends the body at the builder's insert point, stepping by one; the
  // builder continues after the loop.
  void close() { close(b_->CreateAdd(index_, b_->getInt64(1), name_ + ".next", true, true)); }

  // The same, stepping to `next`.
  void close(llvm::Value *next) {
    llvm::BasicBlock *latch = b_->GetInsertBlock();
    index_->addIncoming(next, latch);
    llvm::BranchInst *branch = b_->CreateCondBr(b_->CreateICmpSLT(next, hi_), body_, exit_);
    if (rolled_) {
      llvm::LLVMContext &c = b_->getContext();
      llvm::MDNode *disable =
          llvm::MDNode::get(c, {llvm::MDString::get(c, "llvm.loop.unroll.disable")});
      // Without a count, disabling the unroller stops interleaving too.
      llvm::MDNode *interleave =
          llvm::MDNode::get(c, {llvm::MDString::get(c, "llvm.loop.interleave.count"),
                                llvm::ConstantAsMetadata::get(b_->getInt32(4))});
      llvm::MDNode *loop = llvm::MDNode::getDistinct(c, {nullptr, disable, interleave});
      loop->replaceOperandWith(0, loop);
      branch->setMetadata(llvm::LLVMContext::MD_loop, loop);
    }
    exit_->moveAfter(latch);  // keeps the printed IR in nesting order
    b_->SetInsertPoint(exit_);
  }

 private:
  llvm::IRBuilder<> *b_;
  llvm::Value *hi_;
  std::string name_;
  llvm::PHINode *index_;
  bool rolled_ = false;
  llvm::BasicBlock *body_, *exit_;
};

}  // namespace fusejit
