// The public tensor type: a handle to a lazy graph node. Building a tensor
// computes nothing; reading one (to_vector, item, data_ptr, <<) realizes it
// once and keeps the result on its node. Names follow libtorch's.
//
// Values are immutable: every op makes a new tensor, and equal expressions
// on the same tensors are one node (hash-consing), realized once. The one
// exception is from_blob, whose value is the caller's memory: writes to it
// show in what is computed from it only if written before that is first
// read (a computed value is kept, and rebuilding the same expression gives
// the same node); to feed new data, wrap the memory again.
//
// Gradients (PyTorch's model, on the lazy graph): a Tensor is a cheap handle
// to shared state (its node, a requires-grad flag, its grad, and the
// requires-grad leaves it was computed from). Copies share that state, as
// torch tensors do. An op produces a result whose leaves are the union of
// its operands'; backward() builds the gradient nodes with respect to those
// leaves and adds each into its leaf's grad, lazily: the gradients and the
// forward value are computed together, in one plan, when the first of them
// (or anything computed from one, such as an optimizer's update) is read or
// realized. So a training step -- forward, backward, every parameter's
// update -- is one plan, compiled once.
//
// In-place updates (copy_): values stay immutable, but a leaf can take a new
// value: `p.copy_(v)` makes p stand for v (lazily, so several copies realize
// in one plan with fusejit::realize), and once realized p holds the result
// on a fresh input node, not the graph that computed it. Every copy of the
// handle p sees the new value; tensors computed from p before (views
// included) keep the value they were computed from, as every lazy value
// does. Scalars that change every step (a learning rate) belong in
// scalar_tensor leaves, which are run-time inputs of a plan, not constants
// compiled into it.
//   - leaf: a tensor with no tracked history (factories, detach(), anything
//     not computed from a requires-grad tensor, or built under a
//     NoGradGuard); is_leaf() is true.
//   - requires_grad_() flags a leaf in place and returns it; on a non-leaf it
//     is a ValueError. Gradients are found by node identity, so flagging
//     moves the leaf to a fresh input node holding the same value (from_blob
//     memory is copied then): tensors built from it before the flag keep no
//     history, and a hash-consed constant (ones({3}) is one node however
//     often it is built) is not shared.
//   - requires_grad() is true for a flagged leaf and for any result computed
//     from one outside a NoGradGuard.
//   - detach() realizes the value and returns it on a new input node with
//     no history.
//
// Threads (PyTorch's contract): tensors may be built, realized, read and
// differentiated from several threads at once. backward() calls into a
// shared leaf each add their whole gradient, atomically, in an unspecified
// order; grad() and zero_grad() see a whole gradient. Not safe:
// requires_grad_() on a tensor while another thread builds from it or runs
// backward() through it (it replaces the leaf's node); flag leaves first.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>

#include <fusejit/dtype.h>
#include <fusejit/scalar.h>
#include <fusejit/settings.h>

namespace fusejit {

using Shape = std::vector<int64_t>;  // extents, outermost first; [] is a scalar

// The graph node a tensor stands for: opaque to users, fusejit's own code
// sees it through ir/node.h.
struct Node;
using NodeRef = std::shared_ptr<const Node>;

struct TensorImpl;

// libtorch's indexing spellings: x.index({Slice(1, 3), Slice(), 2, None}).
namespace indexing {
// start:stop:step of one dim; missing bounds take the ends; step > 0.
struct Slice {
  Slice(std::optional<int64_t> start = std::nullopt, std::optional<int64_t> stop = std::nullopt,
        std::optional<int64_t> step = std::nullopt)
      : start(start), stop(stop), step(step.value_or(1)) {}
  std::optional<int64_t> start, stop;
  int64_t step;
};
// A new dim of extent 1.
inline constexpr std::nullopt_t None = std::nullopt;
// One item of an index: an integer (drops its dim), a Slice, or None.
struct TensorIndex {
  TensorIndex(int64_t i) : kind(Integer), integer(i) {}  // NOLINT(google-explicit-constructor)
  TensorIndex(int i) : kind(Integer), integer(i) {}      // NOLINT(google-explicit-constructor)
  TensorIndex(Slice s) : kind(Range), slice(s) {}        // NOLINT(google-explicit-constructor)
  TensorIndex(std::nullopt_t) : kind(NewDim) {}          // NOLINT(google-explicit-constructor)
  enum Kind { Integer, Range, NewDim } kind;
  int64_t integer = 0;
  Slice slice;
};
}  // namespace indexing

class Tensor {
 public:
  // Undefined; any use but defined() and << is a ValueError saying so.
  Tensor() = default;
  // fusejit's own code: the node as an untracked leaf. Do not use it to alias
  // a tensor that requires grad (gradients would flow through both).
  explicit Tensor(NodeRef node);

  // ---- factories (leaves) ----
  template <typename T>
  static Tensor from_vector(const std::vector<T> &values, Shape shape);
  template <typename T>
  static Tensor from_vector(const std::vector<T> &values) {
    return from_vector(values, {static_cast<int64_t>(values.size())});
  }
  // Wraps `data`, numel(shape) contiguous row-major elements of `dtype`,
  // without a copy. The caller keeps the memory alive and unchanged while
  // the tensor, or anything computed from it, may still read it (see the top
  // of this file). `data` must be aligned to the element size.
  static Tensor from_blob(void *data, Shape shape, DType dtype = DType::F32);
  // The same, and `deleter(data)` runs once nothing uses the memory any more
  // (libtorch's from_blob with a deleter), so the tensor owns it.
  static Tensor from_blob(void *data, Shape shape, const std::function<void(void *)> &deleter,
                          DType dtype = DType::F32);
  static Tensor scalar(double value, DType dtype = DType::F32);
  static Tensor zeros(const Shape &shape, DType dtype = DType::F32);
  static Tensor ones(const Shape &shape, DType dtype = DType::F32);
  static Tensor full(const Shape &shape, double value, DType dtype = DType::F32);
  // Uniform in [0, 1) and standard normal. Without a seed they draw from the
  // process-wide generator (see manual_seed), so runs are reproducible.
  static Tensor rand(Shape shape, DType dtype = DType::F32,
                     std::optional<uint64_t> seed = std::nullopt);
  static Tensor randn(Shape shape, DType dtype = DType::F32,
                      std::optional<uint64_t> seed = std::nullopt);

  // ---- what it is ----
  bool defined() const;
  const Shape &sizes() const;
  const Shape &shape() const { return sizes(); }
  // The extent of dim `d` (negative counts from the end); a ShapeError
  // names a dim out of range.
  int64_t size(int64_t d) const;
  int64_t dim() const;
  int64_t numel() const;
  DType dtype() const;
  const NodeRef &node() const;  // fusejit's own code

  // ---- elementwise ----
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor reciprocal() const;  // 1 / x
  // Rounding (half to even, as torch.round); integers are returned as they are.
  Tensor floor() const;
  Tensor ceil() const;
  Tensor round() const;
  Tensor logical_not() const;  // bool: x == 0
  Tensor maximum(const Tensor &other) const;
  Tensor minimum(const Tensor &other) const;
  Tensor pow(const Tensor &exponent) const;
  Tensor pow(Scalar exponent) const;
  // maximum(x, lo) then minimum(., hi); either bound may be left out.
  Tensor clamp(std::optional<Scalar> lo, std::optional<Scalar> hi = std::nullopt) const;
  // `value` where mask (bool, broadcast to this shape) is true, else x.
  Tensor masked_fill(const Tensor &mask, Scalar value) const;

  // ---- reductions: empty dims reduce everything ----
  Tensor sum(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor max(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor mean(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor min(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  // Sums and products of integers or bools are i64; any and all are bool.
  Tensor prod(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor any(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  Tensor all(std::vector<int64_t> dims = {}, bool keepdim = false) const;
  // The index (i64) of the largest / smallest element along dim, the first
  // on ties, NaN counting as the largest (argmax) or smallest (argmin), as
  // torch's; without a dim, the index into the flattened tensor. Built
  // from max, ==, where and min, so it fuses with what computes x.
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;

  // ---- views (never copy) ----
  Tensor reshape(Shape shape) const;
  Tensor permute(std::vector<int64_t> perm) const;
  // Swaps dims d0 and d1 (negative count from the end).
  Tensor transpose(int64_t d0, int64_t d1) const;
  // transpose(0, 1) of a 2-D tensor; a 0-D or 1-D one as it is; a
  // ShapeError for more dims (as torch's t()).
  Tensor t() const;
  Tensor expand(Shape shape) const;
  // Elements start, start + step, ... below end of dim (Python's bounds:
  // negative counts from the end, out-of-range clamps); step > 0 (flip
  // reverses), else a ValueError.
  Tensor slice(int64_t dim = 0, std::optional<int64_t> start = std::nullopt,
               std::optional<int64_t> end = std::nullopt, int64_t step = 1) const;
  // `length` elements of dim from start (negative counts from the end); a
  // ShapeError if they do not fit.
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  // Element `index` of dim, which is dropped; a ValueError out of range.
  Tensor select(int64_t dim, int64_t index) const;
  // x.index({Slice(1, 3), Slice(), 2}): the items apply to the leading dims.
  Tensor index(const std::vector<indexing::TensorIndex> &items) const;
  Tensor flip(const std::vector<int64_t> &dims) const;
  Tensor unsqueeze(int64_t dim) const;
  // Every dim of extent 1, or the one given (the tensor itself if its
  // extent is not 1, as torch).
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  // torch.Tensor.unfold: windows of `size` every `step` along dim as a new
  // last dim; overlapping windows share elements (no copy).
  Tensor unfold(int64_t dim, int64_t size, int64_t step) const;
  // torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along
  // dim, the shape of `index` (i64 or i32, x's rank, extents but dim's at
  // most x's). index_select: the entries of dim a 1-D index lists (an
  // embedding lookup is table.index_select(0, ids)). Both read x at
  // computed addresses inside the kernel that uses them, no copy; an index
  // outside [0, size(dim)) is an IndexError naming it when the value is
  // computed. The gradient flows to x (summed where indices repeat).
  Tensor gather(int64_t dim, const Tensor &index) const;
  Tensor index_select(int64_t dim, const Tensor &index) const;
  // torch.Tensor.scatter_add and index_add (out of place, as every result
  // here): src's elements added where the index sends them, summed where
  // indices repeat. A reduction over the index and dim's entries, so it
  // costs numel(index) * size(dim); an out-of-bounds index is an IndexError.
  Tensor scatter_add(int64_t dim, const Tensor &index, const Tensor &src) const;
  Tensor index_add(int64_t dim, const Tensor &index, const Tensor &source) const;

  // ---- copies and conversions ----
  // The value in row-major storage of its own: realizes it now and returns
  // *this (a realized value is always contiguous; a view is computed).
  Tensor contiguous() const;
  // A new tensor with the same value and its own requires-grad state and
  // grad; differentiable (as an identity) when this one requires grad.
  // Realizes the value now; from_blob memory is copied, so later writes to
  // it do not show in the clone (other values are immutable and shared).
  Tensor clone() const;
  // The value in `dtype` (lazy, as any op); *this if it has that dtype
  // already. Float-to-integer conversion truncates toward zero and
  // saturates, NaN gives 0; to bool is x != 0. Differentiable between
  // float dtypes; no gradient flows into an integer or bool result.
  Tensor to(DType dtype) const;

  Tensor matmul(const Tensor &other) const;

  // ---- gradients (see the top of this file) ----
  // Flags this leaf (in place, shared by its copies) and returns it; a
  // ValueError on a non-leaf.
  Tensor requires_grad_(bool on = true) const;
  bool requires_grad() const;  // a flagged leaf, or computed from one
  bool is_leaf() const;        // no tracked history
  // The accumulated gradient of a leaf; undefined (and saying why when
  // used) until a backward() reached it, after zero_grad(), and on non-leaves.
  // Lazy until read: realizing it (or a value computed from it) computes, in
  // the same plan, the forward value and every gradient of the backward()
  // calls it holds.
  Tensor grad() const;
  // Replaces a leaf's gradient, as Python's `p.grad = g` (undefined: as
  // zero_grad()); a ShapeError unless g has this leaf's dtype and shape, a
  // ValueError on a non-leaf. What g is realized with stays with it.
  void set_grad(const Tensor &grad) const;
  // Drops the accumulated gradient (PyTorch's set_to_none): grad() is
  // undefined until the next backward().
  void zero_grad() const;
  // The same value (realized now) on a new leaf with no history.
  Tensor detach() const;
  // The same value, lazily, through which no gradient flows (JAX's
  // lax.stop_gradient): the graph keeps it, backward() treats it as a
  // constant. softmax's shift by the row's max is one.
  Tensor stop_gradient() const;
  // Adds d sum(*this) / d leaf -- or d sum(*this * seed) / d leaf when a seed
  // of this tensor's dtype and shape is given -- into the grad of every
  // requires-grad leaf this tensor depends on. Nothing is computed yet:
  // forward and gradients are realized together when one of them is read
  // (see grad()). A ValueError if no such leaf exists; a ShapeError if the
  // seed does not match.
  void backward(const Tensor &seed = {}) const;

  // ---- reading: realizes the tensor (once) ----
  // T must be the tensor's element type: float, double, int32_t, int64_t,
  // uint8_t or bool for f32, f64, i32, i64, u8 and bool.
  template <typename T>
  std::vector<T> to_vector() const;
  template <typename T>
  T item() const;
  // The realized value, numel() contiguous row-major elements, without a
  // copy; valid while this tensor (or its node) lives. For reading only:
  // equal constants share one storage, so only from_blob memory may be
  // written, and then by its owner (see the top of this file).
  template <typename T>
  const T *data_ptr() const;
  // ---- in place (see the top of this file) ----
  // Makes this leaf stand for `src` (broadcast to its shape; same dtype),
  // lazily; realizing it puts the value on a fresh input node of this
  // tensor, so its copies see it and it keeps no graph. Like torch's copy_
  // under no_grad: a ValueError on a non-leaf, for another dtype, and where
  // this leaf or src requires grad outside a NoGradGuard. from_blob memory
  // is not written: the tensor stops reading it. Returns *this.
  const Tensor &copy_(const Tensor &src) const;

  // Computes the value now, if it is not known yet; returns *this. With
  // options, compiled and run by them (fusejit/settings.h), this call only.
  const Tensor &realize() const;
  const Tensor &realize(const Options &options) const;

 private:
  // The realized value's elements, checked to be of dtype `want`.
  const void *read(DType want, const char *what) const;
  void check_item() const;

  friend struct TensorOps;
  std::shared_ptr<TensorImpl> impl_;
};

// Prints the values as libtorch does: a scalar's value, a 1-D tensor one
// element a line, a matrix row by row, higher ranks as (i,j,.,.) = matrices,
// then the type line, "[ CPUFloatType{2,3} ]".
std::ostream &operator<<(std::ostream &os, const Tensor &t);

// Arithmetic and comparisons broadcast like numpy and promote like PyTorch
// (README, "Dtypes"): operands of two dtypes compute in the wider one, a
// Scalar takes the tensor's dtype unless it is of a wider kind (a float
// beside an integer tensor gives f32), `/` of integers is true division in
// f32. Comparisons give bool. `%` and floor_divide round toward minus
// infinity, as Python's; an integer one by zero is a ValueError when the
// value is computed.
Tensor operator-(const Tensor &a);
#define FUSEJIT_OPERATOR(op)                            \
  Tensor operator op(const Tensor &a, const Tensor &b); \
  Tensor operator op(const Tensor &a, Scalar b);        \
  Tensor operator op(Scalar a, const Tensor &b);
FUSEJIT_OPERATOR(+)
FUSEJIT_OPERATOR(-)
FUSEJIT_OPERATOR(*)
FUSEJIT_OPERATOR(/)
FUSEJIT_OPERATOR(%)
FUSEJIT_OPERATOR(<)
FUSEJIT_OPERATOR(>)
FUSEJIT_OPERATOR(<=)
FUSEJIT_OPERATOR(>=)
FUSEJIT_OPERATOR(==)
FUSEJIT_OPERATOR(!=)
#undef FUSEJIT_OPERATOR
Tensor floor_divide(const Tensor &a, const Tensor &b);
Tensor floor_divide(const Tensor &a, Scalar b);
Tensor remainder(const Tensor &a, const Tensor &b);
Tensor remainder(const Tensor &a, Scalar b);
// Operands are cast to bool (nonzero is true); the result is bool.
Tensor logical_and(const Tensor &a, const Tensor &b);
Tensor logical_or(const Tensor &a, const Tensor &b);
Tensor logical_not(const Tensor &a);
Tensor clamp(const Tensor &x, std::optional<Scalar> lo, std::optional<Scalar> hi = std::nullopt);
// Constants of x's shape, in x's dtype or `dtype`.
Tensor zeros_like(const Tensor &x, std::optional<DType> dtype = std::nullopt);
Tensor ones_like(const Tensor &x, std::optional<DType> dtype = std::nullopt);
Tensor full_like(const Tensor &x, Scalar value, std::optional<DType> dtype = std::nullopt);

Tensor matmul(const Tensor &a, const Tensor &b);
// Pads with a constant, libtorch's flat list: (before, after) of the last
// dim first, then of the one before, ...; negative widths crop.
Tensor pad(const Tensor &x, const std::vector<int64_t> &pad, double value = 0.0);
// Joins along dim (shapes equal elsewhere) / along a new dim (shapes equal).
Tensor cat(const std::vector<Tensor> &tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor> &tensors, int64_t dim = 0);
// Slices of `size` along dim (the last may be shorter), or `chunks` slices
// of ceil(extent / chunks) each (maybe fewer), as torch.
std::vector<Tensor> split(const Tensor &x, int64_t size, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor &x, int64_t chunks, int64_t dim = 0);
Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y);
Tensor where(const Tensor &cond, Scalar x, Scalar y);
Tensor maximum(const Tensor &a, const Tensor &b);
Tensor minimum(const Tensor &a, const Tensor &b);

// Convolution and pooling, NCHW with PyTorch's semantics, built from pad,
// unfold, `*` and sum/max/mean (so they are differentiable). x [N, Cin, L]
// (conv1d) or [N, Cin, H, W] (conv2d); w [Cout, Cin / groups, K...]; bias
// [Cout] or undefined. stride, padding and dilation take one value per
// spatial dim or one for all; a pool's stride defaults to its kernel size,
// max-pool padding reads -inf and avg-pool padding counts as zeros.
Tensor conv1d(const Tensor &x, const Tensor &w, const Tensor &bias = {},
              const std::vector<int64_t> &stride = {1}, const std::vector<int64_t> &padding = {0},
              const std::vector<int64_t> &dilation = {1}, int64_t groups = 1);
Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias = {},
              const std::vector<int64_t> &stride = {1}, const std::vector<int64_t> &padding = {0},
              const std::vector<int64_t> &dilation = {1}, int64_t groups = 1);
// padding="same" and "valid", as torch::kSame and torch::kValid: same pads
// dilation * (K - 1) in all, one more after than before when odd, and needs
// stride 1; valid is padding 0.
enum class PaddingMode { Valid, Same };
inline constexpr PaddingMode kValid = PaddingMode::Valid;
inline constexpr PaddingMode kSame = PaddingMode::Same;
Tensor conv1d(const Tensor &x, const Tensor &w, const Tensor &bias,
              const std::vector<int64_t> &stride, PaddingMode padding,
              const std::vector<int64_t> &dilation = {1}, int64_t groups = 1);
Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
              const std::vector<int64_t> &stride, PaddingMode padding,
              const std::vector<int64_t> &dilation = {1}, int64_t groups = 1);
// The gradient of conv with respect to its input, as torch's (arguments in
// its order): w [Cin, Cout / groups, K...]; each output dim is (L - 1) *
// stride - 2 * padding + dilation * (K - 1) + output_padding + 1.
Tensor conv_transpose1d(const Tensor &x, const Tensor &w, const Tensor &bias = {},
                        const std::vector<int64_t> &stride = {1},
                        const std::vector<int64_t> &padding = {0},
                        const std::vector<int64_t> &output_padding = {0}, int64_t groups = 1,
                        const std::vector<int64_t> &dilation = {1});
Tensor conv_transpose2d(const Tensor &x, const Tensor &w, const Tensor &bias = {},
                        const std::vector<int64_t> &stride = {1},
                        const std::vector<int64_t> &padding = {0},
                        const std::vector<int64_t> &output_padding = {0}, int64_t groups = 1,
                        const std::vector<int64_t> &dilation = {1});
// ceil_mode rounds the output size up (a last window may hang over the
// right padding, as torch); avg-pool's count_include_pad as torch's.
Tensor max_pool2d(const Tensor &x, const std::vector<int64_t> &kernel_size,
                  const std::vector<int64_t> &stride = {},
                  const std::vector<int64_t> &padding = {0},
                  const std::vector<int64_t> &dilation = {1}, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor &x, const std::vector<int64_t> &kernel_size,
                  const std::vector<int64_t> &stride = {},
                  const std::vector<int64_t> &padding = {0}, bool ceil_mode = false,
                  bool count_include_pad = true);
// A 0-d leaf holding `value`: a run-time input of every plan it enters, so
// a new value compiles nothing (Tensor::scalar is a constant compiled into
// the plan, which specializes on it).
Tensor scalar_tensor(double value, DType dtype = DType::F32);

// Index tensors, as torch's: start, start + step, ... below end (i64 unless
// a dtype is given), computed where it is read (no buffer); eye(n), the
// n x n identity, likewise; randint, integers uniform in [low, high), a
// leaf holding its values.
Tensor arange(int64_t end, DType dtype = DType::I64);
Tensor arange(int64_t start, int64_t end, int64_t step = 1, DType dtype = DType::I64);
Tensor eye(int64_t n, DType dtype = DType::F32);
Tensor randint(int64_t low, int64_t high, Shape shape, DType dtype = DType::I64,
               std::optional<uint64_t> seed = std::nullopt);
// labels [...] (an integer tensor of class indices) as [..., num_classes],
// 1 at each label and 0 elsewhere, in i64 unless a dtype is given. A label
// outside [0, num_classes) is an IndexError naming it when the value is
// computed (the check is part of the kernel, as a gather's).
Tensor one_hot(const Tensor &labels, int64_t num_classes, DType dtype = DType::I64);
// torch.gather and torch.index_select: x.gather(dim, index), x.index_select(dim, index).
Tensor gather(const Tensor &x, int64_t dim, const Tensor &index);
Tensor index_select(const Tensor &x, int64_t dim, const Tensor &index);
Tensor scatter_add(const Tensor &x, int64_t dim, const Tensor &index, const Tensor &src);
Tensor index_add(const Tensor &x, int64_t dim, const Tensor &index, const Tensor &source);

// Seeds the process-wide generator behind rand/randn without a seed.
void manual_seed(uint64_t seed);

// Computes every tensor's value that is not known yet, in one plan (what
// they share is computed once), by `options` (fusejit/settings.h); with
// them, what they are realized with (lazy gradients' forward values) and
// the pending values of copy_.
void realize(const std::vector<Tensor> &tensors, const Options &options = default_options());

// `value`, as a new tensor whose plan also computes `updates` (tensors
// given a value by copy_, such as a batch norm's running statistics): so
// does the plan of anything computed from it, its backward()'s gradients
// and an optimizer step on them included, so a training step stays one
// plan. Once computed, an update settles when next read or realized (at
// no cost). Gradients flow through the result as through `value`.
Tensor with_effects(const Tensor &value, const std::vector<Tensor> &updates);

// ---- template definitions ----

template <typename T>
const T *Tensor::data_ptr() const {
  return static_cast<const T *>(read(dtype_of<T>(), "data_ptr"));
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  const T *p = static_cast<const T *>(read(dtype_of<T>(), "to_vector"));
  return std::vector<T>(p, p + numel());
}

template <typename T>
T Tensor::item() const {
  check_item();
  return *static_cast<const T *>(read(dtype_of<T>(), "item"));
}

}  // namespace fusejit
