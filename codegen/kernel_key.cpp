// kernel_cache_key: a canonical text of everything that shapes a kernel's
// code, hashed to 128 bits. It runs on every cache hit, so the text is
// appended to one string and the process's part is built once.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include <llvm/Config/llvm-config.h>

#include "codegen/compile_kernel.h"
#include "codegen/fnv1a.h"
#include "codegen/lower_kernel.h"
#include "codegen/optimize.h"
#include "codegen/source_hash.h"
#include "codegen/vector_math.h"
#include "ir/error.h"

namespace fusejit {

namespace {

// Exact: two constants that print alike under %.9g still differ here.
void put_bits(std::string &out, double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, b);
  out += buf;
}

void put_int(std::string &out, int64_t v) { out += std::to_string(v); }

void put_ints(std::string &out, const std::vector<int64_t> &v) {
  out += '[';
  for (int64_t x : v) {
    put_int(out, x);
    out += ',';
  }
  out += ']';
}

void put_access(std::string &out, const Access &a) {
  for (const AccessLayer &l : a.layers) {
    out += " layer ";
    put_ints(out, l.shape);
    put_ints(out, l.strides);
    out += '+';
    put_int(out, l.offset);
    for (const GatherTerm &g : l.gathers) {
      out += " gather %";
      put_int(out, g.instr);
      out += '*';
      put_int(out, g.stride);
      out += " of ";
      put_int(out, g.extent);
      out += " if ";
      put_int(out, g.valid.lo);
      out += ':';
      put_int(out, g.valid.hi);
    }
    if (l.valid.empty()) continue;
    out += " valid";
    for (const ValidRange &r : l.valid) {
      put_int(out, r.lo);
      out += ':';
      put_int(out, r.hi);
      out += ',';
    }
  }
}

void put_instr(std::string &out, const Instr &in) {
  put_int(out, static_cast<int>(in.kind));
  out += ' ';
  out += dtype_name(in.dtype);
  if (in.outer) out += " outer";
  if (in.phase) {
    out += " phase ";
    put_int(out, in.phase);
  }
  switch (in.kind) {
    case InstrKind::Load:
      out += " in";
      put_int(out, in.input);
      put_access(out, in.access);
      if (in.access.masked()) {
        out += " else ";
        put_bits(out, in.value);
      }
      break;
    case InstrKind::Valid:
      put_access(out, in.access);
      break;
    case InstrKind::Iota:
      put_access(out, in.access);
      if (in.access.masked()) {
        out += " else ";
        put_bits(out, in.value);
      }
      break;
    case InstrKind::Const:
      out += ' ';
      put_bits(out, in.value);
      break;
    case InstrKind::Compute:
      out += ' ';
      out += op_name(in.op);
      break;
    case InstrKind::Reduced:
      break;
  }
  for (int a : in.args) {
    out += " %";
    put_int(out, a);
  }
  out += '\n';
}

// Leaves out the kernel's name, its buffer numbers and its `ops` list: they
// differ between plans that need the same code.
void put_kernel(std::string &out, const Kernel &k) {
  const Reduction red = k.reduction.value_or(Reduction{});
  out += kernel_kind_name(k.kind());
  out += ' ';
  out += dtype_name(k.dtype);
  out += " domain ";
  put_ints(out, k.domain);
  out += " reduce ";
  put_int(out, static_cast<int64_t>(k.num_reduce));
  out += ' ';
  out += op_name(red.op);
  out += " %";
  put_int(out, red.value);
  out += " * ";
  put_bits(out, red.scale);
  for (const Reduction &r : k.rows) {
    out += " row ";
    out += op_name(r.op);
    out += " %";
    put_int(out, r.value);
    out += " * ";
    put_bits(out, r.scale);
  }
  out += '\n';
  for (const KernelInput &in : k.inputs) {
    out += "input ";
    out += dtype_name(in.dtype);
    out += ' ';
    put_ints(out, in.shape);
    out += '\n';
  }
  for (const Instr &in : k.body) put_instr(out, in);
  for (const KernelOutput &o : k.outputs) {
    out += "output %";
    put_int(out, o.instr);
    out += '\n';
  }
}

// The first line: the lowering, LLVM and the host, fixed for the process.
std::string process_line(Numerics numerics) {
  std::string line = "fusejit kernel, lowering v" + std::to_string(kLoweringVersion) + " " +
                     kCodegenSourceHash + ", LLVM " + LLVM_VERSION_STRING + ", host " +
                     host_cpu_description() + ", " + numerics_name(numerics);
  // Fast kernels call libmvec only if the process could load it.
  if (numerics == Numerics::Fast && load_vector_math_library())
    line += vector_tanh_available() ? " libmvec+tanh" : " libmvec";
  return line + '\n';
}

// The process's line and the two FNV-1a states after it: FNV-1a hashes
// byte by byte, so a key hashes on from them over the kernel's text alone.
struct ProcessPart {
  std::string line;
  uint64_t hash_a, hash_b;
};

constexpr uint64_t kSecondBasis = 0x84222325cbf29ce4ULL;

ProcessPart process_part(Numerics numerics) {
  std::string line = process_line(numerics);
  uint64_t a = fnv1a64(line, kFnv1aBasis), b = fnv1a64(line, kSecondBasis);
  return {std::move(line), a, b};
}

const ProcessPart &process_part_once(Numerics numerics) {
  switch (numerics) {
    case Numerics::Fast: {
      static const ProcessPart fast = process_part(Numerics::Fast);
      return fast;
    }
    case Numerics::Strict: {
      static const ProcessPart strict = process_part(Numerics::Strict);
      return strict;
    }
  }
  throw InternalError("kernel key: unknown numerics " + std::to_string(static_cast<int>(numerics)));
}

// splitmix64's mixer, so that every input bit reaches every output bit.
uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

std::string kernel_key_text(const Kernel &k, Numerics numerics) {
  std::string text = process_part_once(numerics).line;
  put_kernel(text, k);
  return text;
}

// Two 64-bit FNV-1a passes over kernel_key_text from different offset
// bases, each mixed.
std::string kernel_cache_key(const Kernel &k, Numerics numerics) {
  const ProcessPart &process = process_part_once(numerics);
  std::string text;
  text.reserve(512);
  put_kernel(text, k);
  char key[40];
  std::snprintf(key, sizeof key, "k%016llx%016llx",
                static_cast<unsigned long long>(mix(fnv1a64(text, process.hash_a))),
                static_cast<unsigned long long>(mix(fnv1a64(text, process.hash_b))));
  return key;
}

}  // namespace fusejit
