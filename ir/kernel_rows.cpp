// The rules of a row kernel's phases (ir/kernel.h): what verify_kernel
// checks beyond the rules every kernel keeps.
#include "ir/error.h"
#include "ir/kernel.h"

namespace fusejit {

void verify_row_phases(const Kernel &k) {
  const int stores = static_cast<int>(k.rows.size());
  FUSEJIT_INTERNAL_CHECK(k.num_reduce > 0, k.name, ": a row kernel with no row dims");
  for (size_t i = 0; i < k.body.size(); ++i) {
    const Instr &in = k.body[i];
    if (in.kind == InstrKind::Const) continue;
    FUSEJIT_INTERNAL_CHECK(in.phase >= 0 && in.phase <= stores && (!in.outer || in.phase < stores),
                           k.name, " %", i, ": phase ", in.phase, " of ", stores, " reductions");
    if (in.kind == InstrKind::Reduced)
      FUSEJIT_INTERNAL_CHECK(in.outer, k.name, " %", i, ": a reduced value inside a pass");
    for (int a : in.args) {
      const Instr &arg = k.body[a];
      if (arg.kind == InstrKind::Const) continue;
      // A pass sees its own points' values and the row's values from before it;
      // a row's value sees the row's values up to its phase.
      bool ok = in.outer ? arg.outer && arg.phase <= in.phase
                         : (arg.outer ? arg.phase < in.phase : arg.phase == in.phase);
      FUSEJIT_INTERNAL_CHECK(ok, k.name, " %", i, " (phase ", in.phase, in.outer ? ", per row" : "",
                             ") uses %", a, " (phase ", arg.phase, arg.outer ? ", per row" : "",
                             ")");
    }
  }
  for (size_t p = 0; p < k.rows.size(); ++p) {
    int v = k.rows[p].value;
    FUSEJIT_INTERNAL_CHECK(
        v >= 0 && static_cast<size_t>(v) < k.body.size() && !k.body[v].outer &&
            (k.body[v].phase == static_cast<int>(p) || k.body[v].kind == InstrKind::Const),
        k.name, ": phase ", p, " reduces %", v, ", not a value of its pass");
  }
}

}  // namespace fusejit
