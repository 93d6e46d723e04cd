// libFuzzer target for the `.npy` reader: any bytes give a buffer or an
// IOError, never a read past the input or an allocation the data cannot
// back; and what it reads writes back to bytes it reads the same again.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ir/error.h"
#include "runtime/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace fusejit;
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  Buffer b;
  try {
    b = parse_npy(bytes, "fuzz.npy");
  } catch (const IOError &) {
    return 0;
  }
  Buffer again = parse_npy(encode_npy(b), "encoded.npy");
  if (again.dtype() != b.dtype() || again.shape() != b.shape() ||
      std::memcmp(again.raw(), b.raw(), b.bytes()) != 0)
    std::abort();
  return 0;
}
