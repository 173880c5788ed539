// ModelConfig: a Hugging Face config.json read strictly and resolved the way transformers 5.17
// resolves it (defaults applied, legacy RoPE keys normalised, one RoPE setting per layer type,
// layer_types filled in). Fields keep the HF key names. Not the tensor plan (tensor_plan.h) and
// not the forward pass: this file only says what the checkpoint declares.
//
// Key policy (docs/checkpoints.md): every top-level key must be either read here for the
// model_type, or listed as known not to change log-probabilities (architectures, torch_dtype,
// transformers_version, use_cache, initializer_range, ...); anything else is an InputError
// naming the file and the key. Unknown model_type, hidden_act, rope type or layer type: an
// InputError naming the key. Values are never clamped or defaulted silently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lossgap {

// One resolved rotary embedding (hf-architectures.md §1.5), HF defaults applied.
// inv_freq has rotary_dim(head_dim) / 2 entries over rope_theta, then the rope_type's rule.
struct RopeParams {
  std::string rope_type = "default";  // "default" | "linear" | "llama3" | "yarn"
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;  // rotary dim = int(head_dim * partial_rotary_factor)
  double factor = 1.0;                 // linear, llama3, yarn (1 for default)
  // llama3 and yarn: the pre-training context L0.
  int64_t original_max_position_embeddings = 0;
  // llama3
  double low_freq_factor = 0;
  double high_freq_factor = 0;
  // yarn (HF defaults: beta_fast 32, beta_slow 1, truncate true)
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  bool truncate = true;
  // Factor applied to both cos and sin (so q.k scales by its square). yarn: `attention_factor`
  // if given, else derived from factor / mscale / mscale_all_dim as transformers does; else 1.
  double attention_factor = 1.0;

  // int(head_dim * partial_rotary_factor), as transformers computes it.
  int64_t rotary_dim(int64_t head_dim) const;
};

// Layer types, spelled as transformers' `layer_types` entries.
inline constexpr std::string_view kFullAttention = "full_attention";
inline constexpr std::string_view kSlidingAttention = "sliding_attention";
inline constexpr std::string_view kLinearAttention = "linear_attention";  // Gated DeltaNet

// The Gated DeltaNet mixer of "linear_attention" layers (hf-architectures.md §1.10), HF key
// names. Set for olmo_hybrid, qwen3_next and qwen3_5.
struct LinearAttentionParams {
  int64_t linear_num_key_heads = 0;    // Hk
  int64_t linear_num_value_heads = 0;  // Hv (a multiple of Hk)
  int64_t linear_key_head_dim = 0;     // dk
  int64_t linear_value_head_dim = 0;   // dv
  int64_t linear_conv_kernel_dim = 0;  // K of the causal depthwise convolution
  bool linear_allow_neg_eigval = false;  // olmo_hybrid: beta = 2 sigmoid(b), else sigmoid(b)
};

// The sparse MoE feed-forward of qwen3_next (§1.11): softmax router, top-k experts, optional
// renormalisation, plus a sigmoid-gated shared expert. HF key names.
struct MoeParams {
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t shared_expert_intermediate_size = 0;
  bool norm_topk_prob = true;
  int64_t decoder_sparse_step = 1;
  std::vector<int64_t> mlp_only_layers;  // these layers use the dense MLP (intermediate_size)

  // transformers' rule: an MoE layer iff il not in mlp_only_layers, num_experts > 0 and
  // (il + 1) % decoder_sparse_step == 0.
  bool is_moe_layer(int64_t il) const;
};

// Mamba-family settings (hf-architectures.md §1.8, §1.9, §2.8-2.14), resolved per family by
// model/config_ssm.cpp; config keys differ per family, these fields are the mixers' own terms.
enum class SsmGatedNorm {
  None,          // y * silu(z) (falcon_h1 with mamba_rms_norm false)
  GateThenNorm,  // G2 (norm_groups 1), G3 / G4 gate-first (norm_groups = n_groups)
  NormThenGate,  // G4 with mamba_norm_before_gate
};
struct Mamba2Params {
  int64_t d_inner = 0, num_heads = 0, head_dim = 0, n_groups = 0, state_size = 0;
  int64_t conv_kernel = 0, chunk_size = 0;
  bool conv_bias = true, in_proj_bias = false, out_proj_bias = false;
  double dt_min = 0, dt_max = 0;  // Δ clamped to [dt_min, dt_max] after softplus (max may be inf)
  SsmGatedNorm norm = SsmGatedNorm::GateThenNorm;
  int64_t norm_groups = 1;  // the gated norm's statistic is over d_inner / norm_groups values
  double norm_eps = 1e-5;
  // falcon_h1: u * ssm_in_multiplier before in_proj; in_proj columns [z|x|B|C|dt] scaled by
  // ssm_multipliers (the mup_vector).
  double ssm_in_multiplier = 1;
  std::vector<double> ssm_multipliers;  // empty or 5 entries
};
struct Mamba1Params {
  int64_t d_inner = 0, state_size = 0, dt_rank = 0, conv_kernel = 0;
  bool conv_bias = true, proj_bias = false;
  // RMSNorms of dt, B, C after x_proj: jamba (weights dt/b/c_layernorm), falcon_mamba (none).
  enum class DtBcNorm { None, Weighted, Unweighted } dtbc_norm = DtBcNorm::None;
  double dtbc_eps = 1e-6;
};
// The routed experts of jamba / granitemoehybrid / nemotron_h MoE layers (§1.11).
struct SsmMoeParams {
  int64_t num_experts = 0, num_experts_per_tok = 0, intermediate_size = 0;
  int64_t shared_intermediate_size = 0;  // 0 = no shared expert
  // nemotron_h: sigmoid router with e_score_correction_bias for selection, group-limited top-k,
  // weights normalised (norm_topk_prob) and scaled by routed_scaling_factor.
  int64_t n_group = 1, topk_group = 1;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1;
};
struct SsmParams {
  std::optional<Mamba2Params> mamba2;  // "mamba" / "parallel_hybrid" layers of Mamba-2 families
  std::optional<Mamba1Params> mamba1;  // "mamba" layers of mamba / falcon_mamba / jamba
  std::optional<SsmMoeParams> moe;
  // Per layer, the feed-forward beside the mixer: "mlp", "moe", or "" (template S layers).
  std::vector<std::string> ffn_types;
  std::string mlp_hidden_act = "silu";  // "silu" (SwiGLU) | "relu2" (nemotron_h, non-gated)
  // Scalars of falcon_h1 and granitemoehybrid (1 elsewhere; attention_scale 0 = head_dim^-1/2).
  double embedding_multiplier = 1, logits_multiplier = 1, residual_multiplier = 1;
  double attention_scale = 0, key_multiplier = 1;
  double attention_in_multiplier = 1, attention_out_multiplier = 1, ssm_out_multiplier = 1;
  double mlp_gate_multiplier = 1, mlp_down_multiplier = 1;
};

struct ModelConfig {
  std::filesystem::path path;  // the config.json this was read from
  std::string model_type;      // "llama" | "qwen3" | "olmo2" | "olmo3"

  // Sizes.
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads (HF)
  int64_t head_dim = 0;             // config head_dim, else hidden_size / num_attention_heads
  int64_t max_position_embeddings = 0;  // 0: the config has none (pure recurrences): no limit

  // Blocks.
  std::string hidden_act = "silu";  // only "silu" is accepted today
  double rms_norm_eps = 1e-6;
  bool attention_bias = false;  // q, k, v, o biases
  bool mlp_bias = false;        // gate, up, down biases
  bool tie_word_embeddings = false;

  // One entry per layer (size num_hidden_layers): kFullAttention or kSlidingAttention today;
  // issue 4 adds "linear_attention", "mamba", ... For families without `layer_types` in the
  // file this is what transformers derives (qwen3: sliding from max_window_layers on when
  // use_sliding_window; llama/olmo2: all full).
  std::vector<std::string> layer_types;
  // Window W of "sliding_attention" layers (a key attends to the W most recent positions,
  // itself included). Set iff some layer is sliding.
  std::optional<int64_t> sliding_window;

  // RoPE per attention layer type present in layer_types. Families with one rotary embedding
  // have the same RopeParams under every type; olmo3 has separate ones (docs/checkpoints.md).
  std::map<std::string, RopeParams> rope_parameters;

  // Special ids (they do not change the forward pass; the scoring policy may use them).
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_id;  // HF allows an int or a list
  std::optional<int64_t> pad_token_id;

  // Informational keys, recorded as found.
  std::vector<std::string> architectures;
  std::string torch_dtype;  // "torch_dtype" or v5 "dtype"; "" if absent

  // Hybrid families (issue 4). Gated DeltaNet settings when some layer is kLinearAttention.
  std::optional<LinearAttentionParams> linear_attention;
  // qwen3_next's MoE feed-forward (absent: every layer has the dense MLP).
  std::optional<MoeParams> moe;
  // qwen3_5 read from the nested text_config of a Qwen3_5ForConditionalGeneration config.json:
  // the decoder's tensors then live under "model.language_model." instead of "model.".
  bool nested_text_config = false;
  // Mamba families (model/config_ssm.cpp): layer kinds "mamba", "full_attention", "mlp", "moe",
  // "parallel_hybrid" (falcon_h1: Mamba-2 beside attention in every layer).
  std::optional<SsmParams> ssm;

  // The RoPE of a layer type; nullptr when that type has no rotary embedding (NoPE).
  const RopeParams* rope_for(std::string_view layer_type) const;
};

// Reads dir/config.json (load_config) or a given file. Throws InputError("<file>", "<key>: ...")
// for a missing file, invalid JSON, a missing required key, a value of the wrong type or out of
// range, an unknown model_type / hidden_act / rope type / layer type, and any top-level key
// that is neither read nor known to be irrelevant to log-probabilities. Hybrid and recurrent
// families (issue 4) get "model_type '<t>' is not supported yet".
ModelConfig load_config(const std::filesystem::path& config_json);
ModelConfig load_config_dir(const std::filesystem::path& dir);

// The same on JSON text; `file_label` is what errors name as the file.
ModelConfig parse_config(std::string_view json_text, const std::string& file_label);

// model_types parse_config accepts, sorted.
std::vector<std::string> supported_model_types();

}  // namespace lossgap
