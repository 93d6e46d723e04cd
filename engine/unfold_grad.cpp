#include "engine/unfold_grad.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "engine/recognize_matmul.h"
#include "ir/graph.h"

namespace fusejit {
namespace {

// The phase split of one unfold: step s, J taps per phase, Q positions per
// phase (Q * s >= the extent).
struct Phases {
  int64_t step, taps, positions;
  int64_t merged() const { return positions * step; }
};

// `shape` with dim k gone and dim o holding the merged phases.
Shape folded_shape(Shape shape, size_t o, size_t k, const Phases &p) {
  shape[o] = p.merged();
  shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(k));
  return shape;
}

int64_t prefix(const Shape &s, size_t end) {
  int64_t p = 1;
  for (size_t i = 0; i < end; ++i) p *= s[i];
  return p;
}

// The dim of `from` that a reshape to `to` carries whole into dim d of
// `to`: the same extent, after the same number of elements.
std::optional<size_t> carried(const Shape &from, const Shape &to, size_t d) {
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] == to[d] && prefix(from, i) == prefix(to, d)) return i;
  return std::nullopt;
}

NodeRef source_of_expand(NodeRef v) {
  while (v->is(Op::Expand)) v = v->args[0];
  return v;
}

NodeRef padded_to(const NodeRef &v, size_t rank) {
  if (v->rank() == rank) return v;
  Shape s(rank - v->rank(), 1);
  s.insert(s.end(), v->shape.begin(), v->shape.end());
  return ir::reshape(v, s);
}

// sum over R of a * b, with window dim o in a only and offset dim k in b
// only, as the phase contraction, shaped folded_shape(sum's shape).
NodeRef fold_sum(const Node &sum, size_t o, size_t k, const Phases &p) {
  const Node &product = *sum.args[0];
  if (!product.is(Op::Mul)) return nullptr;
  const size_t rank = product.rank();
  std::vector<size_t> kept;  // the product's dim of each of the sum's dims
  for (size_t d = 0; d < rank; ++d)
    if (sum.keepdim ||
        std::find(sum.dims.begin(), sum.dims.end(), static_cast<int64_t>(d)) == sum.dims.end())
      kept.push_back(d);
  const size_t mo = kept[o], mk = kept[k];
  if (std::find(sum.dims.begin(), sum.dims.end(), static_cast<int64_t>(mo)) != sum.dims.end() ||
      std::find(sum.dims.begin(), sum.dims.end(), static_cast<int64_t>(mk)) != sum.dims.end())
    return nullptr;
  NodeRef a = padded_to(source_of_expand(product.args[0]), rank);
  NodeRef b = padded_to(source_of_expand(product.args[1]), rank);
  auto windowed = [&](const NodeRef &v) { return v->shape[mo] != 1 && v->shape[mk] == 1; };
  auto offset = [&](const NodeRef &v) { return v->shape[mo] == 1 && v->shape[mk] != 1; };
  if (windowed(b) && offset(a)) std::swap(a, b);
  if (!windowed(a) || !offset(b)) return nullptr;
  const int64_t windows = a->shape[mo], offsets = b->shape[mk];

  // The product's dims, the phase after o and the taps last (rank + 2):
  // a[.., q, 1, ..., 1@k, .., t] and b[.., 1, r, ..., 1@k, .., t], where tap
  // t is j = J - 1 - t, so a's windows read forwards.
  std::vector<std::pair<int64_t, int64_t>> around(rank, {0, 0});
  around[mo] = {p.taps - 1, p.positions - windows};
  a = ir::unfold(ir::pad(a, around), static_cast<int64_t>(mo), p.taps, 1);
  a = ir::unsqueeze(a, static_cast<int64_t>(mo) + 1);

  around[mo] = {0, 0};
  around[mk] = {0, p.taps * p.step - offsets};
  Shape split = b->shape;
  split[mk] = p.taps;
  split.insert(split.begin() + static_cast<std::ptrdiff_t>(mk) + 1, p.step);
  b = ir::flip(ir::reshape(ir::pad(b, around), split), {static_cast<int64_t>(mk)});
  b = ir::unsqueeze(b, static_cast<int64_t>(rank) + 1);  // [.., J@mk, s@mk+1, .., 1@rank+1]
  std::vector<int64_t> perm;
  for (size_t d = 0; d < rank; ++d) {
    const auto from = static_cast<int64_t>(d < mk ? d : d + 1);
    perm.push_back(d == mk ? static_cast<int64_t>(rank) + 1 : from);
    if (d == mo) perm.push_back(static_cast<int64_t>(mk) + 1);
  }
  perm.push_back(static_cast<int64_t>(mk));
  b = ir::permute(b, perm);

  std::vector<int64_t> reduced;
  for (int64_t d : sum.dims) reduced.push_back(d <= static_cast<int64_t>(mo) ? d : d + 1);
  reduced.push_back(static_cast<int64_t>(rank) + 1);
  // A contraction with a side under kNarrow (a first layer's few input
  // channels) would run as a reduction over the taps: col2im is faster.
  // (Of a 2-D window the first fold is judged alone, before the second.)
  int64_t m = 1, n = 1;
  for (size_t d = 0; d < a->rank(); ++d) {
    if (std::find(reduced.begin(), reduced.end(), static_cast<int64_t>(d)) != reduced.end())
      continue;
    if (a->shape[d] == 1) m *= b->shape[d];
    if (b->shape[d] == 1) n *= a->shape[d];
  }
  if (m < kNarrow || n < kNarrow) return nullptr;
  NodeRef folded = ir::reduce(Op::Sum, ir::binary(Op::Mul, a, b), reduced);
  return ir::reshape(folded, folded_shape(sum.shape, o, k, p));
}

// dw (window dim o, offset dim k) folded, or null when it is not a
// contraction behind views that leave o and k whole.
NodeRef fold(const NodeRef &dw, size_t o, size_t k, const Phases &p) {
  const Shape target = folded_shape(dw->shape, o, k, p);
  if (dw->is(Op::Sum)) return fold_sum(*dw, o, k, p);
  if (dw->is(Op::Reshape)) {
    const NodeRef &from = dw->args[0];
    std::optional<size_t> fo = carried(from->shape, dw->shape, o);
    std::optional<size_t> fk = carried(from->shape, dw->shape, k);
    if (!fo || !fk) return nullptr;
    NodeRef inner = fold(from, *fo, *fk, p);
    return inner ? ir::reshape(inner, target) : nullptr;
  }
  if (dw->is(Op::Slice)) {
    const NodeRef &from = dw->args[0];
    for (size_t d : {o, k})
      if (dw->dims[2 * d] != 0 || dw->dims[2 * d + 1] != 1 || dw->shape[d] != from->shape[d])
        return nullptr;
    NodeRef inner = fold(from, o, k, p);
    if (!inner) return nullptr;
    std::vector<int64_t> start, step;
    for (size_t d = 0; d < dw->rank(); ++d)
      if (d != k) start.push_back(dw->dims[2 * d]), step.push_back(dw->dims[2 * d + 1]);
    return ir::slice(inner, start, step, target);
  }
  return nullptr;
}

}  // namespace

NodeRef unfold_grad_as_contraction(const NodeRef &dw, size_t dim, int64_t size, int64_t step,
                                   int64_t extent) {
  const size_t k = dw->rank() - 1;
  // At step 1 nothing is dilated, and col2im's contraction reads plain
  // views: the fold's operand, three layers deep, packed at half the speed
  // (the 3x3 8x64x56x56 layer's dx: 163 against 60 + 14 ms).
  if (step < 2 || size < 2 || dw->shape[dim] < 2 || dw->numel() == 0 || !is_floating(dw->dtype))
    return nullptr;
  const Phases p{step, (size + step - 1) / step, (extent + step - 1) / step};
  NodeRef dx = fold(dw, dim, k, p);
  if (!dx || p.merged() == extent) return dx;
  std::vector<int64_t> start(dx->rank(), 0), steps(dx->rank(), 1);
  Shape shape = dx->shape;
  shape[dim] = extent;
  return ir::slice(dx, start, steps, shape);
}

}  // namespace fusejit
