// ModelConfig tests: every released config.json in ../shared/data/configs parses (transformer
// families) or is refused clearly (families not supported yet), and each bad value is an InputError
// naming the file and the key. Expected values are recomputed in the test from the raw JSON or
// from the formulas of transformers' modeling_rope_utils, never typed in.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/json_strict.h"
#include "model/config.h"

namespace lossgap {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

const fs::path kConfigs = fs::path(LOSSGAP_SHARED_DIR) / "data" / "configs";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small llama config in the legacy form, for the error cases.
json tiny_llama() {
  return {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 300},
          {"hidden_size", 64},     {"intermediate_size", 128},             {"num_hidden_layers", 2},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2},          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0}, {"max_position_embeddings", 512},       {"torch_dtype", "float32"}};
}

json tiny_olmo3() {
  json j = tiny_llama();
  j["model_type"] = "olmo3";
  j["num_hidden_layers"] = 4;
  j["sliding_window"] = 16;
  return j;
}

ModelConfig parse(const json& j) { return parse_config(j.dump(), "cfg/config.json"); }

// parse(j) must throw an InputError naming the file whose message contains `key` and `fragment`.
void expect_error(const json& j, const std::string& key, const std::string& fragment) {
  try {
    parse(j);
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "cfg/config.json");
    EXPECT_THAT(e.detail(), HasSubstr(key)) << e.what();
    EXPECT_THAT(e.detail(), HasSubstr(fragment)) << e.what();
  }
}

TEST(ModelConfig, EveryReleasedConfigParsesOrIsRefusedClearly) {
  if (!fs::is_directory(kConfigs)) GTEST_SKIP() << "no shared data at " << kConfigs;
  int parsed = 0, refused = 0;
  for (const auto& entry : fs::directory_iterator(kConfigs)) {
    const fs::path file = entry.path() / "config.json";
    if (!fs::exists(file)) continue;
    SCOPED_TRACE(file.string());
    // The raw JSON, read leniently (Python writes bare Infinity in some configs).
    const json raw = parse_json_strict(slurp(file), file.string(), /*python_nonfinite=*/true);
    const std::string mt = raw["model_type"];
    const auto supported = supported_model_types();
    if (std::find(supported.begin(), supported.end(), mt) == supported.end()) {
      try {
        load_config(file);
        ADD_FAILURE() << "accepted unsupported " << mt;
      } catch (const InputError& e) {
        EXPECT_EQ(e.where(), file.string());
        EXPECT_THAT(e.detail(), HasSubstr("model_type: '" + mt + "' is not supported yet"));
      }
      ++refused;
      continue;
    }
    const ModelConfig c = load_config(file);
    ++parsed;
    EXPECT_EQ(c.model_type, mt);
    // The field checks below are the transformer families'; the hybrid and recurrent families'
    // real configs are checked field by field in their own tests (run_model_gdn, model_mamba*).
    if (mt != "llama" && mt != "qwen3" && mt != "olmo2" && mt != "olmo3") continue;
    EXPECT_EQ(c.hidden_size, raw["hidden_size"].get<int64_t>());
    EXPECT_EQ(c.vocab_size, raw["vocab_size"].get<int64_t>());
    EXPECT_EQ(c.num_hidden_layers, raw["num_hidden_layers"].get<int64_t>());
    EXPECT_EQ(c.num_key_value_heads, raw["num_key_value_heads"].get<int64_t>());
    EXPECT_EQ(c.head_dim, raw.contains("head_dim") ? raw["head_dim"].get<int64_t>()
                                                    : raw["hidden_size"].get<int64_t>() / raw["num_attention_heads"].get<int64_t>());
    EXPECT_EQ(c.rms_norm_eps, raw["rms_norm_eps"].get<double>());
    EXPECT_EQ(c.tie_word_embeddings, raw["tie_word_embeddings"].get<bool>());
    ASSERT_EQ(c.layer_types.size(), static_cast<size_t>(c.num_hidden_layers));
    if (raw.contains("layer_types")) {
      EXPECT_EQ(json(c.layer_types), raw["layer_types"]);
    }
    const double theta = raw["rope_theta"].get<double>();
    for (const auto& t : c.layer_types) {
      const RopeParams* p = c.rope_for(t);
      ASSERT_NE(p, nullptr) << t;
      const json& rs = raw["rope_scaling"];
      const bool scaled = !rs.is_null() && !(mt == "olmo3" && t == kSlidingAttention);
      if (!scaled) {
        EXPECT_EQ(p->rope_type, "default");
        continue;
      }
      EXPECT_EQ(p->rope_theta, theta);
      EXPECT_EQ(p->rope_type, rs["rope_type"].get<std::string>());
      EXPECT_EQ(p->factor, rs["factor"].get<double>());
      EXPECT_EQ(p->original_max_position_embeddings, rs["original_max_position_embeddings"].get<int64_t>());
      if (p->rope_type == "yarn") {
        EXPECT_EQ(p->attention_factor, rs["attention_factor"].get<double>());
      }
      if (p->rope_type == "llama3") {
        EXPECT_EQ(p->low_freq_factor, rs["low_freq_factor"].get<double>());
        EXPECT_EQ(p->high_freq_factor, rs["high_freq_factor"].get<double>());
      }
    }
    if (raw.contains("eos_token_id")) {
      const json& e = raw["eos_token_id"];
      EXPECT_EQ(json(c.eos_token_id), e.is_array() ? e : json::array({e}));
    }
  }
  EXPECT_GE(parsed, 10);
}

TEST(ModelConfig, Olmo3RopePerLayerTypeAsTransformers517) {
  if (!fs::is_directory(kConfigs)) GTEST_SKIP() << "no shared data at " << kConfigs;
  const ModelConfig c = load_config(kConfigs / "allenai__Olmo-3.1-32B-Instruct" / "config.json");
  ASSERT_TRUE(c.sliding_window.has_value());
  EXPECT_EQ(*c.sliding_window, 4096);
  EXPECT_EQ(c.layer_types[3], kFullAttention);
  EXPECT_EQ(c.layer_types[0], kSlidingAttention);
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_type, "yarn");
  EXPECT_EQ(c.rope_for(kSlidingAttention)->rope_type, "default");
  EXPECT_EQ(c.rope_for(kSlidingAttention)->attention_factor, 1.0);
}

TEST(ModelConfig, Olmo3SlidingLayersNeverTakeTopLevelTheta) {
  // Olmo3Config.convert_rope_params_to_dict pops rope_theta for full_attention first, so
  // sliding_attention falls back to default_theta (500000).
  json j = tiny_olmo3();
  j["rope_theta"] = 1234.0;
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_theta, 1234.0);
  EXPECT_EQ(c.rope_for(kSlidingAttention)->rope_theta, 500000.0);
  EXPECT_EQ(c.layer_types, (std::vector<std::string>{"sliding_attention", "sliding_attention", "sliding_attention",
                                                     "full_attention"}));
}

TEST(ModelConfig, Olmo3NestedV5Form) {
  json j = tiny_olmo3();
  j.erase("rope_theta");
  j["rope_parameters"] = {{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}},
                          {"full_attention", {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 20000.0}}}};
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.rope_for(kSlidingAttention)->rope_theta, 10000.0);
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_type, "linear");
  EXPECT_EQ(c.rope_for(kFullAttention)->factor, 4.0);
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  expect_error(j, "rope_parameters.factor", "one RoPE dict per layer type");
}

TEST(ModelConfig, LegacyTypeKeyAndV5Form) {
  json j = tiny_llama();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  ModelConfig c = parse(j);
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_type, "linear");
  EXPECT_EQ(c.rope_for(kFullAttention)->factor, 2.0);
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_theta, 10000.0);
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 3.0}, {"rope_theta", 1000.0}};
  c = parse(j);
  EXPECT_EQ(c.rope_for(kFullAttention)->factor, 3.0);
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_theta, 1000.0);
  j.erase("rope_parameters");
  c = parse(j);  // no rope keys at all: default rope, LlamaConfig's default_theta
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_type, "default");
  EXPECT_EQ(c.rope_for(kFullAttention)->rope_theta, 10000.0);
}

TEST(ModelConfig, YarnDefaultsFollowTransformers) {
  json j = tiny_llama();
  j["max_position_embeddings"] = 4096;
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  ModelConfig c = parse(j);
  const RopeParams* p = c.rope_for(kFullAttention);
  EXPECT_EQ(p->original_max_position_embeddings, 4096);  // max_position_embeddings
  EXPECT_EQ(p->beta_fast, 32.0);
  EXPECT_EQ(p->beta_slow, 1.0);
  EXPECT_TRUE(p->truncate);
  EXPECT_DOUBLE_EQ(p->attention_factor, 0.1 * std::log(4.0) + 1.0);  // get_mscale(factor)
  j["rope_scaling"]["mscale"] = 0.707;
  j["rope_scaling"]["mscale_all_dim"] = 0.5;
  c = parse(j);
  EXPECT_DOUBLE_EQ(c.rope_for(kFullAttention)->attention_factor,
                   (0.1 * 0.707 * std::log(4.0) + 1.0) / (0.1 * 0.5 * std::log(4.0) + 1.0));
  j["rope_scaling"]["attention_factor"] = 1.5;
  j["rope_scaling"]["truncate"] = false;
  c = parse(j);
  EXPECT_EQ(c.rope_for(kFullAttention)->attention_factor, 1.5);
  EXPECT_FALSE(c.rope_for(kFullAttention)->truncate);
}

TEST(ModelConfig, Qwen3SlidingLayersFromMaxWindowLayers) {
  json j = tiny_llama();
  j["model_type"] = "qwen3";
  j["num_hidden_layers"] = 4;
  j["use_sliding_window"] = true;
  j["sliding_window"] = 8;
  j["max_window_layers"] = 2;
  ModelConfig c = parse(j);
  EXPECT_EQ(c.layer_types, (std::vector<std::string>{"full_attention", "full_attention", "sliding_attention",
                                                     "sliding_attention"}));
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_EQ(c.rope_for(kSlidingAttention)->rope_theta, 10000.0);
  j["use_sliding_window"] = false;
  c = parse(j);
  EXPECT_EQ(c.layer_types, std::vector<std::string>(4, "full_attention"));
  EXPECT_FALSE(c.sliding_window.has_value());
  j.erase("head_dim");
  EXPECT_EQ(parse(j).head_dim, 128);  // Qwen3Config's default, not hidden/heads
  j["head_dim"] = nullptr;
  EXPECT_EQ(parse(j).head_dim, 16);  // null: hidden_size / num_attention_heads
}

TEST(ModelConfig, UnknownValuesNameTheKey) {
  json j = tiny_llama();
  j["model_type"] = "gpt_neox";
  expect_error(j, "model_type", "unknown model_type 'gpt_neox'");
  j["model_type"] = "qwen3_5_moe";
  expect_error(j, "model_type", "not supported yet");

  j = tiny_llama();
  j["hidden_act"] = "gelu";
  expect_error(j, "hidden_act", "'gelu' is not supported");

  j = tiny_llama();
  j["rope_scaling"] = {{"rope_type", "bogus"}, {"factor", 2.0}};
  expect_error(j, "rope_scaling.rope_type", "unknown rope type 'bogus'");
  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  expect_error(j, "rope_scaling.rope_type", "'dynamic' is not supported");
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  expect_error(j, "rope_scaling.low_freq_factor", "missing");
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}, {"beta_fast", 4}};
  expect_error(j, "rope_scaling.beta_fast", "unknown key for rope type 'linear'");

  j = tiny_olmo3();
  j["layer_types"] = {"sliding_attention", "linear_attention", "sliding_attention", "full_attention"};
  expect_error(j, "layer_types[1]", "unknown layer type 'linear_attention'");
  j["layer_types"] = {"full_attention"};
  expect_error(j, "layer_types", "has 1 entries but num_hidden_layers is 4");

  j = tiny_llama();
  j["quantization_config"] = {{"quant_method", "awq"}};
  expect_error(j, "quantization_config", "unknown key for model_type 'llama'");
  j = tiny_llama();
  j["is_encoder_decoder"] = true;
  expect_error(j, "is_encoder_decoder", "only false");
}

TEST(ModelConfig, BadTypesAndRanges) {
  json j = tiny_llama();
  j["hidden_size"] = "64";
  expect_error(j, "hidden_size", "expected an integer");
  j = tiny_llama();
  j["num_key_value_heads"] = 3;
  expect_error(j, "num_key_value_heads", "does not divide");
  j = tiny_llama();
  j["rms_norm_eps"] = -1;
  expect_error(j, "rms_norm_eps", "positive");
  j = tiny_llama();
  j["partial_rotary_factor"] = 0.5;
  expect_error(j, "partial_rotary_factor", "whole head");
  j = tiny_llama();
  j["tie_word_embeddings"] = 1;
  expect_error(j, "tie_word_embeddings", "true or false");
  j = tiny_llama();
  j.erase("model_type");
  expect_error(j, "model_type", "missing");
  EXPECT_THROW(parse_config("{", "cfg/config.json"), InputError);
  EXPECT_THROW(load_config("/nonexistent/config.json"), InputError);
}

TEST(ModelConfig, InertKeysAreAccepted) {
  json j = tiny_llama();
  for (const char* k : {"initializer_range", "use_cache", "transformers_version", "pretraining_tp", "attention_dropout",
                        "_name_or_path", "temperature"})
    j[k] = 1;
  j["pad_token_id"] = nullptr;
  j["eos_token_id"] = {5, 7};
  const ModelConfig c = parse(j);
  EXPECT_FALSE(c.pad_token_id.has_value());
  EXPECT_EQ(c.eos_token_id, (std::vector<int64_t>{5, 7}));
  EXPECT_EQ(c.bos_token_id, 1);  // LlamaConfig's default when absent
  EXPECT_EQ(c.torch_dtype, "float32");
}

}  // namespace
}  // namespace lossgap
