// Gated DeltaNet families at the model level, without transformers:
// - the released Qwen3-Next / Qwen3.5 config.json files in ../shared/data/configs parse, and the
//   tensor plan built from each has the tensor names and shapes transformers reads, computed
//   here independently from the raw JSON with the formulas of hf-architectures.md §1.10, §2.6-2.7
//   (skipped when the shared folder is absent);
// - the shipped demo hybrid models/demo/olmo-hybrid-small loads and scores, and the chunked
//   gated delta rule used for long windows gives the same log-probs as the step form used for
//   short ones on the shared prefix.
// Parity with transformers is tests/golden/run_model_parity.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "model/model.h"
#include "model/registry.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lossgap {
namespace {

fs::path configs_dir() { return fs::path(LOSSGAP_SHARED_DIR) / "data" / "configs"; }

std::map<std::string, std::vector<int64_t>> plan_shapes(const TensorPlan& plan) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const TensorSpec& s : plan.specs()) {
    if (s.kind != TensorSpec::Kind::Tied) out[s.name] = s.shape;
  }
  return out;
}

// The tensors of a Qwen3-Next / Qwen3.5 checkpoint, from the raw config JSON.
std::map<std::string, std::vector<int64_t>> expected_qwen_tensors(const json& top) {
  const bool nested = top.contains("text_config");
  const json& c = nested ? top["text_config"] : top;
  const bool next = top["model_type"] == "qwen3_next";
  const int64_t H = c["hidden_size"], V = c["vocab_size"], L = c["num_hidden_layers"];
  const int64_t Hq = c["num_attention_heads"], Hkv = c["num_key_value_heads"], d = c["head_dim"];
  const int64_t Hk = c["linear_num_key_heads"], Hv = c["linear_num_value_heads"];
  const int64_t dk = c["linear_key_head_dim"], dv = c["linear_value_head_dim"];
  const int64_t K = c["linear_conv_kernel_dim"], I = c["intermediate_size"];
  std::vector<std::string> kinds;
  if (c.contains("layer_types")) {
    for (const auto& t : c["layer_types"]) kinds.push_back(t);
  } else {
    const int64_t every = c["full_attention_interval"];
    for (int64_t il = 0; il < L; ++il)
      kinds.push_back((il + 1) % every == 0 ? "full_attention" : "linear_attention");
  }
  const std::string dp = nested ? "model.language_model." : "model.";
  std::map<std::string, std::vector<int64_t>> t;
  t[dp + "embed_tokens.weight"] = {V, H};
  t[dp + "norm.weight"] = {H};
  t["lm_head.weight"] = {V, H};
  for (int64_t il = 0; il < L; ++il) {
    const std::string p = dp + "layers." + std::to_string(il) + ".";
    t[p + "input_layernorm.weight"] = {H};
    t[p + "post_attention_layernorm.weight"] = {H};
    if (kinds[il] == "linear_attention") {
      const std::string a = p + "linear_attn.";
      if (next) {
        t[a + "in_proj_qkvz.weight"] = {2 * Hk * dk + 2 * Hv * dv, H};
        t[a + "in_proj_ba.weight"] = {2 * Hv, H};
      } else {
        t[a + "in_proj_qkv.weight"] = {2 * Hk * dk + Hv * dv, H};
        t[a + "in_proj_z.weight"] = {Hv * dv, H};
        t[a + "in_proj_b.weight"] = {Hv, H};
        t[a + "in_proj_a.weight"] = {Hv, H};
      }
      t[a + "conv1d.weight"] = {2 * Hk * dk + Hv * dv, 1, K};
      t[a + "A_log"] = {Hv};
      t[a + "dt_bias"] = {Hv};
      t[a + "norm.weight"] = {dv};
      t[a + "out_proj.weight"] = {H, Hv * dv};
    } else {
      const std::string a = p + "self_attn.";
      t[a + "q_proj.weight"] = {2 * Hq * d, H};
      t[a + "k_proj.weight"] = {Hkv * d, H};
      t[a + "v_proj.weight"] = {Hkv * d, H};
      t[a + "o_proj.weight"] = {H, Hq * d};
      t[a + "q_norm.weight"] = {d};
      t[a + "k_norm.weight"] = {d};
    }
    const std::string m = p + "mlp.";
    if (next && c["num_experts"] > 0) {
      const int64_t E = c["num_experts"], Ie = c["moe_intermediate_size"],
                    Is = c["shared_expert_intermediate_size"];
      t[m + "gate.weight"] = {E, H};
      for (int64_t e = 0; e < E; ++e) {
        const std::string x = m + "experts." + std::to_string(e) + ".";
        t[x + "gate_proj.weight"] = {Ie, H};
        t[x + "up_proj.weight"] = {Ie, H};
        t[x + "down_proj.weight"] = {H, Ie};
      }
      t[m + "shared_expert.gate_proj.weight"] = {Is, H};
      t[m + "shared_expert.up_proj.weight"] = {Is, H};
      t[m + "shared_expert.down_proj.weight"] = {H, Is};
      t[m + "shared_expert_gate.weight"] = {1, H};
    } else {
      t[m + "gate_proj.weight"] = {I, H};
      t[m + "up_proj.weight"] = {I, H};
      t[m + "down_proj.weight"] = {H, I};
    }
  }
  return t;
}

class RealGdnConfigs : public testing::TestWithParam<std::string> {};

TEST_P(RealGdnConfigs, ParseAndPlanTheReleasedTensors) {
  const fs::path path = configs_dir() / GetParam() / "config.json";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (the shared data folder is optional)";
  std::ifstream in(path);
  const json raw = json::parse(in);
  const ModelConfig cfg = load_config(path);
  const json& c = raw.contains("text_config") ? raw["text_config"] : raw;
  EXPECT_EQ(cfg.num_hidden_layers, c["num_hidden_layers"].get<int64_t>());
  ASSERT_TRUE(cfg.linear_attention.has_value());
  // Partial RoPE on attention layers only: 0.25 of head_dim (both files' value).
  const RopeParams* rope = cfg.rope_for("full_attention");
  ASSERT_NE(rope, nullptr);
  EXPECT_EQ(rope->rotary_dim(cfg.head_dim), cfg.head_dim / 4);
  EXPECT_EQ(cfg.rope_for("linear_attention"), nullptr);

  const TensorPlan plan = arch_module(cfg).plan(cfg);
  const auto got = plan_shapes(plan);
  const auto want = expected_qwen_tensors(raw);
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [name, shape] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << "plan lacks " << name;
      continue;
    }
    EXPECT_EQ(it->second, shape) << name;
  }
  for (const auto& [name, shape] : got) EXPECT_TRUE(want.count(name)) << "unexpected " << name;
  EXPECT_TRUE(plan.ignored_because("mtp.layers.0.mlp.gate.weight").has_value());
}

INSTANTIATE_TEST_SUITE_P(Shared, RealGdnConfigs,
                         testing::Values("Qwen__Qwen3-Next-80B-A3B-Thinking", "Qwen__Qwen3.5-9B",
                                         "Qwen__Qwen3.5-27B"),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           for (char& ch : s)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

fs::path demo_dir() { return fs::path(LOSSGAP_SOURCE_DIR) / "models" / "demo" / "olmo-hybrid-small"; }

std::vector<int32_t> demo_ids(size_t n) {
  std::ifstream in(fs::path(LOSSGAP_SOURCE_DIR) / "tools" / "fixture_texts" / "prose.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<int32_t> ids = Tokenizer::from_dir(demo_dir()).encode(text).ids;
  if (ids.size() > n) ids.resize(n);
  return ids;
}

TEST(DemoHybrid, LoadsAndScores) {
  const auto model = Model::load(demo_dir());
  const ModelInfo info = model->info();
  EXPECT_EQ(info.model_type, "olmo_hybrid");
  const ModelConfig& cfg = model->config();
  EXPECT_EQ(cfg.rope_for("full_attention"), nullptr) << "the demo config asks for NoPE";
  ASSERT_TRUE(cfg.linear_attention.has_value());
  EXPECT_TRUE(cfg.linear_attention->linear_allow_neg_eigval);

  const std::vector<int32_t> ids = demo_ids(200);
  ASSERT_GT(ids.size(), size_t{150});
  const std::vector<TokenScore> s = model->score(ids, 1);
  ASSERT_EQ(s.size(), ids.size() - 1);
  double nll = 0;
  for (const TokenScore& r : s) {
    ASSERT_TRUE(std::isfinite(r.logprob) && r.logprob <= 0);
    nll -= r.logprob;
  }
  nll /= static_cast<double>(s.size());
  // A trained model: far below the uniform log(V) = 9.01 nats (docs/demo-models.md reports
  // held-out losses of a few nats).
  EXPECT_LT(nll, 0.75 * std::log(static_cast<double>(cfg.vocab_size))) << "mean NLL " << nll;
}

TEST(DemoHybrid, ChunkedWindowMatchesStepWindowOnTheSharedPrefix) {
  const auto model = Model::load(demo_dir());
  const std::vector<int32_t> ids = demo_ids(3 * 64 + 5);
  const std::vector<int32_t> prefix(ids.begin(), ids.begin() + 64);  // step form (T <= 64)
  const std::vector<TokenScore> long_s = model->score(ids, 1);        // chunked form
  const std::vector<TokenScore> short_s = model->score(prefix, 1);
  for (size_t t = 0; t < short_s.size(); ++t) {
    EXPECT_NEAR(long_s[t].logprob, short_s[t].logprob, 2e-5) << "target " << t;
    EXPECT_NEAR(long_s[t].entropy, short_s[t].entropy, 2e-5) << "target " << t;
  }
}

}  // namespace
}  // namespace lossgap
