// The kernel cache key's text is the format disk entries were written
// under: it must not drift when the key is built faster. The reference
// below is the ostringstream form the key was first written with.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "codegen/compile_kernel.h"
#include "codegen/fnv1a.h"
#include "codegen/jit.h"
#include "codegen/lower_kernel.h"
#include "codegen/optimize.h"
#include "codegen/vector_math.h"
#include "engine/fuse.h"
#include "engine/optimize.h"
#include "ir/graph.h"

namespace fusejit {
namespace {

std::string reference_bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(b));
  return buf;
}

void reference_ints(std::ostream &os, const std::vector<int64_t> &v) {
  os << '[';
  for (int64_t x : v) os << x << ',';
  os << ']';
}

// The kernel's part of the text, after the process's first line.
std::string reference_text(const Kernel &k) {
  std::ostringstream os;
  const Reduction red = k.reduction.value_or(Reduction{});
  os << kernel_kind_name(k.kind()) << ' ' << dtype_name(k.dtype) << " domain ";
  reference_ints(os, k.domain);
  os << " reduce " << k.num_reduce << ' ' << op_name(red.op) << " %" << red.value << " * "
     << reference_bits(red.scale) << '\n';
  for (const KernelInput &in : k.inputs) {
    os << "input " << dtype_name(in.dtype) << ' ';
    reference_ints(os, in.shape);
    os << '\n';
  }
  for (const Instr &in : k.body) {
    os << static_cast<int>(in.kind) << ' ' << dtype_name(in.dtype) << (in.outer ? " outer" : "");
    if (in.kind == InstrKind::Load) {
      os << " in" << in.input;
      for (const AccessLayer &l : in.access.layers) {
        os << " layer ";
        reference_ints(os, l.shape);
        reference_ints(os, l.strides);
        os << '+' << l.offset;
      }
    } else if (in.kind == InstrKind::Const) {
      os << ' ' << reference_bits(in.value);
    } else if (in.kind != InstrKind::Reduced) {
      os << ' ' << op_name(in.op);
    }
    for (int a : in.args) os << " %" << a;
    os << '\n';
  }
  for (const KernelOutput &out : k.outputs) os << "output %" << out.instr << '\n';
  return os.str();
}

// The key as first written: both FNV-1a passes over the whole text, mixed.
uint64_t reference_hash(const std::string &text, uint64_t basis) {
  uint64_t h = fnv1a64(text, basis);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

std::string reference_key(const std::string &text) {
  char key[40];
  std::snprintf(key, sizeof key, "k%016llx%016llx",
                static_cast<unsigned long long>(reference_hash(text, kFnv1aBasis)),
                static_cast<unsigned long long>(reference_hash(text, 0x84222325cbf29ce4ULL)));
  return key;
}

// Kernels of every kind, with constants, views, an offset and a scale.
std::vector<Kernel> sample_kernels() {
  NodeRef x = ir::input(DType::F32, {23, 5}), y = ir::input(DType::F64, {4, 6});
  NodeRef a = ir::input(DType::F32, {8, 3}), b = ir::input(DType::F32, {3, 9});
  std::vector<NodeRef> roots = {
      ir::reduce(Op::Mean,
                 ir::binary(Op::Mul, ir::unary(Op::Exp, x), ir::constant(0.1, DType::F32)), {1}),
      ir::binary(Op::Add, ir::permute(y, {1, 0}), ir::constant(-2.5, DType::F64)),
      ir::matmul(a, b)};
  std::vector<Kernel> out;
  for (const NodeRef &root : roots)
    for (Kernel &k : fuse(optimize_graph({root}, Numerics::Fast)).kernels)
      out.push_back(std::move(k));
  return out;
}

TEST(KernelKey, TextIsTheFormatEntriesWereWrittenUnder) {
  std::vector<Kernel> kernels = sample_kernels();
  ASSERT_GE(kernels.size(), 3u);
  for (const Kernel &k : kernels) {
    for (Numerics numerics : {Numerics::Fast, Numerics::Strict}) {
      SCOPED_TRACE(k.name + " " + numerics_name(numerics));
      std::string text = kernel_key_text(k, numerics);
      size_t eol = text.find('\n');
      ASSERT_NE(eol, std::string::npos);
      EXPECT_EQ(text.substr(eol + 1), reference_text(k));
      // The first line: the lowering's version and source hash, LLVM's
      // version (neither is on the tests' include path), the host, numerics.
      std::string line = text.substr(0, eol);
      std::string head = "fusejit kernel, lowering v" + std::to_string(kLoweringVersion) + " ";
      std::string math;
      if (numerics == Numerics::Fast && load_vector_math_library())
        math = vector_tanh_available() ? " libmvec+tanh" : " libmvec";
      std::string tail = ", host " + host_cpu_description() + ", " + numerics_name(numerics) + math;
      ASSERT_GT(line.size(), head.size() + tail.size());
      EXPECT_EQ(line.substr(0, head.size()), head);
      EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
      std::string middle = line.substr(head.size(), line.size() - head.size() - tail.size());
      EXPECT_TRUE(std::regex_match(middle, std::regex("[0-9a-f]+, LLVM [0-9.]+"))) << middle;
    }
  }
}

TEST(KernelKey, TwoCallsAgreeAndNumericsDiffer) {
  for (const Kernel &k : sample_kernels()) {
    std::string fast = kernel_cache_key(k, Numerics::Fast);
    EXPECT_EQ(kernel_cache_key(k, Numerics::Fast), fast);
    EXPECT_EQ(fast, reference_key(kernel_key_text(k, Numerics::Fast)));
    EXPECT_NE(kernel_cache_key(k, Numerics::Strict), fast);
    EXPECT_EQ(fast.size(), 33u);
  }
}

}  // namespace
}  // namespace fusejit
