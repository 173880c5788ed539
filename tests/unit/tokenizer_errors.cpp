// Error paths and scaling of the tokenizer: invalid UTF-8, unsupported tokenizer.json
// components (each error names the file and field), and linear time on long documents.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path write_json(const std::string& name, const json& j) {
  const fs::path p = fs::temp_directory_path() / ("lossgap_tok_" + name + ".json");
  std::ofstream(p) << j.dump();
  return p;
}

// A minimal byte-level BPE file built in the test: vocab of the 256 byte characters and no merges.
json tiny_byte_level() {
  json vocab = json::object();
  // GPT-2 bytes_to_unicode, written independently of the library.
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    const int cp = printable ? b : 256 + n++;
    std::string s;
    if (cp < 0x80) s += char(cp);
    else { s += char(0xC0 | (cp >> 6)); s += char(0x80 | (cp & 0x3F)); }
    vocab[s] = b;
  }
  return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"added_tokens", json::array()}};
}

TEST(TokenizerErrors, InvalidUtf8NamesTheByte) {
  const auto p = write_json("tiny", tiny_byte_level());
  const auto tok = lossgap::Tokenizer::from_files(p, std::nullopt);
  try {
    tok.encode(std::string("ok \xC3\x28 bad"));
    FAIL() << "no throw";
  } catch (const lossgap::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("byte 3"), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, UnsupportedModelNamesTheFile) {
  json j = tiny_byte_level();
  j["model"] = {{"type", "Unigram"}, {"vocab", json::array()}};
  const auto p = write_json("unigram", j);
  try {
    lossgap::Tokenizer::from_files(p, std::nullopt);
    FAIL() << "no throw";
  } catch (const lossgap::InputError& e) {
    EXPECT_NE(e.where().find(p.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Unigram"), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, UnsupportedComponentsAndBadMerges) {
  for (const auto& [field, value] : std::vector<std::pair<std::string, json>>{
           {"normalizer", {{"type", "Precompiled"}}},
           {"pre_tokenizer", {{"type", "UnicodeScripts"}}},
           {"decoder", {{"type", "CTC"}}},
           {"post_processor", {{"type", "Unknown"}}}}) {
    json j = tiny_byte_level();
    j[field] = value;
    const auto p = write_json("bad_" + field, j);
    try {
      lossgap::Tokenizer::from_files(p, std::nullopt);
      FAIL() << field << ": no throw";
    } catch (const lossgap::InputError& e) {
      EXPECT_NE(e.where().find(field), std::string::npos) << e.what();
    }
  }
  json j = tiny_byte_level();
  j["model"]["merges"] = json::array({"a zz"});
  EXPECT_THROW(lossgap::Tokenizer::from_files(write_json("badmerge", j), std::nullopt), lossgap::InputError);
}

TEST(TokenizerErrors, RandomBytesNeverCrash) {
  const auto tok = lossgap::Tokenizer::from_files(write_json("tiny2", tiny_byte_level()), std::nullopt);
  std::mt19937 rng(7);
  for (int it = 0; it < 2000; ++it) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    try {
      const auto e = tok.encode(s);
      // Valid input: with no merges every byte is one token, and spans cover whole characters.
      EXPECT_EQ(e.ids.size(), s.size());
    } catch (const lossgap::InputError&) {
    }
  }
}

// Encoding time must grow linearly: 8x the text may take at most ~16x the time (slack for noise).
TEST(TokenizerScaling, LinearOnLongDocuments) {
  const fs::path dir = fs::path(LOSSGAP_FIXTURES_DIR) / "tokenizers" / "trained" / "llama3";
  if (!fs::exists(dir / "tokenizer.json")) GTEST_SKIP() << "no trained llama3 fixture";
  const auto tok = lossgap::Tokenizer::from_dir(dir);
  std::mt19937 rng(1);
  const char* words[] = {"the ", "tokenizer ", "12345 ", "  ", "\n", "ünï ", "😀", "x", "(){}; ", "日本語 "};
  std::string unit;
  while (unit.size() < 250000) unit += words[rng() % 10];
  auto time_of = [&](const std::string& s) {
    tok.encode(s);
    const auto a = std::chrono::steady_clock::now();
    tok.encode(s);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
  };
  std::string big;
  for (int k = 0; k < 8; ++k) big += unit;
  const double t1 = time_of(unit), t8 = time_of(big);
  EXPECT_LT(t8, 16 * t1 + 0.05) << "t(1x)=" << t1 << "s t(8x)=" << t8 << "s";
  // One very long word (no pre-tokenizer split): the merge loop is n log n, not quadratic.
  const std::string w1(100000, 'a'), w8(800000, 'a');
  EXPECT_LT(time_of(w8), 16 * time_of(w1) + 0.05);
}

}  // namespace
