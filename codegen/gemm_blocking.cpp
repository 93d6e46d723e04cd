#include "codegen/gemm_blocking.h"

#include <algorithm>
#include <sstream>

#include "codegen/jit.h"
#include "ir/error.h"

namespace fusejit {

namespace {

bool has_feature(const std::string &host, const std::string &feature) {
  std::string features = host.substr(std::min(host.size(), host.find(' ')));
  std::istringstream in(features);
  std::string f;
  while (std::getline(in, f, ','))
    if (f == " +" + feature || f == "+" + feature) return true;
  return false;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_down(int64_t a, int64_t to) { return std::max(to, a / to * to); }

// Cache budgets for Zen 3 (the reference machine: 32 KiB L1d, 512 KiB L2
// per core, 32 MiB L3 per CCD) that also suit Zen 4 (1 MiB L2). Half of L1
// holds the B micro-panel the micro-kernel reuses for every A micro-panel,
// leaving room for the streamed A micro-panel and the C tile; 192 KiB of L2
// holds the packed A block, the rest is B panels passing through and C;
// 2 MiB of L3 holds a packed B block per core, with room for both cores.
constexpr int64_t kL1Budget = 16 << 10;
constexpr int64_t kL2Budget = 192 << 10;
constexpr int64_t kL3Budget = 2 << 20;

// Below this many multiply-adds per batch, packing (and its scratch
// allocation) costs more than the contiguous reads it buys.
constexpr int64_t kSmallGemm = 32 * 32 * 32;

}  // namespace

GemmBlocking gemm_blocking(const Kernel &k, const std::string &host) {
  FUSEJIT_INTERNAL_CHECK(
      k.kind() == KernelKind::Matmul && k.num_reduce == 1 && k.domain.size() >= 3, "gemm: ", k.name,
      " is not a matmul kernel");
  GemmBlocking g;
  size_t rank = k.domain.size();
  for (size_t d = 0; d + 3 < rank; ++d) g.batch *= k.domain[d];
  g.m = k.domain[rank - 3], g.n = k.domain[rank - 2], g.k = k.domain[rank - 1];
  g.element_bytes = static_cast<int>(dtype_size(k.body.at(k.reduction->value).dtype));

  // Zen 4 runs a 512-bit FMA as two 256-bit halves: no more FLOPs per
  // cycle, and its 14 x 32 tile measured ~12% slower at 1024^3 than the
  // 6 x 16 ymm tile with the larger kc that fits L1. Wide vectors only where
  // the hardware is wide.
  bool zen = host.rfind("znver", 0) == 0;
  bool avx512 = has_feature(host, "avx512f") && !zen, avx = has_feature(host, "avx");
  int vector_bytes = avx512 ? 64 : avx ? 32 : 16;
  int registers = avx512 ? 32 : 16;
  g.lanes = vector_bytes / g.element_bytes;
  g.nr = 2 * g.lanes;
  g.mr = registers == 32 ? 14 : 6;  // 2 * mr accumulators + 3 fit

  g.kc = std::max<int64_t>(64, kL1Budget / (int64_t(g.nr) * g.element_bytes));
  g.mc = round_down(kL2Budget / (g.kc * g.element_bytes), g.mr);
  // With a single A block (small M), each packed B panel is used by few A
  // micro-panels: size the B block for L2, where packing leaves it, rather
  // than L3.
  int64_t b_budget = g.m <= g.mc ? kL2Budget : kL3Budget;
  g.nc = round_down(b_budget / (g.kc * g.element_bytes), g.nr);
  g.nc = std::min(g.nc, ceil_div(std::max<int64_t>(g.n, 1), g.nr) * g.nr);
  g.mc = std::min(g.mc, ceil_div(std::max<int64_t>(g.m, 1), g.mr) * g.mr);

  // Partial sums over k blocks are kept in the first output, so it must have
  // the reduction's dtype (a `where` epilogue may pick another); otherwise
  // the small path, which needs no partial sums, runs at any size.
  DType out = k.body.at(k.outputs.at(0).instr).dtype;
  bool partial_sums_fit = out == k.body.at(k.reduction->value).dtype || g.k <= g.kc;
  g.packed = g.m * g.n * g.k >= kSmallGemm && partial_sums_fit;
  if (!g.packed) g.kc = std::max<int64_t>(g.k, 1);

  // Split the longer of M and N. Each thread packs its own part of that
  // side and all of the other, so what every thread packs again is the
  // smaller operand (a convolution's weight gradient is 64 x 576 over K
  // 25088: split by rows, each thread packed all of the 576-wide window).
  int64_t row_panels = ceil_div(g.m, g.mr), col_panels = ceil_div(g.n, g.nr);
  g.split_columns = g.n > g.m;
  g.units_per_batch = g.m == 0 || g.n == 0 ? 0 : g.split_columns ? col_panels : row_panels;
  return g;
}

GemmBlocking gemm_blocking(const Kernel &k) { return gemm_blocking(k, host_cpu_description()); }

}  // namespace fusejit
