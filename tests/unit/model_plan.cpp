// TensorPlan / Checkpoint tests on small checkpoints written by the test: a llama-style plan
// (the example of tensor_plan.h) binds; tied embeddings follow transformers; missing, unused,
// wrong-shape and wrong-dtype tensors are InputErrors naming tensor, file, expected and actual;
// identity hashes agree with an independent sha256sum. The plan of the real Nemotron-3 Nano
// config (../shared/data/configs) names its MoE tensors as the released checkpoint does, with
// shapes computed here from the config's own numbers.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core_safetensors_writer.h"
#include "model/checkpoint.h"
#include "model/registry.h"

namespace lossgap {
namespace {

using ::testing::HasSubstr;
using namespace lossgap::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int64_t V = 12, H = 8, I = 16;

json config(bool tied) {
  return {{"model_type", "llama"}, {"vocab_size", V}, {"hidden_size", H}, {"intermediate_size", I},
          {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"num_key_value_heads", 1},
          {"tie_word_embeddings", tied}, {"rope_theta", 10000.0}, {"max_position_embeddings", 64}};
}

// The tensors of a one-layer llama (without lm_head).
std::vector<TestTensor> llama_tensors() {
  const int64_t d = H / 2;  // head_dim
  return {bf16_tensor("model.embed_tokens.weight", {V, H}),
          f32_tensor("model.layers.0.input_layernorm.weight", {H}),
          bf16_tensor("model.layers.0.self_attn.q_proj.weight", {2 * d, H}),
          bf16_tensor("model.layers.0.self_attn.k_proj.weight", {d, H}),
          bf16_tensor("model.layers.0.self_attn.v_proj.weight", {d, H}),
          bf16_tensor("model.layers.0.self_attn.o_proj.weight", {H, 2 * d}),
          f32_tensor("model.layers.0.post_attention_layernorm.weight", {H}),
          bf16_tensor("model.layers.0.mlp.gate_proj.weight", {I, H}),
          bf16_tensor("model.layers.0.mlp.up_proj.weight", {I, H}),
          bf16_tensor("model.layers.0.mlp.down_proj.weight", {H, I}),
          f32_tensor("model.norm.weight", {H})};
}

// What an architecture module would declare (the example in tensor_plan.h, one layer).
TensorPlan llama_plan(const ModelConfig& c) {
  const int64_t d = c.head_dim;
  TensorPlan p;
  p.require("model.embed_tokens.weight", {c.vocab_size, c.hidden_size});
  if (c.tie_word_embeddings)
    p.tied("lm_head.weight", "model.embed_tokens.weight");
  else
    p.require("lm_head.weight", {c.vocab_size, c.hidden_size});
  const std::string l = "model.layers.0.";
  p.require(l + "input_layernorm.weight", {c.hidden_size}, {DType::F32, DType::BF16});
  p.require(l + "self_attn.q_proj.weight", {c.num_attention_heads * d, c.hidden_size});
  p.require(l + "self_attn.k_proj.weight", {c.num_key_value_heads * d, c.hidden_size});
  p.require(l + "self_attn.v_proj.weight", {c.num_key_value_heads * d, c.hidden_size});
  p.require(l + "self_attn.o_proj.weight", {c.hidden_size, c.num_attention_heads * d});
  p.require(l + "post_attention_layernorm.weight", {c.hidden_size}, {DType::F32, DType::BF16});
  p.require(l + "mlp.gate_proj.weight", {c.intermediate_size, c.hidden_size});
  p.require(l + "mlp.up_proj.weight", {c.intermediate_size, c.hidden_size});
  p.require(l + "mlp.down_proj.weight", {c.hidden_size, c.intermediate_size});
  p.optional(l + "self_attn.q_proj.bias", {c.num_attention_heads * d});
  p.require("model.norm.weight", {c.hidden_size}, {DType::F32, DType::BF16});
  p.ignore("model.layers.*.self_attn.rotary_emb.inv_freq", "a rotary buffer of old checkpoints");
  return p;
}

fs::path write_ckpt(bool tied, std::vector<TestTensor> ts) {
  fs::path d = fresh_dir();
  write_file(d / "config.json", config(tied).dump(2));
  write_file(d / "model.safetensors", make_safetensors(ts));
  return d;
}

InputError plan_error(const fs::path& d) {
  Checkpoint ck = Checkpoint::open(d);
  try {
    ck.check_plan(llama_plan(ck.config()));
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError";
  return InputError("", "");
}

TEST(TensorPlan, UntiedCheckpointBinds) {
  auto ts = llama_tensors();
  ts.push_back(bf16_tensor("lm_head.weight", {V, H}, 100.0f));
  fs::path d = write_ckpt(false, ts);
  Checkpoint ck = Checkpoint::open(d);
  PlanBinding b = ck.check_plan(llama_plan(ck.config()));
  EXPECT_EQ(b.get("lm_head.weight").shape, (std::vector<int64_t>{V, H}));
  float x;
  to_f32(b.get("lm_head.weight"), 0, 1, &x);
  EXPECT_EQ(x, 100.0f);
  EXPECT_FALSE(b.has("model.layers.0.self_attn.q_proj.bias"));
  int64_t n = 0, bf16 = 0, f32 = 0;
  for (const auto& t : ts) {
    int64_t e = 1;
    for (int64_t s : t.shape) e *= s;
    n += e;
    (t.dtype == "BF16" ? bf16 : f32) += static_cast<int64_t>(t.bytes.size());
  }
  EXPECT_EQ(b.n_parameters(), n);
  EXPECT_EQ(b.bytes_by_dtype().at("BF16"), bf16);
  EXPECT_EQ(b.bytes_by_dtype().at("F32"), f32);
  EXPECT_TRUE(b.ignored().empty());
}

TEST(TensorPlan, TiedHeadIsTheEmbedding) {
  fs::path d = write_ckpt(true, llama_tensors());
  Checkpoint ck = Checkpoint::open(d);
  PlanBinding b = ck.check_plan(llama_plan(ck.config()));
  EXPECT_EQ(b.get("lm_head.weight").data, b.get("model.embed_tokens.weight").data);
  EXPECT_EQ(b.get("lm_head.weight").name, "lm_head.weight");
}

TEST(TensorPlan, TiedHeadPresentIsCheckedThenIgnored) {
  auto ts = llama_tensors();
  ts.push_back(bf16_tensor("lm_head.weight", {V, H}, 100.0f));
  ts.push_back(f32_tensor("model.layers.0.self_attn.rotary_emb.inv_freq", {2}));
  fs::path d = write_ckpt(true, ts);
  Checkpoint ck = Checkpoint::open(d);
  PlanBinding b = ck.check_plan(llama_plan(ck.config()));
  EXPECT_EQ(b.get("lm_head.weight").data, b.get("model.embed_tokens.weight").data);
  ASSERT_EQ(b.ignored().size(), 2u);
  EXPECT_EQ(b.ignored()[0].first, "lm_head.weight");
  EXPECT_EQ(b.ignored()[1].first, "model.layers.0.self_attn.rotary_emb.inv_freq");
  // A stored copy of the wrong shape is still an error.
  ts[ts.size() - 2] = bf16_tensor("lm_head.weight", {V + 1, H});
  InputError e = plan_error(write_ckpt(true, ts));
  EXPECT_THAT(e.detail(), HasSubstr("tensor 'lm_head.weight': wrong shape: expected [12, 8], got [13, 8]"));
}

TEST(TensorPlan, MissingTensor) {
  fs::path d = write_ckpt(false, llama_tensors());  // untied but no lm_head
  InputError e = plan_error(d);
  EXPECT_EQ(e.where(), d.string());
  EXPECT_THAT(e.detail(), HasSubstr("tensor 'lm_head.weight': missing"));
  EXPECT_THAT(e.detail(), HasSubstr("expected [12, 8] F32|F16|BF16"));
}

TEST(TensorPlan, UnusedTensor) {
  auto ts = llama_tensors();
  ts.push_back(f32_tensor("model.layers.0.self_attn.k_norm.weight", {4}));
  fs::path d = write_ckpt(true, ts);
  InputError e = plan_error(d);
  EXPECT_EQ(e.where(), (d / "model.safetensors").string());
  EXPECT_THAT(e.detail(), HasSubstr("tensor 'model.layers.0.self_attn.k_norm.weight': [4] F32 is in the file but the architecture does not use it"));
}

TEST(TensorPlan, WrongShapeAndDtype) {
  auto ts = llama_tensors();
  ts[8] = bf16_tensor("model.layers.0.mlp.up_proj.weight", {I, H + 1});
  ts[10] = bf16_tensor("model.norm.weight", {H});
  ts[10].dtype = "F16";
  fs::path d = write_ckpt(true, ts);
  Checkpoint ck = Checkpoint::open(d);
  const auto problems = ck.plan_problems(llama_plan(ck.config()));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].kind, PlanProblem::Kind::WrongShape);
  EXPECT_EQ(problems[0].message(), (d / "model.safetensors").string() +
                                       ": tensor 'model.layers.0.mlp.up_proj.weight': wrong shape: expected [16, 8], got [16, 9]");
  EXPECT_EQ(problems[1].kind, PlanProblem::Kind::WrongDType);
  EXPECT_EQ(problems[1].detail(), "tensor 'model.norm.weight': unsupported dtype: expected F32|BF16, got F16");
  InputError e = plan_error(d);
  EXPECT_EQ(e.where(), (d / "model.safetensors").string());
  EXPECT_THAT(e.detail(), HasSubstr("2 problems in all"));
}

TEST(TensorPlan, ShardedCheckpointAndIdentity) {
  fs::path d = fresh_dir();
  write_file(d / "config.json", config(true).dump(2));
  write_file(d / "tokenizer.json", R"({"model": {}})");
  auto ts = llama_tensors();
  std::vector<TestTensor> first(ts.begin(), ts.begin() + 5), second(ts.begin() + 5, ts.end());
  write_file(d / "model-00001-of-00002.safetensors", make_safetensors(first));
  write_file(d / "model-00002-of-00002.safetensors", make_safetensors(second));
  json wm = json::object();
  for (const auto& t : first) wm[t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) wm[t.name] = "model-00002-of-00002.safetensors";
  write_file(d / "model.safetensors.index.json", json({{"metadata", json::object()}, {"weight_map", wm}}).dump());
  Checkpoint ck = Checkpoint::open(d);
  EXPECT_NO_THROW(ck.check_plan(llama_plan(ck.config())));

  auto coreutils = [](const fs::path& p) {
    FILE* f = popen(("sha256sum '" + p.string() + "'").c_str(), "r");
    char buf[128] = {};
    std::string out = f && fgets(buf, sizeof buf, f) ? std::string(buf).substr(0, 64) : "";
    if (f) pclose(f);
    return out;
  };
  const std::string want_cfg = coreutils(d / "config.json");
  if (want_cfg.size() != 64) GTEST_SKIP() << "sha256sum not available";
  ModelIdentity id = ck.identity();
  EXPECT_EQ(id.config, want_cfg);
  EXPECT_EQ(id.tokenizer, coreutils(d / "tokenizer.json"));
  EXPECT_EQ(id.weights, coreutils(d / "model.safetensors.index.json"));

  // Single file: the weights identity is the hash of the 8 + N header bytes.
  fs::path s = write_ckpt(true, ts);
  const std::string bytes = make_safetensors(ts);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  write_file(s / "header.bin", bytes.substr(0, 8 + n));
  EXPECT_EQ(model_identity(s).weights, coreutils(s / "header.bin"));
  EXPECT_EQ(model_identity(s).tokenizer, "");
}

// NVIDIA-Nemotron-3-Nano-30B-A3B: every E of hybrid_override_pattern is a MoE layer whose tensors
// the released checkpoint names backbone.layers.{i}.mixer.{gate.weight, gate.e_score_correction_bias,
// experts.{e}.up_proj.weight, experts.{e}.down_proj.weight, shared_experts.{up,down}_proj.weight}.
TEST(TensorPlan, RealNemotron3NanoMoePlan) {
  const fs::path file = fs::path(LOSSGAP_SHARED_DIR) / "data" / "configs" /
                        "nvidia__NVIDIA-Nemotron-3-Nano-30B-A3B-BF16" / "config.json";
  if (!fs::exists(file)) GTEST_SKIP() << "no " << file << " (../shared absent)";
  std::ifstream in(file);
  const json raw = json::parse(in);
  const ModelConfig cfg = load_config(file);
  const TensorPlan plan = arch_module(cfg).plan(cfg);

  const int64_t hidden = raw.at("hidden_size"), n_experts = raw.at("n_routed_experts");
  const int64_t inter = raw.at("moe_intermediate_size");
  const int64_t shared = raw.at("moe_shared_expert_intermediate_size");
  const std::string pattern = raw.at("hybrid_override_pattern");
  auto shape_of = [&](const std::string& name) {
    const TensorSpec* t = plan.find(name);
    EXPECT_NE(t, nullptr) << name << " is not planned";
    return t ? t->shape : std::vector<int64_t>{};
  };
  using Shape = std::vector<int64_t>;
  int64_t n_moe = 0, n_expert_tensors = 0;
  for (size_t il = 0; il < pattern.size(); ++il) {
    const std::string p = "backbone.layers." + std::to_string(il) + ".mixer.";
    if (pattern[il] != 'E') {
      EXPECT_EQ(plan.find(p + "gate.weight"), nullptr) << "layer " << il << " is " << pattern[il];
      continue;
    }
    ++n_moe;
    EXPECT_EQ(shape_of(p + "gate.weight"), (Shape{n_experts, hidden}));
    EXPECT_EQ(shape_of(p + "gate.e_score_correction_bias"), (Shape{n_experts}));
    for (int64_t e = 0; e < n_experts; ++e) {
      const std::string x = p + "experts." + std::to_string(e) + ".";
      EXPECT_EQ(shape_of(x + "up_proj.weight"), (Shape{inter, hidden}));
      EXPECT_EQ(shape_of(x + "down_proj.weight"), (Shape{hidden, inter}));
      EXPECT_EQ(plan.find(x + "gate_proj.weight"), nullptr) << "relu2 experts are not gated";
    }
    EXPECT_EQ(plan.find(p + "experts." + std::to_string(n_experts) + ".up_proj.weight"), nullptr);
    EXPECT_EQ(shape_of(p + "shared_experts.up_proj.weight"), (Shape{shared, hidden}));
    EXPECT_EQ(shape_of(p + "shared_experts.down_proj.weight"), (Shape{hidden, shared}));
    EXPECT_EQ(plan.find(p + "shared_experts.up_proj.bias"), nullptr) << "mlp_bias is false";
  }
  for (const TensorSpec& t : plan.specs()) n_expert_tensors += t.name.find(".experts.") != std::string::npos;
  EXPECT_EQ(n_moe, std::count(pattern.begin(), pattern.end(), 'E'));
  EXPECT_GT(n_moe, 0);
  EXPECT_EQ(n_expert_tensors, n_moe * n_experts * 2) << "up and down per expert, nothing else";
}

TEST(TensorPlan, GlobMatch) {
  EXPECT_TRUE(glob_match("mtp.*", "mtp.layers.0.x"));
  EXPECT_TRUE(glob_match("model.layers.*.rotary_emb.inv_freq", "model.layers.12.rotary_emb.inv_freq"));
  EXPECT_FALSE(glob_match("model.layers.*.rotary_emb.inv_freq", "model.layers.12.rotary_emb.inv_freq2"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a*b", "acbx"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
}

}  // namespace
}  // namespace lossgap
