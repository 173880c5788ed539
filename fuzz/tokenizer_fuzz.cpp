// libFuzzer target: the first input byte picks a mode. Mode 0 loads the rest as tokenizer.json
// (errors must be InputError, never a crash); otherwise the rest is encoded (and decoded) with
// the trained llama3 fixture tokenizer, valid UTF-8 or not.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

#ifndef LOSSGAP_FUZZ_FIXTURES
#define LOSSGAP_FUZZ_FIXTURES "tests/fixtures"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 4 == 0) {
    const auto p = std::filesystem::temp_directory_path() / "lossgap_fuzz_tokenizer.json";
    std::ofstream(p, std::ios::binary) << rest;
    try {
      lossgap::Tokenizer::from_files(p, std::nullopt).encode("fuzz text 123");
    } catch (const lossgap::InputError&) {
    }
    return 0;
  }
  static const lossgap::Tokenizer tok = lossgap::Tokenizer::from_dir(
      std::filesystem::path(LOSSGAP_FUZZ_FIXTURES) / "tokenizers" / "trained" / "llama3");
  try {
    const auto e = tok.encode(rest);
    for (size_t i = 0; i < e.ids.size(); ++i)
      if (e.offsets[i].second > rest.size() || e.offsets[i].first > e.offsets[i].second) __builtin_trap();
    tok.decode(e.ids);
  } catch (const lossgap::InputError&) {
  }
  return 0;
}
