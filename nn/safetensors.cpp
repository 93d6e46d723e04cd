// The safetensors format: 8 bytes of little-endian header length N, N bytes
// of JSON ({"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b,
// e]}, ..., "__metadata__": {...}}, offsets relative to the data's start),
// then the data.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include <fusejit/error.h>
#include <fusejit/serialize.h>

namespace fusejit {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader reads it in place");

namespace {

using Json = nlohmann::ordered_json;

const char *st_dtype(DType t) { return t == DType::F64 ? "F64" : "F32"; }

// A read-only private mapping of a whole file, unmapped with the last user.
struct Mapping {
  void *data = nullptr;
  size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  ~Mapping() {
    if (data) munmap(data, size);
  }
};

std::shared_ptr<Mapping> map_file(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IOError("load: cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IOError("load: '" + path + "' is not a regular file");
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    void *p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw IOError("load: cannot map '" + path + "': " + std::strerror(errno));
    }
    m->data = p;
  }
  ::close(fd);
  return m;
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalize
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

float bfloat_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

[[noreturn]] void bad(const std::string &path, const std::string &what) {
  throw IOError("load: '" + path + "': " + what);
}

std::string shape_str(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

void save(const NamedTensors &tensors, const std::string &path) {
  std::vector<Tensor> all;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &[name, t] = tensors[i];
    if (name.empty() || name == "__metadata__")
      throw ValueError("save: entry " + std::to_string(i) + " has the reserved name '" + name +
                       "'");
    for (size_t j = 0; j < i; ++j)
      if (tensors[j].first == name) throw ValueError("save: the name '" + name + "' is repeated");
    if (!t.defined()) throw ValueError("save: '" + name + "' is undefined");
    if (t.dtype() != DType::F32 && t.dtype() != DType::F64)
      throw ValueError("save: '" + name + "' is " + dtype_name(t.dtype()) +
                       "; only f32 and f64 are written");
    all.push_back(t);
  }
  realize(all);
  Json header = Json::object();
  uint64_t offset = 0;
  for (const auto &[name, t] : tensors) {
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", st_dtype(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');  // the data starts 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IOError("save: cannot open '" + path + "' for writing");
  uint64_t n = text.size();
  out.write(reinterpret_cast<const char *>(&n), sizeof n);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto &[name, t] : tensors) {
    const void *p = t.dtype() == DType::F64 ? static_cast<const void *>(t.data_ptr<double>())
                                            : static_cast<const void *>(t.data_ptr<float>());
    out.write(
        static_cast<const char *>(p),
        static_cast<std::streamsize>(t.numel() * static_cast<int64_t>(dtype_size(t.dtype()))));
  }
  out.close();
  if (!out) throw IOError("save: writing '" + path + "' failed");
}

NamedTensors load(const std::string &path) {
  std::shared_ptr<Mapping> m = map_file(path);
  const auto *base = static_cast<const unsigned char *>(m->data);
  if (m->size < 8)
    bad(path, std::to_string(m->size) + " bytes, shorter than the 8-byte header length");
  uint64_t n;
  std::memcpy(&n, base, sizeof n);
  if (n > m->size - 8)
    bad(path, "the header length " + std::to_string(n) + " runs past the end of the file (" +
                  std::to_string(m->size) + " bytes)");
  Json header;
  try {
    header = Json::parse(base + 8, base + 8 + n);
  } catch (const Json::exception &e) {
    bad(path, std::string("the header is not JSON: ") + e.what());
  }
  if (!header.is_object()) bad(path, "the header is not a JSON object");
  const unsigned char *data = base + 8 + n;
  uint64_t data_size = m->size - 8 - n;
  NamedTensors out;
  for (const auto &[name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    std::string at = "entry '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets") || !entry["dtype"].is_string() ||
        !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      bad(path, at + " lacks a string dtype, a shape list or two data_offsets: " + entry.dump());
    Shape shape;
    int64_t numel = 1;
    for (const Json &d : entry["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 40))
        bad(path, at + ": a bad extent in shape " + entry["shape"].dump());
      shape.push_back(d.get<int64_t>());
      if (numel > (int64_t{1} << 40) / std::max<int64_t>(shape.back(), 1))
        bad(path, at + ": shape " + entry["shape"].dump() + " is too large");
      numel *= shape.back();
    }
    for (const Json &o : entry["data_offsets"])
      if (!o.is_number_unsigned())
        bad(path, at + ": bad data_offsets " + entry["data_offsets"].dump());
    auto begin = entry["data_offsets"][0].get<uint64_t>();
    auto end = entry["data_offsets"][1].get<uint64_t>();
    std::string dtype = entry["dtype"].get<std::string>();
    size_t size = dtype == "F64"                      ? 8
                  : dtype == "F32"                    ? 4
                  : dtype == "F16" || dtype == "BF16" ? 2
                                                      : 0;
    if (size == 0) {
      std::string why = at;
      why += " has dtype ";
      why += dtype;
      why += "; F32, F64, F16 and BF16 are read";
      bad(path, why);
    }
    if (begin > end || end > data_size)
      bad(path, std::string(at)
                    .append(": data_offsets [")
                    .append(std::to_string(begin))
                    .append(", ")
                    .append(std::to_string(end))
                    .append("] do not fit the ")
                    .append(std::to_string(data_size))
                    .append(" data bytes"));
    if (end - begin != static_cast<uint64_t>(numel) * size)
      bad(path, std::string(at)
                    .append(": ")
                    .append(std::to_string(end - begin))
                    .append(" bytes for ")
                    .append(dtype)
                    .append(shape_str(shape))
                    .append(", which needs ")
                    .append(std::to_string(static_cast<uint64_t>(numel) * size)));
    const unsigned char *p = data + begin;
    auto count = static_cast<size_t>(numel);
    Tensor t;
    if (size == 2) {
      std::vector<float> v(count);
      for (size_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        v[i] = dtype == "F16" ? half_to_float(h) : bfloat_to_float(h);
      }
      t = Tensor::from_vector(v, shape);
    } else if (reinterpret_cast<uintptr_t>(p) % size == 0 && count > 0) {
      // In place: the tensor keeps the mapping alive.
      t = Tensor::from_blob(
          const_cast<unsigned char *>(p), shape, [m](void *) {},
          size == 8 ? DType::F64 : DType::F32);
    } else if (size == 8) {
      std::vector<double> v(count);
      if (count) std::memcpy(v.data(), p, count * 8);
      t = Tensor::from_vector(v, shape);
    } else {
      std::vector<float> v(count);
      if (count) std::memcpy(v.data(), p, count * 4);
      t = Tensor::from_vector(v, shape);
    }
    out.emplace_back(name, t);
  }
  return out;
}

}  // namespace fusejit
