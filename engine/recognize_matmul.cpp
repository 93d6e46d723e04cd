#include "engine/recognize_matmul.h"

#include <algorithm>
#include "engine/rewrite.h"
#include "ir/graph.h"

namespace fusejit {

namespace {

std::string describe(const Node &n) { return std::string(op_name(n.op)) + " " + type_str(n.dtype, n.shape); }

// Views that skip themselves when they would change nothing.
NodeRef reshape_to(NodeRef x, const Shape &s) { return x->shape == s ? x : ir::reshape(x, s); }
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
// k_last is false), from its rank-r padded form.
NodeRef operand_view(const NodeRef &v, size_t rank, const std::vector<int64_t> &batch,
                     const std::vector<int64_t> &outer, int64_t k, bool k_last, const Shape &x) {
  NodeRef p = reshape_to(v, padded(v->shape, rank));
  std::vector<int64_t> perm = batch;
  if (!k_last) perm.push_back(k);
  perm.insert(perm.end(), outer.begin(), outer.end());
  if (k_last) perm.push_back(k);
  for (size_t d = 0; d < rank; ++d)  // the dims this operand has only as extent 1
    if (std::find(perm.begin(), perm.end(), static_cast<int64_t>(d)) == perm.end()) perm.push_back(d);
  Shape target;
  for (int64_t d : batch) target.push_back(x[d]);
  if (!k_last) target.push_back(x[k]);
  target.push_back(product(x, outer));
  if (k_last) target.push_back(x[k]);
  return reshape_to(permute_to(p, perm), target);
}

class MatmulRecognizer {
 public:
  explicit MatmulRecognizer(std::vector<std::string> *notes) : notes_(notes) {}

  // The matmul form of `r`, or null when `r` is not the pattern.
  NodeRef match(const Node &r) {
    if (!r.is(Op::Sum) || r.args[0]->kind() != OpKind::Binary) return nullptr;
    const Node &x = *r.args[0];
    if (!x.is(Op::Mul)) return miss(r, std::string("the zip is '") + op_name(x.op) + "', not '*'");
    if (r.dims.size() != 1)
      return miss(r, "it reduces " + std::to_string(r.dims.size()) + " dims; a matmul reduces one");
    // An expand only repeats its source, and the product broadcasts anyway:
    // the source says which dims an operand really has (the backward of a
    // broadcast product expands the gradient into every dim).
    NodeRef p = source_of_expand(x.args[0]), q = source_of_expand(x.args[1]);
    size_t rank = x.rank();
    int64_t k = r.dims[0];
    Shape ps = padded(p->shape, rank), qs = padded(q->shape, rank);
    if (ps[k] != x.shape[k] || qs[k] != x.shape[k])
      return miss(r, "the reduced dim " + std::to_string(k) + " is broadcast in one operand");
    std::vector<int64_t> batch, rows, cols;
    for (size_t d = 0; d < rank; ++d) {
      if (static_cast<int64_t>(d) == k || x.shape[d] == 1) continue;
      if (ps[d] == x.shape[d] && qs[d] == x.shape[d]) batch.push_back(d);
      else if (ps[d] == x.shape[d]) rows.push_back(d);
      else if (qs[d] == x.shape[d]) cols.push_back(d);
      // Both sources lack it: only the expands made it, so it is no
      // operand's dim (a matmul would repeat nothing but a broadcast).
      else return miss(r, "dim " + std::to_string(d) + " is broadcast in both operands");
    }
    if (rows.empty() && cols.empty())
      return miss(r, "every dim belongs to both operands: a batched dot product, not a matmul");
    // The matmul's output dims in X's order: swap operands when X has the
    // cols before the rows, so no transpose is needed after.
    bool swap = !rows.empty() && !cols.empty() && cols.front() < rows.front();
    const NodeRef &a = swap ? q : p;
    const NodeRef &b = swap ? p : q;
    const std::vector<int64_t> &m = swap ? cols : rows, &n = swap ? rows : cols;
    NodeRef mm = ir::matmul(operand_view(a, rank, batch, m, k, true, x.shape),
                            operand_view(b, rank, batch, n, k, false, x.shape));
    note("matmul from " + describe(r) + " of " + describe(x) + ": M " + std::to_string(product(x.shape, m)) +
         ", K " + std::to_string(x.shape[k]) + ", N " + std::to_string(product(x.shape, n)) +
         (batch.empty() ? "" : ", batch " + std::to_string(product(x.shape, batch))));
    return restore_layout(mm, r, x.shape, batch, m, n);
  }

 private:
  // Views the [batch, M, N] result back into r's shape and dim order.
  NodeRef restore_layout(NodeRef mm, const Node &r, const Shape &x, const std::vector<int64_t> &batch,
                         const std::vector<int64_t> &m, const std::vector<int64_t> &n) {
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

  NodeRef miss(const Node &r, const std::string &why) {
    note("not a matmul: " + describe(r) + " of " + describe(*r.args[0]) + ": " + why);
    return nullptr;
  }

  void note(const std::string &s) {
    if (notes_) notes_->push_back(s);
  }

  std::vector<std::string> *notes_;
};

}  // namespace

std::vector<NodeRef> recognize_matmul(const std::vector<NodeRef> &roots, std::vector<std::string> *notes) {
  MatmulRecognizer recognizer(notes);
  return rewrite_graph(roots, [&](const Node &n, std::vector<NodeRef> args) {
    NodeRef current = ir::with_args(n, std::move(args));
    NodeRef mm = recognizer.match(*current);
    return mm ? mm : current;
  });
}

}  // namespace fusejit
