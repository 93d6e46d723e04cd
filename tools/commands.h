// The `fusejit` tool's subcommands. Each returns the process exit code:
// 0 ok, 1 a check failed, 2 bad input. Errors are thrown as fusejit::Error
// and turned into a message and exit code 2 by main.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fusejit::tool {

struct DumpOptions {
  std::string program;
  std::string stage = "graph";
  std::string format = "text";
  bool llvm_before_opt = false;
  std::string numerics;  // "fast" | "strict"; empty: FUSEJIT_NUMERICS
  bool explain = false;  // append why each kernel boundary and matmul is where it is
  std::string png;       // render the stage's DOT picture to this file with Graphviz
  bool grad = false;     // the program plus the backward of the sum of its outputs
};

struct RunOptions {
  std::string program;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  uint64_t seed = 0;
  std::string out_dir;
  std::string format = "text";
  bool check = false;    // also run the reference interpreter and compare
  std::string numerics;  // "fast" | "strict"; empty: FUSEJIT_NUMERICS
  int threads = 0;       // 0: FUSEJIT_NUM_THREADS, else every core
  int repeat = 0;        // > 0: run that many times and time each kernel
  bool grad = false;     // also compute grad_NAME for every input (of the sum of the outputs)
};

struct FuzzOptions {
  uint64_t seeds = 100;
  uint64_t start = 0;
  std::string out_dir = "fuzz-failures";
  int max_ops = 14;
  bool no_reduce = false;  // write failing programs as generated
  bool verbose = false;
  bool grad = false;  // also check gradients (as run --check --grad)
};

int dump_command(const DumpOptions &opts);
int run_command(const RunOptions &opts);
// Registers `fuzz` and its options (tools/fuzz_command.cpp).
CLI::App *add_fuzz_command(CLI::App &app, FuzzOptions &opts);
int fuzz_command(const FuzzOptions &opts);

}  // namespace fusejit::tool
