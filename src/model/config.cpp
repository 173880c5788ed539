// Strict config.json reading (see config.h and docs/checkpoints.md). Mirrors transformers 5.17:
// the dataclass defaults of each configuration_<family>.py, PreTrainedConfig's RoPE
// normalisation (modeling_rope_utils.RotaryEmbeddingConfigMixin) and Olmo3Config's own.
#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "io/json_strict.h"
#include "model/config_reader.h"
#include "model/config_gdn.h"
#include "model/config_ssm.h"

namespace lossgap {
namespace {

using json = nlohmann::json;
using config_detail::DefaultIds;
using config_detail::finish_config;
using config_detail::read_global_rope;
using config_detail::read_id;
using config_detail::Reader;

// Keys that never change log-probabilities of a decoder-only LM run in eval mode: metadata,
// training-only settings, generation defaults (transformers pops them into GenerationConfig),
// and PreTrainedConfig's generic attributes. Any value is accepted.
const std::set<std::string>& inert_keys() {
  static const std::set<std::string> k = {
      // metadata
      "_name_or_path", "architectures", "transformers_version", "torch_dtype", "dtype",
      "model_type", "auto_map", "_commit_hash", "_attn_implementation", "_attn_implementation_autoset",
      "tokenizer_class", "finetuning_task", "id2label", "label2id", "num_labels", "problem_type",
      "task_specific_params", "prefix",
      // training-only (dropout is off at inference; init only matters before loading weights)
      "initializer_range", "attention_dropout", "use_cache", "pretraining_tp", "torchscript",
      "use_bfloat16", "tf_legacy_loss", "gradient_checkpointing", "output_router_logits",
      "router_aux_loss_coef",
      // outputs requested by callers
      "return_dict", "output_hidden_states", "output_attentions", "output_scores",
      "return_dict_in_generate",
      // special ids that only generation / heads use
      "sep_token_id", "decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id",
      // generation defaults
      "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups",
      "diversity_penalty", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
      "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
      "num_return_sequences", "remove_invalid_values", "exponential_decay_length_penalty",
      "suppress_tokens", "begin_suppress_tokens", "chunk_size_feed_forward", "is_decoder",
      "cross_attention_hidden_size", "tie_encoder_decoder"};
  return k;
}

// Generic PreTrainedConfig keys accepted only at the value that leaves a decoder-only LM as
// transformers builds it; any other value changes the model.
const std::map<std::string, json>& fixed_value_keys() {
  static const std::map<std::string, json> k = {
      {"is_encoder_decoder", false}, {"add_cross_attention", false}, {"pruned_heads", json::object()}};
  return k;
}


// ----------------------------------------------------------------------------------------------
// RoPE

const std::set<std::string>& unsupported_rope_types() {
  static const std::set<std::string> k = {"dynamic", "longrope", "proportional", "axial", "mrope", "su",
                                          "ntk"};
  return k;
}

// Resolves one RoPE dict (already holding rope_theta etc. after transformers' normalisation).
// `path` is how errors name the dict ("rope_scaling", "rope_parameters.full_attention").
// `truncate_key_honoured`: transformers reads yarn's `truncate` from the top-level
// rope_parameters, so in a per-layer-type dict it has no effect.
RopeParams resolve_rope(const json& d, const std::string& file, const std::string& path,
                        int64_t max_position_embeddings, bool truncate_key_honoured) {
  if (!d.is_object()) throw InputError(file, path + ": expected an object, got " + json_brief(d));
  Reader r(d, file, path + ".");
  RopeParams p;
  std::string type;
  if (r.has("rope_type")) {
    type = r.string("rope_type", std::nullopt);
    if (r.has("type") && r.string("type", std::nullopt) != type)
      r.fail("type", "'" + r.string("type", std::nullopt) + "' contradicts rope_type '" + type + "'");
  } else {
    type = r.string("type", std::string("default"));
  }
  if (type != "default" && type != "linear" && type != "llama3" && type != "yarn") {
    const std::string k = r.has("rope_type") ? "rope_type" : "type";
    if (unsupported_rope_types().count(type))
      r.fail(k, "rope type '" + type + "' is not supported (lossgap implements default, linear, llama3, yarn)");
    r.fail(k, "unknown rope type '" + type + "' (expected default, linear, llama3 or yarn)");
  }
  p.rope_type = type;
  p.rope_theta = r.number("rope_theta", std::nullopt, true);
  p.partial_rotary_factor = r.number("partial_rotary_factor", 1.0, true);
  if (p.partial_rotary_factor > 1.0) r.fail("partial_rotary_factor", "must be in (0, 1], got " + json_brief(d["partial_rotary_factor"]));

  if (type == "linear") {
    p.factor = r.number("factor", std::nullopt, true);
  } else if (type == "llama3") {
    p.factor = r.number("factor", std::nullopt, true);
    p.low_freq_factor = r.number("low_freq_factor", std::nullopt, true);
    p.high_freq_factor = r.number("high_freq_factor", std::nullopt, true);
    if (!(p.high_freq_factor > p.low_freq_factor))
      r.fail("high_freq_factor", "must be greater than low_freq_factor (the llama3 ramp divides by their difference)");
    p.original_max_position_embeddings = r.integer("original_max_position_embeddings", max_position_embeddings, 1);
  } else if (type == "yarn") {
    p.original_max_position_embeddings = r.integer("original_max_position_embeddings", max_position_embeddings, 1);
    if (!r.has("factor") && !d.contains("factor")) r.fail("factor", "missing (required for yarn)");
    // transformers: factor null -> max_position_embeddings / original_max_position_embeddings.
    p.factor = r.has("factor") ? r.number("factor", std::nullopt, true)
                               : static_cast<double>(max_position_embeddings) /
                                     static_cast<double>(p.original_max_position_embeddings);
    // `x or default` in transformers: 0 and null mean the default.
    p.beta_fast = r.number("beta_fast", 32.0, false);
    if (p.beta_fast == 0) p.beta_fast = 32.0;
    p.beta_slow = r.number("beta_slow", 1.0, false);
    if (p.beta_slow == 0) p.beta_slow = 1.0;
    const bool truncate = r.boolean("truncate", true);
    p.truncate = truncate_key_honoured ? truncate : true;
    auto get_mscale = [](double scale, double mscale) {
      return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
    };
    const double mscale = r.number("mscale", 0.0, false);
    const double mscale_all_dim = r.number("mscale_all_dim", 0.0, false);
    if (r.has("attention_factor")) {
      p.attention_factor = r.number("attention_factor", std::nullopt, true);
    } else if (mscale != 0 && mscale_all_dim != 0) {
      p.attention_factor = get_mscale(p.factor, mscale) / get_mscale(p.factor, mscale_all_dim);
    } else {
      p.attention_factor = get_mscale(p.factor, 1.0);
    }
  }
  r.reject_unused("rope type '" + type + "'");
  return p;
}

// The four transformer families apply RoPE to the whole head in transformers 5.17: their
// default rope ignores partial_rotary_factor and the scaled ones would fail at the first
// forward. A factor other than 1 therefore has no well-defined meaning there.
void require_full_rotary(const RopeParams& p, const std::string& file, const std::string& path,
                         const std::string& model_type) {
  if (p.partial_rotary_factor != 1.0)
    throw InputError(file, path + ".partial_rotary_factor: " + model_type +
                               " applies RoPE to the whole head in transformers 5.17 (it ignores or "
                               "fails on partial_rotary_factor); got " +
                               std::to_string(p.partial_rotary_factor));
}

}  // namespace

namespace config_detail {

// PreTrainedConfig.convert_rope_params_to_dict + standardize_rope_params for one global dict.
RopeParams read_global_rope(Reader& r, const json& cfg, double default_theta, int64_t max_pos,
                            const std::string& model_type, bool allow_partial) {
  const bool has_scaling = r.has("rope_scaling") && !(cfg["rope_scaling"].is_object() && cfg["rope_scaling"].empty());
  const bool has_params = r.has("rope_parameters") && !(cfg["rope_parameters"].is_object() && cfg["rope_parameters"].empty());
  if (has_scaling && has_params)
    r.fail("rope_scaling", "given together with rope_parameters; keep one (transformers would use rope_scaling and drop rope_parameters)");
  const std::string path = has_scaling ? "rope_scaling" : "rope_parameters";
  json d = has_scaling ? cfg["rope_scaling"] : has_params ? cfg["rope_parameters"] : json::object();
  if (!d.is_object()) r.fail(path, "expected an object or null, got " + json_brief(d));
  if (r.has("rope_theta")) {
    const double top = r.number("rope_theta", std::nullopt, true);
    if (d.contains("rope_theta") && d["rope_theta"].is_number() && d["rope_theta"].get<double>() != top)
      r.fail("rope_theta", "contradicts " + path + ".rope_theta");
    if (!d.contains("rope_theta")) d["rope_theta"] = cfg["rope_theta"];
  } else if (!d.contains("rope_theta")) {
    d["rope_theta"] = default_theta;
  }
  if (r.has("partial_rotary_factor") && !d.contains("partial_rotary_factor")) {
    r.number("partial_rotary_factor", std::nullopt, true);
    d["partial_rotary_factor"] = cfg["partial_rotary_factor"];
  }
  RopeParams p = resolve_rope(d, r.file(), path, max_pos, true);
  if (!allow_partial) require_full_rotary(p, r.file(), path, model_type);
  return p;
}

}  // namespace config_detail

namespace {

// ----------------------------------------------------------------------------------------------
// Families

struct Family {
  std::string model_type;
  // The dataclass defaults of configuration_<family>.py in transformers 5.17.
  int64_t vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads;
  int64_t max_position_embeddings;
  double rms_norm_eps;
  std::optional<int64_t> head_dim;  // nullopt: hidden_size / num_attention_heads
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;
  double default_theta;
  enum class Sliding { None, Qwen3, Olmo3 } sliding;
  bool reads_mlp_bias;         // llama has mlp_bias; the others have bias-free MLPs
  bool hidden_divisible_by_heads;  // LlamaConfig.validate_architecture
  bool rope_per_layer_type;    // Olmo3Config.convert_rope_params_to_dict
};

const std::vector<Family>& families() {
  using S = Family::Sliding;
  static const std::vector<Family> f = {
      {"llama", 32000, 4096, 11008, 32, 32, 2048, 1e-6, std::nullopt, 1, 2, std::nullopt, 10000.0,
       S::None, true, true, false},
      {"qwen3", 151936, 4096, 22016, 32, 32, 32768, 1e-6, 128, std::nullopt, std::nullopt, std::nullopt,
       10000.0, S::Qwen3, false, false, false},
      {"olmo2", 50304, 4096, 11008, 32, 32, 2048, 1e-5, std::nullopt, std::nullopt, 50279, 1, 10000.0,
       S::None, false, false, false},
      {"olmo3", 50304, 4096, 11008, 32, 32, 2048, 1e-5, std::nullopt, std::nullopt, 50279, 1, 500000.0,
       S::Olmo3, false, false, true},
  };
  return f;
}

// Families of issue 4 (and their config spellings): recognised, not implemented yet.
const std::set<std::string>& later_families() {
  static const std::set<std::string> k = {
      "qwen3_5_moe", "qwen3_5_moe_text"};
  return k;
}


std::vector<std::string> read_layer_types(Reader& r, const json& cfg, int64_t n_layers,
                                          const std::string& model_type) {
  const json& v = cfg["layer_types"];
  r.mark_used("layer_types");
  if (!v.is_array()) r.fail("layer_types", "expected a list of layer types, got " + json_brief(v));
  if (static_cast<int64_t>(v.size()) != n_layers)
    r.fail("layer_types", "has " + std::to_string(v.size()) + " entries but num_hidden_layers is " +
                              std::to_string(n_layers));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      r.fail("layer_types[" + std::to_string(i) + "]", "expected a string, got " + json_brief(v[i]));
    std::string t = v[i].get<std::string>();
    if (t != kFullAttention && t != kSlidingAttention)
      r.fail("layer_types[" + std::to_string(i) + "]",
             "unknown layer type '" + t + "' for " + model_type + " (expected full_attention or sliding_attention)");
    out.push_back(std::move(t));
  }
  return out;
}

// Olmo3Config.convert_rope_params_to_dict (transformers 5.17): one dict per layer type.
// Legacy rope_scaling goes to full_attention only; full_attention takes the top-level
// rope_theta; sliding_attention takes its own rope_theta or else Olmo3Config.default_theta
// (500000), never the top-level rope_theta (the top-level key is consumed by the first lookup).
std::map<std::string, RopeParams> read_olmo3_rope(Reader& r, const json& cfg, const Family& fam,
                                                  int64_t max_pos) {
  const bool has_scaling = r.has("rope_scaling") && !(cfg["rope_scaling"].is_object() && cfg["rope_scaling"].empty());
  const bool has_params = r.has("rope_parameters");
  if (has_scaling && has_params)
    r.fail("rope_scaling", "given together with rope_parameters; keep one");
  json per_type = {{std::string(kFullAttention), {{"rope_type", "default"}}},
                   {std::string(kSlidingAttention), {{"rope_type", "default"}}}};
  if (has_params) {
    const json& rp = cfg["rope_parameters"];
    if (!rp.is_object()) r.fail("rope_parameters", "expected an object, got " + json_brief(rp));
    for (auto it = rp.begin(); it != rp.end(); ++it) {
      if (it.key() != kFullAttention && it.key() != kSlidingAttention)
        r.fail("rope_parameters." + it.key(),
               "olmo3 keeps one RoPE dict per layer type: expected only full_attention and sliding_attention");
      if (!it.value().is_object())
        r.fail("rope_parameters." + it.key(), "expected an object, got " + json_brief(it.value()));
      per_type[it.key()] = it.value();
    }
  } else if (has_scaling) {
    const json& rs = cfg["rope_scaling"];
    if (!rs.is_object()) r.fail("rope_scaling", "expected an object or null, got " + json_brief(rs));
    per_type[std::string(kFullAttention)].update(rs);
  }
  json& full = per_type[std::string(kFullAttention)];
  json& sliding = per_type[std::string(kSlidingAttention)];
  if (!full.contains("rope_theta"))
    full["rope_theta"] = r.has("rope_theta") ? json(r.number("rope_theta", std::nullopt, true)) : json(fam.default_theta);
  else if (r.has("rope_theta"))
    r.number("rope_theta", std::nullopt, true);
  if (!sliding.contains("rope_theta")) sliding["rope_theta"] = fam.default_theta;

  std::map<std::string, RopeParams> out;
  const std::string full_path = has_scaling ? "rope_scaling" : "rope_parameters.full_attention";
  out[std::string(kFullAttention)] = resolve_rope(full, r.file(), full_path, max_pos, false);
  out[std::string(kSlidingAttention)] =
      resolve_rope(sliding, r.file(), "rope_parameters.sliding_attention", max_pos, false);
  for (const auto& [t, p] : out) require_full_rotary(p, r.file(), "rope_parameters." + t, fam.model_type);
  return out;
}

}  // namespace

namespace config_detail {

std::optional<int64_t> read_id(Reader& r, const std::string& k, std::optional<int64_t> def) {
  if (!r.present(k)) return def;
  return r.opt_integer(k, 0);
}

void finish_config(Reader& r, const json& cfg, ModelConfig& c, const DefaultIds& ids) {
  // Special ids: absent -> the family default, null -> none.
  c.bos_token_id = read_id(r, "bos_token_id", ids.bos_token_id);
  c.pad_token_id = read_id(r, "pad_token_id", ids.pad_token_id);
  if (!r.present("eos_token_id")) {
    if (ids.eos_token_id) c.eos_token_id.push_back(*ids.eos_token_id);
  } else if (r.has("eos_token_id")) {
    const json& e = cfg["eos_token_id"];
    if (e.is_array()) {
      for (size_t i = 0; i < e.size(); ++i) {
        if (!e[i].is_number_integer() || e[i].get<int64_t>() < 0)
          r.fail("eos_token_id[" + std::to_string(i) + "]", "expected a non-negative integer, got " + json_brief(e[i]));
        c.eos_token_id.push_back(e[i].get<int64_t>());
      }
    } else {
      c.eos_token_id.push_back(r.integer("eos_token_id", std::nullopt, 0));
    }
  }

  // Informational keys.
  if (r.has("architectures")) {
    const json& a = cfg["architectures"];
    if (a.is_array())
      for (const auto& x : a)
        if (x.is_string()) c.architectures.push_back(x.get<std::string>());
  }
  if (r.has("dtype") && cfg["dtype"].is_string()) c.torch_dtype = cfg["dtype"].get<std::string>();
  else if (r.has("torch_dtype") && cfg["torch_dtype"].is_string()) c.torch_dtype = cfg["torch_dtype"].get<std::string>();

  for (const auto& k : inert_keys()) r.mark_used(k);
  for (const auto& [k, v] : fixed_value_keys()) {
    if (r.present(k) && !cfg[k].is_null() && cfg[k] != v)
      r.fail(k, "only " + v.dump() + " describes a decoder-only language model; got " + json_brief(cfg[k]));
  }
  r.reject_unused("model_type '" + c.model_type + "'");
}

}  // namespace config_detail

namespace {

ModelConfig read_transformer(Reader& r, const json& cfg, const Family& fam) {
  ModelConfig c;
  c.model_type = fam.model_type;
  c.vocab_size = r.integer("vocab_size", fam.vocab_size, 1);
  c.hidden_size = r.integer("hidden_size", fam.hidden_size, 1);
  c.intermediate_size = r.integer("intermediate_size", fam.intermediate_size, 1);
  c.num_hidden_layers = r.integer("num_hidden_layers", fam.num_hidden_layers, 1);
  c.num_attention_heads = r.integer("num_attention_heads", fam.num_attention_heads, 1);
  c.num_key_value_heads = r.has("num_key_value_heads") ? r.integer("num_key_value_heads", std::nullopt, 1)
                                                        : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads", std::to_string(c.num_key_value_heads) + " does not divide num_attention_heads " +
                                      std::to_string(c.num_attention_heads));
  if (fam.hidden_divisible_by_heads && c.hidden_size % c.num_attention_heads != 0)
    r.fail("hidden_size", std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                              std::to_string(c.num_attention_heads) + " (transformers rejects it for " +
                              fam.model_type + ")");
  // head_dim: the value; null -> hidden_size / heads; absent -> the family default.
  if (r.has("head_dim")) {
    c.head_dim = r.integer("head_dim", std::nullopt, 1);
  } else if (!r.present("head_dim") && fam.head_dim) {
    c.head_dim = *fam.head_dim;
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      r.fail("head_dim", "missing, and hidden_size " + std::to_string(c.hidden_size) +
                             " is not a multiple of num_attention_heads " + std::to_string(c.num_attention_heads));
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) r.fail("head_dim", "must be even for rotary embeddings, got " + std::to_string(c.head_dim));
  c.max_position_embeddings = r.integer("max_position_embeddings", fam.max_position_embeddings, 1);

  c.hidden_act = r.string("hidden_act", std::string("silu"));
  if (c.hidden_act != "silu")
    r.fail("hidden_act", "'" + c.hidden_act + "' is not supported (lossgap implements silu)");
  c.rms_norm_eps = r.number("rms_norm_eps", fam.rms_norm_eps, true);
  c.attention_bias = r.boolean("attention_bias", false);
  if (fam.reads_mlp_bias) {
    c.mlp_bias = r.boolean("mlp_bias", false);
  } else if (r.present("mlp_bias") && r.boolean("mlp_bias", false)) {
    r.fail("mlp_bias", fam.model_type + " has no MLP biases in transformers (the key would be ignored); got true");
  }
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);

  // Layer types and sliding windows.
  std::optional<int64_t> window;
  const bool given_types = r.has("layer_types");
  if (fam.sliding == Family::Sliding::Qwen3) {
    const bool use = r.boolean("use_sliding_window", false);
    const std::optional<int64_t> sw = r.present("sliding_window") ? r.opt_integer("sliding_window", 1) : 4096;
    const int64_t max_window_layers = r.integer("max_window_layers", 28, 0);
    window = use ? sw : std::nullopt;
    if (given_types) {
      c.layer_types = read_layer_types(r, cfg, c.num_hidden_layers, fam.model_type);
    } else {
      for (int64_t il = 0; il < c.num_hidden_layers; ++il)
        c.layer_types.push_back(std::string(window && il >= max_window_layers ? kSlidingAttention : kFullAttention));
    }
  } else if (fam.sliding == Family::Sliding::Olmo3) {
    window = r.present("sliding_window") ? r.opt_integer("sliding_window", 1) : 4096;
    if (given_types) {
      c.layer_types = read_layer_types(r, cfg, c.num_hidden_layers, fam.model_type);
    } else {
      for (int64_t il = 0; il < c.num_hidden_layers; ++il)
        c.layer_types.push_back(std::string((il + 1) % 4 != 0 ? kSlidingAttention : kFullAttention));
    }
  } else {
    c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), std::string(kFullAttention));
  }
  const bool any_sliding = std::count(c.layer_types.begin(), c.layer_types.end(), kSlidingAttention) > 0;
  if (any_sliding) {
    if (!window)
      r.fail(fam.sliding == Family::Sliding::Qwen3 ? "use_sliding_window" : "sliding_window",
             "layer_types has sliding_attention layers but no sliding window is in effect "
             "(transformers would run them as full attention)");
    c.sliding_window = window;
  }

  // RoPE.
  if (fam.rope_per_layer_type) {
    auto per_type = read_olmo3_rope(r, cfg, fam, c.max_position_embeddings);
    for (const auto& t : c.layer_types) c.rope_parameters[t] = per_type.at(t);
  } else {
    RopeParams p = read_global_rope(r, cfg, fam.default_theta, c.max_position_embeddings, fam.model_type);
    for (const auto& t : c.layer_types) c.rope_parameters[t] = p;
  }

  finish_config(r, cfg, c, {fam.bos_token_id, fam.eos_token_id, fam.pad_token_id});
  return c;
}

}  // namespace

int64_t RopeParams::rotary_dim(int64_t head_dim) const {
  return static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor);
}

const RopeParams* ModelConfig::rope_for(std::string_view layer_type) const {
  auto it = rope_parameters.find(std::string(layer_type));
  return it == rope_parameters.end() ? nullptr : &it->second;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const auto& f : families()) out.push_back(f.model_type);
  for (const char* t : {"olmo_hybrid", "qwen3_5", "qwen3_5_text", "qwen3_next"}) out.push_back(t);
  for (const auto& t : config_detail::ssm_model_types()) out.push_back(t);
  std::sort(out.begin(), out.end());
  return out;
}

ModelConfig parse_config(std::string_view json_text, const std::string& file_label) {
  const json cfg = parse_json_strict(json_text, file_label, /*python_nonfinite=*/true);
  if (!cfg.is_object()) throw InputError(file_label, "expected a JSON object, got " + json_brief(cfg));
  Reader r(cfg, file_label);
  const std::string model_type = r.string("model_type", std::nullopt);
  for (const auto& fam : families()) {
    if (fam.model_type != model_type) continue;
    ModelConfig c = read_transformer(r, cfg, fam);
    c.path = file_label;
    return c;
  }
  if (config_detail::is_ssm_model_type(model_type)) {
    ModelConfig c = config_detail::read_ssm_config(cfg, file_label, model_type);
    c.path = file_label;
    return c;
  }
  if (config_detail::is_gdn_model_type(model_type)) {
    ModelConfig c = config_detail::read_gdn_config(cfg, file_label, model_type);
    c.path = file_label;
    return c;
  }
  if (later_families().count(model_type))
    r.fail("model_type", "'" + model_type + "' is not supported yet (the Qwen3.5 mixture-of-experts variant)");
  std::string list;
  for (const auto& t : supported_model_types()) list += (list.empty() ? "" : ", ") + t;
  r.fail("model_type", "unknown model_type '" + model_type + "' (supported: " + list + ")");
}

ModelConfig load_config(const std::filesystem::path& config_json) {
  std::error_code ec;
  if (!std::filesystem::exists(config_json, ec))
    throw InputError(config_json.string(), "missing (a Hugging Face checkpoint directory has a config.json)");
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw InputError(config_json.string(), "cannot open the file for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(config_json.string(), "read error");
  return parse_config(ss.str(), config_json.string());
}

ModelConfig load_config_dir(const std::filesystem::path& dir) { return load_config(dir / "config.json"); }

}  // namespace lossgap
