// Small hand-built kernels that exercise the JIT without the kernel IR:
// for tests, and as the pattern the lowering follows (one module and one
// context per kernel, host target set, fast-math flags from Numerics).
#pragma once

#include <cstdint>
#include <string>

#include "codegen/jit.h"
#include "codegen/jit_engine.h"

namespace fusejit {

// y[i] = a * x[i] + y[i] for 0 <= i < n; x and y must not overlap.
using SaxpyFn = void(const float *x, float *y, float a, int64_t n);
inline constexpr const char *kSaxpySymbol = "saxpy";

// `cache_key` is used as given, so it must differ between Numerics.
// `symbol` is what is looked up; another name exercises the error path.
CompiledFunction compile_sample_saxpy(JitEngine &engine, Numerics numerics,
                                      const std::string &cache_key,
                                      const std::string &symbol = kSaxpySymbol);
// The same on the process-wide engine; returns a SaxpyFn.
void *compile_sample_saxpy(Numerics numerics, const std::string &cache_key);

std::string dump_sample_saxpy(Numerics numerics, DumpStage stage);

// f(x) = exp(x) by a call into libm: proves JIT'd code links against the
// process.
using ExpFn = double(double);
CompiledFunction compile_sample_exp(JitEngine &engine, const std::string &cache_key);

}  // namespace fusejit
