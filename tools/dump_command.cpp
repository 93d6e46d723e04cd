#include <iostream>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "tools/commands.h"

namespace fusejit::tool {

int dump_command(const DumpOptions &opts) {
  Program p = parse_program_file(opts.program);
  if (opts.stage != "graph" || opts.format != "text")
    throw ValueError("dump: --stage " + opts.stage + " --format " + opts.format +
                     " needs the JIT pipeline, which this build does not have yet "
                     "(available: --stage graph --format text)");
  std::cout << print_program(p);
  return 0;
}

}  // namespace fusejit::tool
