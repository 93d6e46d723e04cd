#include "runtime/kernel_eval.h"

#include <cmath>
#include <limits>
#include <string>

#include "runtime/reference_kernels.h"
#include "runtime/row_eval.h"

namespace fusejit {

int64_t load_position(const Access &a, const Index &domain_index, const std::vector<double> &values,
                      const std::string &kernel) {
  Index index = domain_index;
  int64_t p = 0;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const AccessLayer &layer = a.layers[l];
    if (l > 0) {
      index.resize(layer.shape.size());
      ordinal_to_index(p, layer.shape, index.data());
    }
    for (size_t d = 0; d < layer.valid.size(); ++d)
      if (index[d] < layer.valid[d].lo || index[d] >= layer.valid[d].hi) return -1;
    p = index_to_position(index.data(), layer.strides, layer.offset);
    bool valid = true;
    for (const GatherTerm &g : layer.gathers) {
      double v = values.at(static_cast<size_t>(g.instr));
      if (!(v >= 0 && v < static_cast<double>(g.extent)))
        throw IndexError(detail::concat(
            "index ", static_cast<int64_t>(v), " is out of bounds for a dim of ", g.extent,
            " elements, in kernel ", kernel, " at domain index ", index_str(domain_index)));
      auto i = static_cast<int64_t>(v);
      valid = valid && i >= g.valid.lo && i < g.valid.hi;
      p += i * g.stride;
    }
    if (!valid) return -1;
  }
  return p;
}

double eval_instr(const Kernel &k, const Instr &in, const Index &index,
                  const std::vector<double> &values, const std::vector<const Buffer *> &inputs) {
  auto arg = [&](int j) { return values[in.args[j]]; };
  switch (in.kind) {
    case InstrKind::Load: {
      int64_t p = load_position(in.access, index, values, k.name);
      return p < 0 ? in.value : inputs[in.input]->get(p);
    }
    case InstrKind::Iota: {
      int64_t p = load_position(in.access, index, values, k.name);
      return p < 0 ? in.value : static_cast<double>(p);
    }
    case InstrKind::Valid:
      return load_position(in.access, index, values, k.name) < 0 ? 0.0 : 1.0;
    case InstrKind::Const:
      return in.value;
    case InstrKind::Compute: {
      DType operand = k.body[in.args[0]].dtype;
      if (in.args.size() == 2 && divides_by_zero(in.op, operand, arg(1)))
        throw_division_by_zero(in.op, arg(0), operand,
                               "in kernel " + k.name + " at domain index " + index_str(index));
      return in.args.size() == 1   ? apply_unary(in.op, arg(0), operand, in.dtype)
             : in.args.size() == 2 ? apply_binary(in.op, arg(0), arg(1), operand)
             : arg(0) != 0         ? arg(1)
                                   : arg(2);  // where
    }
    case InstrKind::Reduced:
      break;
  }
  throw InternalError("eval_instr: " + k.name + ": a Reduced value is the evaluator's own");
}

namespace {

class KernelEvaluator {
 public:
  KernelEvaluator(const Kernel &k, const std::vector<const Buffer *> &inputs)
      : k_(k), inputs_(inputs), values_(k.body.size()) {}

  // Evaluates the inner (outer == false) or epilogue instructions at `index`.
  void eval(const Index &index, bool outer, double reduced) {
    for (size_t i = 0; i < k_.body.size(); ++i) {
      const Instr &in = k_.body[i];
      if (in.outer != outer) continue;
      double v =
          in.kind == InstrKind::Reduced ? reduced : eval_instr(k_, in, index, values_, inputs_);
      // Each value is held as its dtype holds it, as the interpreter stores each op's result.
      values_[i] = convert_value(in.dtype, v);
    }
  }

  double value(int i) const { return values_[i]; }

 private:
  const Kernel &k_;
  const std::vector<const Buffer *> &inputs_;
  std::vector<double> values_;
};

}  // namespace

void eval_kernel(const Kernel &k, const std::vector<const Buffer *> &inputs,
                 const std::vector<Buffer *> &outputs) {
  if (k.kind() == KernelKind::Row) return eval_row_kernel(k, inputs, outputs);
  KernelEvaluator ev(k, inputs);
  Shape out_shape = k.output_shape();
  Shape red_shape = k.reduced_shape();
  size_t n_out = out_shape.size();
  int64_t out_count = numel(out_shape), red_count = numel(red_shape);
  Index index(k.domain.size(), 0);
  for (int64_t o = 0; o < out_count; ++o) {
    ordinal_to_index(o, out_shape, index.data());
    double reduced = 0;
    if (k.reduction) {
      const Reduction &red = *k.reduction;
      // Accumulate in double and round once, as the reference interpreter does.
      DType dtype = k.body[red.value].dtype;
      double acc = reduce_identity(red.op, dtype);
      for (int64_t r = 0; r < red_count; ++r) {
        ordinal_to_index(r, red_shape, index.data() + n_out);
        ev.eval(index, false, 0);
        double v = ev.value(red.value);
        acc = reduce_combine(red.op, acc, v);
      }
      std::fill(index.begin() + n_out, index.end(), 0);
      reduced = acc * red.scale;
      ev.eval(index, true, reduced);
    } else {
      ev.eval(index, false, 0);
    }
    for (size_t j = 0; j < outputs.size(); ++j) outputs[j]->set(o, ev.value(k.outputs[j].instr));
  }
}

}  // namespace fusejit
