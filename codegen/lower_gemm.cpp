// The GEMM loop nest, Goto/BLIS style, for one unit range of a Matmul kernel
// whose domain is [batch..., m, n | k]:
//
//   for each batch and rectangle of output rows x columns in [begin, end):
//     for jc in columns, step nc:          B block kc x nc -> L3
//       for each k block pc, step kc:
//         pack B[pc.., jc..] (B-side prologue applied)
//         for ic in rows, step mc:         A block mc x kc -> L2
//           pack A[ic.., pc..] (A-side prologue applied)
//           for jr step nr, ir step mr:    B micro-panel kc x nr -> L1
//             micro-kernel: mr x nr accumulators in registers over kc
//
// Each k block sums into fresh accumulators, which are then added to the
// partial sum of the earlier blocks, kept in the first output: a blocked
// sum, so a long k keeps f32 accuracy (one running sum stalls at 2^24). The
// last block runs the epilogue on the accumulators and stores every output.
// Edge tiles use the same micro-kernel on clamped (packed) rows and columns,
// with masked loads and stores of C.
//
// Numerics: Fast multiplies and adds with llvm.fmuladd (one FMA). Strict
// uses a separate fmul and fadd with no fast-math flags: each k block of kc
// terms in k order from +0.0, then the block sums in order from the first.
// kc comes from the host's vector width (gemm_blocking.h), so Strict GEMM
// results are fixed on a host whatever the tile or thread split; k <= kc
// sums in plain k order, as the reduce lowering's sum of up to 4096 terms.
#include "codegen/lower_gemm.h"

#include <string>
#include <vector>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include "codegen/counted_loop.h"
#include "codegen/fast_math.h"
#include "codegen/gemm_blocking.h"
#include "codegen/lower_kernel.h"
#include "codegen/lower_lanes.h"
#include "codegen/lower_scalar.h"
#include "ir/error.h"

namespace fusejit {

namespace {

// The instructions `root` depends on, itself included.
std::vector<bool> subtree(const Kernel &k, int root) {
  std::vector<bool> in(k.body.size(), false);
  in[root] = true;
  for (size_t i = k.body.size(); i-- > 0;)
    if (in[i])
      for (int a : k.body[i].args) in[a] = true;
  return in;
}

// One micro-kernel call: an mr x nr output tile at (m0, n0).
struct Tile {
  llvm::Value *a_panel = nullptr, *b_panel = nullptr;  // packed path
  llvm::Value *kc = nullptr, *pc = nullptr;            // k block length and start
  llvm::Value *m0 = nullptr, *n0 = nullptr;
  llvm::Value *rows = nullptr, *cols = nullptr;   // valid rows, columns (<= mr, nr)
  llvm::Value *first = nullptr, *last = nullptr;  // k block position (i1)
};

class GemmLowering {
 public:
  GemmLowering(const Kernel &k, const GemmBlocking &g, Numerics numerics, llvm::Module &module)
      : k_(k), g_(g), numerics_(numerics), module_(module), b_(module.getContext()) {
    size_t rank = k.domain.size();
    dm_ = int(rank - 3), dn_ = int(rank - 2), dk_ = int(rank - 1);
    const Reduction &red = k.reduction.value();
    const Instr &mul = k.body.at(red.value);
    FUSEJIT_INTERNAL_CHECK(mul.kind == InstrKind::Compute && mul.op == Op::Mul &&
                               red.op == Op::Sum && red.scale == 1.0,
                           "gemm: ", k.name, " does not sum a product");
    a_side_ = subtree(k, mul.args[0]);
    b_side_ = subtree(k, mul.args[1]);
    for (const Instr &in : k.body) epilogue_.push_back(in.outer || in.kind == InstrKind::Const);
    check_sides();
    t_ = llvm_type(module.getContext(), mul.dtype);
    vt_ = llvm::FixedVectorType::get(t_, unsigned(g.lanes));
    b_.setFastMathFlags(fast_math_flags(numerics));
  }

  void run() {
    llvm::Function *body = define_body();
    if (g_.parallel_extent() > 0) emit_units();
    b_.CreateRetVoid();
    define_abi_entry(module_, body, num_buffers());
  }

 private:
  llvm::Value *i64(int64_t v) { return b_.getInt64(uint64_t(v)); }
  llvm::Value *add(llvm::Value *x, llvm::Value *y) { return b_.CreateAdd(x, y, "", true, true); }
  llvm::Value *mul(llvm::Value *x, int64_t y) {
    return y == 1 ? x : b_.CreateMul(x, i64(y), "", true, true);
  }
  llvm::Value *min(llvm::Value *x, llvm::Value *y) {
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, x, y);
  }
  llvm::Value *elem(llvm::Value *base, llvm::Value *at) {
    return b_.CreateInBoundsGEP(t_, base, at);
  }
  llvm::Align scalar_align() const { return llvm::Align(uint64_t(g_.element_bytes)); }
  llvm::Align vector_align() const { return llvm::Align(uint64_t(g_.element_bytes * g_.lanes)); }
  int vectors() const { return g_.nr / g_.lanes; }

  // A-side loads must not move with n, B-side loads not with m: packing
  // evaluates each side with the other's dim at 0.
  void check_sides() {
    for (size_t i = 0; i < k_.body.size(); ++i) {
      const Instr &in = k_.body[i];
      if (in.kind != InstrKind::Load || in.outer) continue;
      const AccessLayer &l = in.access.layers[0];
      FUSEJIT_INTERNAL_CHECK(!a_side_[i] || l.shape[dn_] == 1 || l.strides[dn_] == 0,
                             "gemm: ", k_.name, " %", i, ": an A-side load moves with n");
      FUSEJIT_INTERNAL_CHECK(!b_side_[i] || l.shape[dm_] == 1 || l.strides[dm_] == 0,
                             "gemm: ", k_.name, " %", i, ": a B-side load moves with m");
      FUSEJIT_INTERNAL_CHECK(a_side_[i] || b_side_[i], "gemm: ", k_.name, " %", i,
                             " feeds neither operand");
    }
  }

  size_t num_buffers() const { return k_.inputs.size() + k_.outputs.size(); }
  llvm::Value *output(size_t j) const { return buffers_[k_.inputs.size() + j]; }

  llvm::Function *define_body() {
    KernelBody body = define_kernel_body(module_, k_, true);
    fn_ = body.fn;
    buffers_ = std::move(body.buffers);
    begin_ = body.begin;
    end_ = body.end;
    b_.SetInsertPoint(&fn_->getEntryBlock());
    for (int i = 0; i < g_.mr * vectors(); ++i)
      acc_.push_back(b_.CreateAlloca(vt_, nullptr, "acc"));
    return fn_;
  }

  // Scratch from libc's aligned_alloc (a process symbol the JIT resolves):
  // cache-line aligned, so packed vectors load aligned.
  llvm::Value *allocate(int64_t elements) {
    int64_t bytes = (elements * g_.element_bytes + 63) / 64 * 64;
    llvm::FunctionCallee f = module_.getOrInsertFunction(
        "aligned_alloc",
        llvm::FunctionType::get(b_.getPtrTy(), {b_.getInt64Ty(), b_.getInt64Ty()}, false));
    llvm::CallInst *p = b_.CreateCall(f, {i64(64), i64(std::max<int64_t>(bytes, 64))});
    p->addRetAttr(llvm::Attribute::NoAlias);
    return p;
  }
  void release(llvm::Value *p) {
    llvm::FunctionCallee f = module_.getOrInsertFunction(
        "free", llvm::FunctionType::get(b_.getVoidTy(), {b_.getPtrTy()}, false));
    b_.CreateCall(f, {p});
  }

  // Units [begin, end) as runs within one batch: row panels or column panels.
  void emit_units() {
    if (g_.packed) a_pack_ = allocate(g_.mc * g_.kc), b_pack_ = allocate(g_.kc * g_.nc);
    CountedLoop units(b_, begin_, end_, "unit");
    llvm::Value *u = units.index(), *per = i64(g_.units_per_batch);
    llvm::Value *bl = b_.CreateUDiv(u, per, "batch");
    llvm::Value *base = b_.CreateMul(bl, per, "", true, true);
    llvm::Value *run_end = min(end_, add(base, per));
    llvm::Value *lo = b_.CreateSub(u, base), *hi = b_.CreateSub(run_end, base);
    set_batch(bl);
    llvm::Value *r0 = i64(0), *r1 = i64(g_.m), *c0 = i64(0), *c1 = i64(g_.n);
    if (g_.split_columns)
      c0 = mul(lo, g_.nr), c1 = min(mul(hi, g_.nr), c1);
    else
      r0 = mul(lo, g_.mr), r1 = min(mul(hi, g_.mr), r1);
    if (g_.packed)
      packed_rectangle(r0, r1, c0, c1);
    else
      direct_rectangle(r0, r1, c0, c1);
    units.close(run_end);
    if (g_.packed) release(a_pack_), release(b_pack_);
  }

  // The batch dims of index_ from the linear batch index, and the output's
  // batch offset.
  void set_batch(llvm::Value *bl) {
    index_.assign(k_.domain.size(), i64(0));
    int64_t inner = 1;
    for (int d = dm_; d-- > 0;) {
      llvm::Value *q = inner == 1 ? bl : b_.CreateUDiv(bl, i64(inner));
      index_[d] = d == 0 ? q : b_.CreateURem(q, i64(k_.domain[d]));
      inner *= k_.domain[d];
    }
    out_base_ = mul(bl, g_.m * g_.n);
  }

  void packed_rectangle(llvm::Value *r0, llvm::Value *r1, llvm::Value *c0, llvm::Value *c1) {
    CountedLoop jc(b_, c0, c1, "jc");
    llvm::Value *nc = min(i64(g_.nc), b_.CreateSub(c1, jc.index()));
    CountedLoop kb(b_, i64(0), i64(g_.k_blocks()), "kb");
    Tile t;
    t.pc = mul(kb.index(), g_.kc);
    t.kc = min(i64(g_.kc), b_.CreateSub(i64(g_.k), t.pc));
    t.first = b_.CreateICmpEQ(kb.index(), i64(0));
    t.last = b_.CreateICmpEQ(kb.index(), i64(g_.k_blocks() - 1));
    pack_b(jc.index(), nc, t.pc, t.kc);
    CountedLoop ic(b_, r0, r1, "ic");
    llvm::Value *mc = min(i64(g_.mc), b_.CreateSub(r1, ic.index()));
    pack_a(ic.index(), mc, t.pc, t.kc);
    CountedLoop jr(b_, i64(0), nc, "jr");
    CountedLoop ir(b_, i64(0), mc, "ir");
    t.a_panel = elem(a_pack_, b_.CreateMul(ir.index(), t.kc, "", true, true));
    t.b_panel = elem(b_pack_, b_.CreateMul(jr.index(), t.kc, "", true, true));
    t.m0 = add(ic.index(), ir.index());
    t.n0 = add(jc.index(), jr.index());
    t.rows = min(i64(g_.mr), b_.CreateSub(r1, t.m0));
    t.cols = min(i64(g_.nr), b_.CreateSub(c1, t.n0));
    tile(t);
    ir.close(add(ir.index(), i64(g_.mr)));
    jr.close(add(jr.index(), i64(g_.nr)));
    ic.close(add(ic.index(), i64(g_.mc)));
    kb.close(add(kb.index(), i64(1)));
    jc.close(add(jc.index(), i64(g_.nc)));
  }

  void direct_rectangle(llvm::Value *r0, llvm::Value *r1, llvm::Value *c0, llvm::Value *c1) {
    CountedLoop jr(b_, c0, c1, "jr");
    CountedLoop ir(b_, r0, r1, "ir");
    Tile t;
    t.pc = i64(0), t.kc = i64(g_.k);
    t.first = t.last = b_.getTrue();
    t.m0 = ir.index(), t.n0 = jr.index();
    t.rows = min(i64(g_.mr), b_.CreateSub(r1, t.m0));
    t.cols = min(i64(g_.nr), b_.CreateSub(c1, t.n0));
    tile(t);
    ir.close(add(ir.index(), i64(g_.mr)));
    jr.close(add(jr.index(), i64(g_.nr)));
  }

  // The A-side value (a scalar) at row m, reduction index k.
  llvm::Value *a_value(llvm::Value *m, llvm::Value *k) {
    LanePoint at{index_, -1, 1, nullptr, nullptr};
    at.index[dm_] = m, at.index[dk_] = k;
    return emit_lanes(b_, k_, buffers_, a_side_, at)[k_.body[k_.reduction->value].args[0]];
  }
  // The B-side vector at reduction index k, columns n.. n + lanes; columns
  // from `limit` on repeat the last one.
  llvm::Value *b_vector(llvm::Value *k, llvm::Value *n, llvm::Value *limit) {
    LanePoint at{index_, dn_, g_.lanes, limit, nullptr};
    at.index[dn_] = n, at.index[dk_] = k;
    return emit_lanes(b_, k_, buffers_, b_side_, at)[k_.body[k_.reduction->value].args[1]];
  }

  // Rows m of A's block, mr at a time, as [panel][p][i]; rows past M repeat
  // row M - 1 (their results are never stored).
  void pack_a(llvm::Value *ic, llvm::Value *mc, llvm::Value *pc, llvm::Value *kc) {
    CountedLoop ir(b_, i64(0), mc, "pack_a");
    llvm::Value *panel = elem(a_pack_, b_.CreateMul(ir.index(), kc, "", true, true));
    std::vector<llvm::Value *> rows;
    for (int i = 0; i < g_.mr; ++i)
      rows.push_back(min(add(add(ic, ir.index()), i64(i)), i64(g_.m - 1)));
    CountedLoop p(b_, i64(0), kc, "pack_a.k");
    for (int i = 0; i < g_.mr; ++i) {
      llvm::Value *v = a_value(rows[i], add(pc, p.index()));
      b_.CreateAlignedStore(v, elem(panel, add(mul(p.index(), g_.mr), i64(i))), scalar_align());
    }
    p.close(add(p.index(), i64(1)));
    ir.close(add(ir.index(), i64(g_.mr)));
  }

  // Columns of B's block, nr at a time, as [panel][p][j] in vectors.
  void pack_b(llvm::Value *jc, llvm::Value *nc, llvm::Value *pc, llvm::Value *kc) {
    CountedLoop jr(b_, i64(0), nc, "pack_b");
    llvm::Value *n0 = add(jc, jr.index());
    llvm::Value *panel = elem(b_pack_, b_.CreateMul(jr.index(), kc, "", true, true));
    llvm::Value *full = b_.CreateICmpSLE(add(n0, i64(g_.nr)), i64(g_.n));
    branch(full, [&](bool edge) {
      CountedLoop p(b_, i64(0), kc, edge ? "pack_b.edge" : "pack_b.k");
      for (int v = 0; v < vectors(); ++v) {
        llvm::Value *x =
            b_vector(add(pc, p.index()), add(n0, i64(v * g_.lanes)), edge ? i64(g_.n) : nullptr);
        b_.CreateAlignedStore(x, elem(panel, add(mul(p.index(), g_.nr), i64(v * g_.lanes))),
                              vector_align());
      }
      p.close(add(p.index(), i64(1)));
    });
    jr.close(add(jr.index(), i64(g_.nr)));
  }

  // Emits emit(false) where `full` holds and emit(true) where it does not.
  template <typename F>
  void branch(llvm::Value *full, F &&emit) {
    llvm::LLVMContext &ctx = module_.getContext();
    auto *yes = llvm::BasicBlock::Create(ctx, "full", fn_),
         *no = llvm::BasicBlock::Create(ctx, "edge", fn_);
    auto *join = llvm::BasicBlock::Create(ctx, "join", fn_);
    b_.CreateCondBr(full, yes, no);
    b_.SetInsertPoint(yes);
    emit(false);
    b_.CreateBr(join);
    b_.SetInsertPoint(no);
    emit(true);
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
  }

  void tile(const Tile &t) {
    llvm::Value *full =
        b_.CreateAnd(b_.CreateICmpEQ(t.rows, i64(g_.mr)), b_.CreateICmpEQ(t.cols, i64(g_.nr)));
    llvm::Value *zero = llvm::ConstantFP::get(vt_, 0.0);
    for (llvm::AllocaInst *a : acc_) b_.CreateStore(zero, a);
    if (g_.packed)
      packed_micro_kernel(t);
    else
      branch(full, [&](bool edge) { direct_micro_kernel(t, edge); });
    if (g_.k_blocks() > 1) {
      branch(t.first, [&](bool later) {
        if (later) branch(full, [&](bool edge) { add_partial_sums(t, edge); });
      });
    }
    if (g_.k_blocks() == 1) {
      branch(full, [&](bool edge) { store_tile(t, edge, true); });
    } else {
      branch(t.last, [&](bool partial) {
        branch(full, [&](bool edge) { store_tile(t, edge, !partial); });
      });
    }
  }

  void multiply_add(int i, int j, llvm::Value *a, llvm::Value *bv) {
    llvm::Value *acc = b_.CreateLoad(vt_, acc_[i * vectors() + j]);
    llvm::Value *sum = numerics_ == Numerics::Fast
                           ? b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vt_}, {a, bv, acc})
                           : b_.CreateFAdd(acc, b_.CreateFMul(a, bv));
    b_.CreateStore(sum, acc_[i * vectors() + j]);
  }

  void packed_micro_kernel(const Tile &t) {
    CountedLoop p(b_, i64(0), t.kc, "micro");
    std::vector<llvm::Value *> bv;
    for (int j = 0; j < vectors(); ++j)
      bv.push_back(b_.CreateAlignedLoad(
          vt_, elem(t.b_panel, add(mul(p.index(), g_.nr), i64(j * g_.lanes))), vector_align()));
    for (int i = 0; i < g_.mr; ++i) {
      llvm::Value *a = b_.CreateAlignedLoad(t_, elem(t.a_panel, add(mul(p.index(), g_.mr), i64(i))),
                                            scalar_align());
      llvm::Value *splat = b_.CreateVectorSplat(g_.lanes, a);
      for (int j = 0; j < vectors(); ++j) multiply_add(i, j, splat, bv[j]);
    }
    p.close(add(p.index(), i64(1)));
  }

  // The small path: operands (and their prologues) read in place.
  void direct_micro_kernel(const Tile &t, bool edge) {
    std::vector<llvm::Value *> rows;
    for (int i = 0; i < g_.mr; ++i) rows.push_back(min(add(t.m0, i64(i)), i64(g_.m - 1)));
    CountedLoop p(b_, i64(0), t.kc, edge ? "direct.edge" : "direct");
    std::vector<llvm::Value *> bv;
    for (int j = 0; j < vectors(); ++j)
      bv.push_back(b_vector(p.index(), add(t.n0, i64(j * g_.lanes)), edge ? i64(g_.n) : nullptr));
    for (int i = 0; i < g_.mr; ++i) {
      llvm::Value *splat = b_.CreateVectorSplat(g_.lanes, a_value(rows[i], p.index()));
      for (int j = 0; j < vectors(); ++j) multiply_add(i, j, splat, bv[j]);
    }
    p.close(add(p.index(), i64(1)));
  }

  // Row i of the tile: its output row (clamped on edge tiles, whose extra
  // rows are masked off) and, on edges, the mask of vector j's valid lanes.
  llvm::Value *row(const Tile &t, int i, bool edge) {
    llvm::Value *m = add(t.m0, i64(i));
    return edge ? min(m, i64(g_.m - 1)) : m;
  }
  llvm::Value *lane_mask(const Tile &t, int i, int j) {
    std::vector<llvm::Constant *> lanes;
    for (int l = 0; l < g_.lanes; ++l)
      lanes.push_back(b_.getInt64(
          uint64_t(j * g_.lanes + l)));  // NOLINT(bugprone-misplaced-widening-cast): lanes <= 64
    llvm::Value *in_cols =
        b_.CreateICmpSLT(llvm::ConstantVector::get(lanes), b_.CreateVectorSplat(g_.lanes, t.cols));
    llvm::Value *in_rows = b_.CreateVectorSplat(g_.lanes, b_.CreateICmpSLT(i64(i), t.rows));
    return b_.CreateAnd(in_cols, in_rows);
  }
  llvm::Value *out_position(const Tile &t, llvm::Value *m, int j) {
    return add(add(out_base_, mul(m, g_.n)), add(t.n0, i64(j * g_.lanes)));
  }

  // acc = (the earlier k blocks' sum) + acc.
  void add_partial_sums(const Tile &t, bool edge) {
    for (int i = 0; i < g_.mr; ++i) {
      llvm::Value *m = row(t, i, edge);
      for (int j = 0; j < vectors(); ++j) {
        llvm::Value *p = elem(output(0), out_position(t, m, j));
        llvm::Value *v = nullptr;
        if (edge)
          v = b_.CreateMaskedLoad(vt_, p, scalar_align(), lane_mask(t, i, j),
                                  llvm::ConstantFP::get(vt_, 0.0));
        else
          v = b_.CreateAlignedLoad(vt_, p, scalar_align());
        llvm::AllocaInst *acc = acc_[i * vectors() + j];
        b_.CreateStore(b_.CreateFAdd(v, b_.CreateLoad(vt_, acc)), acc);
      }
    }
  }

  // Stores the accumulators: through the epilogue to every output after the
  // last k block, as partial sums to the first output before it.
  void store_tile(const Tile &t, bool edge, bool finished) {
    for (int i = 0; i < g_.mr; ++i) {
      llvm::Value *m = row(t, i, edge);
      for (int j = 0; j < vectors(); ++j) {
        llvm::Value *acc = b_.CreateLoad(vt_, acc_[i * vectors() + j]);
        llvm::Value *mask = edge ? lane_mask(t, i, j) : nullptr;
        llvm::Value *pos = out_position(t, m, j);
        if (!finished) {
          store(acc, elem(output(0), pos), mask);
          continue;
        }
        LanePoint at{index_, dn_, g_.lanes, edge ? i64(g_.n) : nullptr, acc};
        at.index[dm_] = m, at.index[dn_] = add(t.n0, i64(j * g_.lanes));
        std::vector<llvm::Value *> values = emit_lanes(b_, k_, buffers_, epilogue_, at);
        for (size_t o = 0; o < k_.outputs.size(); ++o) {
          llvm::Value *v = values.at(k_.outputs[o].instr);
          store(v, b_.CreateInBoundsGEP(v->getType()->getScalarType(), output(o), pos), mask);
        }
      }
    }
  }

  void store(llvm::Value *v, llvm::Value *p, llvm::Value *mask) {
    llvm::Align align(v->getType()->getScalarSizeInBits() / 8);
    if (mask)
      b_.CreateMaskedStore(v, p, align, mask);
    else
      b_.CreateAlignedStore(v, p, align);
  }

  const Kernel &k_;
  GemmBlocking g_;
  Numerics numerics_;
  llvm::Module &module_;
  llvm::IRBuilder<> b_;
  int dm_, dn_, dk_;
  std::vector<bool> a_side_, b_side_, epilogue_;
  llvm::Type *t_;
  llvm::FixedVectorType *vt_;
  llvm::Function *fn_ = nullptr;
  std::vector<llvm::Value *> buffers_;
  llvm::Value *begin_ = nullptr, *end_ = nullptr;
  std::vector<llvm::AllocaInst *> acc_;  // [i * vectors + j]
  llvm::Value *a_pack_ = nullptr, *b_pack_ = nullptr;
  std::vector<llvm::Value *> index_;  // the current batch's domain point
  llvm::Value *out_base_ = nullptr;
};

}  // namespace

void lower_gemm(const Kernel &k, const GemmBlocking &blocking, Numerics numerics,
                llvm::Module &module) {
  GemmLowering(k, blocking, numerics, module).run();
}

}  // namespace fusejit
