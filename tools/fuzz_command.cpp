// `fusejit fuzz`: random programs through the JIT and the reference
// interpreter; each mismatch or unexpected error is reduced to a small `.fj`
// that `fusejit run FILE --check` replays.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ir/error.h"
#include "ir/printer.h"
#include "tools/commands.h"
#include "tools/difftest/differential.h"
#include "tools/difftest/random_program.h"
#include "tools/difftest/reduce_program.h"

namespace fusejit::tool {

namespace {

using difftest::CheckResult;

const char *kind_name(CheckResult::Kind kind) {
  return kind == CheckResult::Kind::Mismatch ? "mismatch" : "error";
}

std::string commented(const std::string &text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += "# " + line + "\n";
  return out;
}

void write_file(const std::filesystem::path &path, const std::string &text) {
  std::ofstream f(path);
  f << text;
  FUSEJIT_USER_CHECK(f.good(), IOError, "fuzz: cannot write ", path.string());
}

// Reduces the failing program of `seed` and writes it (and the original)
// to the output directory; returns the reduced file's path.
std::string report_failure(const FuzzOptions &opts, uint64_t seed, const Program &p,
                           const CheckResult &first) {
  Program reduced = p;
  if (!opts.no_reduce)
    reduced = difftest::reduce_program(p, [&](const Program &q) {
      return difftest::check_program(q, opts.grad).kind == first.kind;
    });
  CheckResult result = difftest::check_program(reduced, opts.grad);
  std::error_code ec;
  std::filesystem::create_directories(opts.out_dir, ec);
  FUSEJIT_USER_CHECK(!ec, IOError, "--out ", opts.out_dir,
                     ": cannot create directory: ", ec.message());
  std::string name = "seed-" + std::to_string(seed);
  std::filesystem::path dir(opts.out_dir);
  write_file(dir / (name + ".orig.fj"),
             commented("fusejit fuzz seed " + std::to_string(seed) +
                       ", as generated: " + kind_name(first.kind) + ": " + first.message) +
                 print_program(p));
  std::string file = (dir / (name + ".fj")).string();
  write_file(file, commented("fusejit fuzz seed " + std::to_string(seed) + ", reduced from " +
                             std::to_string(difftest::program_ops(p)) + " to " +
                             std::to_string(difftest::program_ops(reduced)) +
                             " ops: " + kind_name(result.kind) + ": " + result.message) +
                       "# replay: fusejit run " + file + " --check" + (opts.grad ? " --grad" : "") +
                       "\n" + print_program(reduced));
  return file;
}

}  // namespace

CLI::App *add_fuzz_command(CLI::App &app, FuzzOptions &opts) {
  CLI::App *cmd = app.add_subcommand(
      "fuzz",
      "Differential testing: random programs run through the JIT and the reference\n"
      "interpreter. Each failure is reduced and written to DIR/seed-N.fj; exit 1 if any.");
  cmd->add_option("--seeds", opts.seeds, "how many programs (default 100)");
  cmd->add_option("--start", opts.start, "the first seed (default 0)");
  cmd->add_option("--out", opts.out_dir, "where failing programs go (default fuzz-failures)");
  cmd->add_option("--max-ops", opts.max_ops, "ops drawn per program (default 14)")
      ->check(CLI::Range(2, 1000));
  cmd->add_flag("--grad", opts.grad,
                "also check the gradients of the sum of the outputs with respect to every input");
  cmd->add_flag("--no-reduce", opts.no_reduce, "write failing programs as generated");
  cmd->add_flag("--verbose", opts.verbose, "print every program and its result");
  return cmd;
}

int fuzz_command(const FuzzOptions &opts) {
  difftest::RandomProgramOptions gen;
  gen.max_ops = opts.max_ops;
  auto start = std::chrono::steady_clock::now();
  uint64_t failures = 0;
  for (uint64_t seed = opts.start; seed < opts.start + opts.seeds; ++seed) {
    Program p = difftest::random_program(seed, gen);
    // The program before its result, so a run that hangs or crashes shows it.
    if (opts.verbose) std::cout << "== seed " << seed << "\n" << print_program(p) << std::flush;
    CheckResult r = difftest::check_program(p, opts.grad);
    if (opts.verbose)
      std::cout << "== seed " << seed << ": " << (r.failed() ? kind_name(r.kind) : "ok") << "\n";
    if (!r.failed()) continue;
    ++failures;
    std::cout << "fuzz: seed " << seed << ": " << kind_name(r.kind) << ": " << r.message << "\n";
    std::cout << "fuzz: seed " << seed << ": wrote " << report_failure(opts, seed, p, r) << "\n";
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "fuzz: " << opts.seeds << " program(s) from seed " << opts.start << ", " << failures
            << " failure(s), " << seconds << " s\n";
  return failures ? 1 : 0;
}

}  // namespace fusejit::tool
