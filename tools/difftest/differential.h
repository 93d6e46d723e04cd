// Runs a `.fj` program through the JIT and through the reference
// interpreter, on the inputs `fusejit run --seed 0` would generate, and
// compares every output as `fusejit run --check` does: a program this
// reports as failing fails `fusejit run FILE --check` too.
#pragma once

#include <string>

#include "ir/program.h"

namespace fusejit::difftest {

struct CheckResult {
  enum class Kind {
    Pass,
    Mismatch,  // an output differs beyond tolerance
    Error,     // an exception where there should have been a result
  };
  Kind kind = Kind::Pass;
  std::string message;  // which output, how far off; or the exception's text

  bool failed() const { return kind != Kind::Pass; }
};

// Checks the program as printed and parsed back, so the text that is
// written for a failure is exactly what was checked. With `grad`, the
// gradients of the sum of the outputs with respect to every input are
// checked too, as `fusejit run FILE --check --grad` does.
CheckResult check_program(const Program &p, bool grad = false);
CheckResult check_program_text(const std::string &text, bool grad = false);

}  // namespace fusejit::difftest
