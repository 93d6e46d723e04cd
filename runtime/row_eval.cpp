#include "runtime/row_eval.h"

#include <cmath>
#include <limits>

#include "ir/dtype.h"
#include "ir/error.h"
#include "runtime/kernel_eval.h"
#include "runtime/reference_kernels.h"

namespace fusejit {

namespace {

class RowEvaluator {
 public:
  RowEvaluator(const Kernel &k, const std::vector<const Buffer *> &inputs)
      : k_(k), inputs_(inputs), values_(k.body.size()), reduced_(k.rows.size()) {}

  // The instructions of `phase` that are inner (at `index`) or outer.
  void eval(const Index &index, bool outer, int phase) {
    for (size_t i = 0; i < k_.body.size(); ++i) {
      const Instr &in = k_.body[i];
      if (in.kind == InstrKind::Const) {
        values_[i] = convert_value(in.dtype, in.value);
        continue;
      }
      if (in.outer != outer || in.phase != phase) continue;
      double v = in.kind == InstrKind::Reduced ? reduced_.at(static_cast<size_t>(in.phase))
                                               : eval_instr(k_, in, index, values_, inputs_);
      values_[i] = convert_value(in.dtype, v);
    }
  }

  double value(int i) const { return values_[i]; }
  void set_reduced(size_t phase, double v) { reduced_[phase] = v; }

 private:
  const Kernel &k_;
  const std::vector<const Buffer *> &inputs_;
  std::vector<double> values_, reduced_;
};

}  // namespace

void eval_row_kernel(const Kernel &k, const std::vector<const Buffer *> &inputs,
                     const std::vector<Buffer *> &outputs) {
  FUSEJIT_INTERNAL_CHECK(k.kind() == KernelKind::Row, k.name, " is not a row kernel");
  RowEvaluator ev(k, inputs);
  Shape rows = k.output_shape();
  Shape row = k.reduced_shape();
  size_t n_out = rows.size();
  int64_t row_count = numel(rows), row_length = numel(row);
  const int stores = static_cast<int>(k.rows.size());
  Index index(k.domain.size(), 0);
  for (int64_t o = 0; o < row_count; ++o) {
    ordinal_to_index(o, rows, index.data());
    for (int p = 0; p < stores; ++p) {
      const Reduction &red = k.rows[static_cast<size_t>(p)];
      // Accumulate in double and round once, as the reference interpreter does.
      double acc = red.op == Op::Max ? -std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t r = 0; r < row_length; ++r) {
        ordinal_to_index(r, row, index.data() + n_out);
        ev.eval(index, false, p);
        double v = ev.value(red.value);
        acc = red.op == Op::Max ? apply_binary(Op::Maximum, acc, v, k.body[red.value].dtype)
                                : acc + v;
      }
      std::fill(index.begin() + static_cast<std::ptrdiff_t>(n_out), index.end(), 0);
      ev.set_reduced(static_cast<size_t>(p),
                     convert_value(k.body[red.value].dtype, acc * red.scale));
      ev.eval(index, true, p);
    }
    for (int64_t r = 0; r < row_length; ++r) {
      ordinal_to_index(r, row, index.data() + n_out);
      ev.eval(index, false, stores);
      for (size_t j = 0; j < outputs.size(); ++j)
        if (!k.body[k.outputs[j].instr].outer)
          outputs[j]->set(o * row_length + r, ev.value(k.outputs[j].instr));
    }
    for (size_t j = 0; j < outputs.size(); ++j)
      if (k.body[k.outputs[j].instr].outer) outputs[j]->set(o, ev.value(k.outputs[j].instr));
  }
}

}  // namespace fusejit
