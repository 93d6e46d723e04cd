// How a Matmul kernel ([batch..., m, n | k], see engine/fuse.cpp) is tiled
// for the host: the register tile of the micro-kernel, the cache blocks of
// the packed path, and the units of parallel work its compiled function
// computes for a range [begin, end). LLVM-free, so tests can read it.
// Cached kernels number their units by this blocking; the codegen source
// hash in every kernel cache key keeps a changed blocking from loading them.
#pragma once

#include <cstdint>
#include <string>

#include "ir/kernel.h"

namespace fusejit {

struct GemmBlocking {
  int64_t batch = 1;  // product of the batch dims
  int64_t m = 0, n = 0, k = 0;
  int element_bytes = 4;
  int lanes = 8;  // elements per vector register
  // Register tile: mr rows by nr = 2 vectors of columns, mr * 2
  // accumulators plus two B vectors and one broadcast A value in registers.
  int mr = 6, nr = 16;
  // Cache blocks: a kc x nr micro-panel of packed B stays in L1, an mc x kc
  // block of packed A in L2, a kc x nc block of packed B in L3.
  int64_t kc = 256, mc = 192, nc = 2048;
  // false: the small path, no packing and no k blocking; operands are read
  // (and their prologues computed) in place by the micro-kernel.
  bool packed = true;
  // The parallel unit: an nr-wide column panel of one batch's output when
  // true, an mr-tall row panel when false.
  bool split_columns = false;
  int64_t units_per_batch = 0;

  int64_t parallel_extent() const { return batch * units_per_batch; }
  int64_t k_blocks() const { return k > kc ? (k + kc - 1) / kc : 1; }
};

// Vector width and register count come from `host` (host_cpu_description's
// "cpu +feature,..." text): 512-bit vectors and 32 registers with AVX-512F,
// 256-bit and 16 with AVX, else SSE's 128-bit and 16. Requires a verified
// Matmul kernel.
GemmBlocking gemm_blocking(const Kernel &k, const std::string &host);
GemmBlocking gemm_blocking(const Kernel &k);  // for this host

}  // namespace fusejit
