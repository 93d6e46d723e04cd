// fusejit: dump every stage of what fusejit does with a `.fj` program, or run it.
#include <CLI/CLI.hpp>
#include <iostream>
#include <new>

#include "ir/error.h"
#include "tools/commands.h"

using namespace fusejit::tool;

namespace {

constexpr const char *kExitCodes =
    "EXIT CODES\n"
    "  0  ok\n"
    "  1  a check failed (run --check: an output differs from the interpreter)\n"
    "  2  bad input: a malformed program, a bad option or input file (with a message)\n"
    "  3  an internal error (a bug in fusejit; please report it)\n";

CLI::App *add_dump(CLI::App &app, DumpOptions &dump) {
  CLI::App *cmd = app.add_subcommand("dump", "Print a program at one stage of the pipeline.");
  cmd->description(
      "Print a .fj program at one stage of the pipeline:\n"
      "  graph      the lazy graph as parsed, printed as a .fj program (it parses again)\n"
      "  optimized  after canonicalization and matmul recognition; values keep the\n"
      "             graph stage's names, values the passes created get new tN names\n"
      "  kernels    the fused kernels: their loops, loads, buffers and fusion notes\n"
      "  llvm       each kernel's LLVM IR, after O3 (--llvm-before-opt: as lowered)\n"
      "  asm        each kernel's host assembly\n"
      "graph, optimized and kernels also print as JSON and as Graphviz DOT; the kernels\n"
      "picture draws each kernel as a cluster around the ops it fused, with the buffers\n"
      "between kernels as boxes. --explain says why each kernel ends where it does and\n"
      "where each matmul came from, naming values as the graph stage prints them.");
  cmd->add_option("program", dump.program, "the .fj program")->required()->type_name("PROGRAM.fj");
  cmd->add_option("--stage", dump.stage, "graph|optimized|kernels|llvm|asm (default: graph)")
      ->check(CLI::IsMember({"graph", "optimized", "kernels", "llvm", "asm"}))
      ->type_name("STAGE");
  cmd->add_option("--format", dump.format,
                  "text|json|dot (default: text); json and dot for graph, optimized and kernels")
      ->check(CLI::IsMember({"text", "json", "dot"}))
      ->type_name("FORMAT");
  cmd->add_flag(
      "--explain", dump.explain,
      "after the dump, one line per kernel boundary saying why the two sides were not "
      "fused, one per recomputed value, and one per matmul or near miss (as \"# explain:\" "
      "lines in text, an \"explain\" array in json, // comments in dot)");
  cmd->add_option("--png", dump.png,
                  "draw the stage's DOT picture into FILE with Graphviz's `dot` (which must be on "
                  "PATH); prints nothing else but --explain lines")
      ->type_name("FILE");
  cmd->add_flag(
      "--grad", dump.grad,
      "show the program together with its backward: the gradient of the sum of its outputs "
      "with respect to every input, as outputs grad_NAME");
  cmd->add_flag("--llvm-before-opt", dump.llvm_before_opt,
                "with --stage llvm: the IR as lowered, before the O3 pipeline (default: after)");
  cmd->add_option("--numerics", dump.numerics,
                  "fast|strict: which identities the optimized graph folds (strict: only "
                  "IEEE-exact ones) and how "
                  "llvm and asm compile (default: FUSEJIT_NUMERICS, else fast)")
      ->check(CLI::IsMember({"fast", "strict"}))
      ->type_name("NUMERICS");
  cmd->footer(std::string("\n") + kExitCodes +
              "\nEXAMPLES\n"
              "  fusejit dump examples/programs/seed.fj --stage kernels --explain\n"
              "  fusejit dump examples/programs/softmax.fj --stage kernels --format dot | dot "
              "-Tpng -o softmax.png\n"
              "  fusejit dump examples/programs/softmax.fj --stage kernels --png softmax.png\n");
  return cmd;
}

CLI::App *add_run(CLI::App &app, RunOptions &run) {
  CLI::App *cmd = app.add_subcommand("run", "Run a program and print or write its outputs.");
  cmd->description(
      "Compile a .fj program through the JIT, run it, and print its inputs and outputs.\n"
      "Inputs not given with --input get seeded uniform values in [-1, 1] (integers:\n"
      "-9..9 without 0; those that index a gather, index_select or one_hot: in bounds),\n"
      "one random stream per input. --check also runs the reference interpreter (plain loops over\n"
      "the unfused graph) and compares every output within a tolerance scaled to the\n"
      "dtype and the longest reduction. --repeat times each kernel.");
  cmd->add_option("program", run.program, "the .fj program")->required()->type_name("PROGRAM.fj");
  cmd->add_option("--input", run.inputs,
                  "the value of input NAME (repeatable; dtype and shape must match)")
      ->type_name("NAME=FILE.npy");
  cmd->add_option("--seed", run.seed, "seed of the generated inputs (default: 0)")->type_name("N");
  cmd->add_option("--out", run.out_dir,
                  "write each output to DIR/NAME.npy (default: write nothing)")
      ->type_name("DIR");
  cmd->add_option("--format", run.format, "text|json (default: text)")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT");
  cmd->add_flag("--grad", run.grad,
                "back-propagate the sum of the outputs and also compute grad_NAME for every input "
                "(written to DIR/grad_NAME.npy with --out)");
  cmd->add_flag("--check", run.check,
                "also run the reference interpreter; exit 1 if an output differs beyond tolerance "
                "(the worst error per output is reported)");
  cmd->add_option(
         "--numerics", run.numerics,
         "fast (FMA, reassociated reductions) or strict (reproducible run to run and across "
         "thread counts) (default: FUSEJIT_NUMERICS, else fast)")
      ->check(CLI::IsMember({"fast", "strict"}))
      ->type_name("NUMERICS");
  cmd->add_option("--threads", run.threads,
                  "threads the kernels run on (default: FUSEJIT_NUM_THREADS, else every core)")
      ->check(CLI::Range(1, 1024))
      ->type_name("N");
  cmd->add_option("--repeat", run.repeat,
                  "run N more times and report each kernel's min and median time, GB/s and GFLOP/s "
                  "(default: no timing)")
      ->check(CLI::Range(1, 1000000))
      ->type_name("N");
  cmd->footer(std::string("\n") + kExitCodes +
              "\nEXAMPLES\n"
              "  fusejit run examples/programs/seed.fj --seed 0 --check\n"
              "  fusejit run examples/programs/mlp_layer.fj --repeat 20 --threads 2 --format json\n"
              "  fusejit run prog.fj --input x=x.npy --out results/\n");
  return cmd;
}

// Every diagnostic reads as the LLVM tools' do: `FILE:LINE:COL: error: ...`
// where there is a line to point at (a parse error carries its own), else
// `fusejit: error: ...`.
void report(const std::string &message) { std::cerr << "fusejit: error: " << message << "\n"; }

std::string command_line_error(const CLI::App *app, const CLI::Error &e) {
  return "fusejit: error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
}

}  // namespace

// Only building the option table can throw outside the handlers below, and
// only for a bug in it, which should abort.
int main(int argc, char **argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{
      "fusejit: a JIT-compiling expression-fusion engine for tensors.\n"
      "Runs `.fj` programs and shows the IR at every stage. `fusejit SUBCOMMAND --help`\n"
      "describes each subcommand."};
  app.failure_message(command_line_error);  // before the subcommands, which copy it
  app.require_subcommand(1);
  app.footer(std::string("\n") + kExitCodes);

  DumpOptions dump;
  CLI::App *dump_cmd = add_dump(app, dump);
  RunOptions run;
  add_run(app, run);

  FuzzOptions fuzz;
  CLI::App *fuzz_cmd = add_fuzz_command(app, fuzz);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return 2;
  }

  try {
    if (*dump_cmd) return dump_command(dump);
    if (*fuzz_cmd) return fuzz_command(fuzz);
    return run_command(run);
  } catch (const fusejit::InternalError &e) {
    report(e.what());
    return 3;
  } catch (const fusejit::ParseError &e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const fusejit::Error &e) {
    report(e.what());
    return 2;
  } catch (const std::bad_alloc &) {
    // Allocations of tensor data name their size (a ValueError above); this is
    // any other that failed.
    report("out of memory");
    return 2;
  } catch (const std::exception &e) {
    report(std::string("internal error: ") + e.what());
    return 3;
  }
}
