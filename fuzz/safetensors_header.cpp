// libFuzzer target for the safetensors header parser: any byte string is a candidate file.
// The parser must either return a validated header or throw InputError; anything else (a
// crash, a sanitizer report, another exception) is a bug. Build: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;  // SafetensorsFile::open rejects these before parsing
  try {
    lossgap::SafetensorsHeader h = lossgap::parse_safetensors_header(data, size, size, "fuzz");
    // Every validated entry lies inside the input.
    for (const auto& e : h.tensors)
      if (h.data_offset + e.end > size || e.begin > e.end) __builtin_trap();
  } catch (const lossgap::InputError&) {
  }
  return 0;
}
