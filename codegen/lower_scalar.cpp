#include "codegen/lower_scalar.h"

#include <cstdint>
#include <optional>
#include <string>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include "ir/error.h"
#include "runtime/reference_kernels.h"

namespace fusejit {

llvm::Type *llvm_type(llvm::LLVMContext &context, DType dtype) {
  switch (dtype) {
    case DType::F32:
      return llvm::Type::getFloatTy(context);
    case DType::F64:
      return llvm::Type::getDoubleTy(context);
    case DType::I32:
      return llvm::Type::getInt32Ty(context);
    case DType::I64:
      return llvm::Type::getInt64Ty(context);
    case DType::U8:
    case DType::Bool:  // a byte holding 0 or 1, as in memory
      return llvm::Type::getInt8Ty(context);
  }
  return nullptr;
}

llvm::Constant *emit_constant(llvm::Type *type, double value) {
  if (type->isFPOrFPVectorTy()) return llvm::ConstantFP::get(type, value);
  // Integer constants hold integers already (ir::constant); the bits wrap.
  return llvm::ConstantInt::get(type, static_cast<uint64_t>(wrap_integer(value)));
}

llvm::Value *emit_flag(llvm::IRBuilder<> &b, llvm::Value *flag, llvm::Type *type) {
  if (auto *vector = llvm::dyn_cast<llvm::VectorType>(flag->getType()))
    type = llvm::VectorType::get(type->getScalarType(), vector->getElementCount());
  return type->isFPOrFPVectorTy() ? b.CreateUIToFP(flag, type) : b.CreateZExt(flag, type);
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
// Dim `skip` (if any) is left out.
llvm::Value *and_ranges(llvm::IRBuilder<> &b, llvm::Value *valid, const AccessLayer &layer,
                        const std::vector<llvm::Value *> &index, size_t skip = SIZE_MAX) {
  for (size_t d = 0; d < layer.shape.size(); ++d) {
    if (!layer.masks(d) || d == skip) continue;
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

void emit_report_if(llvm::IRBuilder<> &b, llvm::Value *bad, llvm::Value *status, const char *name) {
  FUSEJIT_INTERNAL_CHECK(status != nullptr, "lower: ", name, " without a status slot");
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  auto *report = llvm::BasicBlock::Create(b.getContext(), std::string(name) + ".report", fn);
  auto *join = llvm::BasicBlock::Create(b.getContext(), std::string(name) + ".join", fn);
  b.CreateCondBr(bad, report, join);
  b.SetInsertPoint(report);
  llvm::StoreInst *store = b.CreateStore(b.getInt8(1), status);
  store->setAtomic(llvm::AtomicOrdering::Monotonic);
  store->setAlignment(llvm::Align(1));
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

namespace {

// p + index * stride for each gathered index of `layer`: an index outside
// [0, extent) reports and reads 0; one outside its range leaves the point
// invalid.
llvm::Value *add_gathers(llvm::IRBuilder<> &b, llvm::Value *p, llvm::Value *&valid,
                         const AccessLayer &layer, const GatherValues &gathered) {
  for (const GatherTerm &g : layer.gathers) {
    FUSEJIT_INTERNAL_CHECK(gathered.value != nullptr, "lower: a gather without its index values");
    llvm::Value *v = gathered.value(g.instr);
    v = v->getType()->getIntegerBitWidth() == 64 ? v
        : v->getType()->getIntegerBitWidth() == 8
            ? b.CreateZExt(v, b.getInt64Ty())  // u8 (bool is no index)
            : b.CreateSExt(v, b.getInt64Ty());
    llvm::Value *in_bounds = b.CreateICmpULT(v, i64(b, g.extent));
    emit_report_if(b, b.CreateNot(in_bounds), gathered.status, "gather");
    llvm::Value *i = b.CreateSelect(in_bounds, v, i64(b, 0));
    if (g.masks()) {
      llvm::Value *in = g.valid.lo >= g.valid.hi
                            ? b.getFalse()
                            : b.CreateICmpULT(b.CreateSub(i, i64(b, g.valid.lo)),
                                              i64(b, g.valid.hi - g.valid.lo));
      valid = valid ? b.CreateLogicalAnd(valid, in) : in;
    }
    p = b.CreateAdd(p, g.stride == 1 ? i : b.CreateMul(i, i64(b, g.stride)));
  }
  return p;
}

}  // namespace

MaskedPosition emit_masked_position(llvm::IRBuilder<> &b, const Access &access,
                                    const std::vector<llvm::Value *> &index,
                                    const GatherValues &gathered) {
  bool wraps = access.masked();
  llvm::Value *valid = and_ranges(b, nullptr, access.layers[0], index);
  llvm::Value *p = dot_strides(b, access.layers[0], index, wraps);
  p = add_gathers(b, p, valid, access.layers[0], gathered);
  for (size_t l = 1; l < access.layers.size(); ++l) {
    const AccessLayer &layer = access.layers[l];
    std::vector<llvm::Value *> inner = unravel(b, p, layer.shape);
    valid = and_ranges(b, valid, layer, inner);
    p = dot_strides(b, layer, inner, wraps);
    p = add_gathers(b, p, valid, layer, gathered);
  }
  return {p, valid};
}

namespace {

// The dim of `shape` whose index a position step of `step` (> 0) advances
// by a whole number `by` with no carry below it, and `by`; null if none.
std::optional<std::pair<size_t, int64_t>> moving_dim(const Shape &shape, int64_t step) {
  int64_t inner = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1) continue;
    if (step < inner * shape[d]) {
      if (step % inner != 0) return std::nullopt;
      return std::make_pair(d, step / inner);
    }
    inner *= shape[d];
  }
  return std::nullopt;
}

}  // namespace

std::optional<LaneRun> emit_lane_run(llvm::IRBuilder<> &b, const Access &access,
                                     const std::vector<llvm::Value *> &index, size_t dim,
                                     int lanes) {
  if (access.gathers()) return std::nullopt;
  LaneRun run;
  run.fits = b.getTrue();
  std::vector<llvm::Value *> at = index;
  // The index of layer `l` that moves along the lanes, and by how much.
  size_t moving = dim;
  int64_t by = access.layers[0].shape[dim] == 1 ? 0 : 1;
  llvm::Value *p = nullptr;
  for (size_t l = 0; l < access.layers.size(); ++l) {
    const AccessLayer &layer = access.layers[l];
    if (l > 0) {
      // The previous layer's position must be one the unravel reads
      // exactly, and it may move forwards only.
      if (run.step < 0) return std::nullopt;
      run.fits = b.CreateAnd(run.fits, b.CreateICmpULT(p, i64(b, numel(layer.shape))));
      at = unravel(b, p, layer.shape);
      by = 0;
      if (run.step > 0) {
        std::optional<std::pair<size_t, int64_t>> m = moving_dim(layer.shape, run.step);
        if (!m || (lanes - 1) * m->second >= layer.shape[m->first]) return std::nullopt;
        moving = m->first, by = m->second;
        llvm::Value *last = i64(b, layer.shape[moving] - 1 - (lanes - 1) * by);
        run.fits = b.CreateAnd(run.fits, b.CreateICmpULE(at[moving], last));
      }
    }
    run.valid = and_ranges(b, run.valid, layer, at, by ? moving : SIZE_MAX);
    if (by && layer.masks(moving)) run.ranges.push_back({at[moving], by, layer.valid[moving]});
    p = dot_strides(b, layer, at, true);
    run.step = by * (layer.shape[moving] == 1 ? 0 : layer.strides[moving]);
  }
  run.position = p;
  return run;
}

llvm::Value *emit_position(llvm::IRBuilder<> &b, const Access &access,
                           const std::vector<llvm::Value *> &index) {
  return emit_masked_position(b, access, index).position;
}

llvm::Value *emit_iota(llvm::IRBuilder<> &b, llvm::Type *type, const Instr &in,
                       const std::vector<llvm::Value *> &index, const GatherValues &gathered) {
  MaskedPosition at = emit_masked_position(b, in.access, index, gathered);
  llvm::Value *v = type->isFloatingPointTy() ? b.CreateSIToFP(at.position, type)
                                             : b.CreateSExtOrTrunc(at.position, type);
  return at.valid ? b.CreateSelect(at.valid, v, emit_constant(type, in.value)) : v;
}

llvm::Value *emit_valid(llvm::IRBuilder<> &b, llvm::Type *type, const Instr &in,
                        const std::vector<llvm::Value *> &index, const GatherValues &gathered) {
  llvm::Value *valid = emit_masked_position(b, in.access, index, gathered).valid;
  return valid ? emit_flag(b, valid, type) : emit_constant(type, 1.0);
}

llvm::Value *emit_load(llvm::IRBuilder<> &b, llvm::Type *type, llvm::Value *buffer,
                       int64_t buffer_numel, const Access &access,
                       const std::vector<llvm::Value *> &index, double fill,
                       const GatherValues &gathered) {
  MaskedPosition at = emit_masked_position(b, access, index, gathered);
  if (!at.valid) return b.CreateLoad(type, b.CreateInBoundsGEP(type, buffer, at.position));
  llvm::Value *other = emit_constant(type, fill);
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

[[noreturn]] void not_for(Op op, DType t) {
  throw InternalError(std::string("lower: ") + op_name(op) + " of " + dtype_name(t) +
                      " (ir/graph.cpp casts it away)");
}

// cast_value (ir/dtype.h): floats into integers saturate with NaN -> 0
// (fptosi.sat), into bool compare with 0 (NaN is true); integers wrap
// (trunc), widen by their signedness, or compare with 0 for bool.
llvm::Value *emit_cast(llvm::IRBuilder<> &b, llvm::Value *x, DType from, DType to) {
  llvm::Type *type = llvm_type(b.getContext(), to);
  if (auto *vector = llvm::dyn_cast<llvm::VectorType>(x->getType()))
    type = llvm::VectorType::get(type, vector->getElementCount());
  if (from == to) return x;
  if (to == DType::Bool) {
    llvm::Value *nonzero = is_floating(from) ? b.CreateFCmpUNE(x, fp(x->getType(), 0.0))
                                             : b.CreateICmpNE(x, emit_constant(x->getType(), 0));
    return b.CreateZExt(nonzero, type);
  }
  if (is_floating(from) && is_floating(to)) return b.CreateFPCast(x, type);
  if (is_floating(from)) {
    auto id = is_unsigned(to) ? llvm::Intrinsic::fptoui_sat : llvm::Intrinsic::fptosi_sat;
    return b.CreateIntrinsic(id, {type, x->getType()}, {x});
  }
  if (is_floating(to)) return is_unsigned(from) ? b.CreateUIToFP(x, type) : b.CreateSIToFP(x, type);
  return b.CreateIntCast(x, type, !is_unsigned(from));
}

llvm::Value *emit_unary(llvm::IRBuilder<> &b, Op op, llvm::Value *x, DType t) {
  llvm::Type *type = x->getType();
  const bool flt = is_floating(t);
  switch (op) {
    case Op::Neg:
      return flt ? b.CreateFNeg(x) : b.CreateNeg(x);
    case Op::Exp:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x);
    case Op::Log:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::log, x);
    case Op::Sqrt:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
    case Op::Abs:
      if (flt) return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
      if (is_unsigned(t)) return x;
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x, b.getFalse());
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
      if (!flt)
        return is_unsigned(t)
                   ? x
                   : b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, x, emit_constant(type, 0));
      return b.CreateSelect(b.CreateFCmpUGT(x, fp(type, 0.0)), x, fp(type, 0.0));
    case Op::Floor:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x);
    case Op::Ceil:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, x);
    case Op::Round:  // half to even in the default rounding mode, as nearbyint
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, x);
    case Op::LogicalNot:
      return b.CreateXor(x, emit_constant(type, 1));
    case Op::StopGradient:  // canonicalize drops it; a kernel built without that passes x on
      return x;
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("lower: ") + op_name(op) + " is not a unary op");
}

// The predicate of a comparison in the operands' dtype: ordered for floats
// (NaN compares false) but for != (unordered: NaN != NaN), signed or not.
llvm::Value *emit_compare(llvm::IRBuilder<> &b, Op op, llvm::Value *x, llvm::Value *y, DType t) {
  using P = llvm::CmpInst::Predicate;
  const bool flt = is_floating(t), u = is_unsigned(t);
  P p = P::FCMP_FALSE;
  switch (op) {
    case Op::Lt:
      p = flt ? P::FCMP_OLT : u ? P::ICMP_ULT : P::ICMP_SLT;
      break;
    case Op::Gt:
      p = flt ? P::FCMP_OGT : u ? P::ICMP_UGT : P::ICMP_SGT;
      break;
    case Op::Le:
      p = flt ? P::FCMP_OLE : u ? P::ICMP_ULE : P::ICMP_SLE;
      break;
    case Op::Ge:
      p = flt ? P::FCMP_OGE : u ? P::ICMP_UGE : P::ICMP_SGE;
      break;
    case Op::Eq:
      p = flt ? P::FCMP_OEQ : P::ICMP_EQ;
      break;
    case Op::Ne:
      p = flt ? P::FCMP_UNE : P::ICMP_NE;
      break;
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::LogicalAnd:
    case Op::LogicalOr:
    case Op::FloorDiv:
    case Op::Mod:
    case Op::Maximum:
    case Op::Minimum:
    case Op::Pow:
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      throw InternalError(std::string("lower: ") + op_name(op) + " is not a comparison");
  }
  return flt ? b.CreateFCmp(p, x, y) : b.CreateICmp(p, x, y);
}

// Python's // and % on integers, without the undefined cases of sdiv: a zero
// divisor stores 1 into `status` (the backend then reports the error) and
// computes with 1 instead; MIN // -1 wraps, as torch's. q = a / b rounded
// toward zero is one less where the remainder is nonzero and its sign
// differs from b's; the remainder then takes b's sign by adding b.
llvm::Value *emit_integer_division(llvm::IRBuilder<> &b, Op op, llvm::Value *x, llvm::Value *y,
                                   DType t, llvm::Value *status) {
  FUSEJIT_INTERNAL_CHECK(status != nullptr, "lower: an integer ", op_name(op),
                         " without a status slot");
  llvm::Type *type = x->getType();
  llvm::Value *zero = emit_constant(type, 0), *one = emit_constant(type, 1);
  llvm::Value *is_zero = b.CreateICmpEQ(y, zero);
  emit_report_if(b, is_zero, status, "div.zero");
  if (is_unsigned(t)) {
    llvm::Value *d = b.CreateSelect(is_zero, one, y);
    return op == Op::FloorDiv ? b.CreateUDiv(x, d) : b.CreateURem(x, d);
  }
  llvm::Value *minus_one = b.CreateICmpEQ(y, emit_constant(type, -1));
  llvm::Value *d = b.CreateSelect(b.CreateOr(is_zero, minus_one), one, y);
  llvm::Value *q = b.CreateSDiv(x, d), *r = b.CreateSRem(x, d);
  // Only a nonzero remainder whose sign differs from the divisor's adjusts.
  llvm::Value *adjust =
      b.CreateAnd(b.CreateICmpNE(r, zero), b.CreateICmpSLT(b.CreateXor(r, d), zero));
  if (op == Op::FloorDiv) {
    llvm::Value *floored = b.CreateSub(q, b.CreateZExt(adjust, type));
    return b.CreateSelect(minus_one, b.CreateNeg(x), floored);
  }
  llvm::Value *mod = b.CreateSelect(adjust, b.CreateAdd(r, d), r);
  return b.CreateSelect(minus_one, zero, mod);
}

// Python's % on floats: fmod, plus the divisor where the signs differ.
llvm::Value *emit_float_mod(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  llvm::Type *type = x->getType();
  llvm::Value *r = b.CreateFRem(x, y);
  llvm::Value *zero = fp(type, 0.0);
  llvm::Value *differ = b.CreateXor(b.CreateFCmpOLT(r, zero), b.CreateFCmpOLT(y, zero));
  llvm::Value *adjust = b.CreateAnd(b.CreateFCmpONE(r, zero), differ);
  return b.CreateSelect(adjust, b.CreateFAdd(r, y), r);
}

llvm::Value *emit_binary(llvm::IRBuilder<> &b, Op op, llvm::Value *x, llvm::Value *y, DType t,
                         llvm::Value *status) {
  const bool flt = is_floating(t), u = is_unsigned(t), boolean = t == DType::Bool;
  auto minmax = [&](llvm::Intrinsic::ID f, llvm::Intrinsic::ID s, llvm::Intrinsic::ID un) {
    return b.CreateBinaryIntrinsic(flt ? f : u ? un : s, x, y);
  };
  switch (op) {
    case Op::Add:  // on bool, or (torch's add of bools)
      return flt ? b.CreateFAdd(x, y) : boolean ? b.CreateOr(x, y) : b.CreateAdd(x, y);
    case Op::Sub:
      if (boolean) not_for(op, t);
      return flt ? b.CreateFSub(x, y) : b.CreateSub(x, y);
    case Op::Mul:  // on bool, and
      return flt ? b.CreateFMul(x, y) : boolean ? b.CreateAnd(x, y) : b.CreateMul(x, y);
    case Op::Div:
      if (!flt) not_for(op, t);
      return b.CreateFDiv(x, y);
    case Op::FloorDiv:
      if (flt) return b.CreateUnaryIntrinsic(llvm::Intrinsic::floor, b.CreateFDiv(x, y));
      return emit_integer_division(b, op, x, y, t, status);
    case Op::Mod:
      if (flt) return emit_float_mod(b, x, y);
      return emit_integer_division(b, op, x, y, t, status);
    case Op::Lt:
    case Op::Gt:
    case Op::Eq:
    case Op::Le:
    case Op::Ge:
    case Op::Ne:
      return emit_flag(b, emit_compare(b, op, x, y, t), b.getInt8Ty());
    case Op::LogicalAnd:
      return b.CreateAnd(x, y);
    case Op::LogicalOr:
      return b.CreateOr(x, y);
    // llvm.maximum/minimum propagate NaN like the interpreter's nan_max.
    case Op::Maximum:
      return minmax(llvm::Intrinsic::maximum, llvm::Intrinsic::smax, llvm::Intrinsic::umax);
    case Op::Minimum:
      return minmax(llvm::Intrinsic::minimum, llvm::Intrinsic::smin, llvm::Intrinsic::umin);
    case Op::Pow:
      if (!flt) not_for(op, t);
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
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
                          const std::vector<llvm::Value *> &args,
                          const std::vector<DType> &arg_dtypes, llvm::Value *status) {
  FUSEJIT_INTERNAL_CHECK(in.kind == InstrKind::Compute,
                         "lower: emit_compute given a load, constant or reduced value");
  FUSEJIT_INTERNAL_CHECK(arg_dtypes.size() == args.size(), "lower: ", op_name(in.op), " given ",
                         args.size(), " args and ", arg_dtypes.size(), " dtypes");
  switch (op_kind(in.op)) {
    case OpKind::Unary:
      if (in.op == Op::Cast) return emit_cast(b, args[0], arg_dtypes[0], in.dtype);
      return emit_unary(b, in.op, args[0], arg_dtypes[0]);
    case OpKind::Binary:
      return emit_binary(b, in.op, args[0], args[1], arg_dtypes[0], status);
    case OpKind::Ternary: {
      // where: the condition is a bool byte (any nonzero selects x, as a float
      // condition's NaN does).
      llvm::Value *c = args[0];
      llvm::Value *nonzero = c->getType()->isFPOrFPVectorTy()
                                 ? b.CreateFCmpUNE(c, fp(c->getType(), 0.0))
                                 : b.CreateICmpNE(c, emit_constant(c->getType(), 0));
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

std::vector<DType> arg_dtypes(const Kernel &k, const Instr &in) {
  std::vector<DType> out;
  out.reserve(in.args.size());
  for (int a : in.args) out.push_back(k.body.at(static_cast<size_t>(a)).dtype);
  return out;
}

llvm::Value *emit_reduce_identity(llvm::Type *type, Op op, DType dtype) {
  return emit_constant(type, reduce_identity(op, dtype));
}

llvm::Value *emit_reduce_combine(llvm::IRBuilder<> &b, Op op, DType dtype, llvm::Value *acc,
                                 llvm::Value *v) {
  const bool flt = is_floating(dtype), u = is_unsigned(dtype);
  switch (op) {
    case Op::Sum:
    case Op::Mean:
      return flt ? b.CreateFAdd(acc, v) : b.CreateAdd(acc, v);
    case Op::Prod:
      return flt ? b.CreateFMul(acc, v) : b.CreateMul(acc, v);
    case Op::Max:
      return b.CreateBinaryIntrinsic(flt ? llvm::Intrinsic::maximum
                                     : u ? llvm::Intrinsic::umax
                                         : llvm::Intrinsic::smax,
                                     acc, v);
    case Op::Min:
      return b.CreateBinaryIntrinsic(flt ? llvm::Intrinsic::minimum
                                     : u ? llvm::Intrinsic::umin
                                         : llvm::Intrinsic::smin,
                                     acc, v);
    case Op::Any:
      return b.CreateOr(acc, v);
    case Op::All:
      return b.CreateAnd(acc, v);
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_VIEW_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("lower: ") + op_name(op) + " is not a reduction");
}

}  // namespace fusejit
