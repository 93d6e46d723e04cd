#include "engine/recognize_matmul.h"

#include <algorithm>

#include "engine/pass_stats.h"
#include "engine/rewrite.h"
#include "ir/graph.h"

namespace fusejit {

namespace {

// Views that skip themselves when they would change nothing.
NodeRef reshape_to(const NodeRef &x, const Shape &s) {
  return x->shape == s ? x : ir::reshape(x, s);
}
NodeRef permute_to(NodeRef x, const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return ir::permute(x, perm);
  return x;
}

Shape padded(const Shape &s, size_t rank) {
  Shape out(rank - s.size(), 1);
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

int64_t product(const Shape &x, const std::vector<int64_t> &dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= x[d];
  return p;
}

NodeRef source_of_expand(NodeRef v) {
  while (v->is(Op::Expand)) v = v->args[0];
  return v;
}

// One operand as [batch..., outer..., K] (or [batch..., K, outer...] when
// k_last is false), from its rank-r padded form; the reduced dims `k` merge
// into one K, in X's order.
NodeRef operand_view(const NodeRef &v, size_t rank, const std::vector<int64_t> &batch,
                     const std::vector<int64_t> &outer, const std::vector<int64_t> &k, bool k_last,
                     const Shape &x) {
  NodeRef p = reshape_to(v, padded(v->shape, rank));
  std::vector<int64_t> perm = batch;
  if (!k_last) perm.insert(perm.end(), k.begin(), k.end());
  perm.insert(perm.end(), outer.begin(), outer.end());
  if (k_last) perm.insert(perm.end(), k.begin(), k.end());
  for (size_t d = 0; d < rank; ++d)  // the dims this operand has only as extent 1
    if (std::find(perm.begin(), perm.end(), static_cast<int64_t>(d)) == perm.end())
      perm.push_back(d);
  // A batch dim the operand lacks stays extent 1: matmul broadcasts it.
  Shape target;
  for (int64_t d : batch) target.push_back(p->shape[d]);
  if (!k_last) target.push_back(product(x, k));
  target.push_back(product(x, outer));
  if (k_last) target.push_back(product(x, k));
  return reshape_to(permute_to(p, perm), target);
}

class MatmulRecognizer {
 public:
  explicit MatmulRecognizer(std::vector<MatmulDecision> *decisions) : decisions_(decisions) {}

  // The matmul form of `r`, or null when `r` is not the pattern. `given` is
  // r as the pass was given it (r has its args rewritten).
  NodeRef match(const Node &r, const Node &given) {
    // GEMM kernels are float-only; an integer sum of products stays a reduction.
    if (!r.is(Op::Sum) || r.args[0]->kind() != OpKind::Binary || !is_floating(r.dtype))
      return nullptr;
    const Node &x = *r.args[0];
    MatmulDecision d{&given, MatmulMiss::None, x.op, static_cast<int64_t>(r.dims.size())};
    if (!x.is(Op::Mul)) return miss(d, MatmulMiss::ZipNotMul);
    if (r.dims.empty()) return miss(d, MatmulMiss::NothingReduced);
    // An expand only repeats its source, and the product broadcasts anyway:
    // the source says which dims an operand really has (the backward of a
    // broadcast product expands the gradient into every dim).
    NodeRef p = source_of_expand(x.args[0]), q = source_of_expand(x.args[1]);
    size_t rank = x.rank();
    Shape ps = padded(p->shape, rank), qs = padded(q->shape, rank);
    // Several reduced dims (a convolution's channels and window offsets, a
    // sum over two dims of a product) merge into one K; the operand views
    // merge them with a reshape, strided where it can be.
    std::vector<int64_t> k;
    for (int64_t dim : r.dims)  // an extent-1 dim adds nothing to K
      if (x.shape[dim] != 1) k.push_back(dim);
    if (k.empty()) k.push_back(r.dims.front());  // K is 1
    std::sort(k.begin(), k.end());
    for (int64_t dim : k)
      if (ps[dim] != x.shape[dim] || qs[dim] != x.shape[dim])
        return miss(d, MatmulMiss::ReducedDimBroadcast, dim);
    std::vector<int64_t> batch, rows, cols;
    for (size_t dim = 0; dim < rank; ++dim) {
      if (std::find(r.dims.begin(), r.dims.end(), static_cast<int64_t>(dim)) != r.dims.end() ||
          x.shape[dim] == 1)
        continue;
      if (ps[dim] == x.shape[dim] && qs[dim] == x.shape[dim])
        batch.push_back(dim);
      else if (ps[dim] == x.shape[dim])
        rows.push_back(dim);
      else if (qs[dim] == x.shape[dim])
        cols.push_back(dim);
      // Both sources lack it: only the expands made it, so it is no
      // operand's dim (a matmul would repeat nothing but a broadcast).
      else
        return miss(d, MatmulMiss::DimBroadcastInBoth, static_cast<int64_t>(dim));
    }
    if (rows.empty() && cols.empty()) return miss(d, MatmulMiss::BatchedDot);
    Layout l = layout(x.shape, batch, rows, cols);
    const NodeRef &a = l.swap ? q : p;
    const NodeRef &b = l.swap ? p : q;
    const std::vector<int64_t> &m = l.m, &n = l.n;
    batch = l.batch;
    d.m = product(x.shape, m);
    d.k = product(x.shape, k);
    d.n = product(x.shape, n);
    d.batch = product(x.shape, batch);
    d.has_batch = !batch.empty();
    d.reduced_dims = static_cast<int64_t>(k.size());
    if (k.size() > 1 && (d.m < kNarrow || d.n < kNarrow))
      return miss(d, MatmulMiss::NarrowContraction);
    NodeRef mm = ir::matmul(operand_view(a, rank, batch, m, k, true, x.shape),
                            operand_view(b, rank, batch, n, k, false, x.shape));
    record(d);
    return restore_layout(mm, r, x.shape, batch, m, n);
  }

 private:
  // Which dims become the matmul's batch, M and N, and whether Q is its A.
  struct Layout {
    std::vector<int64_t> batch, m, n;
    bool swap = false;
  };

  // The dims shared by both operands are the batch, P's the rows, Q's the
  // cols; the operands swap when X has the cols first. When that order
  // still needs a transpose of the result (a convolution's [n, co, y, x]:
  // n and (y, x) are the image's, co the weight's), a leading run of X's
  // dims joins the batch (the operand without it broadcasts), so the
  // result is in X's order and the consumer's ops fuse as the epilogue;
  // unless that leaves M or N too small to fill the micro-kernel's tile.
  static Layout layout(const Shape &x, const std::vector<int64_t> &both,
                       const std::vector<int64_t> &rows, const std::vector<int64_t> &cols) {
    Layout plain{both, rows, cols, !rows.empty() && !cols.empty() && cols.front() < rows.front()};
    if (plain.swap) std::swap(plain.m, plain.n);
    std::vector<int64_t> order = plain.batch;
    order.insert(order.end(), plain.m.begin(), plain.m.end());
    order.insert(order.end(), plain.n.begin(), plain.n.end());
    if (std::is_sorted(order.begin(), order.end())) return plain;
    std::sort(order.begin(), order.end());
    auto side = [&](int64_t dim) {
      if (std::find(both.begin(), both.end(), dim) != both.end()) return 0;
      return std::find(rows.begin(), rows.end(), dim) != rows.end() ? 1 : 2;
    };
    // The shortest prefix after which the dims are one run of one side's
    // then one run of the other's.
    size_t start = order.size();
    for (size_t i = order.size(), runs = 0; i-- > 0;) {
      if (side(order[i]) == 0) break;
      if (i + 1 == order.size() || side(order[i]) != side(order[i + 1])) ++runs;
      if (runs > 2) break;
      start = i;
    }
    Layout inorder;
    inorder.batch.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(start));
    for (size_t i = start; i < order.size(); ++i)
      (side(order[i]) == side(order[start]) ? inorder.m : inorder.n).push_back(order[i]);
    inorder.swap = start < order.size() && side(order[start]) == 2;
    constexpr int64_t kSmallest = 4;
    if (product(x, inorder.m) < kSmallest || product(x, inorder.n) < kSmallest) return plain;
    return inorder;
  }

  // Views the [batch, M, N] result back into r's shape and dim order.
  NodeRef restore_layout(const NodeRef &mm, const Node &r, const Shape &x,
                         const std::vector<int64_t> &batch, const std::vector<int64_t> &m,
                         const std::vector<int64_t> &n) {
    std::vector<int64_t> dims = batch;
    dims.insert(dims.end(), m.begin(), m.end());
    dims.insert(dims.end(), n.begin(), n.end());
    Shape split;
    for (int64_t d : dims) split.push_back(x[d]);
    NodeRef v = reshape_to(mm, split);
    // Now v's dims are `dims`; put them in X's order (skipping k and unit dims).
    std::vector<int64_t> sorted = dims;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> perm;
    for (int64_t d : sorted) perm.push_back(std::find(dims.begin(), dims.end(), d) - dims.begin());
    return reshape_to(permute_to(v, perm), r.shape);
  }

  NodeRef miss(MatmulDecision d, MatmulMiss why, int64_t dim = -1) {
    d.miss = why;
    d.dim = dim;
    record(d);
    return nullptr;
  }

  void record(MatmulDecision d) {
    if (decisions_) decisions_->push_back(d);
  }

  std::vector<MatmulDecision> *decisions_;
};

}  // namespace

std::vector<NodeRef> recognize_matmul(const std::vector<NodeRef> &roots,
                                      std::vector<MatmulDecision> *decisions) {
  count_pass_run(Pass::RecognizeMatmul);
  MatmulRecognizer recognizer(decisions);
  return rewrite_graph(roots, [&](const Node &n, std::vector<NodeRef> args) {
    NodeRef current = ir::with_args(n, std::move(args));
    NodeRef mm = recognizer.match(*current, n);
    return mm ? mm : current;
  });
}

}  // namespace fusejit
