// kernel_cache_key: a canonical text of everything that shapes a kernel's
// code, hashed to 128 bits.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include <llvm/Config/llvm-config.h>

#include "codegen/compile_kernel.h"
#include "codegen/fnv1a.h"
#include "codegen/lower_kernel.h"
#include "codegen/optimize.h"
#include "codegen/source_hash.h"

namespace fusejit {

namespace {

// Exact: two constants that print alike under %.9g still differ here.
std::string bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(b));
  return buf;
}

void put_ints(std::ostream &os, const std::vector<int64_t> &v) {
  os << '[';
  for (int64_t x : v) os << x << ',';
  os << ']';
}

void put_access(std::ostream &os, const Access &a) {
  for (const AccessLayer &l : a.layers) {
    os << " layer ";
    put_ints(os, l.shape);
    put_ints(os, l.strides);
    os << '+' << l.offset;
    if (l.valid.empty()) continue;
    os << " valid";
    for (const ValidRange &r : l.valid) os << r.lo << ':' << r.hi << ',';
  }
}

void put_instr(std::ostream &os, const Instr &in) {
  os << static_cast<int>(in.kind) << ' ' << dtype_name(in.dtype) << (in.outer ? " outer" : "");
  switch (in.kind) {
    case InstrKind::Load:
      os << " in" << in.input;
      put_access(os, in.access);
      if (in.access.masked()) os << " else " << bits(in.value);
      break;
    case InstrKind::Valid:
      put_access(os, in.access);
      break;
    case InstrKind::Const:
      os << ' ' << bits(in.value);
      break;
    case InstrKind::Reduced:
      break;
    default:
      os << ' ' << op_name(in.op);
      break;
  }
  for (int a : in.args) os << " %" << a;
  os << '\n';
}

// Leaves out the kernel's name, its buffer numbers and its `ops` list: they
// differ between plans that need the same code.
std::string canonical_text(const Kernel &k) {
  std::ostringstream os;
  os << kernel_kind_name(k.kind) << ' ' << dtype_name(k.dtype) << " domain ";
  put_ints(os, k.domain);
  os << " reduce " << k.num_reduce << ' ' << op_name(k.reduce_op) << " %" << k.reduce_value << " * "
     << bits(k.reduce_scale) << '\n';
  for (const KernelInput &in : k.inputs) {
    os << "input " << dtype_name(in.dtype) << ' ';
    put_ints(os, in.shape);
    os << '\n';
  }
  for (const Instr &in : k.body) put_instr(os, in);
  for (const KernelOutput &out : k.outputs) os << "output %" << out.instr << '\n';
  return os.str();
}

// Two 64-bit FNV-1a passes from different offset bases, each finished with
// splitmix64's mixer so that every input bit reaches every output bit.
uint64_t mixed_fnv1a(std::string_view s, uint64_t basis) {
  uint64_t h = fnv1a64(s, basis);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

std::string kernel_cache_key(const Kernel &k, Numerics numerics) {
  std::ostringstream os;
  os << "fusejit kernel, lowering v" << kLoweringVersion << " " << kCodegenSourceHash << ", LLVM "
     << LLVM_VERSION_STRING << ", host " << host_cpu_description() << ", "
     << numerics_name(numerics)
     // Fast kernels call libmvec only if the process could load it.
     << (numerics == Numerics::Fast && load_vector_math_library() ? " libmvec" : "") << '\n'
     << canonical_text(k);
  std::string text = os.str();
  char key[40];
  std::snprintf(key, sizeof key, "k%016llx%016llx",
                static_cast<unsigned long long>(mixed_fnv1a(text, kFnv1aBasis)),
                static_cast<unsigned long long>(mixed_fnv1a(text, 0x84222325cbf29ce4ULL)));
  return key;
}

}  // namespace fusejit
