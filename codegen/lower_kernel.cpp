// The loop nest of a kernel: one LLVM function whose loops walk the kernel's
// (coalesced) domain, with constant trip counts and strides so LLVM can
// vectorize the innermost loop, and a wrapper with the ABI of
// compile_kernel.h. The instructions inside come from lower_scalar.cpp.
#include "codegen/lower_kernel.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include "codegen/coalesce_dims.h"
#include "codegen/counted_loop.h"
#include "codegen/fast_math.h"
#include "codegen/gemm_blocking.h"
#include "codegen/host_target.h"
#include "codegen/llvm_error.h"
#include "codegen/lower_gemm.h"
#include "codegen/lower_rows.h"
#include "codegen/lower_scalar.h"
#include "codegen/optimize.h"
#include "ir/error.h"

namespace fusejit {

namespace {

// Accumulators a row reduction keeps per tile: 4 KiB of f32, small enough
// for the stack of any thread, long enough to stream each row.
constexpr int64_t kRowTile = 1024;

// The most terms any sum accumulator takes (see reduce_levels). f32 keeps
// 24 bits, so one running sum stalls at 2^24 ones; a block's rounding error
// grows with its length, while its end costs a few instructions (fast's
// vector partial sums added up, a scalar remainder loop): 4096 keeps both
// small, the error of a sum of n terms ~ log_4096(n) blocks deep.
constexpr int64_t kSumBlock = 4096;

// Innermost reduced extents at most this long are reduced across rows when
// an output dim is contiguous (see reduces_across_rows).
constexpr int64_t kShortReduce = 8;
constexpr int64_t kUnrolledReduce = 64;

class KernelLowering {
 public:
  KernelLowering(const CoalescedKernel &c, llvm::Module &module)
      : k_(c.kernel), scale_(c.parallel_scale), module_(module), b_(module.getContext()) {}

  void run(Numerics numerics) {
    b_.setFastMathFlags(fast_math_flags(numerics));
    llvm::Function *body = define_body();
    switch (k_.kind()) {
      case KernelKind::Elementwise:
        lower_elementwise();
        break;
      case KernelKind::Reduce:
        lower_reduction();
        break;
      case KernelKind::Matmul:
        throw InternalError("lower: matmul kernel " + k_.name + " belongs to lower_gemm");
      case KernelKind::Row:
        throw InternalError("lower: row kernel " + k_.name + " belongs to lower_rows");
    }
    b_.CreateRetVoid();
    define_abi_entry(module_, body, num_buffers());
  }

 private:
  llvm::Type *type_of(DType t) { return llvm_type(module_.getContext(), t); }
  size_t num_buffers() const { return k_.inputs.size() + k_.outputs.size(); }

  llvm::Function *define_body() {
    KernelBody body = define_kernel_body(module_, k_, false);
    fn_ = body.fn;
    buffers_ = std::move(body.buffers);
    begin_ = body.begin;
    end_ = body.end;
    status_ = body.status;
    b_.SetInsertPoint(&fn_->getEntryBlock());
    index_.assign(k_.domain.size(), b_.getInt64(0));
    return fn_;
  }

  // Loops over the first `count` output dims (all by default), the first
  // over the caller's [begin, end) (scaled by the dims coalesced into it);
  // fills index_.
  // This call's range of the (coalesced) first dim: [begin, end) scaled.
  std::pair<llvm::Value *, llvm::Value *> chunk_range() {
    if (scale_ == 1) return {begin_, end_};
    llvm::Value *scale = b_.getInt64(uint64_t(scale_));
    return {b_.CreateMul(begin_, scale, "lo", true, true),
            b_.CreateMul(end_, scale, "hi", true, true)};
  }

  std::vector<CountedLoop> open_output_loops(size_t count = SIZE_MAX) {
    std::vector<CountedLoop> loops;
    for (size_t d = 0; d < std::min(count, k_.num_output_dims()); ++d) {
      llvm::Value *lo = b_.getInt64(0), *hi = b_.getInt64(uint64_t(k_.domain[d]));
      if (d == 0) std::tie(lo, hi) = chunk_range();
      loops.emplace_back(b_, lo, hi, "o" + std::to_string(d));
      index_[d] = loops.back().index();
    }
    return loops;
  }

  static void close(std::vector<CountedLoop> &loops) {
    for (auto it = loops.rbegin(); it != loops.rend(); ++it) it->close();
  }

  void lower_elementwise() {
    if (numel(k_.domain) == 0) return;
    std::vector<int64_t> cuts = mask_cuts();
    if (cuts.size() <= 2) {
      std::vector<CountedLoop> loops = open_output_loops();
      emit_instrs(false);
      store_outputs();
      close(loops);
      return;
    }
    // The innermost dim runs one loop per piece between cuts, where every
    // mask on it is all true or all false: LLVM folds the checks away and
    // vectorizes each piece, which it does not do with a branch per load
    // (a cat of four sources ran scalar at 0.43x the triad).
    const size_t last = k_.num_output_dims() - 1;
    std::vector<CountedLoop> loops = open_output_loops(last);
    llvm::Value *lo = b_.getInt64(0), *hi = b_.getInt64(uint64_t(k_.domain[last]));
    if (last == 0) std::tie(lo, hi) = chunk_range();
    for (size_t c = 0; c + 1 < cuts.size(); ++c) {
      llvm::Value *from = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, lo, b_.getInt64(cuts[c]));
      llvm::Value *to =
          b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, hi, b_.getInt64(cuts[c + 1]));
      CountedLoop piece(b_, from, to, "o" + std::to_string(last) + "." + std::to_string(c));
      index_[last] = piece.index();
      emit_instrs(false);
      store_outputs();
      piece.close();
    }
    close(loops);
  }

  // Where the masks of the domain's innermost dim change, sorted, with 0 and
  // its extent; just those two when no load, valid or iota masks it, or when
  // so many pieces would cost more code than the checks (kMaxPieces).
  std::vector<int64_t> mask_cuts() const {
    constexpr size_t kMaxPieces = 8;
    const size_t outputs = k_.num_output_dims();
    if (outputs == 0) return {};
    const size_t last = outputs - 1;
    const int64_t extent = k_.domain[last];
    std::vector<int64_t> cuts{0, extent};
    for (const Instr &in : k_.body) {
      if (in.kind != InstrKind::Load && in.kind != InstrKind::Valid && in.kind != InstrKind::Iota)
        continue;
      const AccessLayer &layer = in.access.layers.at(0);
      if (!layer.masks(last)) continue;
      for (int64_t at : {layer.valid[last].lo, layer.valid[last].hi})
        cuts.push_back(std::clamp<int64_t>(at, 0, extent));
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    if (cuts.size() > kMaxPieces + 1) return {0, extent};
    return cuts;
  }

  // One loop of a reduction nest: reduced dim `dim` in steps of `step`.
  struct ReduceLevel {
    size_t dim;
    int64_t step;
  };

  // The reduce loops, outermost first. Sums cut a dim longer than kSumBlock
  // into blocks of kSumBlock (blocks of those, ... as needed), so no level
  // runs more than kSumBlock iterations; max runs one loop per dim.
  std::vector<ReduceLevel> reduce_levels() const {
    std::vector<ReduceLevel> levels;
    for (size_t d = k_.num_output_dims(); d < k_.domain.size(); ++d) {
      std::vector<int64_t> steps{1};
      if (k_.reduction->op == Op::Sum)
        while ((k_.domain[d] + steps.back() - 1) / steps.back() > kSumBlock)
          steps.push_back(steps.back() * kSumBlock);
      for (auto s = steps.rbegin(); s != steps.rend(); ++s) levels.push_back({d, *s});
    }
    return levels;
  }

  // The accumulator of each level: a sum gives every level its own, which
  // starts at 0 and is added into its parent's when the level's loop ends
  // (see the floating-point policy in ir/README.md); max shares one.
  size_t accumulator_of(size_t level) const { return k_.reduction->op == Op::Sum ? level : 0; }
  size_t num_accumulators(size_t levels) const {
    return k_.reduction->op == Op::Sum ? std::max<size_t>(levels, 1) : 1;
  }

  // What a reduction nest does with its accumulators, by accumulator number.
  struct Accumulators {
    std::function<void(size_t)> init;          // to the identity
    std::function<void(size_t, size_t)> fold;  // (into, from): into op= from
    std::function<void(size_t)> accumulate;    // op= the value at the current point
  };

  // The reduce loops, with accumulator 0 holding the result after them;
  // index_ is 0 in the reduced dims afterwards, for the epilogue.
  void emit_reduce_loops(const Accumulators &acc) {
    std::vector<ReduceLevel> levels = reduce_levels();
    if (levels.empty()) {  // a reduction of a scalar: one point
      acc.init(0);
      acc.accumulate(0);
      return;
    }
    emit_level(levels, 0, b_.getInt64(0), b_.getInt64(uint64_t(k_.domain[levels[0].dim])), acc);
    for (size_t d = k_.num_output_dims(); d < k_.domain.size(); ++d) index_[d] = b_.getInt64(0);
  }

  // Level `l` over [lo, hi) of its dim, and the levels inside it.
  void emit_level(const std::vector<ReduceLevel> &levels, size_t l, llvm::Value *lo,
                  llvm::Value *hi, const Accumulators &acc) {
    const ReduceLevel &level = levels[l];
    size_t mine = accumulator_of(l);
    bool own = l == 0 || mine != accumulator_of(l - 1);
    if (own) acc.init(mine);
    std::string name = "r" + std::to_string(level.dim - k_.num_output_dims());
    if (level.step > 1) {
      llvm::Value *step = b_.getInt64(uint64_t(level.step));
      llvm::Value *blocks =
          b_.CreateUDiv(b_.CreateAdd(b_.CreateSub(hi, lo), b_.getInt64(uint64_t(level.step - 1))),
                        step, name + ".blocks");
      CountedLoop loop(b_, b_.getInt64(0), blocks, name + ".block" + std::to_string(l));
      llvm::Value *start =
          b_.CreateAdd(lo, b_.CreateMul(loop.index(), step), name + ".start", true, true);
      llvm::Value *next = b_.CreateAdd(start, step, "", true, true);
      llvm::Value *end = b_.CreateSelect(b_.CreateICmpSLT(next, hi), next, hi, name + ".end");
      emit_level(levels, l + 1, start, end, acc);
      loop.close();
    } else {
      CountedLoop loop(b_, lo, hi, name);
      index_[level.dim] = loop.index();
      if (l + 1 < levels.size())
        emit_level(levels, l + 1, b_.getInt64(0),
                   b_.getInt64(uint64_t(k_.domain[levels[l + 1].dim])), acc);
      else
        acc.accumulate(mine);
      loop.close();
    }
    if (own && l > 0) acc.fold(accumulator_of(l - 1), mine);
  }

  DType reduced_dtype() const { return k_.body.at(k_.reduction->value).dtype; }
  llvm::Value *identity(llvm::Type *type) const {
    return emit_reduce_identity(type, k_.reduction->op, reduced_dtype());
  }
  llvm::Value *combine(llvm::Value *a, llvm::Value *v) {
    return emit_reduce_combine(b_, k_.reduction->op, reduced_dtype(), a, v);
  }

  // Per output point: the accumulators (stack slots SROA promotes), the
  // reduce loops, the scale, the epilogue, the stores.
  void lower_reduction() {
    if (numel(k_.output_shape()) == 0) return;
    if (reduces_across_rows()) return lower_row_reduction();
    llvm::Type *type = type_of(k_.body.at(k_.reduction->value).dtype);
    llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    std::vector<llvm::AllocaInst *> slots;
    for (size_t i = 0; i < num_accumulators(reduce_levels().size()); ++i)
      slots.push_back(entry.CreateAlloca(type, nullptr, "acc" + std::to_string(i)));

    std::vector<CountedLoop> outer = open_output_loops();
    Accumulators acc;
    acc.init = [&](size_t i) { b_.CreateStore(identity(type), slots[i]); };
    acc.fold = [&](size_t into, size_t from) {
      b_.CreateStore(combine(b_.CreateLoad(type, slots[into]), b_.CreateLoad(type, slots[from])),
                     slots[into]);
    };
    acc.accumulate = [&](size_t i) {
      emit_instrs(false);
      b_.CreateStore(combine(b_.CreateLoad(type, slots[i]), values_.at(k_.reduction->value)),
                     slots[i]);
    };
    emit_reduce_loops(acc);
    reduced_ = b_.CreateLoad(type, slots[0], "reduced");
    if (k_.reduction->scale != 1.0)
      reduced_ = b_.CreateFMul(reduced_, llvm::ConstantFP::get(type, k_.reduction->scale));
    emit_instrs(true);
    store_outputs();
    close(outer);
  }

  // True when the loads walk the innermost output dim contiguously but not
  // the innermost reduced dim (a reduction over rows, like sum(x, 0)): then
  // the reduce loops go outside and a row of accumulators inside, so every
  // load streams through memory instead of striding a row per element.
  bool reduces_across_rows() const {
    size_t outs = k_.num_output_dims();
    if (outs == 0 || k_.num_reduce == 0) return false;
    size_t last_out = outs - 1, last_red = k_.domain.size() - 1;
    int along_out = 0, along_red = 0;
    for (const Instr &in : k_.body) {
      if (in.kind != InstrKind::Load || in.outer || !in.access.is_affine()) continue;
      const Strides &st = in.access.layers[0].strides;
      along_out += st[last_out] == 1;
      along_red += st[last_red] == 1;
    }
    // A short innermost reduced dim (a convolution's kernel width) under
    // longer outer ones (its channels) gives per-point loops too short to
    // vectorize and too many to unroll; a row of accumulators along a
    // contiguous output dim vectorizes instead. A small whole reduction
    // (a 5x5 window over one channel) is better left to the per-point form,
    // which LLVM unrolls and vectorizes across points: 50 against 11
    // GFLOP/s on LeNet's first layer, 0.3 against 8 on its second.
    int64_t reduced = 1;
    for (size_t d = outs; d < k_.domain.size(); ++d) reduced *= k_.domain[d];
    bool short_reduce =
        k_.domain[last_red] <= kShortReduce && reduced > kUnrolledReduce && k_.domain[last_out] > 1;
    return along_out > along_red || (along_out > 0 && short_reduce);
  }

  // for the outer output dims: for each tile of the last output dim:
  //   the reduce loops, each accumulator a row acc[j] of the tile:
  //     init: for j: acc[j] = identity; accumulate: for j: acc[j] op= value;
  //   for j: epilogue(acc0[j] * scale), store.
  // Each element sums its reduced dims in lower_reduction's order, so Strict
  // results are those of lower_reduction whatever the tiling.
  void lower_row_reduction() {
    const size_t last = k_.num_output_dims() - 1;
    const int64_t width = k_.domain[last];
    const int64_t tile = std::min<int64_t>(width, kRowTile);
    llvm::Type *type = type_of(k_.body.at(k_.reduction->value).dtype);
    llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    std::vector<llvm::AllocaInst *> rows;
    for (size_t i = 0; i < num_accumulators(reduce_levels().size()); ++i)
      rows.push_back(entry.CreateAlloca(llvm::ArrayType::get(type, uint64_t(tile)), nullptr,
                                        "acc" + std::to_string(i)));

    // The output loops but the last; the last dim's range is tiled below.
    std::vector<CountedLoop> outer = open_output_loops(last);
    llvm::Value *lo = b_.getInt64(0), *hi = b_.getInt64(uint64_t(width));
    if (last == 0) {
      lo = scale_ == 1 ? begin_
                       : b_.CreateMul(begin_, b_.getInt64(uint64_t(scale_)), "lo", true, true);
      hi = scale_ == 1 ? end_ : b_.CreateMul(end_, b_.getInt64(uint64_t(scale_)), "hi", true, true);
    }
    // Tiles start at lo, lo + tile, ...; the tile loop counts tiles.
    llvm::Value *tiles =
        b_.CreateUDiv(b_.CreateAdd(b_.CreateSub(hi, lo), b_.getInt64(uint64_t(tile - 1))),
                      b_.getInt64(uint64_t(tile)), "tiles");
    CountedLoop tile_loop(b_, b_.getInt64(0), tiles, "tile");
    llvm::Value *start =
        b_.CreateAdd(lo, b_.CreateMul(tile_loop.index(), b_.getInt64(uint64_t(tile))), "start");
    llvm::Value *count = b_.CreateSub(
        b_.CreateSelect(b_.CreateICmpSLT(b_.CreateAdd(start, b_.getInt64(uint64_t(tile))), hi),
                        b_.CreateAdd(start, b_.getInt64(uint64_t(tile))), hi),
        start, "count");
    auto slot = [&](size_t i, llvm::Value *j) { return b_.CreateInBoundsGEP(type, rows[i], j); };
    // for (j = 0; j < count; ++j) body(j)
    auto for_row = [&](const char *name, const std::function<void(llvm::Value *)> &body) {
      CountedLoop row(b_, b_.getInt64(0), count, name);
      body(row.index());
      row.close();
    };

    Accumulators acc;
    acc.init = [&](size_t i) {
      for_row("init", [&](llvm::Value *j) { b_.CreateStore(identity(type), slot(i, j)); });
    };
    acc.fold = [&](size_t into, size_t from) {
      for_row("fold", [&](llvm::Value *j) {
        llvm::Value *sum =
            combine(b_.CreateLoad(type, slot(into, j)), b_.CreateLoad(type, slot(from, j)));
        b_.CreateStore(sum, slot(into, j));
      });
    };
    acc.accumulate = [&](size_t i) {
      for_row("row", [&](llvm::Value *j) {
        index_[last] = b_.CreateAdd(start, j, "i", true, true);
        emit_instrs(false);
        b_.CreateStore(combine(b_.CreateLoad(type, slot(i, j)), values_.at(k_.reduction->value)),
                       slot(i, j));
      });
    };
    emit_reduce_loops(acc);

    CountedLoop epilogue(b_, b_.getInt64(0), count, "epilogue");
    index_[last] = b_.CreateAdd(start, epilogue.index(), "i", true, true);
    reduced_ = b_.CreateLoad(type, slot(0, epilogue.index()), "reduced");
    if (k_.reduction->scale != 1.0)
      reduced_ = b_.CreateFMul(reduced_, llvm::ConstantFP::get(type, k_.reduction->scale));
    emit_instrs(true);
    store_outputs();
    epilogue.close();
    tile_loop.close();
    close(outer);
  }

  // The inner (or epilogue) instructions at the current domain point.
  void emit_instrs(bool outer) {
    values_.resize(k_.body.size(), nullptr);
    for (size_t i = 0; i < k_.body.size(); ++i) {
      const Instr &in = k_.body[i];
      if (in.kind == InstrKind::Const) {
        values_[i] = emit_constant(type_of(in.dtype), in.value);
        continue;
      }
      if (in.outer != outer) continue;
      values_[i] = emit_instr(in, i);
    }
  }

  llvm::Value *emit_instr(const Instr &in, size_t at) {
    switch (in.kind) {
      case InstrKind::Load:
        return emit_load(b_, type_of(in.dtype), buffers_.at(in.input),
                         numel(k_.inputs.at(in.input).shape), in.access, index_, in.value,
                         gathered());
      case InstrKind::Iota:
        return emit_iota(b_, type_of(in.dtype), in, index_, gathered());
      case InstrKind::Valid:
        return emit_valid(b_, type_of(in.dtype), in, index_, gathered());
      case InstrKind::Reduced:
        return reduced_;
      case InstrKind::Const:
      case InstrKind::Compute:
        break;
    }
    std::vector<llvm::Value *> args;
    for (int a : in.args) {
      // An epilogue cannot see inner values: they live inside the reduce loop.
      FUSEJIT_INTERNAL_CHECK(!in.outer || k_.body[a].outer || k_.body[a].kind == InstrKind::Const,
                             k_.name, " %", at, ": epilogue instruction uses inner value %", a);
      args.push_back(values_.at(a));
    }
    return emit_compute(b_, in, args, arg_dtypes(k_, in), status_);
  }

  // The values a gathering access indexes by: the instructions emitted so far.
  GatherValues gathered() {
    return {[this](int i) { return values_.at(static_cast<size_t>(i)); }, status_};
  }

  // Outputs are row-major over the output dims.
  void store_outputs() {
    Shape shape = k_.output_shape();
    Access row_major{{AccessLayer{shape, contiguous_strides(shape), 0, {}, {}}}};
    llvm::Value *p = emit_position(b_, row_major, index_);
    for (size_t j = 0; j < k_.outputs.size(); ++j) {
      llvm::Value *v = values_.at(k_.outputs[j].instr);
      llvm::Value *out = buffers_.at(k_.inputs.size() + j);
      b_.CreateStore(v, b_.CreateInBoundsGEP(v->getType(), out, p));
    }
  }

  const Kernel &k_;
  int64_t scale_;
  llvm::Module &module_;
  llvm::IRBuilder<> b_;
  llvm::Function *fn_ = nullptr;
  std::vector<llvm::Value *> buffers_;
  llvm::Value *begin_ = nullptr, *end_ = nullptr;
  llvm::Value *status_ = nullptr;
  std::vector<llvm::Value *> index_;   // the current domain point, one i64 per dim
  std::vector<llvm::Value *> values_;  // per instruction, once emitted
  llvm::Value *reduced_ = nullptr;
};

std::string first_lines(const llvm::Module &module, int lines) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, nullptr);
  os.flush();
  size_t at = 0;
  for (int i = 0; i < lines && at != std::string::npos; ++i) at = text.find('\n', at + 1);
  return at == std::string::npos ? text : text.substr(0, at) + "\n...";
}

}  // namespace

void define_abi_entry(llvm::Module &module, llvm::Function *body, size_t num_buffers) {
  llvm::IRBuilder<> b(module.getContext());
  llvm::Type *ptr = b.getPtrTy();
  auto *type = llvm::FunctionType::get(b.getVoidTy(), {ptr, b.getInt64Ty(), b.getInt64Ty()}, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, kKernelSymbol, module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  fn->getArg(0)->setName("buffers");
  b.SetInsertPoint(llvm::BasicBlock::Create(module.getContext(), "entry", fn));
  std::vector<llvm::Value *> args;
  for (size_t i = 0; i < num_buffers; ++i)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), i)));
  args.push_back(fn->getArg(1));
  args.push_back(fn->getArg(2));
  // A kernel with a status slot finds it after its buffers.
  if (body->arg_size() > num_buffers + 2)
    args.push_back(
        b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), num_buffers)));
  b.CreateCall(body, args);
  b.CreateRetVoid();
}

KernelBody define_kernel_body(llvm::Module &module, const Kernel &k, bool reads_outputs) {
  llvm::IRBuilder<> b(module.getContext());
  size_t num_buffers = k.inputs.size() + k.outputs.size();
  std::vector<llvm::Type *> params(num_buffers, b.getPtrTy());
  params.insert(params.end(), {b.getInt64Ty(), b.getInt64Ty()});
  const bool status = kernel_has_status(k);
  if (status) params.push_back(b.getPtrTy());
  auto *type = llvm::FunctionType::get(b.getVoidTy(), params, false);
  KernelBody body;
  body.fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, "body", module);
  body.fn->addFnAttr(llvm::Attribute::AlwaysInline);
  body.fn->addFnAttr(llvm::Attribute::NoUnwind);
  for (size_t i = 0; i < num_buffers; ++i) {
    bool is_input = i < k.inputs.size();
    size_t j = i - k.inputs.size();
    int64_t bytes = is_input
                        ? numel(k.inputs[i].shape) * int64_t(dtype_size(k.inputs[i].dtype))
                        : k.output_numel(j) * int64_t(dtype_size(k.body[k.outputs[j].instr].dtype));
    unsigned arg = static_cast<unsigned>(i);
    body.fn->addParamAttr(arg, llvm::Attribute::NoAlias);
    body.fn->addParamAttr(arg, llvm::Attribute::NoCapture);
    body.fn->addParamAttr(arg, llvm::Attribute::NoFree);
    if (is_input)
      body.fn->addParamAttr(arg, llvm::Attribute::ReadOnly);
    else if (!reads_outputs)
      body.fn->addParamAttr(arg, llvm::Attribute::WriteOnly);
    if (bytes > 0) body.fn->addDereferenceableParamAttr(arg, static_cast<uint64_t>(bytes));
    body.buffers.push_back(body.fn->getArg(arg));
    body.buffers.back()->setName(is_input ? "in" + std::to_string(i) : "out" + std::to_string(j));
  }
  body.begin = body.fn->getArg(static_cast<unsigned>(num_buffers));
  body.end = body.fn->getArg(static_cast<unsigned>(num_buffers + 1));
  body.begin->setName("begin");
  body.end->setName("end");
  if (status) {
    body.status = body.fn->getArg(static_cast<unsigned>(num_buffers + 2));
    body.status->setName("status");
    body.buffers.push_back(body.status);
  }
  llvm::BasicBlock::Create(module.getContext(), "entry", body.fn);
  return body;
}

LoweredKernel lower_kernel(const Kernel &k, Numerics numerics, llvm::LLVMContext &context) {
  // verify_kernel proves each layer stays inside the next one's shape where
  // it is valid, which the unravelling (no wrap of the leading index) needs.
  verify_kernel(k);
  LoweredKernel out;
  out.module = std::make_unique<llvm::Module>("kernel " + k.name, context);
  llvm::Module &module = *out.module;
  set_host_target(module);
  // Strict promises reproducible results; libmvec's differ from libm's.
  if (numerics == Numerics::Fast) request_vector_math(module);
  if (k.kind() == KernelKind::Matmul) {
    GemmBlocking blocking = gemm_blocking(k);
    lower_gemm(k, blocking, numerics, module);
    out.parallel_extent = blocking.parallel_extent();
  } else if (k.kind() == KernelKind::Row) {
    lower_rows(k, numerics, module);
    out.parallel_extent = parallel_extent(k);
  } else {
    KernelLowering(coalesce_dims(k), module).run(numerics);
    out.parallel_extent = parallel_extent(k);
  }
  if (llvm::Error invalid = verify_llvm_module(module))
    throw InternalError("lower: " + k.name + ": " + llvm::toString(std::move(invalid)) + "\n" +
                        first_lines(module, 40));
  return out;
}

bool instr_has_status(const Kernel &k, const Instr &in) {
  if (in.kind == InstrKind::Compute)
    return (in.op == Op::FloorDiv || in.op == Op::Mod) &&
           !is_floating(k.body.at(static_cast<size_t>(in.args.at(0))).dtype);
  return in.access.gathers();
}

bool kernel_has_status(const Kernel &k) {
  for (const Instr &in : k.body)
    if (instr_has_status(k, in)) return true;
  return false;
}

int64_t parallel_extent(const Kernel &k) {
  if (k.kind() == KernelKind::Matmul) return gemm_blocking(k).parallel_extent();
  return k.num_output_dims() ? k.domain[0] : 1;
}

}  // namespace fusejit
