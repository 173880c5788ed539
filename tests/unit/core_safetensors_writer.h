// Test helper: writes small safetensors files (valid or deliberately corrupt) and JSON files
// into a per-test temporary directory. Not a product writer: tests only.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lossgap::testing {

// Raw file: 8-byte little-endian length of `header`, `header`, `data`.
inline std::string raw_safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

struct TestTensor {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16" (or anything, for corrupt files)
  std::vector<int64_t> shape;
  std::string bytes;  // the stored data
};

// F32 tensor with values base, base+1, ...
inline TestTensor f32_tensor(const std::string& name, std::vector<int64_t> shape, float base = 0) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::string bytes(static_cast<size_t>(n) * 4, '\0');
  for (int64_t i = 0; i < n; ++i) {
    float v = base + static_cast<float>(i);
    std::memcpy(bytes.data() + 4 * i, &v, 4);
  }
  return {name, "F32", std::move(shape), std::move(bytes)};
}

// BF16 tensor: the top halves of base, base+1, ... (exact for small integers).
inline TestTensor bf16_tensor(const std::string& name, std::vector<int64_t> shape, float base = 0) {
  TestTensor t = f32_tensor(name, shape, base);
  std::string b(t.bytes.size() / 2, '\0');
  for (size_t i = 0; i < b.size() / 2; ++i) {
    b[2 * i] = t.bytes[4 * i + 2];
    b[2 * i + 1] = t.bytes[4 * i + 3];
  }
  t.dtype = "BF16";
  t.bytes = std::move(b);
  return t;
}

// A valid file: tensors laid out back to back in the given order; the header is padded with
// spaces to a multiple of `align` bytes (safetensors writers use 8; 1 leaves it unpadded).
inline std::string make_safetensors(const std::vector<TestTensor>& ts,
                                    const nlohmann::json& metadata = nullptr, size_t align = 8) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.is_null()) h["__metadata__"] = metadata;
  std::string data;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  std::string header = h.dump();
  while ((8 + header.size()) % align != 0) header += ' ';
  return raw_safetensors(header, data);
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
}

// A fresh empty directory under the system temp dir, named after the running test.
inline std::filesystem::path fresh_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path d = std::filesystem::temp_directory_path() /
                            ("lossgap_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                             std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace lossgap::testing
