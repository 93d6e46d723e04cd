// The JIT engine: compiling and running a hand-built kernel, the memory and
// disk caches (including corrupt and foreign cache files), numerics and
// concurrency. Uses codegen/ only through LLVM-free headers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "codegen/cache_file.h"
#include "codegen/jit.h"
#include "codegen/jit_engine.h"
#include "codegen/optimize.h"
#include "codegen/sample_kernels.h"
#include "engine/dump.h"
#include "engine/pipeline.h"
#include "engine/realize.h"
#include "file_bytes.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "runtime/random.h"
#include "scoped_defaults.h"

namespace fusejit {
namespace {

namespace fs = std::filesystem;

// A fresh cache directory per test, removed afterwards.
class JitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("fusejit-jit-test-" + std::to_string(::getpid()) + "-" +
                                        info->test_suite_name() + "-" + info->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  JitOptions options() const { return JitOptions{dir_.string()}; }

  fs::path dir_;
};

// Runs saxpy on n elements and checks every one against a*x+y in C++
// (compiled in ISO mode, so never contracted). Fast may use FMA, which
// rounds once instead of twice: allow a relative 1e-6 there.
void check_saxpy(const CompiledFunction &fn, Numerics numerics, int64_t n) {
  ASSERT_NE(fn.address, nullptr);
  const auto size = static_cast<size_t>(n);
  std::vector<float> x(size), y(size), want(size);
  const float a = 1.7f;
  for (int64_t i = 0; i < n; ++i) {
    x[size_t(i)] = 0.25f * float(i) - 3.1f;
    y[size_t(i)] = 1.0f / float(i + 3);
    want[size_t(i)] = a * x[size_t(i)] + y[size_t(i)];
  }
  fn.as<SaxpyFn>()(n ? x.data() : nullptr, n ? y.data() : nullptr, a, n);
  for (int64_t i = 0; i < n; ++i) {
    float got = y[size_t(i)], w = want[size_t(i)];
    if (numerics == Numerics::Strict) {
      ASSERT_EQ(got, w) << "n=" << n << " i=" << i;
    } else {
      ASSERT_NEAR(got, w, 1e-6f * std::max(1.0f, std::fabs(w))) << "n=" << n << " i=" << i;
    }
  }
}

void check_saxpy_lengths(const CompiledFunction &fn, Numerics numerics) {
  for (int64_t n : {0, 1, 17, 1000}) check_saxpy(fn, numerics, n);
}

TEST_F(JitTest, SaxpyComputesInBothNumerics) {
  JitEngine engine(options());
  for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
    SCOPED_TRACE(numerics_name(numerics));
    CompiledFunction fn =
        compile_sample_saxpy(engine, numerics, std::string("saxpy-") + numerics_name(numerics));
    EXPECT_EQ(fn.source, CodeSource::Compiled);
    check_saxpy_lengths(fn, numerics);
  }
  EXPECT_EQ(engine.stats().compiles, 2u);
}

TEST_F(JitTest, KernelsCallIntoLibm) {
  JitEngine engine(options());
  CompiledFunction fn = compile_sample_exp(engine, "exp");
  EXPECT_EQ(fn.as<ExpFn>()(1.0), std::exp(1.0));
  EXPECT_EQ(fn.as<ExpFn>()(-2.5), std::exp(-2.5));
}

TEST_F(JitTest, MissingSymbolIsACompileErrorAndTheKeyCanBeRetried) {
  JitEngine engine(options());
  try {
    compile_sample_saxpy(engine, Numerics::Fast, "retry", "no_such_kernel");
    FAIL() << "expected CompileError";
  } catch (const CompileError &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("no_such_kernel"), std::string::npos) << message;
    EXPECT_NE(message.find("retry"), std::string::npos) << message;
  }
  CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Fast, "retry");
  check_saxpy_lengths(fn, Numerics::Fast);
}

TEST_F(JitTest, SameKeyTwiceIsAMemoryHit) {
  JitEngine engine(options());
  CompiledFunction first = compile_sample_saxpy(engine, Numerics::Fast, "k");
  CompiledFunction second = compile_sample_saxpy(engine, Numerics::Fast, "k");
  EXPECT_EQ(second.address, first.address);
  EXPECT_EQ(second.source, CodeSource::MemoryCache);
  JitStats stats = engine.stats();
  EXPECT_EQ(stats.compiles, 1u);
  EXPECT_EQ(stats.memory_hits, 1u);
  check_saxpy_lengths(second, Numerics::Fast);
}

TEST_F(JitTest, NewEngineLoadsFromDiskWithoutCompiling) {
  {
    JitEngine writer(options());
    compile_sample_saxpy(writer, Numerics::Fast, "disk");
    EXPECT_EQ(writer.stats().disk_writes, 1u);
    EXPECT_TRUE(fs::exists(writer.cache_file("disk")));
  }
  JitEngine reader(options());
  CompiledFunction fn = compile_sample_saxpy(reader, Numerics::Fast, "disk");
  EXPECT_EQ(fn.source, CodeSource::DiskCache);
  JitStats stats = reader.stats();
  EXPECT_EQ(stats.compiles, 0u);  // neither O3 nor codegen ran
  EXPECT_EQ(stats.disk_hits, 1u);
  EXPECT_EQ(stats.disk_rejects, 0u);
  check_saxpy_lengths(fn, Numerics::Fast);
}

// Each way a cache file can go bad; the key is "victim".
struct Corruption {
  const char *name;
  std::string (*apply)(const std::string &valid);
};

const Corruption kCorruptions[] = {
    {"truncated", [](const std::string &s) { return s.substr(0, s.size() / 2); }},
    {"empty", [](const std::string &) { return std::string(); }},
    {"payload byte flipped",
     [](const std::string &valid) {
       std::string s = valid;
       s[s.size() - 100] ^= 0x20;
       return s;
     }},
    {"header byte flipped",
     [](const std::string &valid) {
       std::string s = valid;
       s[9] ^= 0x01;
       return s;
     }},
    {"garbage", [](const std::string &) { return std::string(5000, '\x7f'); }},
    {"another key's entry",
     [](const std::string &) {
       return encode_cache_entry({"19.1.7", host_cpu_description(), "other"}, "not an object");
     }},
    {"another host's entry",
     [](const std::string &) {
       return encode_cache_entry({"19.1.7", "pentium4 +sse2", "victim"}, "not an object");
     }},
};

TEST_F(JitTest, CorruptCacheFilesAreRejectedAndRewritten) {
  for (const Corruption &corruption : kCorruptions) {
    SCOPED_TRACE(corruption.name);
    fs::remove_all(dir_);
    std::string file;
    {
      JitEngine writer(options());
      compile_sample_saxpy(writer, Numerics::Fast, "victim");
      file = writer.cache_file("victim");
    }
    write_bytes(file, corruption.apply(read_bytes(file)));
    {
      JitEngine reader(options());
      CompiledFunction fn = compile_sample_saxpy(reader, Numerics::Fast, "victim");
      EXPECT_EQ(fn.source, CodeSource::Compiled);
      JitStats stats = reader.stats();
      EXPECT_EQ(stats.disk_rejects, 1u);
      EXPECT_EQ(stats.disk_hits, 0u);
      EXPECT_EQ(stats.compiles, 1u);
      EXPECT_EQ(stats.disk_writes, 1u);
      check_saxpy_lengths(fn, Numerics::Fast);
    }
    JitEngine after(options());  // the rewritten file is valid again
    CompiledFunction fn = compile_sample_saxpy(after, Numerics::Fast, "victim");
    EXPECT_EQ(fn.source, CodeSource::DiskCache);
    check_saxpy_lengths(fn, Numerics::Fast);
  }
}

TEST_F(JitTest, UncreatableCacheDirMeansNoDiskCache) {
  // A directory below a regular file cannot be created, even by root (for
  // whom a read-only mode would not stop writes).
  fs::create_directories(dir_);
  write_bytes(dir_ / "file", "x");
  JitEngine engine(JitOptions{(dir_ / "file" / "cache").string()});
  EXPECT_FALSE(engine.cache_dir().has_value());
  CompiledFunction fn = compile_sample_saxpy(engine, Numerics::Fast, "k");
  EXPECT_EQ(engine.stats().disk_writes, 0u);
  check_saxpy_lengths(fn, Numerics::Fast);
}

TEST_F(JitTest, NoCacheDirMeansNoDiskCache) {
  JitEngine engine(JitOptions{std::nullopt});
  EXPECT_FALSE(engine.cache_dir().has_value());
  EXPECT_EQ(engine.cache_file("k"), "");
  check_saxpy_lengths(compile_sample_saxpy(engine, Numerics::Strict, "k"), Numerics::Strict);
}

bool host_has(const std::string &feature) {
  return host_cpu_description().find("+" + feature + ",") != std::string::npos ||
         host_cpu_description().ends_with("+" + feature);
}

// FMA contraction is what Fast permits and Strict forbids. Only testable on
// a host with AVX2 and FMA (the development host is a Zen 4 with AVX-512,
// where LLVM may pick ymm or zmm registers); elsewhere the test skips.
TEST(JitDump, FastContractsToFmaAndStrictDoesNot) {
  if (!host_has("avx2") || !host_has("fma"))
    GTEST_SKIP() << "host lacks AVX2/FMA: " << host_cpu_description();
  std::string fast = dump_sample_saxpy(Numerics::Fast, DumpStage::Assembly);
  std::string strict = dump_sample_saxpy(Numerics::Strict, DumpStage::Assembly);
  auto has = [](const std::string &text, const char *what) {
    return text.find(what) != std::string::npos;
  };
  EXPECT_TRUE(has(fast, "vfmadd")) << fast;
  EXPECT_TRUE(has(fast, "ymm") || has(fast, "zmm")) << fast;
  EXPECT_FALSE(has(strict, "vfmadd")) << strict;
  // Strict still vectorizes: only the fusion is forbidden.
  EXPECT_TRUE(has(strict, "vmulps") && has(strict, "vaddps")) << strict;
}

TEST(JitDump, IrShowsFastMathFlagsOnlyInFast) {
  std::string fast = dump_sample_saxpy(Numerics::Fast, DumpStage::LlvmIr);
  std::string strict = dump_sample_saxpy(Numerics::Strict, DumpStage::LlvmIr);
  EXPECT_NE(fast.find("fmul reassoc contract float"), std::string::npos) << fast;
  EXPECT_NE(strict.find("fmul float"), std::string::npos) << strict;
  EXPECT_EQ(strict.find("contract"), std::string::npos) << strict;
  std::string optimized = dump_sample_saxpy(Numerics::Fast, DumpStage::OptimizedLlvmIr);
  EXPECT_NE(optimized.find("x float>"), std::string::npos)  // vectorized
      << optimized;
}

TEST_F(JitTest, FourThreadsCompileDistinctKeys) {
  JitEngine engine(options());
  std::vector<CompiledFunction> fns(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      fns[size_t(t)] = compile_sample_saxpy(engine, Numerics::Fast, "thread-" + std::to_string(t));
    });
  for (std::thread &thread : threads) thread.join();
  for (const CompiledFunction &fn : fns) check_saxpy_lengths(fn, Numerics::Fast);
  EXPECT_EQ(engine.stats().compiles, 4u);
  EXPECT_EQ(engine.stats().disk_writes, 4u);
}

TEST_F(JitTest, FourThreadsAskingForOneKeyCompileItOnce) {
  JitEngine engine(options());
  std::vector<CompiledFunction> fns(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back(
        [&, t] { fns[size_t(t)] = compile_sample_saxpy(engine, Numerics::Fast, "shared"); });
  for (std::thread &thread : threads) thread.join();
  for (const CompiledFunction &fn : fns) EXPECT_EQ(fn.address, fns[0].address);
  EXPECT_EQ(engine.stats().compiles, 1u);
  EXPECT_EQ(engine.stats().memory_hits, 3u);
}

// Not a check: prints what each path costs, for the record.
TEST_F(JitTest, ReportsCompileTimes) {
  double cold, memory, disk;
  {
    JitEngine engine(options());
    cold = compile_sample_saxpy(engine, Numerics::Fast, "timed").milliseconds;
    memory = compile_sample_saxpy(engine, Numerics::Fast, "timed").milliseconds;
  }
  JitEngine engine(options());
  disk = compile_sample_saxpy(engine, Numerics::Fast, "timed").milliseconds;
  std::cout << "saxpy: cold " << cold << " ms, memory hit " << memory << " ms, disk hit " << disk
            << " ms\n";
  EXPECT_LT(memory, cold);
}

// The process-wide engine uses the user's cache ($HOME/.cache/fusejit
// unless FUSEJIT_CACHE_DIR says otherwise); a fixed key keeps it to one
// file, a disk hit from the second run on.
TEST(JitGlobal, OneEngineForTheProcess) {
  EXPECT_EQ(&jit_engine(), &jit_engine());
  void *address = compile_sample_saxpy(Numerics::Strict, "jit-test-global-saxpy");
  check_saxpy_lengths({address, "jit-test-global-saxpy"}, Numerics::Strict);
}

TEST(JitCacheFile, RoundTrips) {
  CacheIdentity id{"19.1.7", "cpu +a,+b", "key"};
  DecodedCacheEntry entry = decode_cache_entry(encode_cache_entry(id, "obj"), id);
  EXPECT_TRUE(entry.ok()) << entry.error;
  EXPECT_EQ(entry.payload, "obj");
}

TEST(JitCacheFile, EveryTruncationAndEveryFlippedByteIsRejected) {
  CacheIdentity id{"19.1.7", "cpu +a,+b", "key"};
  std::string valid = encode_cache_entry(id, "some object bytes");
  for (size_t n = 0; n < valid.size(); ++n)
    EXPECT_FALSE(decode_cache_entry(valid.substr(0, n), id).ok()) << n;
  EXPECT_FALSE(decode_cache_entry(valid + "x", id).ok());
  for (size_t i = 0; i < valid.size(); ++i) {
    std::string bad = valid;
    bad[i] ^= 0x04;
    EXPECT_FALSE(decode_cache_entry(bad, id).ok()) << "byte " << i;
  }
}

TEST(JitCacheFile, ForeignIdentityIsRejectedWithAReason) {
  CacheIdentity id{"19.1.7", "cpu +a", "key"};
  std::string file = encode_cache_entry(id, "obj");
  EXPECT_NE(decode_cache_entry(file, {"18.1.0", "cpu +a", "key"}).error.find("LLVM"),
            std::string::npos);
  EXPECT_NE(decode_cache_entry(file, {"19.1.7", "cpu +b", "key"}).error.find("CPU"),
            std::string::npos);
  EXPECT_NE(decode_cache_entry(file, {"19.1.7", "cpu +a", "k2"}).error.find("key"),
            std::string::npos);
}

TEST(JitCacheFile, NamesAreSafe) {
  EXPECT_EQ(cache_file_name("abc-1.2_3"), "abc-1.2_3.o");
  std::string odd = cache_file_name("../a b/c");
  EXPECT_EQ(odd.find('/'), std::string::npos) << odd;
  EXPECT_NE(odd, cache_file_name("../a b/d"));
}

TEST(JitNumerics, FromEnvironment) {
  const char *saved = std::getenv("FUSEJIT_NUMERICS");
  std::string restore = saved ? saved : "";
  ::unsetenv("FUSEJIT_NUMERICS");
  EXPECT_EQ(numerics_from_env(), Numerics::Fast);
  ::setenv("FUSEJIT_NUMERICS", "strict", 1);
  EXPECT_EQ(numerics_from_env(), Numerics::Strict);
  ::setenv("FUSEJIT_NUMERICS", "fast", 1);
  EXPECT_EQ(numerics_from_env(), Numerics::Fast);
  ::setenv("FUSEJIT_NUMERICS", "fsat", 1);
  EXPECT_THROW(numerics_from_env(), ValueError);
  if (saved)
    ::setenv("FUSEJIT_NUMERICS", restore.c_str(), 1);
  else
    ::unsetenv("FUSEJIT_NUMERICS");
}

TEST(JitHost, DescriptionNamesCpuAndFeatures) {
  std::string description = host_cpu_description();
  EXPECT_NE(description.find(' '), std::string::npos) << description;
  EXPECT_NE(description.find('+'), std::string::npos) << description;
  // Enabled features only.
  EXPECT_EQ(description.find(",-"), std::string::npos) << description;
  EXPECT_EQ(description.find(" -"), std::string::npos) << description;
}

// f(x) for the one-definition tests: exp, sigmoid, or log of a positive value.
NodeRef transcendental(Op op, const NodeRef &x) {
  if (op != Op::Log) return ir::unary(op, x);
  return ir::unary(Op::Log,
                   ir::binary(Op::Add, ir::unary(Op::Abs, x), ir::constant(0.5, x->dtype)));
}

// In fast numerics exp, log and tanh run through libmvec. A value must have the
// same bits wherever it is computed: in the max kernel's vector body and
// its scalar tail (rows of 5 to 13 have both for f32 and f64), and in the
// elementwise kernel that recomputes f(x) to find each row's maximum again
// (vectorized over the whole flattened domain, so its lanes and tail fall
// elsewhere). A miss leaves a row with no element equal to its max, as
// max's backward sees it.
TEST(JitNumerics, FastMathComputesAValueAlikeInEveryKernelAndLane) {
  ScopedDefaults fast(Numerics::Fast);
  for (DType dtype : {DType::F32, DType::F64})
    for (int64_t rows : {1, 5})
      for (int64_t n : {5, 6, 7, 9, 11, 13, 100})
        for (Op op : {Op::Exp, Op::Sigmoid, Op::Log, Op::Tanh}) {
          NodeRef x = ir::input(dtype, {rows, n}, "x");
          NodeRef fx = transcendental(op, x);
          NodeRef is_max = ir::binary(Op::Eq, fx, ir::reduce(Op::Max, fx, {1}, true));
          for (uint64_t seed = 0; seed < 3; ++seed) {
            Generator g(seed);
            InputValues inputs{{x.get(), random_uniform(dtype, x->shape, g, -1, 1)}};
            Buffer found = evaluate({is_max}, inputs)[0];
            for (int64_t r = 0; r < rows; ++r) {
              double count = 0;
              for (int64_t c = 0; c < n; ++c) count += found.get(r * n + c);
              ASSERT_GE(count, 1) << op_name(op) << "(x) over " << dtype_name(dtype) << "[" << rows
                                  << ", " << n << "], seed " << seed << ": row " << r
                                  << " has no element equal to its max";
            }
          }
        }
}

// The same, seen in the optimized IR: no scalar libm exp beside libmvec's
// (or, without libmvec, libm's alone).
TEST(JitDump, FastExpHasOneDefinition) {
  ScopedDefaults fast(Numerics::Fast);
  Program p = parse_program("x = input f32[4, 13]\nm = max(exp(x), 1)\nout m\n", "<test>");
  std::string llvm = dump(p, Stage::Llvm);
  if (load_vector_math_library()) {
    EXPECT_NE(llvm.find("_ZGV"), std::string::npos) << llvm;
    EXPECT_EQ(llvm.find("@llvm.exp."), std::string::npos) << llvm;
    EXPECT_EQ(llvm.find("@expf("), std::string::npos) << llvm;
  } else {
    EXPECT_EQ(llvm.find("_ZGV"), std::string::npos) << llvm;
  }
}

}  // namespace
}  // namespace fusejit
