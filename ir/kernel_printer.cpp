#include "ir/kernel_printer.h"

#include <cstdio>
#include <sstream>
#include <string>

#include "ir/printer.h"

namespace fusejit {

namespace {

// "[2, 2 | 3]": the dims from `bar_at` on are reduced.
std::string strides_str(const std::vector<int64_t> &s, size_t bar_at) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == bar_at)
      out += i ? " | " : "| ";
    else if (i)
      out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

std::string instr_str(const Instr &in, const Kernel &k) {
  auto v = [](int i) { return "%" + std::to_string(i); };
  switch (in.kind) {
    case InstrKind::Load:
      return "load in" + std::to_string(in.input) + " " + print_access(in.access, k.num_reduce) +
             (in.access.masked() ? " else " + format_float(in.value) : "");
    case InstrKind::Valid:
      return "valid " + print_access(in.access, k.num_reduce);
    case InstrKind::Iota:
      return "iota " + print_access(in.access, k.num_reduce) +
             (in.access.masked() ? " else " + format_float(in.value) : "");
    case InstrKind::Const:
      return "const " + format_float(in.value);
    case InstrKind::Compute: {
      if (is_infix(in.op)) return v(in.args[0]) + " " + op_infix(in.op) + " " + v(in.args[1]);
      std::string out = std::string(op_name(in.op)) + " ";
      for (size_t a = 0; a < in.args.size(); ++a) out += (a ? ", " : "") + v(in.args[a]);
      return out;
    }
    case InstrKind::Reduced: {
      const Reduction &r =
          k.kind() == KernelKind::Row ? k.rows.at(size_t(in.phase)) : k.reduction.value();
      return std::string("reduced ") + op_name(r.op) + " " + v(r.value) +
             (r.scale != 1.0 ? " * " + format_float(r.scale) : "");
    }
  }
  return "?";
}

// " + %3 * 784 of 10": each gathered index, its stride and the extent it
// indexes, and " if 1:4" where that is padded.
std::string gathers_str(const AccessLayer &l) {
  std::string out;
  for (const GatherTerm &g : l.gathers) {
    out += " + %" + std::to_string(g.instr) + " * " + std::to_string(g.stride) + " of " +
           std::to_string(g.extent);
    if (g.masks()) out += " if " + std::to_string(g.valid.lo) + ":" + std::to_string(g.valid.hi);
  }
  return out;
}

// " if [1:4, :]": the ranges of the dims that restrict their index.
std::string ranges_str(const AccessLayer &l) {
  if (!l.masked()) return "";
  std::string out = " if [";
  for (size_t d = 0; d < l.shape.size(); ++d) {
    if (d) out += ", ";
    out += l.masks(d) ? std::to_string(l.valid[d].lo) + ":" + std::to_string(l.valid[d].hi) : ":";
  }
  return out + "]";
}

}  // namespace

std::string row_phases_str(const Kernel &k) {
  std::string s;
  for (const Reduction &r : k.rows) s += std::string(s.empty() ? "" : ", ") + op_name(r.op);
  return s + (s.empty() ? "" : ", ") + "store";
}

std::string print_access(const Access &a, size_t num_reduce) {
  std::ostringstream os;
  const AccessLayer &first = a.layers[0];
  os << strides_str(first.strides, first.strides.size() - num_reduce);
  if (first.offset) os << " + " << first.offset;
  os << gathers_str(first) << ranges_str(first);
  for (size_t l = 1; l < a.layers.size(); ++l) {
    const AccessLayer &layer = a.layers[l];
    os << " -> " << shape_str(layer.shape) << " "
       << strides_str(layer.strides, layer.strides.size());
    if (layer.offset) os << " + " << layer.offset;
    os << gathers_str(layer) << ranges_str(layer);
  }
  return os.str();
}

std::string print_kernel(const Kernel &k) {
  std::ostringstream os;
  os << "kernel " << k.name << " " << kernel_kind_name(k.kind());
  if (k.kind() == KernelKind::Reduce) os << "(" << op_name(k.reduction->op) << ")";
  if (k.kind() == KernelKind::Row) os << "(" << row_phases_str(k) << ")";
  os << " " << dtype_name(k.dtype) << " domain " << strides_str(k.domain, k.num_output_dims())
     << "\n";
  os << "  ops:";
  for (Op op : k.ops) os << " " << op_name(op);
  os << "\n";
  for (size_t i = 0; i < k.inputs.size(); ++i)
    os << "  in" << i << " = buf" << k.inputs[i].buffer << " "
       << type_str(k.inputs[i].dtype, k.inputs[i].shape) << "\n";
  bool in_epilogue = false;
  int phase = -1;
  for (size_t i = 0; i < k.body.size(); ++i) {
    const Instr &in = k.body[i];
    if (k.kind() == KernelKind::Row) {
      if (in.kind != InstrKind::Const && (in.phase != phase || in.outer != in_epilogue)) {
        phase = in.phase, in_epilogue = in.outer;
        os << "  " << (in.outer ? "per row after phase " : "phase ") << phase << ":\n";
      }
      os << "    %" << i << " = " << instr_str(in, k) << "\n";
      continue;
    }
    if (in.outer && !in_epilogue) {
      os << "  after reduce:\n";
      in_epilogue = true;
    }
    os << (in.outer ? "    %" : "  %") << i << " = " << instr_str(in, k) << "\n";
  }
  for (size_t i = 0; i < k.outputs.size(); ++i)
    os << "  out" << i << " = buf" << k.outputs[i].buffer << " "
       << type_str(k.body[k.outputs[i].instr].dtype,
                   k.output_numel(i) == numel(k.output_shape()) ? k.output_shape() : k.domain)
       << " <- %" << k.outputs[i].instr << "\n";
  return os.str();
}

}  // namespace fusejit
