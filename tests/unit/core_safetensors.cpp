// Safetensors reader tests: valid single and sharded files, and every corruption the reader
// must reject with an InputError naming the file and the tensor or field. Files are written
// by the test (core_safetensors_writer.h); nothing is read from fixtures.
#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/hash.h"
#include "core_safetensors_writer.h"
#include "io/json_strict.h"
#include "io/safetensors.h"

namespace lossgap {
namespace {

using ::testing::HasSubstr;
using namespace lossgap::testing;
namespace fs = std::filesystem;

// Opens `bytes` written to dir/name as one file and returns the InputError it must raise.
InputError open_error(const fs::path& path, const std::string& bytes) {
  write_file(path, bytes);
  try {
    SafetensorsFile::open(path);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError for " << path;
  return InputError("", "");
}

// The message names the file and contains every fragment.
void expect_names(const InputError& e, const fs::path& file, std::initializer_list<std::string> fragments) {
  EXPECT_EQ(e.where(), file.string()) << e.what();
  for (const auto& f : fragments) EXPECT_THAT(std::string(e.what()), HasSubstr(f));
}

TEST(Safetensors, ReadsDtypesShapesValuesAndMetadata) {
  fs::path d = fresh_dir();
  TestTensor a = f32_tensor("a.weight", {2, 3}, 1.0f);
  TestTensor b = bf16_tensor("b.weight", {4}, -2.0f);
  TestTensor c{"c.half", "F16", {2}, std::string("\x00\x3c\x00\xc0", 4)};  // 1.0, -2.0
  TestTensor e{"empty", "F32", {0, 5}, ""};
  write_file(d / "m.safetensors", make_safetensors({a, b, c, e}, {{"format", "pt"}}));
  SafetensorsFile f = SafetensorsFile::open(d / "m.safetensors");
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const TensorView* va = f.find("a.weight");
  ASSERT_NE(va, nullptr);
  EXPECT_EQ(va->dtype, DType::F32);
  EXPECT_EQ(va->shape, (std::vector<int64_t>{2, 3}));
  float out[6];
  to_f32(*va, 0, 6, out);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], 1.0f + i);
  const TensorView* vb = f.find("b.weight");
  ASSERT_NE(vb, nullptr);
  EXPECT_EQ(vb->dtype, DType::BF16);
  to_f32(*vb, 0, 4, out);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], -2.0f + i);
  const TensorView* vc = f.find("c.half");
  ASSERT_NE(vc, nullptr);
  to_f32(*vc, 0, 2, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(f.find("empty")->numel(), 0);
  EXPECT_EQ(f.find("missing"), nullptr);
}

TEST(Safetensors, MisalignedDataIsCopiedAligned) {
  fs::path d = fresh_dir();
  TestTensor a = f32_tensor("a", {5}, 3.0f);
  // align=1: no padding, so the data section may start at an odd address.
  std::string bytes = make_safetensors({a}, nullptr, 1);
  while ((bytes.size() - a.bytes.size()) % 4 == 0) bytes = make_safetensors({a}, {{"p", std::string(bytes.size() % 7 + 1, 'x')}}, 1);
  write_file(d / "m.safetensors", bytes);
  SafetensorsFile f = SafetensorsFile::open(d / "m.safetensors");
  const TensorView* v = f.find("a");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v->data) % 4, 0u);
  float out[5];
  to_f32(*v, 0, 5, out);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], 3.0f + i);
}

TEST(Safetensors, FileShorterThanLengthPrefix) {
  fs::path d = fresh_dir();
  expect_names(open_error(d / "x.safetensors", "abc"), d / "x.safetensors", {"3 bytes", "8-byte header length"});
}

TEST(Safetensors, HeaderLengthPastEndOfFile) {
  fs::path d = fresh_dir();
  std::string bytes = make_safetensors({f32_tensor("a", {2})});
  bytes.resize(20);  // keeps the length prefix, cuts the header
  expect_names(open_error(d / "x.safetensors", bytes), d / "x.safetensors", {"header length", "past the end of the file", "20 bytes"});
}

TEST(Safetensors, HeaderLengthAboveFormatLimit) {
  fs::path d = fresh_dir();
  std::string bytes(16, '\xff');
  expect_names(open_error(d / "x.safetensors", bytes), d / "x.safetensors", {"exceeds the format's limit"});
}

TEST(Safetensors, BadJson) {
  fs::path d = fresh_dir();
  expect_names(open_error(d / "x.safetensors", raw_safetensors("{\"a\": {\"dtype\": ", "")), d / "x.safetensors (header)",
               {"invalid JSON"});
}

TEST(Safetensors, NumberBeyondDoubleIsInvalidJson) {
  // Regression (libFuzzer): nlohmann throws out_of_range, not parse_error, for 1e999.
  fs::path d = fresh_dir();
  expect_names(open_error(d / "x.safetensors", raw_safetensors("[77e777777]", "")), d / "x.safetensors (header)",
               {"invalid JSON", "number overflow"});
}

TEST(Safetensors, HeaderNotAnObject) {
  fs::path d = fresh_dir();
  expect_names(open_error(d / "x.safetensors", raw_safetensors("[1, 2]", "")), d / "x.safetensors", {"JSON object"});
}

TEST(Safetensors, DuplicateTensorName) {
  fs::path d = fresh_dir();
  std::string h = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
  expect_names(open_error(d / "x.safetensors", raw_safetensors(h, std::string(8, '\0'))), d / "x.safetensors (header)",
               {"duplicate key 'a'"});
}

TEST(Safetensors, UnsupportedAndUnknownDtypes) {
  fs::path d = fresh_dir();
  TestTensor t{"tok.ids", "I64", {2}, std::string(16, '\0')};
  expect_names(open_error(d / "x.safetensors", make_safetensors({t})), d / "x.safetensors",
               {"tensor 'tok.ids'", "dtype I64 is not supported", "F32, F16, BF16"});
  TestTensor u{"w", "Q4_K", {2}, std::string(8, '\0')};
  expect_names(open_error(d / "y.safetensors", make_safetensors({u})), d / "y.safetensors",
               {"tensor 'w'", "unknown dtype 'Q4_K'"});
}

TEST(Safetensors, OffsetsOutOfRangeTruncatedData) {
  fs::path d = fresh_dir();
  std::string bytes = make_safetensors({f32_tensor("a", {2}), f32_tensor("b", {4})});
  bytes.resize(bytes.size() - 3);  // the last tensor loses its tail
  expect_names(open_error(d / "x.safetensors", bytes), d / "x.safetensors",
               {"tensor 'b'", "run past the end of the data", "truncated"});
}

TEST(Safetensors, OverlappingOffsets) {
  fs::path d = fresh_dir();
  std::string h = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  expect_names(open_error(d / "x.safetensors", raw_safetensors(h, std::string(12, '\0'))), d / "x.safetensors",
               {"tensor 'b'", "overlap", "tensor 'a'"});
}

TEST(Safetensors, DtypeShapeMismatch) {
  fs::path d = fresh_dir();
  // 3 F32 elements need 12 bytes; the offsets hold 8.
  std::string h = R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})";
  expect_names(open_error(d / "x.safetensors", raw_safetensors(h, std::string(8, '\0'))), d / "x.safetensors",
               {"tensor 'w'", "hold 8 bytes", "needs 12"});
  // Same bytes, declared BF16 [3] = 6 bytes.
  std::string h2 = R"({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}})";
  expect_names(open_error(d / "y.safetensors", raw_safetensors(h2, std::string(8, '\0'))), d / "y.safetensors",
               {"tensor 'w'", "BF16", "needs 6"});
}

TEST(Safetensors, MalformedEntries) {
  fs::path d = fresh_dir();
  struct Case {
    std::string header, fragment;
  } cases[] = {
      {R"({"w": {"dtype": "F32", "shape": [1]}})", "missing field 'data_offsets'"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": 1}})", "unknown field 'extra'"},
      {R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "shape entry must be a non-negative integer"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", "end before begin"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", "data_offsets must be [begin, end]"},
      {R"({"w": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}})", "dtype must be a string"},
      {R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 4]}})", "too large"},
      {R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})", "too many elements"},
      {R"({"w": [1, 2]})", "entry must be an object"},
  };
  int i = 0;
  for (const auto& c : cases) {
    fs::path p = d / ("c" + std::to_string(i++) + ".safetensors");
    expect_names(open_error(p, raw_safetensors(c.header, std::string(4, '\0'))), p, {"tensor 'w'", c.fragment});
  }
  fs::path p = d / "meta.safetensors";
  expect_names(open_error(p, raw_safetensors(R"({"__metadata__": {"k": 1}})", "")), p, {"__metadata__.k must be a string"});
}

// ---------------------------------------------------------------------------------------------
// Sharded sets

// Writes two shards and an index mapping each tensor to its shard; `edit` may alter the map.
fs::path write_sharded(const fs::path& d, const std::function<void(nlohmann::json&)>& edit = nullptr) {
  write_file(d / "model-00001-of-00002.safetensors", make_safetensors({f32_tensor("a", {2}), f32_tensor("b", {3})}));
  write_file(d / "model-00002-of-00002.safetensors", make_safetensors({bf16_tensor("c", {4})}));
  nlohmann::json idx = {{"metadata", {{"total_size", 28}}},
                        {"weight_map",
                         {{"a", "model-00001-of-00002.safetensors"},
                          {"b", "model-00001-of-00002.safetensors"},
                          {"c", "model-00002-of-00002.safetensors"}}}};
  if (edit) edit(idx);
  write_file(d / "model.safetensors.index.json", idx.dump(2));
  return d / "model.safetensors.index.json";
}

InputError open_dir_error(const fs::path& d) {
  try {
    SafetensorsSet::open_dir(d);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError for " << d;
  return InputError("", "");
}

TEST(SafetensorsSet, ShardedReadsEveryTensorFromItsShard) {
  fs::path d = fresh_dir();
  write_sharded(d);
  SafetensorsSet s = SafetensorsSet::open_dir(d);
  EXPECT_TRUE(s.sharded());
  EXPECT_EQ(s.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.file_of("c"), d / "model-00002-of-00002.safetensors");
  float out[4];
  to_f32(*s.find("c"), 0, 4, out);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], static_cast<float>(i));
}

TEST(SafetensorsSet, SingleFileWinsAsInTransformers) {
  fs::path d = fresh_dir();
  write_file(d / "model.safetensors", make_safetensors({f32_tensor("x", {1})}));
  SafetensorsSet s = SafetensorsSet::open_dir(d);
  EXPECT_FALSE(s.sharded());
  EXPECT_EQ(s.names(), (std::vector<std::string>{"x"}));
}

TEST(SafetensorsSet, MissingShard) {
  fs::path d = fresh_dir();
  fs::path idx = write_sharded(d);
  fs::remove(d / "model-00002-of-00002.safetensors");
  expect_names(open_dir_error(d), idx, {"shard 'model-00002-of-00002.safetensors'", "tensor 'c'", "does not exist"});
}

TEST(SafetensorsSet, ListedTensorAbsentFromShard) {
  fs::path d = fresh_dir();
  write_sharded(d, [](nlohmann::json& j) { j["weight_map"]["zz"] = "model-00002-of-00002.safetensors"; });
  expect_names(open_dir_error(d), d / "model-00002-of-00002.safetensors", {"tensor 'zz'", "not in the shard"});
}

TEST(SafetensorsSet, ShardTensorMissingFromMap) {
  fs::path d = fresh_dir();
  write_sharded(d, [](nlohmann::json& j) { j["weight_map"].erase("b"); });
  expect_names(open_dir_error(d), d / "model-00001-of-00002.safetensors", {"tensor 'b'", "not in the weight_map"});
}

TEST(SafetensorsSet, ShardTensorMappedElsewhere) {
  fs::path d = fresh_dir();
  write_sharded(d, [](nlohmann::json& j) { j["weight_map"]["b"] = "model-00002-of-00002.safetensors"; });
  expect_names(open_dir_error(d), d / "model-00002-of-00002.safetensors", {"tensor 'b'", "not in the shard"});
}

TEST(SafetensorsSet, BadIndexes) {
  fs::path d = fresh_dir();
  fs::path idx = write_sharded(d, [](nlohmann::json& j) { j["weight_map"]["a"] = "../elsewhere.safetensors"; });
  expect_names(open_dir_error(d), idx, {"weight_map.a", "inside the checkpoint directory"});
  write_file(idx, R"({"metadata": {}})");
  expect_names(open_dir_error(d), idx, {"weight_map"});
  write_file(idx, R"({"weight_map": {"a": "x"}, "extra": 1})");
  expect_names(open_dir_error(d), idx, {"unknown key 'extra'"});
  write_file(idx, R"({"weight_map": )");
  expect_names(open_dir_error(d), idx, {"invalid JSON"});
}

TEST(SafetensorsSet, NoWeights) {
  fs::path d = fresh_dir();
  expect_names(open_dir_error(d), d, {"no model.safetensors"});
  expect_names(open_dir_error(d / "absent"), d / "absent", {"not a directory"});
}

// ---------------------------------------------------------------------------------------------
// JSON and hashes

TEST(JsonStrict, PythonNonFiniteOptIn) {
  const std::string text = R"({"lim": [0.0, Infinity], "x": -Infinity, "n": NaN, "s": "Infinity, NaN"})";
  EXPECT_THROW(parse_json_strict(text, "f.json"), InputError);
  nlohmann::json j = parse_json_strict(text, "f.json", true);
  EXPECT_EQ(j["lim"][1], "Infinity");
  EXPECT_EQ(j["x"], "-Infinity");
  EXPECT_EQ(j["n"], "NaN");
  EXPECT_EQ(j["s"], "Infinity, NaN");
}

TEST(JsonStrict, NestedDuplicateNamesItsObject) {
  try {
    parse_json_strict(R"({"a": {"b": 1, "b": 2}})", "f.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "f.json");
    EXPECT_THAT(std::string(e.what()), HasSubstr("duplicate key 'b' in object 'a'"));
  }
}

// The digest of `path` by the coreutils tool: an independent implementation.
std::string coreutils_sha256(const fs::path& path) {
  std::string cmd = "sha256sum '" + path.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  char buf[128] = {};
  std::string out = fgets(buf, sizeof buf, p) ? std::string(buf) : "";
  pclose(p);
  return out.substr(0, 64);
}

TEST(Hash, Sha256MatchesCoreutils) {
  fs::path d = fresh_dir();
  std::string big(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  for (const std::string& content : {std::string(), std::string("abc"), big}) {
    write_file(d / "f.bin", content);
    const std::string want = coreutils_sha256(d / "f.bin");
    if (want.size() != 64) GTEST_SKIP() << "sha256sum not available";
    EXPECT_EQ(sha256_file(d / "f.bin"), want);
    EXPECT_EQ(sha256_bytes(content), want);
    Sha256 h;
    h.update(content.substr(0, content.size() / 3));
    h.update(content.substr(content.size() / 3));
    EXPECT_EQ(h.hex_digest(), want);
  }
  EXPECT_THROW(sha256_file(d / "absent"), InputError);
}

}  // namespace
}  // namespace lossgap
