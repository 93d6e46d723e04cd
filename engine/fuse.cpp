#include "engine/fuse.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "engine/fuse_rows.h"
#include "engine/pass_stats.h"
#include "ir/access.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "ir/kernel_printer.h"
#include "ir/printer.h"

namespace fusejit {

namespace {

bool is_leaf(const Node &n) { return is_value_leaf(n); }
bool is_anchor(const Node &n) { return n.kind() == OpKind::Reduce || n.kind() == OpKind::Matmul; }
bool is_elementwise(const Node &n) {
  return n.kind() == OpKind::Unary || n.kind() == OpKind::Binary || n.kind() == OpKind::Ternary;
}

std::string describe(const Node &n) {
  return std::string(op_name(n.op)) + " " + type_str(n.dtype, n.shape);
}

// One step of the way from a node's own index space up to the kernel domain.
struct ViewStep {
  enum Kind { Permute, Expand, Reshape, ToDomain, Slice, Pad, Unfold, Gather } kind;
  Shape shape;                // Expand, Reshape, Slice, Gather: the target; ToDomain: the domain
  std::vector<int64_t> perm;  // Permute; Slice, Pad, Unfold, Gather: the node's dims
  std::vector<int> src;       // ToDomain
  double fill = 0;            // Pad: what an invalid point reads
  int index = -1;             // Gather: the instruction holding the index
};
// path[0] is nearest the domain; the last step is nearest the node.
using Path = std::vector<ViewStep>;

// The step a view node takes from its own index space to its arg's.
ViewStep view_step(const Node &n) {
  switch (n.op) {
    case Op::Reshape:
      return ViewStep{ViewStep::Reshape, n.shape, {}, {}};
    case Op::Permute:
      return ViewStep{ViewStep::Permute, {}, n.dims, {}};
    case Op::Expand:
      return ViewStep{ViewStep::Expand, n.shape, {}, {}};
    case Op::Slice:
      return ViewStep{ViewStep::Slice, n.shape, n.dims, {}};
    case Op::Pad:
      return ViewStep{ViewStep::Pad, n.shape, n.dims, {}, n.value};
    case Op::Unfold:
      return ViewStep{ViewStep::Unfold, n.shape, n.dims, {}};
    case Op::Cat:     // one step per source: see Fuser::emit_cat
    case Op::Gather:  // its step needs the index's instruction: see Fuser::emit
      FUSEJIT_LEAF_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_UNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_CAST_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_BINARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_TERNARY_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_REDUCE_OPS(FUSEJIT_OP_CASE)
      FUSEJIT_MATMUL_OPS(FUSEJIT_OP_CASE)
      break;
  }
  throw InternalError(std::string("fuse: ") + op_name(n.op) + " is not a view");
}

// The access that reads a contiguous value of `shape` at every domain point.
Access access_through(const Shape &shape, const Path &path) {
  Access a = contiguous_access(shape);
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    switch (it->kind) {
      case ViewStep::Permute:
        access_permute(a, it->perm);
        break;
      case ViewStep::Expand:
        access_expand(a, it->shape);
        break;
      case ViewStep::Reshape:
        access_reshape(a, it->shape);
        break;
      case ViewStep::ToDomain:
        access_to_domain(a, it->shape, it->src);
        break;
      case ViewStep::Slice:
      case ViewStep::Pad: {
        std::vector<int64_t> first, second;  // (start, step) or (before, after) per dim
        for (size_t d = 0; 2 * d + 1 < it->perm.size(); ++d) {
          first.push_back(it->perm[2 * d]);
          second.push_back(it->perm[2 * d + 1]);
        }
        if (it->kind == ViewStep::Slice)
          access_slice(a, first, second, it->shape);
        else
          access_pad(a, first, second);
        break;
      }
      case ViewStep::Unfold:
        access_unfold(a, static_cast<size_t>(it->perm[0]), it->perm[1], it->perm[2]);
        break;
      case ViewStep::Gather:
        access_gather(a, static_cast<size_t>(it->perm[0]), it->index, it->shape);
        break;
    }
  }
  return a;
}

// The instructions a gathering access indexes by: its instruction's args.
std::vector<int> gathered_by(const Access &a) {
  std::vector<int> args;
  for (const AccessLayer &l : a.layers)
    for (const GatherTerm &g : l.gathers)
      if (std::find(args.begin(), args.end(), g.instr) == args.end()) args.push_back(g.instr);
  return args;
}

// What a masked load through `path` yields where invalid: the fill of the
// pad nearest the buffer (outer pads select their own fill around it).
double load_fill(const Path &path) {
  for (auto it = path.rbegin(); it != path.rend(); ++it)
    if (it->kind == ViewStep::Pad) return it->fill;
  return 0.0;
}

// A row kernel could not be built as row fusion grouped it: fuse() drops
// the group's phases from row fusion and fuses again.
struct RowReject {
  std::vector<const Node *> phases;
  std::string why;
};

using Rejected = std::unordered_map<const Node *, std::string>;

Path extend(const Path &p, ViewStep step) {
  Path out = p;
  out.push_back(std::move(step));
  return out;
}

class Fuser {
 public:
  Fuser(const std::vector<NodeRef> &roots, FuseOptions options, FuseTrace *trace,
        const Rejected &rejected)
      : roots_(roots),
        order_(topo_order_to_values(roots)),
        options_(options),
        trace_(trace),
        rejected_(rejected) {}

  Plan run() {
    for (const Node *n : order_)
      if (!is_leaf(*n))
        for (const NodeRef &a : n->args) consumers_[a.get()].push_back(n);
    for (const NodeRef &r : roots_) is_root_.insert(r.get());
    number_leaves();
    if (options_.fusion) {
      claim_epilogues();
      materialize_shared_values();
      if (options_.rows) form_row_groups();
    } else {
      materialize_every_op();
    }
    for (const Node *n : materialized_order_)
      if (materialized_.count(n))
        buffer_[n] =
            add_buffer(is_root_.count(n) ? PlanBuffer::Role::Output : PlanBuffer::Role::Temp, *n);
    for (const std::vector<const Node *> &tops : group_kernels()) build_kernel(tops);
    for (const NodeRef &r : roots_) plan_.root_buffers.push_back(buffer_.at(r.get()));
    count_bytes();
    return std::move(plan_);
  }

 private:
  int add_buffer(PlanBuffer::Role role, const Node &n) {
    plan_.buffers.push_back({role, n.dtype, n.shape});
    return static_cast<int>(plan_.buffers.size()) - 1;
  }

  void number_leaves() {
    for (const Node *n : order_)
      if (is_leaf(*n)) {
        buffer_[n] = add_buffer(PlanBuffer::Role::Input, *n);
        plan_.input_nodes.push_back(n);
        plan_.input_buffers.push_back(buffer_[n]);
      }
  }

  void materialize_every_op() {
    for (const Node *n : order_) {
      if (is_leaf(*n) || (n->kind() == OpKind::View && !is_root_.count(n)) ||
          ((n->is(Op::Const) || n->is(Op::Iota)) && !is_root_.count(n)))
        continue;
      if (is_anchor(*n)) anchor_of_.emplace(n, n);
      materialize(n, {n, is_root_.count(n) ? FuseReason::Root : FuseReason::FusionOff});
    }
  }

  // Rule 4: each reduction or matmul takes the chain of single-consumer,
  // same-shape elementwise ops above it as its epilogue; the chain's top is
  // what its kernel writes.
  void claim_epilogues() {
    for (const Node *n : order_) {
      if (is_leaf(*n)) continue;
      if (is_root_.count(n)) materialize(n, {n, FuseReason::Root});
      if (!is_anchor(*n)) continue;
      FuseTrace::Materialized why{nullptr, FuseReason::Root, n};
      const Node *top = n;
      while (!is_root_.count(top)) {
        const auto &users = consumers_[top];
        if (users.size() != 1) {
          why.reason = FuseReason::ReduceShared;
          why.consumers = static_cast<int64_t>(users.size());
          break;
        }
        const Node *user = users[0];
        // A reshape of the kernel's row-major result is free: it is the same
        // elements in the same order, so the kernel writes the reshaped buffer.
        bool reshape = user->is(Op::Reshape);
        if ((!is_elementwise(*user) && !reshape) || claimed_.count(user)) {
          why.reason = epilogue_stop(*user);
          why.consumer = user;
          break;
        }
        if (!reshape && user->shape != top->shape) {
          why.reason = FuseReason::ReduceBroadcast;
          why.consumer = user;
          break;
        }
        top = user;
        claimed_.insert(top);
      }
      anchor_of_.emplace(top, n);
      why.value = top;
      if (is_root_.count(top)) why.reason = FuseReason::Root;
      materialize(top, why);
    }
  }

  // Rule 5: a value with several consumers is recomputed where cheap.
  void materialize_shared_values() {
    std::unordered_map<const Node *, int> cost;
    for (const Node *n : order_) {
      // Epilogue ops belong to their reduction's kernel.
      if (is_leaf(*n) || is_anchor(*n) || materialized_.count(n) || claimed_.count(n) ||
          n->is(Op::Const) || n->is(Op::Iota))
        continue;
      int c = is_elementwise(*n) ? 1 : 0;
      for (const NodeRef &a : n->args)
        if (!materialized_.count(a.get()) && !is_leaf(*a) && !is_anchor(*a)) c += cost[a.get()];
      cost[n] = c;
      size_t uses = consumers_[n].size();
      if (c > kMaxKernelOps) {
        materialize(n, {n, FuseReason::SizeLimit, nullptr, nullptr, 0, c});
        cost[n] = 0;
      } else if (uses > 1 && c > kRecomputeOps && is_elementwise(*n)) {
        materialize(
            n, {n, FuseReason::SharedExpensive, nullptr, nullptr, static_cast<int64_t>(uses), c});
        cost[n] = 0;
      }
    }
  }

  // Why an epilogue stopped at a consumer that is not elementwise or is taken.
  FuseReason epilogue_stop(const Node &user) const {
    if (user.kind() == OpKind::View) return FuseReason::ViewAfterReduce;
    if (is_anchor(user)) return FuseReason::ReduceIntoReduce;
    return FuseReason::EpilogueTaken;
  }

  // The first reason a value is materialized is the one recorded. Buffers
  // are numbered once every decision is made (row fusion takes some back).
  void materialize(const Node *n, const FuseTrace::Materialized &why) {
    if (!materialized_.insert(n).second) return;
    if (trace_) trace_->materialized.push_back(why);
    materialized_order_.push_back(n);
  }

  // Rule 9 (engine/fuse_rows.h): the row kernels. Members no other kernel
  // reads are computed inside their row kernel only, not stored.
  void form_row_groups() {
    RowCandidates c;
    for (const Node *n : order_)
      if (materialized_.count(n)) c.materialized.push_back(n);
    c.roots = is_root_;
    c.anchor = [&](const Node *n) -> const Node * {
      auto it = anchor_of_.find(n);
      return it == anchor_of_.end() ? nullptr : it->second;
    };
    c.reads = [&](const Node *n) { return stored_reads(n); };
    std::vector<RowMiss> misses;
    row_groups_ = find_row_groups(c, rejected_, &misses);
    for (size_t g = 0; g < row_groups_.size(); ++g)
      for (const Node *m : row_groups_[g].members) {
        row_group_of_[m] = g;
        if (!row_groups_[g].written.count(m)) materialized_.erase(m);
      }
    if (!trace_) return;
    std::vector<FuseTrace::Materialized> kept;
    for (const FuseTrace::Materialized &m : trace_->materialized)
      if (materialized_.count(m.value)) kept.push_back(m);
    trace_->materialized = std::move(kept);
    for (const RowMiss &m : misses) trace_->row_misses.push_back({m.reduction, m.why});
    for (const auto &[r, why] : rejected_) trace_->row_misses.push_back({r, why});
    // The other reductions whose result is broadcast: why they are no phase.
    for (const FuseTrace::Materialized &m : trace_->materialized)
      if (m.reason == FuseReason::ReduceBroadcast && m.anchor && !row_group_of_.count(m.value) &&
          !rejected_.count(m.anchor))
        trace_->row_misses.push_back({m.anchor, row_key(*m.anchor)
                                                    ? "its consumer is not over the same rows"
                                                    : "it does not reduce its input's last dims"});
  }

  // ---- which values share a kernel ----

  // Rule 8: the materialized values each kernel writes, in execution order.
  // A kernel's position is when its first value came (in topological order),
  // and a value joins only a kernel after every kernel it reads from, so the
  // order stays valid and no two kernels wait on each other.
  std::vector<std::vector<const Node *>> group_kernels() {
    struct Group {
      std::vector<const Node *> tops;
      int64_t ops = 0;
    };
    std::vector<Group> groups;
    std::unordered_map<const Node *, int> group_of;
    // Kernels that may still take values, by domain and dtype, in execution order.
    std::map<std::pair<Shape, DType>, std::vector<int>> open;
    // A row kernel's members, its written ones (tops), and what it loads.
    auto row_tops = [&](const RowGroup &g) {
      std::vector<const Node *> tops;
      for (const Node *m : g.members)
        if (g.written.count(m)) tops.push_back(m);
      return tops;
    };
    auto loads = [&](const Node *n) {
      auto row = row_group_of_.find(n);
      if (row == row_group_of_.end()) return stored_reads(n);
      const RowGroup &g = row_groups_[row->second];
      std::vector<const Node *> reads;
      for (const Node *m : g.members)
        for (const Node *r : stored_reads(m))
          if (!row_group_of_.count(r) || row_group_of_.at(r) != row->second) reads.push_back(r);
      return reads;
    };
    auto place = [&](const Node *n) {
      auto row = row_group_of_.find(n);
      if (row != row_group_of_.end()) {
        std::vector<const Node *> tops = row_tops(row_groups_[row->second]);
        for (const Node *m : tops) group_of[m] = static_cast<int>(groups.size());
        groups.push_back({tops, 0});
        return;
      }
      int after = -1;  // the last kernel whose buffer n's kernel reads
      for (const Node *read : stored_reads(n)) after = std::max(after, group_of.at(read));
      int chosen = -1;
      bool shares = options_.fusion && !anchor_of_.count(n);
      int64_t ops = shares ? own_ops(n) : 0;
      std::vector<int> *candidates = shares ? &open[{n->shape, n->dtype}] : nullptr;
      if (shares) {
        auto it = std::upper_bound(candidates->begin(), candidates->end(), after);
        for (; it != candidates->end() && chosen < 0; ++it)
          if (groups[*it].ops + ops <= kMaxKernelOps && groups[*it].tops.size() < kMaxKernelOutputs)
            chosen = *it;
      }
      if (chosen < 0) {
        chosen = static_cast<int>(groups.size());
        groups.emplace_back();
        if (shares) candidates->push_back(chosen);
      }
      groups[chosen].tops.push_back(n);
      groups[chosen].ops += ops;
      group_of[n] = chosen;
    };
    // A row kernel runs where its last member is (in topological order). A
    // value that reads one of its members and comes before that waits, and
    // runs once what it reads has (fuse_rows.cpp rules out a row kernel that
    // would wait on it in turn).
    std::vector<const Node *> waiting;
    auto ready = [&](const Node *n) {
      for (const Node *read : loads(n))
        if (!group_of.count(read)) return false;
      return true;
    };
    for (const Node *n : order_) {
      if (!materialized_.count(n)) continue;
      auto row = row_group_of_.find(n);
      if (row != row_group_of_.end() && n != row_tops(row_groups_[row->second]).back()) continue;
      waiting.push_back(n);
      for (bool progress = true; progress;) {
        progress = false;
        for (auto it = waiting.begin(); it != waiting.end(); ++it)
          if (ready(*it)) {
            place(*it);
            waiting.erase(it);
            progress = true;
            break;
          }
      }
    }
    FUSEJIT_INTERNAL_CHECK(waiting.empty(), "fuse: ", waiting.size(),
                           " values wait on kernels that never run");
    std::vector<std::vector<const Node *>> out;
    for (Group &g : groups) out.push_back(std::move(g.tops));
    return out;
  }

  // The materialized values (not leaves) whose buffers top's kernel loads.
  std::vector<const Node *> stored_reads(const Node *top) const {
    std::vector<const Node *> reads, stack{top};
    std::unordered_set<const Node *> seen{top};
    while (!stack.empty()) {
      const Node *n = stack.back();
      stack.pop_back();
      for (const NodeRef &a : n->args) {
        if (is_leaf(*a) || !seen.insert(a.get()).second) continue;
        if (materialized_.count(a.get()))
          reads.push_back(a.get());
        else
          stack.push_back(a.get());
      }
    }
    return reads;
  }

  // The ops top's kernel would emit on its own, at most: each use of a value
  // counted (so shared subexpressions count once per use).
  int64_t own_ops(const Node *top) {
    int64_t ops = is_elementwise(*top) ? 1 : 0;
    for (const NodeRef &a : top->args) ops += inline_ops(a.get());
    return ops;
  }
  int64_t inline_ops(const Node *n) {
    if (is_leaf(*n) || materialized_.count(n)) return 0;
    auto it = inline_ops_.find(n);
    if (it != inline_ops_.end()) return it->second;
    int64_t ops = is_elementwise(*n) ? 1 : 0;
    for (const NodeRef &a : n->args) ops += inline_ops(a.get());
    return inline_ops_[n] = ops;
  }

  // ---- building one kernel ----

  // One kernel writing `tops`: one value of a reduction or matmul (with its
  // epilogue), or elementwise values over one domain, in one loop.
  void build_kernel(const std::vector<const Node *> &tops) {
    Kernel k;
    k.name = "k" + std::to_string(plan_.kernels.size());
    k.dtype = tops[0]->dtype;
    kernel_ = &k;
    memo_.clear();
    inputs_.clear();
    traced_.clear();
    if (trace_) trace_->kernels.push_back({tops, {}, {}});
    auto anchor = anchor_of_.find(tops[0]);
    anchor_ = anchor == anchor_of_.end() ? nullptr : anchor->second;
    auto row = row_group_of_.find(tops[0]);
    row_ = row == row_group_of_.end() ? nullptr : &row_groups_[row->second];
    phase_ = 0;
    row_values_.clear();
    if (row_) {
      anchor_ = nullptr;
      build_row_kernel(k, tops);
    } else if (!anchor_) {
      k.domain = tops[0]->shape;
      // The memo carries over from one value to the next: what they share is
      // computed once.
      for (const Node *top : tops) {
        top_ = top;
        k.outputs.push_back({buffer_.at(top), emit(top, {}, false)});
      }
    } else {
      FUSEJIT_INTERNAL_CHECK(tops.size() == 1, "fuse: reduce kernel ", k.name, " given ",
                             tops.size(), " values to write");
      top_ = tops[0];
      Path outer_path = build_reduction(k, *anchor_);
      // The epilogue may end in another shape (reshapes in the chain); the
      // kernel still walks the reduction's output in row-major order.
      if (top_->shape != anchor_->shape)
        outer_path.push_back(ViewStep{ViewStep::Reshape, anchor_->shape, {}, {}});
      k.outputs.push_back({buffer_.at(top_), emit(top_, outer_path, true)});
    }
    plan_.kernels.push_back(std::move(k));
  }

  // A row kernel (rule 9): the domain is the rows' full shape, its last dims
  // the row; phase p folds the input of the group's p-th reduction, and
  // the last phase stores the values of the full shape. What depends on the
  // row only (the reductions and their epilogues) is computed once per row.
  void build_row_kernel(Kernel &k, const std::vector<const Node *> &tops) {
    k.domain = row_->key.full;
    k.num_reduce = row_->key.row_dims;
    for (const Node *r : row_->phases) {
      phase_ = static_cast<int>(k.rows.size());
      Reduction red;
      red.op = r->is(Op::Max) ? Op::Max : Op::Sum;
      if (r->is(Op::Mean))
        red.scale =
            static_cast<double>(numel(k.output_shape())) / static_cast<double>(r->args[0]->numel());
      red.value = at_points(emit(r->args[0].get(), {}, false), r->args[0]->dtype);
      k.rows.push_back(red);
      record(r);
    }
    phase_ = static_cast<int>(k.rows.size());
    for (const Node *top : tops) {
      top_ = top;
      int value = is_row_value(top) ? emit_row(top) : emit(top, {}, false);
      // Computed at every point, a value with one element per row would be
      // stored past its buffer.
      if (!k.body[value].outer && top->numel() != numel(k.domain))
        throw RowReject{row_->phases, describe(*top) +
                                          " has one value per row but is not a "
                                          "function of the row's values"};
      if (top->numel() != numel(k.output_shape())) value = at_points(value, top->dtype);
      k.outputs.push_back({buffer_.at(top), value});
    }
    // The passes fold floats (lower_rows' identities and combines are
    // floating-point); integer and bool values may feed them (cross-entropy's
    // one-hot labels).
    for (const Reduction &red : k.rows)
      if (!is_floating(k.body[red.value].dtype))
        throw RowReject{row_->phases, std::string("it folds ") +
                                          dtype_name(k.body[red.value].dtype) +
                                          " values, and a row kernel's passes fold f32 or f64"};
    if (trace_) trace_->kernels.back().phases = row_->phases;
  }

  // A row's value broadcast over its points (an expand of a phase), which a
  // later pass folds or the store pass writes at every point: the pass
  // takes it times one.
  int at_points(int value, DType dtype) {
    if (!kernel_->body[value].outer) return value;
    int one = emit(ir::constant(1.0, dtype).get(), {}, false);
    return push(Instr::compute(Op::Mul, dtype, {value, one}, false));
  }

  // Whether `n` depends only on the row of a row kernel: one of its phases'
  // reductions, or an elementwise op or reshape of such values, constants
  // and stored values of its own shape (one element per row, loaded once
  // per row), with one value per row.
  bool is_row_value(const Node *n) {
    if (!row_) return false;
    auto it = row_values_.find(n);
    if (it != row_values_.end()) return it->second;
    bool row = std::find(row_->phases.begin(), row_->phases.end(), n) != row_->phases.end();
    if (!row && !is_stored(n) && (is_elementwise(*n) || n->is(Op::Reshape)) &&
        n->numel() == numel(kernel_->output_shape())) {
      bool any = false, all = true;
      for (const NodeRef &a : n->args) {
        if (a->is(Op::Const)) continue;
        bool r = is_row_value(a.get());
        any |= r;
        all &= r || is_row_load(a.get(), n) || is_row_computed(a.get(), n);
      }
      row = any && all;
    }
    return row_values_[n] = row;
  }

  // A row value, once per row: the outer instruction holding it.
  int emit_row(const Node *n) {
    std::string key = "row" + std::to_string(reinterpret_cast<uintptr_t>(n));
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    int value;
    auto phase = std::find(row_->phases.begin(), row_->phases.end(), n);
    if (phase != row_->phases.end()) {
      Instr in = Instr::reduced(n->dtype);
      in.phase = static_cast<int>(phase - row_->phases.begin());
      value = push(std::move(in));
    } else if (n->is(Op::Reshape)) {
      value = emit_row(n->args[0].get());
    } else {
      std::vector<int> args;
      int at = 0;
      for (const NodeRef &a : n->args) {
        // Not a load: a row value, or an arg is_row_computed accepts,
        // computed once per row the same way.
        args.push_back(a->is(Op::Const)     ? emit(a.get(), {}, true)
                       : is_stored(a.get()) ? emit_row_load(a.get())
                                            : emit_row(a.get()));
        at = std::max(at, kernel_->body[args.back()].phase);
      }
      Instr in = Instr::compute(n->op, n->dtype, std::move(args), true);
      in.phase = at;
      value = push(std::move(in));
      record(n);
    }
    return memo_[key] = value;
  }

  // A stored arg of row value `user` with the user's shape: its elements
  // are in the rows' order.
  bool is_row_load(const Node *n, const Node *user) const {
    return is_stored(n) && n->shape == user->shape;
  }

  // An elementwise arg of row value `user` with the user's shape, computed
  // from constants and such loads alone (cross-entropy's weight of a label
  // not ignored, cast(labels != -100)): emit_row computes it once per row.
  bool is_row_computed(const Node *n, const Node *user) const {
    if (is_stored(n) || !is_elementwise(*n) || n->shape != user->shape) return false;
    for (const NodeRef &a : n->args)
      if (!a->is(Op::Const) && !is_row_load(a.get(), user) && !is_row_computed(a.get(), user))
        return false;
    return true;
  }

  // Such an arg, loaded once per row at the row's element.
  int emit_row_load(const Node *n) {
    std::string key = "rowload" + std::to_string(reinterpret_cast<uintptr_t>(n));
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    Strides strides = contiguous_strides(kernel_->output_shape());
    strides.resize(kernel_->domain.size(), 0);
    Access at{{AccessLayer{kernel_->domain, strides, 0, {}, {}}}};
    return memo_[key] =
               push(Instr::load(input_index(buffer_.at(n)), std::move(at), n->dtype, true));
  }

  // A row value read at the points of the domain must be read at its own
  // row: the access a broadcast back over the row gives, nothing else.
  void check_row_read(const Node *n, const Path &path) {
    Access a = access_through(n->shape, path);
    Strides want = contiguous_strides(kernel_->output_shape());
    want.resize(kernel_->domain.size(), 0);
    if (a.is_affine() && !a.masked() && a.layers[0].offset == 0 && a.layers[0].strides == want)
      return;
    throw RowReject{row_->phases, describe(*n) + " is read at other points than its own row's (" +
                                      print_access(a, kernel_->num_reduce) + ")"};
  }

  // Sets the domain and the reduced value of a reduce or matmul kernel, and
  // returns the path that maps the output's index space into the domain.
  Path build_reduction(Kernel &k, const Node &r) {
    const Shape &out = r.shape;
    std::vector<int> out_src(out.size());
    for (size_t j = 0; j < out.size(); ++j) out_src[j] = static_cast<int>(j);
    if (r.kind() == OpKind::Reduce) {
      const Node &x = *r.args[0];
      k.reduction = Reduction{};
      k.reduction->op = r.is(Op::Mean) ? Op::Sum : r.op;  // a mean is a scaled sum
      k.domain = out;
      std::vector<int> src;
      for (size_t d = 0; d < x.rank(); ++d) {
        bool reduced =
            std::find(r.dims.begin(), r.dims.end(), static_cast<int64_t>(d)) != r.dims.end();
        if (!reduced)
          src.push_back(static_cast<int>(d));
        else if (r.keepdim)
          src.push_back(-1);  // the kept extent-1 dim reads nothing
      }
      int64_t count = 1;
      for (int64_t d : r.dims) {
        k.domain.push_back(x.shape[d]);
        src.push_back(static_cast<int>(d));
        count *= x.shape[d];
      }
      k.num_reduce = r.dims.size();
      if (r.is(Op::Mean)) k.reduction->scale = 1.0 / static_cast<double>(count);
      k.reduction->value = emit(&x, {ViewStep{ViewStep::ToDomain, k.domain, {}, src}}, false);
    } else {
      // Matmul: domain [batch..., m, n | k]; A reads (batch, m, k), B (batch, k, n).
      const Node &a = *r.args[0], &b = *r.args[1];
      int64_t kdim = a.shape.back();
      size_t rank = out.size();
      k.reduction = Reduction{};
      k.reduction->contraction = true;
      k.domain = out;
      k.domain.push_back(kdim);
      k.num_reduce = 1;
      Shape batch(out.begin(), out.end() - 2);
      Shape a_shape = batch, b_shape = batch;
      a_shape.insert(a_shape.end(), {out[rank - 2], kdim});
      b_shape.insert(b_shape.end(), {kdim, out[rank - 1]});
      std::vector<int> a_src(rank + 1), b_src(rank + 1);
      for (size_t j = 0; j < batch.size(); ++j) a_src[j] = b_src[j] = static_cast<int>(j);
      int m = static_cast<int>(rank - 2), n = static_cast<int>(rank - 1),
          kk = static_cast<int>(rank);
      a_src[m] = m, a_src[n] = -1, a_src[kk] = n;
      b_src[m] = -1, b_src[n] = n, b_src[kk] = m;
      Path a_path{ViewStep{ViewStep::ToDomain, k.domain, {}, a_src},
                  ViewStep{ViewStep::Expand, a_shape, {}, {}}};
      Path b_path{ViewStep{ViewStep::ToDomain, k.domain, {}, b_src},
                  ViewStep{ViewStep::Expand, b_shape, {}, {}}};
      int lhs = emit(&a, a_path, false), rhs = emit(&b, b_path, false);
      k.reduction->value = push(Instr::compute(Op::Mul, r.dtype, {lhs, rhs}, false));
    }
    for (size_t d = 0; d < k.num_reduce; ++d) out_src.push_back(-1);
    record(&r);
    return {ViewStep{ViewStep::ToDomain, k.domain, {}, out_src}};
  }

  int push(Instr in) {
    if (row_ && !in.outer && in.kind != InstrKind::Const) in.phase = phase_;
    kernel_->body.push_back(std::move(in));
    return static_cast<int>(kernel_->body.size()) - 1;
  }

  int input_index(int buffer) {
    auto it = inputs_.find(buffer);
    if (it != inputs_.end()) return it->second;
    const PlanBuffer &b = plan_.buffers[buffer];
    kernel_->inputs.push_back({buffer, b.dtype, b.shape});
    return inputs_[buffer] = static_cast<int>(kernel_->inputs.size()) - 1;
  }

  // Emits the instructions computing node `n` at every domain point, reading
  // it through `path`; returns the instruction holding its value.
  int emit(const Node *n, const Path &path, bool outer) {
    if (n->is(Op::Const)) {
      uint64_t bits;
      std::memcpy(&bits, &n->value, sizeof bits);
      std::string key = "c" + std::to_string(bits) + dtype_name(n->dtype) + (outer ? "o" : "i");
      auto it = memo_.find(key);
      if (it != memo_.end()) return it->second;
      return memo_[key] = push(Instr::constant(n->value, n->dtype, outer));
    }
    if (outer && n == anchor_) {
      auto it = memo_.find("reduced");
      if (it != memo_.end()) return it->second;
      return memo_["reduced"] = push(Instr::reduced(n->dtype));
    }
    if (n->is(Op::Iota) && !is_stored(n)) return emit_iota(n, path, outer);
    if (is_row_value(n)) {
      check_row_read(n, path);
      return emit_row(n);
    }
    bool stored = is_stored(n);
    Access access = access_through(n->shape, path);
    std::string key = std::to_string(reinterpret_cast<uintptr_t>(n)) + (outer ? "o" : "i") +
                      std::to_string(phase_) + print_access(access, kernel_->num_reduce);
    double fill = load_fill(path);
    if (stored && access.masked()) key += " else " + format_float(fill);
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;

    int value;
    if (stored) {
      std::vector<int> by = gathered_by(access);
      Instr load = Instr::load(input_index(buffer_.at(n)), std::move(access), n->dtype, outer);
      load.value = fill;
      load.args = std::move(by);
      value = push(std::move(load));
    } else if (n->is(Op::Cat)) {
      value = emit_cat(n, path, outer);
    } else if (n->is(Op::Gather)) {
      // The index at this point, then the gathered tensor read at it.
      int index = emit(n->args[1].get(), path, outer);
      ViewStep step{ViewStep::Gather, n->shape, {n->dims[0]}, {}, 0.0, index};
      Path inner = extend(path, step);
      value = emit(n->args[0].get(), inner, outer);
      // A gathered constant reads no memory, but its indices are checked all
      // the same: by a Valid through the gather, whose value goes unused.
      if (!gathers_by(index)) emit_valid(n->args[0]->shape, inner, n->args[1]->dtype, outer);
      record(n);
    } else if (n->is(Op::Pad) && !reaches_buffer(n->args[0].get())) {
      // A computed value (or another pad) under the pad: compute it where
      // valid, with in-bounds loads, and select the fill elsewhere.
      Path inner = extend(path, view_step(*n));
      int x = emit(n->args[0].get(), inner, outer);
      int valid = emit_valid(n->args[0]->shape, inner, n->dtype, outer);
      int fill_value = emit(ir::constant(n->value, n->dtype).get(), {}, outer);
      value = push(Instr::compute(Op::Where, n->dtype, {valid, x, fill_value}, outer));
    } else if (n->kind() == OpKind::View) {
      value = emit(n->args[0].get(), extend(path, view_step(*n)), outer);
    } else {
      FUSEJIT_INTERNAL_CHECK(is_elementwise(*n), "fuse: ", describe(*n), " reached inside kernel ",
                             kernel_->name, " without a buffer");
      std::vector<int> args;
      for (const NodeRef &a : n->args) {
        Path p = a->shape == n->shape ? path
                                      : extend(path, ViewStep{ViewStep::Expand, n->shape, {}, {}});
        args.push_back(emit(a.get(), p, outer));
      }
      value = push(Instr::compute(n->op, n->dtype, std::move(args), outer));
      record(n);
    }
    return memo_[key] = value;
  }

  // In a row kernel, every member of its own group is computed in place (a
  // later phase may need it before the store phase writes it); another
  // group's members are read from their buffers like any other value.
  bool is_stored(const Node *n) const {
    if (row_) return is_leaf(*n) || (materialized_.count(n) && !in_row_kernel(n));
    return n != top_ && (is_leaf(*n) || materialized_.count(n));
  }

  bool in_row_kernel(const Node *n) const {
    auto it = row_group_of_.find(n);
    return it != row_group_of_.end() && &row_groups_[it->second] == row_;
  }

  // Whether `n` is a stored value seen through views that do not mask: a
  // pad over it is one masked load that yields the pad's fill. A constant
  // is never loaded, even when it is also an output, so it needs the select.
  bool reaches_buffer(const Node *n) const {
    while (!is_stored(n)) {
      if (n->kind() != OpKind::View || n->is(Op::Pad) || n->is(Op::Cat)) return false;
      n = n->args[0].get();
    }
    return !n->is(Op::Const);
  }

  // 1 where the value of `shape` read through `path` is valid, else 0.
  int emit_valid(const Shape &shape, const Path &path, DType dtype, bool outer) {
    Access access = access_through(shape, path);
    std::string key = std::string("valid") + (outer ? "o" : "i") + std::to_string(phase_) +
                      dtype_name(dtype) + print_access(access, kernel_->num_reduce);
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    std::vector<int> by = gathered_by(access);
    Instr in = Instr::valid(std::move(access), dtype, outer);
    in.args = std::move(by);
    return memo_[key] = push(std::move(in));
  }

  // Whether some instruction of the kernel reads through a gather by `index`.
  bool gathers_by(int index) const {
    for (const Instr &in : kernel_->body)
      for (int a : in.args)
        if (a == index && in.kind != InstrKind::Compute) return true;
    return false;
  }

  // An arange read through `path`: the position it reaches is its value.
  int emit_iota(const Node *n, const Path &path, bool outer) {
    Access access = access_through(n->shape, path);
    double fill = load_fill(path);
    std::string key = std::string("iota") + (outer ? "o" : "i") + std::to_string(phase_) +
                      print_access(access, kernel_->num_reduce) +
                      (access.masked() ? " else " + format_float(fill) : "");
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    std::vector<int> by = gathered_by(access);
    Instr in = Instr::iota(std::move(access), n->dtype, outer);
    in.value = fill;
    in.args = std::move(by);
    record(n);
    return memo_[key] = push(std::move(in));
  }

  // Each source read where its range along the dim holds (a pad of it to
  // the whole extent), joined by selects: the last source is the default.
  int emit_cat(const Node *n, const Path &path, bool outer) {
    size_t dim = static_cast<size_t>(n->dims[0]);
    std::vector<std::pair<const Node *, Path>> parts;
    int64_t at = 0;
    for (const NodeRef &src : n->args) {
      int64_t len = src->shape[dim];
      std::vector<int64_t> widths(2 * n->rank(), 0);
      widths[2 * dim] = at;
      widths[2 * dim + 1] = n->shape[dim] - at - len;
      at += len;
      if (len > 0 || (parts.empty() && &src == &n->args.back()))
        parts.emplace_back(src.get(), extend(path, ViewStep{ViewStep::Pad, {}, widths, {}, 0.0}));
    }
    int value = emit(parts.back().first, parts.back().second, outer);
    for (size_t i = parts.size() - 1; i-- > 0;) {
      int x = emit(parts[i].first, parts[i].second, outer);
      int valid = emit_valid(parts[i].first->shape, parts[i].second, n->dtype, outer);
      value = push(Instr::compute(Op::Where, n->dtype, {valid, x, value}, outer));
    }
    record(n);
    return value;
  }

  // Notes that the kernel computes graph op `n`: in its ops list (once per
  // emission, as the loop computes it) and in the trace (once).
  void record(const Node *n) {
    kernel_->ops.push_back(n->op);
    if (trace_ && traced_.insert(n).second) trace_->kernels.back().nodes.push_back(n);
  }

  void count_bytes() {
    for (const PlanBuffer &b : plan_.buffers)
      if (b.role == PlanBuffer::Role::Temp) plan_.intermediate_bytes += b.bytes();
    plan_.unfused_intermediate_bytes = unfused_intermediate_bytes(roots_);
  }

  std::vector<NodeRef> roots_;
  std::vector<const Node *> order_;
  FuseOptions options_;
  FuseTrace *trace_;
  std::unordered_map<const Node *, std::vector<const Node *>> consumers_;
  std::unordered_set<const Node *> is_root_, materialized_, claimed_;
  std::unordered_map<const Node *, const Node *> anchor_of_;  // kernel top -> its reduction
  std::unordered_map<const Node *, int> buffer_;
  std::unordered_map<const Node *, int64_t> inline_ops_;  // own_ops of values computed in place
  const Rejected &rejected_;                      // reductions row fusion must leave alone, and why
  std::vector<const Node *> materialized_order_;  // in the order decided
  std::vector<RowGroup> row_groups_;
  std::unordered_map<const Node *, size_t> row_group_of_;  // every member
  Plan plan_;

  // The kernel being built.
  Kernel *kernel_ = nullptr;
  const Node *top_ = nullptr;
  const Node *anchor_ = nullptr;
  std::unordered_map<std::string, int> memo_;
  std::unordered_map<int, int> inputs_;
  std::unordered_set<const Node *> traced_;
  const RowGroup *row_ = nullptr;  // the row kernel's group
  int phase_ = 0;                  // the phase inner instructions go to
  std::unordered_map<const Node *, bool> row_values_;
};

}  // namespace

int64_t unfused_intermediate_bytes(const std::vector<NodeRef> &roots) {
  std::unordered_set<const Node *> root_set;
  for (const NodeRef &r : roots) root_set.insert(r.get());
  int64_t bytes = 0;
  for (const Node *n : topo_order_to_values(roots))
    if (!is_leaf(*n) && !root_set.count(n) && n->kind() != OpKind::View && !n->is(Op::Const) &&
        !n->is(Op::Iota))
      bytes += n->numel() * static_cast<int64_t>(dtype_size(n->dtype));
  return bytes;
}

Plan fuse(const std::vector<NodeRef> &roots, FuseOptions options, FuseTrace *trace) {
  count_pass_run(Pass::Fuse);
  Rejected rejected;
  for (;;) {
    if (trace) *trace = {};
    try {
      return Fuser(roots, options, trace, rejected).run();
    } catch (const RowReject &r) {
      for (const Node *p : r.phases) rejected.emplace(p, r.why);
    }
  }
}

}  // namespace fusejit
