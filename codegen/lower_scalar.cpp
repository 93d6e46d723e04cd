#include "codegen/lower_scalar.h"

#include <string>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include "ir/error.h"

namespace fusejit {

llvm::Type *llvm_type(llvm::LLVMContext &context, DType dtype) {
  return dtype == DType::F32 ? llvm::Type::getFloatTy(context) : llvm::Type::getDoubleTy(context);
}

namespace {

llvm::Value *i64(llvm::IRBuilder<> &b, int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }

// offset + sum(index[d] * strides[d]). Positions fit in i64, so nsw holds
// and lets SCEV see the loads as affine; nuw too where no term is negative.
// An access with ranges may compute any position at an invalid point (the
// next layer unravels it): no flags there, so nothing turns into poison.
llvm::Value *dot_strides(llvm::IRBuilder<> &b, const AccessLayer &layer,
                         const std::vector<llvm::Value *> &index, bool wraps) {
  bool nuw = !wraps && layer.offset >= 0, nsw = !wraps;
  for (int64_t s : layer.strides) nuw = nuw && s >= 0;
  llvm::Value *p = nullptr;
  for (size_t d = 0; d < layer.strides.size(); ++d) {
    if (layer.strides[d] == 0 || layer.shape[d] == 1) continue;
    llvm::Value *term = layer.strides[d] == 1
                            ? index[d]
                            : b.CreateMul(index[d], i64(b, layer.strides[d]), "", nuw, nsw);
    p = p ? b.CreateAdd(p, term, "", nuw, nsw) : term;
  }
  if (!p) return i64(b, layer.offset);
  return layer.offset ? b.CreateAdd(p, i64(b, layer.offset), "", nuw, nsw) : p;
}

// valid && lo <= index[d] < hi for each restricted dim; a select rather than
// an `and`, so a meaningless index behind an invalid layer stays unseen.
llvm::Value *and_ranges(llvm::IRBuilder<> &b, llvm::Value *valid, const AccessLayer &layer,
                        const std::vector<llvm::Value *> &index) {
  for (size_t d = 0; d < layer.shape.size(); ++d) {
    if (!layer.masks(d)) continue;
    const ValidRange &r = layer.valid[d];
    llvm::Value *in =
        r.lo >= r.hi ? b.getFalse()
                     : b.CreateICmpULT(b.CreateSub(index[d], i64(b, r.lo)), i64(b, r.hi - r.lo));
    valid = valid ? b.CreateLogicalAnd(valid, in) : in;
  }
  return valid;
}

// Row-major unravel of position `p` of a layer into its shape. p is below
// numel(shape), so the leading index needs no urem.
std::vector<llvm::Value *> unravel(llvm::IRBuilder<> &b, llvm::Value *p, const Shape &shape) {
  std::vector<llvm::Value *> index(shape.size());
  int64_t inner = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1) {
      index[d] = i64(b, 0);
      continue;
    }
    llvm::Value *q = inner == 1 ? p : b.CreateUDiv(p, i64(b, inner));
    index[d] = d == 0 ? q : b.CreateURem(q, i64(b, shape[d]));
    inner *= shape[d];
  }
  return index;
}

}  // namespace

MaskedPosition emit_masked_position(llvm::IRBuilder<> &b, const Access &access,
                                    const std::vector<llvm::Value *> &index) {
  bool wraps = access.masked();
  llvm::Value *valid = and_ranges(b, nullptr, access.layers[0], index);
  llvm::Value *p = dot_strides(b, access.layers[0], index, wraps);
  for (size_t l = 1; l < access.layers.size(); ++l) {
    const AccessLayer &layer = access.layers[l];
    std::vector<llvm::Value *> inner = unravel(b, p, layer.shape);
    valid = and_ranges(b, valid, layer, inner);
    p = dot_strides(b, layer, inner, wraps);
  }
  return {p, valid};
}

llvm::Value *emit_position(llvm::IRBuilder<> &b, const Access &access,
                           const std::vector<llvm::Value *> &index) {
  return emit_masked_position(b, access, index).position;
}

llvm::Value *emit_load(llvm::IRBuilder<> &b, llvm::Type *type, llvm::Value *buffer,
                       int64_t buffer_numel, const Access &access,
                       const std::vector<llvm::Value *> &index, double fill) {
  MaskedPosition at = emit_masked_position(b, access, index);
  if (!at.valid) return b.CreateLoad(type, b.CreateInBoundsGEP(type, buffer, at.position));
  llvm::Value *other = llvm::ConstantFP::get(type, fill);
  if (buffer_numel == 0) return other;
  llvm::BasicBlock *from = b.GetInsertBlock();
  llvm::Function *fn = from->getParent();
  auto *read = llvm::BasicBlock::Create(b.getContext(), "masked.load", fn);
  auto *join = llvm::BasicBlock::Create(b.getContext(), "masked.join", fn);
  b.CreateCondBr(at.valid, read, join);
  b.SetInsertPoint(read);
  llvm::Value *v = b.CreateLoad(type, b.CreateInBoundsGEP(type, buffer, at.position));
  b.CreateBr(join);
  b.SetInsertPoint(join);
  llvm::PHINode *phi = b.CreatePHI(type, 2);
  phi->addIncoming(v, read);
  phi->addIncoming(other, from);
  return phi;
}

namespace {

llvm::Value *fp(llvm::Type *type, double v) { return llvm::ConstantFP::get(type, v); }

// tanh has no LLVM intrinsic: call libm, declared as touching no memory (as
// clang's -fno-math-errno does; nothing reads errno) so LICM can move it.
llvm::Value *call_tanh(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Type *type = x->getType();
  llvm::Module &module = *b.GetInsertBlock()->getModule();
  const char *name = type->isFloatTy() ? "tanhf" : "tanh";
  llvm::FunctionCallee callee =
      module.getOrInsertFunction(name, llvm::FunctionType::get(type, {type}, false));
  auto *fn = llvm::cast<llvm::Function>(callee.getCallee());
  fn->setDoesNotAccessMemory();
  fn->setDoesNotThrow();
  fn->setWillReturn();
  llvm::CallInst *call = b.CreateCall(callee, {x});
  call->setDoesNotAccessMemory();
  return call;
}

llvm::Value *emit_unary(llvm::IRBuilder<> &b, Op op, llvm::Value *x) {
  llvm::Type *type = x->getType();
  switch (op) {
    case Op::Neg:
      return b.CreateFNeg(x);
    case Op::Exp:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x);
    case Op::Log:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::log, x);
    case Op::Sqrt:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
    case Op::Abs:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
    case Op::Tanh:
      return call_tanh(b, x);
    case Op::Inv:
      return b.CreateFDiv(fp(type, 1.0), x);
    case Op::Sigmoid: {
      llvm::Value *e = b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, b.CreateFNeg(x));
      return b.CreateFDiv(fp(type, 1.0), b.CreateFAdd(fp(type, 1.0), e));
    }
    case Op::Relu:
      // `x > 0 or unordered`: NaN passes through, -0.0 and negatives give +0.0.
      return b.CreateSelect(b.CreateFCmpUGT(x, fp(type, 0.0)), x, fp(type, 0.0));
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("lower: ") + op_name(op) + " is not a unary op");
}

// Comparisons give 1.0 or 0.0 in the operands' dtype.
llvm::Value *as_float(llvm::IRBuilder<> &b, llvm::Value *flag, llvm::Type *type) {
  return b.CreateUIToFP(flag, type);
}

llvm::Value *emit_binary(llvm::IRBuilder<> &b, Op op, llvm::Value *x, llvm::Value *y) {
  llvm::Type *type = x->getType();
  switch (op) {
    case Op::Add:
      return b.CreateFAdd(x, y);
    case Op::Sub:
      return b.CreateFSub(x, y);
    case Op::Mul:
      return b.CreateFMul(x, y);
    case Op::Div:
      return b.CreateFDiv(x, y);
    case Op::Lt:
      return as_float(b, b.CreateFCmpOLT(x, y), type);
    case Op::Gt:
      return as_float(b, b.CreateFCmpOGT(x, y), type);
    case Op::Eq:
      return as_float(b, b.CreateFCmpOEQ(x, y), type);
    // llvm.maximum/minimum propagate NaN like the interpreter's nan_max.
    case Op::Maximum:
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, x, y);
    case Op::Minimum:
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, x, y);
    case Op::Pow:
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("lower: ") + op_name(op) + " is not a binary op");
}

}  // namespace

llvm::Value *emit_compute(llvm::IRBuilder<> &b, const Instr &in,
                          const std::vector<llvm::Value *> &args) {
  FUSEJIT_INTERNAL_CHECK(in.kind == InstrKind::Compute,
                         "lower: emit_compute given a load, constant or reduced value");
  switch (op_kind(in.op)) {
    case OpKind::Unary:
      return emit_unary(b, in.op, args[0]);
    case OpKind::Binary:
      return emit_binary(b, in.op, args[0], args[1]);
    case OpKind::Ternary: {
      // where: any nonzero condition, NaN included, selects x; c may be of another dtype.
      llvm::Value *c = args[0];
      llvm::Value *nonzero = b.CreateFCmpUNE(c, fp(c->getType(), 0.0));
      return b.CreateSelect(nonzero, args[1], args[2]);
    }
    case OpKind::Leaf:
    case OpKind::Reduce:
    case OpKind::View:
    case OpKind::Matmul:
      break;
  }
  throw InternalError(std::string("lower: ") + op_name(in.op) + " is not an elementwise op");
}

}  // namespace fusejit
