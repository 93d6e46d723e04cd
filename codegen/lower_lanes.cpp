#include "codegen/lower_lanes.h"

#include <optional>

#include "codegen/lower_kernel.h"
#include "codegen/lower_scalar.h"
#include "ir/error.h"

namespace fusejit {

namespace {

class LaneEmitter {
 public:
  LaneEmitter(llvm::IRBuilder<> &b, const Kernel &k, const std::vector<llvm::Value *> &buffers,
              const LanePoint &at)
      : b_(b), k_(k), buffers_(buffers), at_(at) {}

  llvm::Value *emit(const Instr &in, const std::vector<llvm::Value *> &values) {
    switch (in.kind) {
      case InstrKind::Const:
        return emit_constant(type_of(in.dtype), in.value);
      case InstrKind::Reduced:
        return at_.reduced;
      case InstrKind::Load:
        if (llvm::Value *v = run_load(in, values)) return v;
        return in.access.masked() || in.access.gathers() ? per_lane_masked(in, values) : load(in);
      case InstrKind::Valid:
        return per_lane_masked(in, values);
      case InstrKind::Iota:
        return in.access.is_affine() && !in.access.masked() ? iota(in)
                                                            : per_lane_masked(in, values);
      case InstrKind::Compute:
        break;
    }
    std::vector<llvm::Value *> args;
    for (int a : in.args) args.push_back(values.at(a));
    // tanh is a libm call with a scalar signature; an integer // or %
    // branches on each divisor.
    if (at_.lanes > 1 && (in.op == Op::Tanh || instr_has_status(k_, in))) return per_lane(in, args);
    return emit_compute(b_, in, args, arg_dtypes(k_, in), status());
  }

 private:
  llvm::Type *scalar_type(DType t) { return llvm_type(b_.getContext(), t); }
  // The status slot, the last of the body's buffers (see KernelBody).
  llvm::Value *status() const { return kernel_has_status(k_) ? buffers_.back() : nullptr; }
  llvm::Type *type_of(DType t) {
    llvm::Type *s = scalar_type(t);
    return at_.lanes == 1 ? s : llvm::FixedVectorType::get(s, static_cast<unsigned>(at_.lanes));
  }

  llvm::Value *load_at(const Instr &in, llvm::Value *position) {
    llvm::Type *t = scalar_type(in.dtype);
    return b_.CreateLoad(t, b_.CreateInBoundsGEP(t, buffers_.at(in.input), position));
  }

  llvm::Value *load(const Instr &in) {
    llvm::Value *p = emit_position(b_, in.access, at_.index);
    if (at_.lanes == 1) return load_at(in, p);
    const AccessLayer &first = in.access.layers[0];
    int64_t stride = first.shape[at_.dim] == 1 ? 0 : first.strides[at_.dim];
    if (stride == 0 && in.access.is_affine())
      return b_.CreateVectorSplat(at_.lanes, load_at(in, p));
    if (at_.limit || !in.access.is_affine()) return gather(in);
    if (stride == 1) {
      llvm::Type *t = scalar_type(in.dtype);
      return b_.CreateAlignedLoad(type_of(in.dtype),
                                  b_.CreateInBoundsGEP(t, buffers_.at(in.input), p),
                                  llvm::Align(t->getPrimitiveSizeInBits() / 8));
    }
    llvm::Value *v = llvm::PoisonValue::get(type_of(in.dtype));
    for (int l = 0; l < at_.lanes; ++l) {
      // No nuw: a flipped dim's stride is negative.
      llvm::Value *pl = b_.CreateAdd(p, b_.getInt64(uint64_t(l * stride)), "", false, true);
      v = b_.CreateInsertElement(v, load_at(in, pl), uint64_t(l));
    }
    return v;
  }

  // A load through layers or ranges whose lanes may form a run (see
  // LaneRun): one vector load (a gather where the run is strided) behind the
  // run-time check, the lane-by-lane load where it fails; null when the
  // access has no run to check for. Window views (a convolution's operand,
  // its ranges the padding) read most of their rows this way.
  llvm::Value *run_load(const Instr &in, const std::vector<llvm::Value *> &values) {
    if (at_.lanes == 1 || at_.limit || numel(in_shape(in)) == 0 ||
        (in.access.is_affine() && !in.access.masked()))
      return nullptr;
    std::optional<LaneRun> run =
        emit_lane_run(b_, in.access, at_.index, static_cast<size_t>(at_.dim), at_.lanes);
    if (!run) return nullptr;
    llvm::LLVMContext &ctx = b_.getContext();
    llvm::Function *fn = b_.GetInsertBlock()->getParent();
    auto *fast = llvm::BasicBlock::Create(ctx, "run", fn);
    auto *slow = llvm::BasicBlock::Create(ctx, "lanes", fn);
    auto *join = llvm::BasicBlock::Create(ctx, "run.join", fn);
    b_.CreateCondBr(run->fits, fast, slow);
    b_.SetInsertPoint(fast);
    llvm::Value *v = vector_of_run(in, *run);
    llvm::BasicBlock *fast_end = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(slow);
    llvm::Value *w = in.access.masked() ? per_lane_masked(in, values) : gather(in);
    llvm::BasicBlock *slow_end = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    llvm::PHINode *phi = b_.CreatePHI(v->getType(), 2);
    phi->addIncoming(v, fast_end);
    phi->addIncoming(w, slow_end);
    return phi;
  }

  // <0, step, 2 * step, ...> + first, as i64 lanes.
  llvm::Value *lane_steps(llvm::Value *first, int64_t step) {
    std::vector<llvm::Constant *> steps;
    for (int l = 0; l < at_.lanes; ++l) steps.push_back(b_.getInt64(uint64_t(l * step)));
    return b_.CreateAdd(b_.CreateVectorSplat(at_.lanes, first), llvm::ConstantVector::get(steps));
  }

  llvm::Value *vector_of_run(const Instr &in, const LaneRun &run) {
    llvm::Type *t = scalar_type(in.dtype);
    llvm::Type *vt = type_of(in.dtype);
    llvm::Value *mask = run.valid ? b_.CreateVectorSplat(at_.lanes, run.valid) : nullptr;
    for (const LaneRange &r : run.ranges) {
      llvm::Value *in_range =
          r.range.lo >= r.range.hi
              ? b_.CreateVectorSplat(at_.lanes, b_.getFalse())
              : b_.CreateICmpULT(b_.CreateSub(lane_steps(r.first, r.step),
                                              b_.CreateVectorSplat(
                                                  at_.lanes, b_.getInt64(uint64_t(r.range.lo)))),
                                 b_.CreateVectorSplat(
                                     at_.lanes, b_.getInt64(uint64_t(r.range.hi - r.range.lo))));
      mask = mask ? b_.CreateAnd(mask, in_range) : in_range;
    }
    llvm::Align align(t->getPrimitiveSizeInBits() / 8);
    llvm::Value *base = buffers_.at(in.input);
    llvm::Value *fill = b_.CreateVectorSplat(at_.lanes, emit_constant(t, in.value));
    // No inbounds: where lane 0 is invalid its position may lie outside.
    if (run.step == 0 && !mask) return b_.CreateVectorSplat(at_.lanes, load_at(in, run.position));
    if (run.step == 1) {
      llvm::Value *p = b_.CreateGEP(t, base, run.position);
      if (!mask) return b_.CreateAlignedLoad(vt, p, align);
      return b_.CreateMaskedLoad(vt, p, align, mask, fill);
    }
    llvm::Value *pointers = b_.CreateGEP(t, base, lane_steps(run.position, run.step));
    if (!mask) mask = b_.CreateVectorSplat(at_.lanes, b_.getTrue());
    return b_.CreateMaskedGather(vt, pointers, align, mask, fill);
  }

  // The lane's index along the lane dim, clamped to the limit.
  std::vector<llvm::Value *> lane_index(int l) {
    std::vector<llvm::Value *> index = at_.index;
    if (at_.lanes == 1) return index;
    llvm::Value *i = b_.CreateAdd(index[at_.dim], b_.getInt64(uint64_t(l)), "", true, true);
    if (at_.limit) {
      llvm::Value *last = b_.CreateSub(at_.limit, b_.getInt64(1));
      i = b_.CreateSelect(b_.CreateICmpSLT(i, at_.limit), i, last);
    }
    index[at_.dim] = i;
    return index;
  }

  // An unmasked affine iota: lane 0's position plus the lane times its stride.
  llvm::Value *iota(const Instr &in) {
    llvm::Type *t = scalar_type(in.dtype);
    llvm::Value *p = emit_position(b_, in.access, at_.index);
    auto convert = [&](llvm::Value *x) {
      return t->isFloatingPointTy() ? b_.CreateSIToFP(x, type_of(in.dtype))
                                    : b_.CreateSExtOrTrunc(x, type_of(in.dtype));
    };
    if (at_.lanes == 1) return convert(p);
    const AccessLayer &first = in.access.layers[0];
    int64_t stride = first.shape[at_.dim] == 1 ? 0 : first.strides[at_.dim];
    std::vector<llvm::Constant *> steps;
    for (int l = 0; l < at_.lanes; ++l) steps.push_back(b_.getInt64(uint64_t(l * stride)));
    llvm::Value *lanes = b_.CreateAdd(b_.CreateVectorSplat(at_.lanes, p),
                                      llvm::ConstantVector::get(steps), "", false, true);
    return convert(lanes);
  }

  // Lane l's values of the instructions a gather indexes by.
  GatherValues lane_gathered(const std::vector<llvm::Value *> &values, int l) {
    return {[this, &values, l](int i) {
              llvm::Value *v = values.at(static_cast<size_t>(i));
              return at_.lanes == 1 ? v : b_.CreateExtractElement(v, uint64_t(l));
            },
            status()};
  }

  // A masked or gathering load (or a Valid, or an iota) lane by lane, without
  // branches: an invalid lane reads element 0 and keeps its fill value
  // instead.
  llvm::Value *per_lane_masked(const Instr &in, const std::vector<llvm::Value *> &values) {
    llvm::Type *t = scalar_type(in.dtype);
    llvm::Value *v = at_.lanes == 1 ? nullptr : llvm::PoisonValue::get(type_of(in.dtype));
    for (int l = 0; l < at_.lanes; ++l) {
      MaskedPosition at =
          emit_masked_position(b_, in.access, lane_index(l), lane_gathered(values, l));
      llvm::Value *valid = at.valid ? at.valid : b_.getTrue();
      llvm::Value *x;
      if (in.kind == InstrKind::Valid) {
        x = emit_flag(b_, valid, t);
      } else if (in.kind == InstrKind::Iota) {
        llvm::Value *p = t->isFloatingPointTy() ? b_.CreateSIToFP(at.position, t)
                                                : b_.CreateSExtOrTrunc(at.position, t);
        x = b_.CreateSelect(valid, p, emit_constant(t, in.value));
      } else if (numel(in_shape(in)) == 0) {
        x = emit_constant(t, in.value);
      } else {
        llvm::Value *p = b_.CreateSelect(valid, at.position, b_.getInt64(0));
        x = b_.CreateSelect(valid, load_at(in, p), emit_constant(t, in.value));
      }
      if (at_.lanes == 1) return x;
      v = b_.CreateInsertElement(v, x, uint64_t(l));
    }
    return v;
  }

  // One scalar load per lane at its own (clamped) index.
  llvm::Value *gather(const Instr &in) {
    llvm::Value *v = llvm::PoisonValue::get(type_of(in.dtype));
    for (int l = 0; l < at_.lanes; ++l)
      v = b_.CreateInsertElement(v, load_at(in, emit_position(b_, in.access, lane_index(l))),
                                 uint64_t(l));
    return v;
  }

  llvm::Value *per_lane(const Instr &in, const std::vector<llvm::Value *> &args) {
    llvm::Value *v = llvm::PoisonValue::get(type_of(in.dtype));
    for (int l = 0; l < at_.lanes; ++l) {
      std::vector<llvm::Value *> scalars;
      for (llvm::Value *a : args) scalars.push_back(b_.CreateExtractElement(a, uint64_t(l)));
      v = b_.CreateInsertElement(v, emit_compute(b_, in, scalars, arg_dtypes(k_, in), status()),
                                 uint64_t(l));
    }
    return v;
  }

  const Shape &in_shape(const Instr &in) const { return k_.inputs.at(in.input).shape; }

  llvm::IRBuilder<> &b_;
  const Kernel &k_;
  const std::vector<llvm::Value *> &buffers_;
  const LanePoint &at_;
};

}  // namespace

std::vector<llvm::Value *> emit_lanes(llvm::IRBuilder<> &b, const Kernel &k,
                                      const std::vector<llvm::Value *> &buffers,
                                      const std::vector<bool> &which, const LanePoint &at) {
  FUSEJIT_INTERNAL_CHECK(at.lanes == 1 || (at.dim >= 0 && size_t(at.dim) < k.domain.size()),
                         "emit_lanes: no lane dim in ", k.name);
  LaneEmitter emitter(b, k, buffers, at);
  std::vector<llvm::Value *> values(k.body.size(), nullptr);
  for (size_t i = 0; i < k.body.size(); ++i)
    if (which[i]) values[i] = emitter.emit(k.body[i], values);
  return values;
}

}  // namespace fusejit
