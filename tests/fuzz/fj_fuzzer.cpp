// libFuzzer target for the `.fj` parser: any text gives a program or a
// ParseError, never a crash, hang or runaway allocation; and a program that
// parses prints as text that parses again to the same print.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace fusejit;
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::optional<std::string> printed;
  try {
    Program p = parse_program(text, "fuzz.fj");
    verify(p.output_nodes());
    printed = print_program(p);
  } catch (const ParseError &) {
    return 0;  // a diagnostic: what bad input should give
  }
  // Outside the try: an error here is a bug of the printer or the parser.
  Program again = parse_program(*printed, "printed.fj");
  if (print_program(again) != *printed) std::abort();
  return 0;
}
