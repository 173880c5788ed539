// Config reading for the Gated DeltaNet families; see config_gdn.h. Defaults are the
// configuration classes' (transformers 5.17): OlmoHybridConfig, Qwen3NextConfig,
// Qwen3_5TextConfig / Qwen3_5Config.
#include "model/config_gdn.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/json_strict.h"
#include "model/config_reader.h"

namespace lossgap {

bool MoeParams::is_moe_layer(int64_t il) const {
  return num_experts > 0 && (il + 1) % decoder_sparse_step == 0 &&
         std::find(mlp_only_layers.begin(), mlp_only_layers.end(), il) == mlp_only_layers.end();
}

namespace config_detail {
namespace {

enum class Kind { OlmoHybrid, Qwen3Next, Qwen3_5Text };

struct GdnFamily {
  Kind kind;
  const char* model_type;
  int64_t vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads;
  std::optional<int64_t> num_key_value_heads;  // nullopt: num_attention_heads
  int64_t max_position_embeddings;
  std::optional<int64_t> head_dim;  // nullopt: hidden_size / num_attention_heads
  DefaultIds ids;
  // Qwen linear_* defaults (olmo_hybrid derives its own from the sizes).
  int64_t linear_num_key_heads, linear_num_value_heads, linear_key_head_dim, linear_value_head_dim;
};

const GdnFamily& family(Kind k) {
  static const GdnFamily olmo{Kind::OlmoHybrid, "olmo_hybrid", 100352, 3840, 11008, 32, 30,
                              std::nullopt, 65536, std::nullopt, {std::nullopt, 100257, 100277},
                              0, 0, 0, 0};
  static const GdnFamily next{Kind::Qwen3Next, "qwen3_next", 151936, 2048, 5632, 48, 16, 2, 32768,
                              256, {}, 16, 32, 128, 128};
  static const GdnFamily q35{Kind::Qwen3_5Text, "qwen3_5_text", 248320, 4096, 12288, 32, 16, 4,
                             32768, 256, {}, 16, 32, 128, 128};
  return k == Kind::OlmoHybrid ? olmo : k == Kind::Qwen3Next ? next : q35;
}

constexpr double kDefaultTheta = 10000.0;     // RotaryEmbeddingConfigMixin's default
constexpr double kQwenPartialRotary = 0.25;   // "assign default for BC" in both Qwen classes

std::vector<std::string> read_hybrid_layer_types(Reader& r, const json& cfg, const GdnFamily& f,
                                                 int64_t n_layers) {
  std::vector<std::string> out;
  if (f.kind != Kind::OlmoHybrid) {
    // Qwen: full_attention_interval is read (as a kwarg) only when layer_types is absent.
    const int64_t interval = r.integer("full_attention_interval", 4, 1);
    for (int64_t il = 0; il < n_layers; ++il)
      out.push_back(std::string((il + 1) % interval == 0 ? kFullAttention : kLinearAttention));
  } else {
    for (int64_t il = 0; il < n_layers; ++il)
      out.push_back(std::string(il % 4 == 3 ? kFullAttention : kLinearAttention));
    if (std::find(out.begin(), out.end(), kFullAttention) == out.end())
      out.back() = std::string(kFullAttention);
  }
  if (!r.has("layer_types")) return out;
  const json& v = cfg["layer_types"];
  if (!v.is_array()) r.fail("layer_types", "expected a list of layer types, got " + json_brief(v));
  if (static_cast<int64_t>(v.size()) != n_layers)
    r.fail("layer_types", "has " + std::to_string(v.size()) + " entries but num_hidden_layers is " +
                              std::to_string(n_layers));
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string key = "layer_types[" + std::to_string(i) + "]";
    if (!v[i].is_string()) r.fail(key, "expected a string, got " + json_brief(v[i]));
    const std::string t = v[i].get<std::string>();
    if (t != kFullAttention && t != kLinearAttention)
      r.fail(key, "unknown layer type '" + t + "' for " + f.model_type +
                      " (expected linear_attention or full_attention)");
    out.push_back(t);
  }
  return out;
}

// olmo_hybrid: RoPE (on full_attention layers only) iff rope_parameters has a rope_theta.
// rope_parameters absent or null, or {"rope_theta": null, ...}, mean NoPE (docs/recurrent.md:
// transformers 5.17 itself fills a null rope_parameters with theta 10000; the released
// checkpoints were trained without RoPE, and lossgap follows the checkpoints).
std::optional<RopeParams> read_olmo_hybrid_rope(Reader& r, const json& cfg, int64_t max_pos) {
  const bool params = r.has("rope_parameters");
  const bool legacy = r.has("rope_theta") || r.has("rope_scaling");
  if (params) {
    const json& rp = cfg["rope_parameters"];
    if (!rp.is_object()) r.fail("rope_parameters", "expected an object or null, got " + json_brief(rp));
    if (rp.contains("rope_theta") && rp["rope_theta"].is_null()) {
      for (auto it = rp.begin(); it != rp.end(); ++it) {
        if (it.key() == "rope_theta") continue;
        if (it.key() == "rope_type" && it.value() == "default") continue;
        r.fail("rope_parameters." + it.key(),
               "given with rope_theta null (no RoPE); only rope_type \"default\" may accompany it");
      }
      if (legacy) r.fail(r.has("rope_theta") ? "rope_theta" : "rope_scaling",
                         "contradicts rope_parameters.rope_theta null (no RoPE)");
      return std::nullopt;
    }
  } else if (!legacy) {
    r.present("rope_parameters");
    return std::nullopt;
  }
  return read_global_rope(r, cfg, kDefaultTheta, max_pos, "olmo_hybrid", /*allow_partial=*/false);
}

int64_t integer_list_entry(Reader& r, const std::string& key, const json& x, int64_t lo, int64_t hi) {
  if (!x.is_number_integer() || x.get<int64_t>() < lo || x.get<int64_t>() >= hi)
    r.fail(key, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "), got " + json_brief(x));
  return x.get<int64_t>();
}

std::optional<MoeParams> read_moe(Reader& r, const json& cfg, int64_t n_layers) {
  MoeParams m;
  m.num_experts = r.integer("num_experts", 512, 0);
  m.num_experts_per_tok = r.integer("num_experts_per_tok", 10, 1);
  m.moe_intermediate_size = r.integer("moe_intermediate_size", 512, 1);
  m.shared_expert_intermediate_size = r.integer("shared_expert_intermediate_size", 512, 1);
  m.norm_topk_prob = r.boolean("norm_topk_prob", true);
  m.decoder_sparse_step = r.integer("decoder_sparse_step", 1, 1);
  if (r.has("mlp_only_layers")) {
    const json& v = cfg["mlp_only_layers"];
    if (!v.is_array()) r.fail("mlp_only_layers", "expected a list of layer indices, got " + json_brief(v));
    for (size_t i = 0; i < v.size(); ++i)
      m.mlp_only_layers.push_back(
          integer_list_entry(r, "mlp_only_layers[" + std::to_string(i) + "]", v[i], 0, n_layers));
  }
  if (m.num_experts == 0) return std::nullopt;
  if (m.num_experts_per_tok > m.num_experts)
    r.fail("num_experts_per_tok", std::to_string(m.num_experts_per_tok) + " exceeds num_experts " +
                                      std::to_string(m.num_experts));
  return m;
}

ModelConfig read_decoder(Reader& r, const json& cfg, const GdnFamily& f) {
  ModelConfig c;
  c.model_type = f.model_type;
  c.vocab_size = r.integer("vocab_size", f.vocab_size, 1);
  c.hidden_size = r.integer("hidden_size", f.hidden_size, 1);
  c.intermediate_size = r.integer("intermediate_size", f.intermediate_size, 1);
  c.num_hidden_layers = r.integer("num_hidden_layers", f.num_hidden_layers, 1);
  c.num_attention_heads = r.integer("num_attention_heads", f.num_attention_heads, 1);
  c.num_key_value_heads =
      r.integer("num_key_value_heads", f.num_key_value_heads.value_or(c.num_attention_heads), 1);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads", std::to_string(c.num_key_value_heads) +
                                      " does not divide num_attention_heads " +
                                      std::to_string(c.num_attention_heads));
  // head_dim: olmo_hybrid's attention reads getattr(config, "head_dim", hidden // heads); the
  // Qwen ones `config.head_dim or hidden // heads`.
  if (r.has("head_dim")) {
    c.head_dim = r.integer("head_dim", std::nullopt, 2);
  } else if (!r.present("head_dim") && f.head_dim) {
    c.head_dim = *f.head_dim;
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      r.fail("head_dim", "missing, and hidden_size " + std::to_string(c.hidden_size) +
                             " is not a multiple of num_attention_heads " +
                             std::to_string(c.num_attention_heads));
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  c.max_position_embeddings = r.integer("max_position_embeddings", f.max_position_embeddings, 1);
  c.hidden_act = r.string("hidden_act", std::string("silu"));
  if (c.hidden_act != "silu")
    r.fail("hidden_act", "'" + c.hidden_act + "' is not supported (lossgap implements silu)");
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6, true);
  c.attention_bias = r.boolean("attention_bias", false);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.layer_types = read_hybrid_layer_types(r, cfg, f, c.num_hidden_layers);
  const auto n_full = std::count(c.layer_types.begin(), c.layer_types.end(), kFullAttention);
  if (f.kind == Kind::OlmoHybrid && (n_full == 0 || n_full == c.num_hidden_layers))
    r.fail("layer_types", "olmo_hybrid needs at least one linear_attention and one full_attention "
                          "layer (transformers rejects the config otherwise)");

  // Gated DeltaNet.
  LinearAttentionParams la;
  if (f.kind == Kind::OlmoHybrid) {
    la.linear_num_key_heads = r.integer("linear_num_key_heads", c.num_attention_heads, 1);
    la.linear_num_value_heads = r.integer("linear_num_value_heads", c.num_attention_heads, 1);
    la.linear_key_head_dim = r.integer(
        "linear_key_head_dim",
        static_cast<int64_t>(0.75 * static_cast<double>(c.hidden_size) /
                             static_cast<double>(la.linear_num_key_heads)),
        1);
    la.linear_value_head_dim = r.integer("linear_value_head_dim", 2 * la.linear_key_head_dim, 1);
    la.linear_allow_neg_eigval = r.boolean("linear_allow_neg_eigval", true);
    // Initialisation ranges of A_log and dt_bias: they do not change a loaded model.
    for (const char* k : {"linear_a_log_min", "linear_a_log_max", "linear_dt_min", "linear_dt_max",
                          "linear_dt_init_floor"})
      r.number(k, 0.0, false);
  } else {
    la.linear_num_key_heads = r.integer("linear_num_key_heads", f.linear_num_key_heads, 1);
    la.linear_num_value_heads = r.integer("linear_num_value_heads", f.linear_num_value_heads, 1);
    la.linear_key_head_dim = r.integer("linear_key_head_dim", f.linear_key_head_dim, 1);
    la.linear_value_head_dim = r.integer("linear_value_head_dim", f.linear_value_head_dim, 1);
  }
  la.linear_conv_kernel_dim = r.integer("linear_conv_kernel_dim", 4, 1);
  if (la.linear_num_value_heads % la.linear_num_key_heads != 0)
    r.fail("linear_num_value_heads", std::to_string(la.linear_num_value_heads) +
                                         " is not a multiple of linear_num_key_heads " +
                                         std::to_string(la.linear_num_key_heads));
  c.linear_attention = la;

  // RoPE, on full_attention layers only.
  std::optional<RopeParams> rope;
  if (f.kind == Kind::OlmoHybrid) {
    rope = read_olmo_hybrid_rope(r, cfg, c.max_position_embeddings);
  } else {
    rope = read_global_rope(r, cfg, kDefaultTheta, c.max_position_embeddings, f.model_type,
                            /*allow_partial=*/true);
  }
  if (rope) {
    if (rope->rotary_dim(c.head_dim) % 2 != 0 || rope->rotary_dim(c.head_dim) == 0)
      r.fail("head_dim", "rotary dimension " + std::to_string(rope->rotary_dim(c.head_dim)) +
                             " (head_dim x partial_rotary_factor) must be even and positive");
    c.rope_parameters[std::string(kFullAttention)] = *rope;
  }

  // Feed-forward and family keys.
  if (f.kind == Kind::Qwen3Next) {
    c.moe = read_moe(r, cfg, c.num_hidden_layers);
    if (r.has("use_sliding_window") && r.boolean("use_sliding_window", false))
      r.fail("use_sliding_window", "true is not supported: Qwen3-Next attention has no sliding window");
  } else if (f.kind == Kind::Qwen3_5Text) {
    if (r.has("attn_output_gate") && !r.boolean("attn_output_gate", true))
      r.fail("attn_output_gate", "false is not supported: transformers' Qwen3.5 attention always gates");
    // Dense variants: transformers ignores mlp_only_layers; the multi-token-prediction head and
    // the kernels' state dtype do not change the decoder's log-probabilities.
    if (r.has("mlp_only_layers") && !cfg["mlp_only_layers"].is_array())
      r.fail("mlp_only_layers", "expected a list, got " + json_brief(cfg["mlp_only_layers"]));
    for (const char* k : {"mtp_num_hidden_layers", "mtp_use_dedicated_embeddings", "mamba_ssm_dtype"})
      r.mark_used(k);
  }
  return c;
}

// Qwen3.5's rope_parameters carry the interleaved M-RoPE sections of the vision-language model.
// With text-only input the three position streams are equal, so M-RoPE is ordinary (partial)
// RoPE over positions 0..T-1 (hf-architectures.md §2.7): the keys are checked and dropped.
json strip_mrope(const json& text, const std::string& file, const std::string& prefix) {
  json out = text;
  if (!out.contains("rope_parameters") || !out["rope_parameters"].is_object()) return out;
  json& rp = out["rope_parameters"];
  const std::string path = prefix + "rope_parameters.";
  if (rp.contains("mrope_section")) {
    const json& s = rp["mrope_section"];
    if (!s.is_array() || s.empty())
      throw InputError(file, path + "mrope_section: expected a list of integers, got " + json_brief(s));
    for (const json& x : s)
      if (!x.is_number_integer() || x.get<int64_t>() < 0)
        throw InputError(file, path + "mrope_section: expected non-negative integers, got " + json_brief(s));
    rp.erase("mrope_section");
  }
  if (rp.contains("mrope_interleaved")) {
    if (!rp["mrope_interleaved"].is_boolean())
      throw InputError(file, path + "mrope_interleaved: expected true or false, got " +
                                 json_brief(rp["mrope_interleaved"]));
    rp.erase("mrope_interleaved");
  }
  return out;
}

ModelConfig read_qwen3_5_nested(const json& cfg, const std::string& file) {
  Reader top(cfg, file);
  if (!top.has("text_config") || !cfg["text_config"].is_object())
    top.fail("text_config", "expected an object (Qwen3.5 keeps the decoder's keys there)");
  const json& raw_text = cfg["text_config"];
  if (raw_text.contains("model_type") && raw_text["model_type"] != "qwen3_5_text")
    throw InputError(file, "text_config.model_type: expected \"qwen3_5_text\", got " +
                               json_brief(raw_text["model_type"]));
  const json text = strip_mrope(raw_text, file, "text_config.");
  Reader tr(text, file, "text_config.");
  ModelConfig c = read_decoder(tr, text, family(Kind::Qwen3_5Text));
  finish_config(tr, text, c, family(Kind::Qwen3_5Text).ids);

  // Top level: the vision tower and its token ids are not used for text; the word-embedding tie
  // is the top-level key (Qwen3_5Config's own, default false).
  for (const char* k : {"vision_config", "image_token_id", "video_token_id",
                        "vision_start_token_id", "vision_end_token_id"})
    top.mark_used(k);
  c.tie_word_embeddings = top.boolean("tie_word_embeddings", false);
  ModelConfig outer;
  outer.model_type = "qwen3_5";
  finish_config(top, cfg, outer, DefaultIds{});
  if (!outer.architectures.empty()) c.architectures = outer.architectures;
  if (c.torch_dtype.empty()) c.torch_dtype = outer.torch_dtype;
  c.model_type = "qwen3_5";
  c.nested_text_config = true;
  return c;
}

}  // namespace

bool is_gdn_model_type(std::string_view t) {
  return t == "olmo_hybrid" || t == "qwen3_next" || t == "qwen3_5" || t == "qwen3_5_text";
}

ModelConfig read_gdn_config(const json& cfg, const std::string& file, const std::string& model_type) {
  LG_CHECK(is_gdn_model_type(model_type), "read_gdn_config: " + model_type);
  if (model_type == "qwen3_5") return read_qwen3_5_nested(cfg, file);
  const Kind kind = model_type == "olmo_hybrid" ? Kind::OlmoHybrid
                    : model_type == "qwen3_next" ? Kind::Qwen3Next
                                                 : Kind::Qwen3_5Text;
  const json body = kind == Kind::Qwen3_5Text ? strip_mrope(cfg, file, "") : cfg;
  Reader r(body, file);
  ModelConfig c = read_decoder(r, body, family(kind));
  finish_config(r, body, c, family(kind).ids);
  return c;
}

}  // namespace config_detail
}  // namespace lossgap
