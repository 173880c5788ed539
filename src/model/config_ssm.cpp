// Config reading for the Mamba families; see config_ssm.h. Defaults are the configuration
// classes' (transformers 5.17): NemotronHConfig, FalconH1Config, GraniteMoeHybridConfig,
// BambaConfig, Mamba2Config, MambaConfig, FalconMambaConfig, JambaConfig. Layer kinds in
// ModelConfig::layer_types: "mamba", "full_attention", "mlp", "moe" (nemotron_h's one-mixer
// layers) and "parallel_hybrid" (falcon_h1). Keys that only steer initialisation, training,
// caches or CUDA kernels are accepted with any value of their type.
#include "model/config_ssm.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "io/json_strict.h"
#include "model/config_reader.h"

namespace lossgap::config_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const std::string kMamba = "mamba";
const std::string kMlp = "mlp";
const std::string kMoe = "moe";
const std::string kParallel = "parallel_hybrid";

// Keys that change nothing in a loaded fp32 model (init ranges, training, caches, kernels,
// residual_in_fp32 which is a no-op in fp32, chunk sizes which only change rounding).
void mark_inert(Reader& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys) r.mark_used(k);
}

void require_silu(Reader& r, const std::string& key) {
  const std::string act = r.string(key, std::string("silu"));
  if (act != "silu") r.fail(key, "'" + act + "' is not supported (lossgap implements silu)");
}

// time_step_limit: a [min, max] pair (max may be Infinity); the torch path clamps Δ to it.
std::pair<double, double> read_limit(Reader& r, const json& cfg, const std::string& key) {
  if (!r.has(key)) return {0.0, kInf};
  const json& v = cfg[key];
  // Infinity: Python's bare Infinity (the strict parser makes it the string "Infinity", see
  // json_strict.h) or transformers 5's {"__float__": "Infinity"}.
  auto value = [&](const json& x, double& out) {
    if (x.is_number()) {
      out = x.get<double>();
      return true;
    }
    if (x == "Infinity" ||
        (x.is_object() && x.size() == 1 && x.contains("__float__") && x["__float__"] == "Infinity")) {
      out = kInf;
      return true;
    }
    return false;
  };
  double lo = 0, hi = 0;
  if (!v.is_array() || v.size() != 2 || !value(v[0], lo) || !value(v[1], hi))
    r.fail(key, "expected [min, max], got " + json_brief(v));
  if (!(lo >= 0) || !(hi > lo)) r.fail(key, "expected 0 <= min < max, got " + json_brief(v));
  return {lo, hi};
}

// "auto" or an integer (mamba_d_head, time_step_rank, mamba_dt_rank).
int64_t auto_or_integer(Reader& r, const json& cfg, const std::string& key, int64_t automatic) {
  if (!r.has(key)) return automatic;
  if (cfg[key].is_string()) {
    if (cfg[key].get<std::string>() != "auto") r.fail(key, "expected \"auto\" or an integer, got " + json_brief(cfg[key]));
    return automatic;
  }
  return r.integer(key, std::nullopt, 1);
}

std::vector<double> number_list(Reader& r, const json& cfg, const std::string& key, size_t n) {
  const json& v = cfg[key];
  if (!v.is_array() || v.size() != n)
    r.fail(key, "expected a list of " + std::to_string(n) + " numbers, got " + json_brief(v));
  std::vector<double> out;
  for (const json& x : v) {
    if (!x.is_number()) r.fail(key, "expected numbers, got " + json_brief(v));
    out.push_back(x.get<double>());
  }
  return out;
}

void read_sizes(Reader& r, ModelConfig& c, int64_t vocab, int64_t hidden) {
  c.vocab_size = r.integer("vocab_size", vocab, 1);
  c.hidden_size = r.integer("hidden_size", hidden, 1);
}

// Attention sizes of the hybrids (head_dim from `head_key` when given, else hidden / heads).
void read_attention(Reader& r, ModelConfig& c, int64_t heads, std::optional<int64_t> kv,
                    std::optional<int64_t> head_dim) {
  c.num_attention_heads = r.integer("num_attention_heads", heads, 1);
  c.num_key_value_heads = r.integer("num_key_value_heads", kv.value_or(c.num_attention_heads), 1);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads", std::to_string(c.num_key_value_heads) +
                                      " does not divide num_attention_heads " +
                                      std::to_string(c.num_attention_heads));
  if (r.has("head_dim")) {
    c.head_dim = r.integer("head_dim", std::nullopt, 1);
  } else if (head_dim && !r.present("head_dim")) {
    c.head_dim = *head_dim;
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      r.fail("num_attention_heads", "does not divide hidden_size " + std::to_string(c.hidden_size));
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
}

void check_mamba2(Reader& r, const Mamba2Params& m, const std::string& heads_key,
                  const std::string& groups_key) {
  if (m.num_heads % m.n_groups != 0)
    r.fail(groups_key, std::to_string(m.n_groups) + " does not divide " + heads_key + " " +
                           std::to_string(m.num_heads));
  if (m.num_heads * m.head_dim != m.d_inner)
    r.fail(heads_key, std::to_string(m.num_heads) + " heads x head dim " + std::to_string(m.head_dim) +
                          " != the mixer's inner size " + std::to_string(m.d_inner));
  if (m.d_inner % m.norm_groups != 0)
    r.fail(groups_key, "does not divide the mixer's inner size " + std::to_string(m.d_inner));
}

// ------------------------------------------------------------------------------------------
// nemotron_h

std::vector<std::string> nemotron_layers(Reader& r, const json& cfg) {
  std::vector<std::string> out;
  if (r.has("hybrid_override_pattern")) {
    const std::string p = r.string("hybrid_override_pattern", std::nullopt);
    for (size_t i = 0; i < p.size(); ++i) {
      switch (p[i]) {
        case 'M': out.push_back(kMamba); break;
        case '*': out.push_back(std::string(kFullAttention)); break;
        case '-': out.push_back(kMlp); break;
        case 'E': out.push_back(kMoe); break;
        default:
          r.fail("hybrid_override_pattern", "character " + std::to_string(i) + " is '" +
                                                std::string(1, p[i]) + "' (expected M, *, - or E)");
      }
    }
    if (r.has("layers_block_type")) r.mark_used("layers_block_type");  // the pattern wins (HF)
  } else if (r.has("layers_block_type") || r.has("layer_types")) {
    const std::string key = r.has("layers_block_type") ? "layers_block_type" : "layer_types";
    const json& v = cfg[key];
    if (!v.is_array()) r.fail(key, "expected a list of layer types, got " + json_brief(v));
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string k = key + "[" + std::to_string(i) + "]";
      if (!v[i].is_string()) r.fail(k, "expected a string, got " + json_brief(v[i]));
      const std::string t = v[i].get<std::string>();
      // remap_legacy_layer_types: mamba -> linear_attention, attention -> full_attention.
      if (t == "mamba" || t == "linear_attention") out.push_back(kMamba);
      else if (t == "attention" || t == "full_attention") out.push_back(std::string(kFullAttention));
      else if (t == "mlp" || t == "moe") out.push_back(t);
      else r.fail(k, "unknown layer type '" + t + "' (expected linear_attention, full_attention, mlp or moe)");
    }
  } else {
    out = {kMamba, kMoe, std::string(kFullAttention), kMlp};  // NemotronHConfig's default
  }
  if (out.empty()) r.fail("hybrid_override_pattern", "has no layers");
  return out;
}

ModelConfig read_nemotron_h(Reader& r, const json& cfg) {
  ModelConfig c;
  c.model_type = r.string("model_type", std::nullopt);
  read_sizes(r, c, 131072, 4096);
  c.layer_types = nemotron_layers(r, cfg);
  c.num_hidden_layers = static_cast<int64_t>(c.layer_types.size());
  r.integer("num_hidden_layers", c.num_hidden_layers, 1);  // deprecated: the pattern decides
  read_attention(r, c, 32, 8, 128);
  // Remote-code configs spell head_dim attention_head_dim; transformers 5.17 ignores that key.
  if (r.has("attention_head_dim") && r.integer("attention_head_dim", std::nullopt, 1) != c.head_dim)
    r.fail("attention_head_dim", "differs from head_dim " + std::to_string(c.head_dim) +
                                     " (transformers 5.17 reads head_dim only)");
  c.max_position_embeddings = r.integer("max_position_embeddings", 4096, 1);
  r.boolean("attention_bias", false);  // read, but transformers' attention here has no biases
  if (r.has("sliding_window")) r.fail("sliding_window", "must be null (nemotron_h attention is full)");
  c.intermediate_size = r.integer("intermediate_size", 21504, 1);
  c.mlp_bias = r.boolean("mlp_bias", false);
  c.rms_norm_eps = r.number("layer_norm_epsilon", 1e-5, true);
  // Some released configs (Nemotron-H 56B) repeat the epsilon as rms_norm_eps; transformers 5.17
  // reads layer_norm_epsilon only, so a differing value would be ignored there: refuse it.
  if (r.has("rms_norm_eps") && r.number("rms_norm_eps", std::nullopt, true) != c.rms_norm_eps)
    r.fail("rms_norm_eps", "differs from layer_norm_epsilon (transformers 5.17 reads only that)");
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);

  SsmParams s;
  s.mlp_hidden_act = r.string("mlp_hidden_act", std::string("relu2"));
  if (s.mlp_hidden_act != "relu2")
    r.fail("mlp_hidden_act", "'" + s.mlp_hidden_act + "' is not supported (lossgap implements relu2)");
  require_silu(r, "mamba_hidden_act");
  Mamba2Params m;
  m.num_heads = r.integer("mamba_num_heads", 128, 1);
  m.head_dim = r.integer("mamba_head_dim", 64, 1);
  m.d_inner = m.num_heads * m.head_dim;
  const char* groups_key = r.has("mamba_n_groups") ? "mamba_n_groups" : "n_groups";
  m.n_groups = r.integer(groups_key, 8, 1);
  m.state_size = r.integer("ssm_state_size", 128, 1);
  const char* conv_key = r.has("mamba_d_conv") ? "mamba_d_conv" : "conv_kernel";
  m.conv_kernel = r.integer(conv_key, 4, 1);
  const char* chunk_key = r.has("mamba_chunk_size") ? "mamba_chunk_size" : "chunk_size";
  m.chunk_size = r.integer(chunk_key, 128, 1);
  const char* cbias_key = r.has("mamba_conv_bias") ? "mamba_conv_bias" : "use_conv_bias";
  m.conv_bias = r.boolean(cbias_key, true);
  m.in_proj_bias = m.out_proj_bias = r.boolean("use_bias", false);
  // The torch path clamps Δ from below at time_step_min only (docs/ssm.md); time_step_limit is
  // the CUDA kernels'.
  const char* min_key = r.has("mamba_dt_min") ? "mamba_dt_min" : "time_step_min";
  m.dt_min = r.number(min_key, 0.001, false);
  m.dt_max = kInf;
  read_limit(r, cfg, r.has("mamba_dt_limit") ? "mamba_dt_limit" : "time_step_limit");
  m.norm = SsmGatedNorm::GateThenNorm;
  m.norm_groups = m.n_groups;
  m.norm_eps = c.rms_norm_eps;
  check_mamba2(r, m, "mamba_num_heads", groups_key);
  s.mamba2 = m;

  const bool any_moe = std::count(c.layer_types.begin(), c.layer_types.end(), kMoe) > 0;
  SsmMoeParams e;
  e.num_experts = r.integer("n_routed_experts", 8, 1);
  e.num_experts_per_tok = r.integer("num_experts_per_tok", 2, 1);
  e.intermediate_size = r.integer("moe_intermediate_size", 7688, 1);
  // NemotronHMoE always builds one shared expert of moe_shared_expert_intermediate_size; the
  // modeling code never reads n_shared_experts, so any other count would be silently ignored.
  const int64_t n_shared = r.integer("n_shared_experts", 1, 0);
  e.shared_intermediate_size = r.integer("moe_shared_expert_intermediate_size", 7688, 1);
  e.n_group = r.integer("n_group", 1, 1);
  e.topk_group = r.integer("topk_group", 1, 1);
  e.norm_topk_prob = r.boolean("norm_topk_prob", true);
  e.routed_scaling_factor = r.number("routed_scaling_factor", 1.0, true);
  if (r.has("moe_latent_size"))
    r.fail("moe_latent_size", "latent MoE projections are not supported by lossgap");
  if (any_moe) {
    if (n_shared != 1)
      r.fail("n_shared_experts", "transformers 5.17 always builds exactly one shared expert; got " +
                                     std::to_string(n_shared));
    if (e.num_experts % e.n_group != 0 || e.num_experts / e.n_group < 2)
      r.fail("n_group", "must divide n_routed_experts into groups of at least 2 experts (groups "
                        "score their two best), got " + std::to_string(e.n_group) + " for " +
                        std::to_string(e.num_experts) + " experts");
    if (e.topk_group > e.n_group)
      r.fail("topk_group", "exceeds n_group " + std::to_string(e.n_group));
    if (e.num_experts_per_tok > e.topk_group * (e.num_experts / e.n_group))
      r.fail("num_experts_per_tok", "exceeds the experts of the topk_group kept groups (" +
                                        std::to_string(e.topk_group * (e.num_experts / e.n_group)) + ")");
    s.moe = e;
  }
  const int64_t mtp = r.integer("num_nextn_predict_layers", 0, 0);
  (void)mtp;  // multi-token-prediction layers (mtp.*) do not take part in the forward pass
  for (const std::string& t : c.layer_types) {
    (void)t;
    s.ffn_types.push_back("");
  }
  c.rope_parameters.clear();  // NoPE
  mark_inert(r, {"rope_theta", "partial_rotary_factor", "rope_parameters", "rope_scaling",
                 "use_mamba_kernels", "expand", "mamba_expand", "time_step_max", "mamba_dt_max",
                 "time_step_floor", "mamba_dt_init_floor", "time_step_rank", "mamba_proj_bias",
                 "mamba_ssm_cache_dtype", "moe_shared_expert_overlap", "mtp_layers_block_type",
                 "mtp_hybrid_override_pattern", "num_logits_to_keep", "residual_in_fp32",
                 "hidden_dropout", "rescale_prenorm_residual", "norm_eps"});
  c.ssm = s;
  finish_config(r, cfg, c, {1, 2, 0});
  return c;
}

// ------------------------------------------------------------------------------------------
// Mamba-2 mixers of bamba / granitemoehybrid / falcon_h1 (the mamba_* keys)

Mamba2Params read_mamba_star(Reader& r, const json& cfg, int64_t hidden, int64_t d_inner,
                             int64_t heads_default, int64_t state_default, int64_t chunk_default) {
  Mamba2Params m;
  m.d_inner = d_inner;
  m.num_heads = r.integer("mamba_n_heads", heads_default, 1);
  if (m.d_inner % m.num_heads != 0 && !r.has("mamba_d_head"))
    r.fail("mamba_n_heads", "does not divide the mixer's inner size " + std::to_string(d_inner));
  m.head_dim = auto_or_integer(r, cfg, "mamba_d_head", m.d_inner / m.num_heads);
  m.n_groups = r.integer("mamba_n_groups", 1, 1);
  m.state_size = r.integer("mamba_d_state", state_default, 1);
  m.conv_kernel = r.integer("mamba_d_conv", 4, 1);
  m.chunk_size = r.integer("mamba_chunk_size", chunk_default, 1);
  m.conv_bias = r.boolean("mamba_conv_bias", true);
  m.in_proj_bias = m.out_proj_bias = r.boolean("mamba_proj_bias", false);
  (void)hidden;
  return m;
}

ModelConfig read_bamba_like(Reader& r, const json& cfg, const std::string& type) {
  const bool granite = type == "granitemoehybrid";
  ModelConfig c;
  c.model_type = r.string("model_type", std::nullopt);
  read_sizes(r, c, granite ? 32000 : 128000, 4096);
  c.num_hidden_layers = r.integer("num_hidden_layers", 32, 1);
  read_attention(r, c, 32, granite ? std::nullopt : std::optional<int64_t>(8), std::nullopt);
  c.intermediate_size = r.integer("intermediate_size", granite ? 11008 : 14336, 1);
  c.max_position_embeddings = r.integer("max_position_embeddings", granite ? 2048 : 262144, 1);
  require_silu(r, "hidden_act");
  c.rms_norm_eps = r.number("rms_norm_eps", granite ? 1e-6 : 1e-5, true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = r.boolean("attention_bias", false);
  c.mlp_bias = granite ? false : r.boolean("mlp_bias", false);

  SsmParams s;
  const double expand = r.number("mamba_expand", 2.0, true);
  const int64_t d_inner = static_cast<int64_t>(expand * static_cast<double>(c.hidden_size));
  Mamba2Params m = read_mamba_star(r, cfg, c.hidden_size, d_inner, 128, 256, 256);
  m.dt_min = 0;  // the torch path of both families never clamps Δ
  m.dt_max = kInf;
  read_limit(r, cfg, "time_step_limit");
  m.norm = SsmGatedNorm::GateThenNorm;  // G2: one statistic over the whole d_inner
  m.norm_groups = 1;
  m.norm_eps = c.rms_norm_eps;
  check_mamba2(r, m, "mamba_n_heads", "mamba_n_groups");
  s.mamba2 = m;

  // Layer kinds.
  c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), kMamba);
  if (granite) {
    const char* key = r.has("layer_types") ? "layer_types" : "layers_block_type";
    if (r.has(key)) {
      const json& v = cfg[key];
      if (!v.is_array() || static_cast<int64_t>(v.size()) != c.num_hidden_layers)
        r.fail(key, "expected a list of num_hidden_layers layer types, got " + json_brief(v));
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string t = v[i].is_string() ? v[i].get<std::string>() : "";
        if (t == "mamba" || t == "linear_attention") c.layer_types[i] = kMamba;
        else if (t == "attention" || t == "full_attention") c.layer_types[i] = std::string(kFullAttention);
        else r.fail(std::string(key) + "[" + std::to_string(i) + "]", "expected mamba or attention, got " + json_brief(v[i]));
      }
    }
    if (r.has("layers_block_type")) r.mark_used("layers_block_type");
  } else if (r.has("attn_layer_indices")) {
    const json& v = cfg["attn_layer_indices"];
    if (!v.is_array()) r.fail("attn_layer_indices", "expected a list, got " + json_brief(v));
    for (const json& x : v) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= c.num_hidden_layers)
        r.fail("attn_layer_indices", "expected layer indices below num_hidden_layers, got " + json_brief(v));
      c.layer_types[x.get<size_t>()] = std::string(kFullAttention);
    }
  }

  // RoPE of the attention layers.
  if (granite) {
    const std::string pe = r.has("position_embedding_type") ? r.string("position_embedding_type", std::nullopt) : "nope";
    if (pe != "rope" && pe != "nope")
      r.fail("position_embedding_type", "expected \"rope\" or \"nope\", got '" + pe + "'");
    if (pe == "rope") {
      c.rope_parameters[std::string(kFullAttention)] =
          read_global_rope(r, cfg, 10000.0, c.max_position_embeddings, type);
    } else {
      mark_inert(r, {"rope_theta", "rope_scaling", "rope_parameters"});
    }
  } else {
    // BambaConfig: partial rotary 0.5 unless rope_parameters say otherwise (docs/ssm.md).
    json d = r.has("rope_parameters") ? cfg["rope_parameters"] : json::object();
    if (!d.is_object()) r.fail("rope_parameters", "expected an object, got " + json_brief(d));
    if (!d.contains("partial_rotary_factor") && !r.has("partial_rotary_factor")) d["partial_rotary_factor"] = 0.5;
    json tmp = cfg;
    tmp["rope_parameters"] = d;
    Reader rr(tmp, r.file());
    c.rope_parameters[std::string(kFullAttention)] =
        read_global_rope(rr, tmp, 10000.0, c.max_position_embeddings, type, /*allow_partial=*/true);
    mark_inert(r, {"rope_theta", "rope_scaling", "rope_parameters", "partial_rotary_factor"});
    // The checkpoints' own record of the rotary width (not read by transformers).
    if (r.has("attn_rotary_emb")) {
      const int64_t d_rot = c.rope_parameters[std::string(kFullAttention)].rotary_dim(c.head_dim);
      if (r.integer("attn_rotary_emb", std::nullopt, 1) != d_rot)
        r.fail("attn_rotary_emb", "differs from the rotary width transformers uses, " + std::to_string(d_rot));
    }
  }

  // Feed-forward.
  if (granite) {
    s.embedding_multiplier = r.number("embedding_multiplier", 1.0, true);
    s.logits_multiplier = 1.0 / r.number("logits_scaling", 1.0, true);
    s.residual_multiplier = r.number("residual_multiplier", 1.0, true);
    s.attention_scale = r.number("attention_multiplier", 1.0, true);
    const int64_t shared = r.integer("shared_intermediate_size", 1024, 1);
    const int64_t experts = r.integer("num_local_experts", 8, 0);
    const int64_t k = r.integer("num_experts_per_tok", 2, 1);
    if (experts > 0) {
      SsmMoeParams e;
      e.num_experts = experts;
      e.num_experts_per_tok = k;
      e.intermediate_size = c.intermediate_size;
      e.shared_intermediate_size = shared;
      if (k > experts) r.fail("num_experts_per_tok", "exceeds num_local_experts");
      s.moe = e;
      s.ffn_types.assign(c.layer_types.size(), kMoe);
    } else {
      s.ffn_types.assign(c.layer_types.size(), kMlp);
    }
    c.intermediate_size = shared;  // the dense shared_mlp width
    const std::string nf = r.string("normalization_function", std::string("rmsnorm"));
    if (nf != "rmsnorm") r.fail("normalization_function", "only rmsnorm is supported, got '" + nf + "'");
    mark_inert(r, {"init_method", "mamba_dt_min", "mamba_dt_max", "mamba_dt_init_floor"});
  } else {
    s.ffn_types.assign(c.layer_types.size(), kMlp);
    mark_inert(r, {"z_loss_coefficient", "attn_rotary_emb"});
  }
  c.ssm = s;
  mark_inert(r, {"num_logits_to_keep", "time_step_min", "time_step_max", "time_step_floor",
                 "use_mamba_kernels", "mamba_ssm_cache_dtype"});
  finish_config(r, cfg, c, granite ? DefaultIds{1, 2, std::nullopt} : DefaultIds{1, 2, 0});
  return c;
}

// ------------------------------------------------------------------------------------------
// falcon_h1

ModelConfig read_falcon_h1(Reader& r, const json& cfg) {
  ModelConfig c;
  c.model_type = r.string("model_type", std::nullopt);
  read_sizes(r, c, 128000, 4096);
  c.num_hidden_layers = r.integer("num_hidden_layers", 32, 1);
  read_attention(r, c, 32, 8, std::nullopt);
  c.intermediate_size = r.integer("intermediate_size", 14336, 1);
  c.max_position_embeddings = r.integer("max_position_embeddings", 8192, 1);
  require_silu(r, "hidden_act");
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-5, true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = r.boolean("attention_bias", false);
  c.mlp_bias = r.boolean("mlp_bias", false);
  c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), kParallel);
  c.rope_parameters[kParallel] = read_global_rope(r, cfg, 100000.0, c.max_position_embeddings, "falcon_h1");

  SsmParams s;
  int64_t d_inner = 0;
  if (r.has("mamba_d_ssm")) {
    d_inner = r.integer("mamba_d_ssm", std::nullopt, 1);
  } else {
    d_inner = static_cast<int64_t>(r.number("mamba_expand", 2.0, true) * static_cast<double>(c.hidden_size));
  }
  r.mark_used("mamba_expand");
  Mamba2Params m = read_mamba_star(r, cfg, c.hidden_size, d_inner, 128, 256, 256);
  m.out_proj_bias = r.boolean("projectors_bias", false);
  const auto [lo, hi] = read_limit(r, cfg, "time_step_limit");
  m.dt_min = lo;
  m.dt_max = hi;
  if (r.boolean("mamba_rms_norm", false)) {
    m.norm = r.boolean("mamba_norm_before_gate", true) ? SsmGatedNorm::NormThenGate
                                                       : SsmGatedNorm::GateThenNorm;
    m.norm_groups = m.n_groups;
  } else {
    r.boolean("mamba_norm_before_gate", true);
    m.norm = SsmGatedNorm::None;
  }
  m.norm_eps = c.rms_norm_eps;
  m.ssm_in_multiplier = r.has("ssm_in_multiplier") ? r.number("ssm_in_multiplier", std::nullopt, false) : 1.0;
  m.ssm_multipliers = r.has("ssm_multipliers") ? number_list(r, cfg, "ssm_multipliers", 5)
                                               : std::vector<double>(5, 1.0);
  check_mamba2(r, m, "mamba_n_heads", "mamba_n_groups");
  s.mamba2 = m;
  auto opt = [&](const char* k) { return r.has(k) ? r.number(k, std::nullopt, false) : 1.0; };
  s.embedding_multiplier = r.number("embedding_multiplier", 1.0, false);
  s.logits_multiplier = r.number("lm_head_multiplier", 1.0, false);
  s.key_multiplier = opt("key_multiplier");
  s.attention_in_multiplier = opt("attention_in_multiplier");
  s.attention_out_multiplier = opt("attention_out_multiplier");
  s.ssm_out_multiplier = opt("ssm_out_multiplier");
  if (r.has("mlp_multipliers")) {
    const std::vector<double> mm = number_list(r, cfg, "mlp_multipliers", 2);
    s.mlp_gate_multiplier = mm[0];
    s.mlp_down_multiplier = mm[1];
  }
  s.ffn_types.assign(c.layer_types.size(), kMlp);
  c.ssm = s;
  mark_inert(r, {"num_logits_to_keep", "time_step_min", "time_step_max", "time_step_floor",
                 "mamba_use_mlp", "mamba_chunk_size", "use_mamba_kernels"});
  finish_config(r, cfg, c, {1, 2, 0});
  return c;
}

// ------------------------------------------------------------------------------------------
// mamba2, mamba, falcon_mamba (all-recurrent "backbone" models)

ModelConfig read_mamba2(Reader& r, const json& cfg) {
  ModelConfig c;
  c.model_type = r.string("model_type", std::nullopt);
  read_sizes(r, c, 32768, 4096);
  c.num_hidden_layers = r.integer("num_hidden_layers", 64, 1);
  c.rms_norm_eps = r.number("layer_norm_epsilon", 1e-5, true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  require_silu(r, "hidden_act");
  Mamba2Params m;
  m.num_heads = r.integer("num_heads", 128, 1);
  m.head_dim = r.integer("head_dim", 64, 1);
  m.d_inner = static_cast<int64_t>(r.number("expand", 2.0, true) * static_cast<double>(c.hidden_size));
  m.n_groups = r.integer("n_groups", 8, 1);
  m.state_size = r.integer("state_size", 128, 1);
  m.conv_kernel = r.integer("conv_kernel", 4, 1);
  m.chunk_size = r.integer("chunk_size", 256, 1);
  m.conv_bias = r.boolean("use_conv_bias", true);
  m.in_proj_bias = m.out_proj_bias = r.boolean("use_bias", false);
  const auto [lo, hi] = read_limit(r, cfg, "time_step_limit");
  m.dt_min = lo;
  m.dt_max = hi;
  if (!r.boolean("rms_norm", true)) r.fail("rms_norm", "false is not supported (every released mamba2 checkpoint has the gated norm)");
  m.norm = SsmGatedNorm::GateThenNorm;
  m.norm_groups = 1;  // G2: HF normalises over the whole d_inner whatever n_groups is
  m.norm_eps = c.rms_norm_eps;
  check_mamba2(r, m, "num_heads", "n_groups");
  SsmParams s;
  s.mamba2 = m;
  c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), kMamba);
  s.ffn_types.assign(c.layer_types.size(), "");
  c.ssm = s;
  mark_inert(r, {"residual_in_fp32", "time_step_rank", "time_step_min", "time_step_max",
                 "time_step_floor", "rescale_prenorm_residual", "num_logits_to_keep"});
  finish_config(r, cfg, c, {0, 2, 1});
  return c;
}

ModelConfig read_mamba1(Reader& r, const json& cfg, bool falcon) {
  ModelConfig c;
  c.model_type = r.string("model_type", std::nullopt);
  read_sizes(r, c, 50280, 768);
  c.num_hidden_layers = r.integer("num_hidden_layers", 32, 1);
  c.rms_norm_eps = r.number("layer_norm_epsilon", 1e-5, true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  require_silu(r, "hidden_act");
  Mamba1Params m;
  const double expand = r.number("expand", 2.0, true);
  // __post_init__ sets intermediate_size = expand * hidden, then an intermediate_size kwarg
  // from the file overrides it (falcon-mamba-7b writes expand 16 with intermediate_size 8192).
  m.d_inner = r.integer("intermediate_size", static_cast<int64_t>(expand * static_cast<double>(c.hidden_size)), 1);
  m.state_size = r.integer("state_size", 16, 1);
  m.conv_kernel = r.integer("conv_kernel", 4, 1);
  m.dt_rank = auto_or_integer(r, cfg, "time_step_rank", (c.hidden_size + 15) / 16);
  m.conv_bias = r.boolean("use_conv_bias", true);
  m.proj_bias = r.boolean("use_bias", false);
  if (falcon) {
    m.dtbc_norm = Mamba1Params::DtBcNorm::Unweighted;
    m.dtbc_eps = r.number("mixer_rms_eps", 1e-6, true);
  }
  SsmParams s;
  s.mamba1 = m;
  c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), kMamba);
  s.ffn_types.assign(c.layer_types.size(), "");
  c.ssm = s;
  mark_inert(r, {"residual_in_fp32", "time_step_scale", "time_step_min", "time_step_max",
                 "time_step_init_scheme", "time_step_floor", "rescale_prenorm_residual",
                 "use_mambapy", "use_falcon_mambapy", "use_associative_scan"});
  finish_config(r, cfg, c, {0, 0, 0});
  return c;
}

// ------------------------------------------------------------------------------------------
// jamba

ModelConfig read_jamba(Reader& r, const json& cfg) {
  ModelConfig c;
  c.model_type = r.string("model_type", std::nullopt);
  read_sizes(r, c, 65536, 4096);
  c.num_hidden_layers = r.integer("num_hidden_layers", 32, 1);
  read_attention(r, c, 32, 8, std::nullopt);
  c.intermediate_size = r.integer("intermediate_size", 14336, 1);
  c.max_position_embeddings = r.integer("max_position_embeddings", 262144, 1);
  require_silu(r, "hidden_act");
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6, true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  const int64_t attn_period = r.integer("attn_layer_period", 8, 1);
  const int64_t attn_offset = r.integer("attn_layer_offset", 4, 0);
  const int64_t expert_period = r.integer("expert_layer_period", 2, 1);
  const int64_t expert_offset = r.integer("expert_layer_offset", 1, 0);
  if (attn_offset >= attn_period) r.fail("attn_layer_offset", "must be below attn_layer_period");
  if (expert_offset >= expert_period) r.fail("expert_layer_offset", "must be below expert_layer_period");
  SsmParams s;
  SsmMoeParams e;
  e.num_experts = r.integer("num_experts", 16, 1);
  e.num_experts_per_tok = r.integer("num_experts_per_tok", 2, 1);
  e.intermediate_size = c.intermediate_size;
  if (e.num_experts_per_tok > e.num_experts) r.fail("num_experts_per_tok", "exceeds num_experts");
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    c.layer_types.push_back(il % attn_period == attn_offset ? std::string(kFullAttention) : kMamba);
    s.ffn_types.push_back(e.num_experts > 1 && il % expert_period == expert_offset ? kMoe : kMlp);
  }
  if (std::count(s.ffn_types.begin(), s.ffn_types.end(), kMoe) > 0) s.moe = e;
  Mamba1Params m;
  m.d_inner = static_cast<int64_t>(r.number("mamba_expand", 2.0, true) * static_cast<double>(c.hidden_size));
  m.state_size = r.integer("mamba_d_state", 16, 1);
  m.conv_kernel = r.integer("mamba_d_conv", 4, 1);
  m.dt_rank = auto_or_integer(r, cfg, "mamba_dt_rank", (c.hidden_size + 15) / 16);
  m.conv_bias = r.boolean("mamba_conv_bias", true);
  m.proj_bias = r.boolean("mamba_proj_bias", false);
  m.dtbc_norm = Mamba1Params::DtBcNorm::Weighted;
  m.dtbc_eps = c.rms_norm_eps;
  s.mamba1 = m;
  c.ssm = s;
  mark_inert(r, {"num_logits_to_keep", "use_mamba_kernels", "sliding_window",
                 "use_associative_scan", "use_mambapy"});
  finish_config(r, cfg, c, {1, 2, 0});
  return c;
}

}  // namespace

const std::vector<std::string>& ssm_model_types() {
  static const std::vector<std::string> t = {"bamba", "falcon_h1", "falcon_mamba", "granitemoehybrid",
                                             "jamba", "mamba", "mamba2", "nemotron_h"};
  return t;
}

bool is_ssm_model_type(std::string_view model_type) {
  const auto& t = ssm_model_types();
  return std::find(t.begin(), t.end(), model_type) != t.end();
}

ModelConfig read_ssm_config(const json& cfg, const std::string& file, const std::string& model_type) {
  Reader r(cfg, file);
  ModelConfig c;
  if (model_type == "nemotron_h") c = read_nemotron_h(r, cfg);
  else if (model_type == "falcon_h1") c = read_falcon_h1(r, cfg);
  else if (model_type == "bamba" || model_type == "granitemoehybrid") c = read_bamba_like(r, cfg, model_type);
  else if (model_type == "mamba2") c = read_mamba2(r, cfg);
  else if (model_type == "mamba" || model_type == "falcon_mamba") c = read_mamba1(r, cfg, model_type == "falcon_mamba");
  else if (model_type == "jamba") c = read_jamba(r, cfg);
  else LG_CHECK(false, "read_ssm_config: " + model_type);
  return c;
}

}  // namespace lossgap::config_detail
