// fusejit: dump every stage of what fusejit does with a `.fj` program, or run it.
#include <CLI/CLI.hpp>
#include <iostream>

#include "ir/error.h"
#include "tools/commands.h"

using namespace fusejit::tool;

int main(int argc, char **argv) {
  CLI::App app{"fusejit: a JIT-compiling expression-fusion engine for tensors.\n"
               "Runs `.fj` programs and shows the IR at every stage."};
  app.require_subcommand(1);

  DumpOptions dump;
  CLI::App *dump_cmd = app.add_subcommand(
      "dump", "Print a program at one stage of the pipeline.\n"
              "  graph:     the lazy graph as parsed, printed as a .fj program\n"
              "  optimized: after canonicalization and matmul recognition\n"
              "  kernels:   the fused kernels, their buffers, and why values were materialized\n"
              "  llvm:      each kernel's LLVM IR (after O3; --llvm-before-opt for before)\n"
              "  asm:       each kernel's host assembly");
  dump_cmd->add_option("program", dump.program, "the .fj program")->required();
  dump_cmd->add_option("--stage", dump.stage, "graph|optimized|kernels|llvm|asm")
      ->check(CLI::IsMember({"graph", "optimized", "kernels", "llvm", "asm"}));
  dump_cmd->add_option("--format", dump.format, "text|json|dot")
      ->check(CLI::IsMember({"text", "json", "dot"}));
  dump_cmd->add_flag("--llvm-before-opt", dump.llvm_before_opt,
                     "with --stage llvm: the IR as lowered, before the O3 pipeline");
  dump_cmd->add_option("--numerics", dump.numerics, "fast or strict, for --stage llvm and asm")
      ->check(CLI::IsMember({"fast", "strict"}));

  RunOptions run;
  CLI::App *run_cmd = app.add_subcommand(
      "run", "Run a program and write its outputs.\n"
             "Inputs not given with --input get seeded uniform values in [-1, 1].");
  run_cmd->add_option("program", run.program, "the .fj program")->required();
  run_cmd->add_option("--input", run.inputs, "NAME=FILE.npy (repeatable)");
  run_cmd->add_option("--seed", run.seed, "seed of the generated inputs (default 0)");
  run_cmd->add_option("--out", run.out_dir, "write each output to DIR/NAME.npy");
  run_cmd->add_option("--format", run.format, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  run_cmd->add_flag("--check", run.check,
                    "also run the reference interpreter; exit 1 if an output differs beyond "
                    "tolerance (the worst error per output is reported)");
  run_cmd->add_option("--numerics", run.numerics,
                      "fast (FMA, reassociated reductions) or strict (reproducible); "
                      "default FUSEJIT_NUMERICS, else fast")
      ->check(CLI::IsMember({"fast", "strict"}));
  run_cmd->add_option("--threads", run.threads, "threads the kernels run on (default: every core)")
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--repeat", run.repeat,
                      "run N times and report each kernel's min and median time, GB/s and GFLOP/s")
      ->check(CLI::Range(1, 1000000));

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
    std::cerr << "fusejit: " << e.what() << "\n";
    return 3;
  } catch (const fusejit::Error &e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}
