// Golden parity with Hugging Face transformers 5.17 (fp32, CPU) on the tiny fixture checkpoints
// in tests/fixtures/models/ (made by tools/make_model_fixtures.py; docs/fixtures.md).
// For every case directory: the tokenizer must give the recorded ids exactly, and the model must
// give every recorded log-probability (and predictive entropy) within 1e-4.
// Not a test of scoring windows or BOS policy: each text is one window scored from position 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kTolerance = 1e-4;  // |Δ| allowed per target token (nats)
constexpr int kShown = 8;            // differing positions printed on a failure

fs::path models_dir() { return fs::path(LOSSGAP_FIXTURES_DIR) / "models"; }

// Every directory under tests/fixtures/models/ holding an expected.json, sorted by name.
std::vector<std::string> case_names() {
  std::vector<std::string> names;
  if (!fs::is_directory(models_dir())) return names;
  for (const auto& entry : fs::directory_iterator(models_dir())) {
    if (entry.is_directory() && fs::exists(entry.path() / "expected.json")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

// The command that rebuilds the fixtures, as the manifest records it.
std::string regenerate_hint() {
  const fs::path manifest = models_dir() / "MANIFEST.json";
  std::string command = "python3 tools/make_model_fixtures.py --out tests/fixtures/models";
  if (fs::exists(manifest)) command = read_json(manifest).at("command").get<std::string>();
  return "(fixtures made by transformers; to regenerate, on a machine with torch and "
         "transformers 5.17, from the repository root: " +
         command + ")";
}

// "pos 12: expected 5 got 7" lines for the first differing positions of two id lists.
std::string id_diff(const std::vector<int32_t>& want, const std::vector<int32_t>& got) {
  std::ostringstream out;
  out << "lengths: expected " << want.size() << ", got " << got.size() << "\n";
  int shown = 0;
  for (size_t i = 0; i < std::max(want.size(), got.size()) && shown < kShown; ++i) {
    const bool has_w = i < want.size(), has_g = i < got.size();
    if (has_w && has_g && want[i] == got[i]) continue;
    out << "  pos " << i << ": expected " << (has_w ? std::to_string(want[i]) : "-") << " got "
        << (has_g ? std::to_string(got[i]) : "-") << "\n";
    ++shown;
  }
  return out.str();
}

class ModelParity : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = models_dir() / GetParam();
    expected_ = read_json(dir_ / "expected.json");
  }
  size_t n_texts() const { return expected_.at("texts").size(); }
  std::vector<int32_t> ids(size_t i) const {
    return expected_.at("ids").at(i).get<std::vector<int32_t>>();
  }

  fs::path dir_;
  json expected_;
};

TEST_P(ModelParity, TokenIdsMatchTransformers) {
  const lossgap::Tokenizer tok = lossgap::Tokenizer::from_dir(dir_);
  for (size_t i = 0; i < n_texts(); ++i) {
    const std::string text = expected_.at("texts").at(i).get<std::string>();
    const std::vector<int32_t> want = ids(i);
    const std::vector<int32_t> got = tok.encode(text).ids;
    EXPECT_EQ(got, want) << GetParam() << ", text " << i << ": token ids differ from "
                         << "AutoTokenizer(text)\n"
                         << id_diff(want, got) << regenerate_hint();
  }
}

TEST_P(ModelParity, LogProbsMatchTransformers) {
  const std::unique_ptr<lossgap::Model> model = lossgap::Model::load(dir_);
  ASSERT_NE(model, nullptr);
  for (size_t i = 0; i < n_texts(); ++i) {
    const std::vector<int32_t> in = ids(i);
    const auto want_lp = expected_.at("logprobs").at(i).get<std::vector<double>>();
    const auto want_ent = expected_.at("entropies").at(i).get<std::vector<double>>();
    ASSERT_EQ(want_lp.size() + 1, in.size()) << "expected.json is inconsistent";

    const std::vector<lossgap::TokenScore> got = model->score(in, 1);
    ASSERT_EQ(got.size(), want_lp.size()) << GetParam() << ", text " << i;

    // Target t (0-based among the records) is ids[t + 1], predicted from position t.
    std::ostringstream detail;
    int bad_lp = 0, bad_ent = 0;
    double worst_lp = 0, worst_ent = 0;
    for (size_t t = 0; t < got.size(); ++t) {
      const double d_lp = std::abs(double(got[t].logprob) - want_lp[t]);
      const double d_ent = std::abs(double(got[t].entropy) - want_ent[t]);
      worst_lp = std::max(worst_lp, d_lp);
      worst_ent = std::max(worst_ent, d_ent);
      if (!(d_lp <= kTolerance) || !(d_ent <= kTolerance)) {
        if (bad_lp + bad_ent < kShown) {
          detail << "  target " << t << " (token " << in[t + 1] << " at position " << t + 1
                 << "): logprob expected " << want_lp[t] << " got " << got[t].logprob
                 << "; entropy expected " << want_ent[t] << " got " << got[t].entropy << "\n";
        }
        bad_lp += !(d_lp <= kTolerance);
        bad_ent += !(d_ent <= kTolerance);
      }
    }
    RecordProperty("text" + std::to_string(i) + "_max_abs_diff_logprob", std::to_string(worst_lp));
    RecordProperty("text" + std::to_string(i) + "_max_abs_diff_entropy", std::to_string(worst_ent));
    EXPECT_TRUE(bad_lp == 0 && bad_ent == 0)
        << GetParam() << ", text " << i << ": " << bad_lp << " log-probs and " << bad_ent
        << " entropies of " << got.size() << " targets off by more than " << kTolerance
        << " (max |Δ| logprob " << worst_lp << ", entropy " << worst_ent << ")\n"
        << detail.str() << regenerate_hint();
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelParity, testing::ValuesIn(case_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;  // case names are [a-z0-9_]
                         });

// The committed fixtures must be there: an empty list would make the suite above pass vacuously.
TEST(ModelParityFixtures, CasesArePresent) {
  EXPECT_FALSE(case_names().empty()) << "no case directories with expected.json under "
                                     << models_dir() << " " << regenerate_hint();
}

}  // namespace
