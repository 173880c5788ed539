// Id-for-id and offset-for-offset parity of lossgap's tokenizer with Hugging Face, on the
// reference outputs that tools/make_tokenizer_fixtures.py recorded (transformers' AutoTokenizer
// for from_dir, the raw tokenizers pipeline for from_files without a config). Genuine
// tokenizers are read from ../shared/data/tokenizers (skipped when absent); trained ones from
// tests/fixtures/tokenizers/trained.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kRegen =
    "regenerate with: python3 tools/make_tokenizer_fixtures.py --shared <data/tokenizers> --out "
    "tests/fixtures/tokenizers (on a machine with transformers 5.x)";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> expected_names() {
  std::vector<std::string> out;
  const fs::path d = fs::path(LOSSGAP_FIXTURES_DIR) / "tokenizers" / "expected";
  if (!fs::exists(d)) return out;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

template <class A, class B>
std::string first_diff(const A& got, const B& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  std::ostringstream os;
  os << "first difference at index " << i << " (sizes " << got.size() << " vs " << want.size()
     << ")";
  auto show = [&os, i](const char* what, const auto& v) {
    os << "\n  " << what << ":";
    for (size_t k = i >= 3 ? i - 3 : 0; k < std::min(v.size(), i + 4); ++k) os << " " << ::testing::PrintToString(v[k]);
  };
  show("lossgap", got);
  show("HF     ", want);
  return os.str();
}

std::vector<std::pair<uint32_t, uint32_t>> offsets_of(const json& j) {
  std::vector<std::pair<uint32_t, uint32_t>> v;
  for (const auto& o : j) v.emplace_back(o[0].get<uint32_t>(), o[1].get<uint32_t>());
  return v;
}

class Parity : public ::testing::TestWithParam<std::string> {};

TEST_P(Parity, MatchesHuggingFace) {
  const std::string name = GetParam();
  const json ref = json::parse(slurp(fs::path(LOSSGAP_FIXTURES_DIR) / "tokenizers" / "expected" / (name + ".json")));
  if (ref.contains("error")) GTEST_SKIP() << "HF itself failed to load " << name << ": " << ref["error"];
  const std::string kind = ref["tokenizer"]["kind"];
  fs::path dir = kind == "shared" ? fs::path(LOSSGAP_SHARED_DIR) / "data" / "tokenizers" / name
                                  : fs::path(LOSSGAP_FIXTURES_DIR) / "tokenizers" / "trained" / name;
  if (!fs::exists(dir / "tokenizer.json")) GTEST_SKIP() << dir << " is absent (needs ../shared)";
  const auto tok = lossgap::Tokenizer::from_dir(dir);
  const auto raw = lossgap::Tokenizer::from_files(dir / "tokenizer.json", std::nullopt);
  for (const json& c : ref["cases"]) {
    const std::string file = c["text_file"];
    SCOPED_TRACE(name + " / " + file + " (" + ref["auto_class"].get<std::string>() + ")");
    const std::string text = slurp(fs::path(LOSSGAP_SOURCE_DIR) / "tools" / "tokenizer_texts" / file);

    const auto ids = c["ids"].get<std::vector<int32_t>>();
    const auto enc = tok.encode(text);
    EXPECT_EQ(enc.ids, ids) << first_diff(enc.ids, ids) << "\n" << kRegen;
    if (enc.ids == ids) {
      const auto offs = offsets_of(c["offsets"]);
      EXPECT_EQ(enc.offsets, offs) << first_diff(enc.offsets, offs);
    }
    const auto nos = c["ids_no_special"].get<std::vector<int32_t>>();
    const auto enc2 = tok.encode(text, false);
    EXPECT_EQ(enc2.ids, nos) << first_diff(enc2.ids, nos);
    EXPECT_EQ(tok.decode(ids), c["decode"].get<std::string>());
    EXPECT_EQ(tok.decode(ids, true), c["decode_skip_special"].get<std::string>());

    const auto rids = c["raw_ids"].get<std::vector<int32_t>>();
    const auto renc = raw.encode(text);
    EXPECT_EQ(renc.ids, rids) << "raw tokenizers pipeline: " << first_diff(renc.ids, rids);
    if (renc.ids == rids) {
      const auto roffs = offsets_of(c["raw_offsets"]);
      EXPECT_EQ(renc.offsets, roffs) << "raw tokenizers pipeline: " << first_diff(renc.offsets, roffs);
    }
    EXPECT_EQ(raw.encode(text, false).ids, c["raw_ids_no_special"].get<std::vector<int32_t>>());
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Parity, ::testing::ValuesIn(expected_names()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Parity);

}  // namespace
