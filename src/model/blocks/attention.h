// The attention mixer shared by every family (hf-architectures.md §1.4): q/k/v projections
// (optional biases), optional QK-norm per head (qwen3) or over the whole projection (olmo2/3),
// optional RoPE (full or partial rotary, tables per layer type), causal GQA attention with an
// optional sliding window, optional sigmoid output gate (qwen3_next, qwen3_5), output projection.
// Not yet: attention multipliers of granite/falcon_h1 (issue 4).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/blocks/layer.h"
#include "model/tensor_plan.h"

namespace lossgap {

enum class QkNorm {
  None,
  PerHead,  // RMSNorm weight [head_dim] shared by every head, before RoPE (qwen3)
  Full,     // RMSNorm weight [n_heads * head_dim] over the whole projection (olmo2, olmo3)
};

struct AttentionSpec {
  int64_t hidden_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  bool bias = false;  // q, k, v and o biases (attention_bias)
  QkNorm qk_norm = QkNorm::None;
  double norm_eps = 0;                      // of the QK-norms
  NormWeight norm_kind = NormWeight::Scale;  // of the QK-norms
  int64_t window = 0;                        // sliding window; 0 = full causal
  std::optional<RopeParams> rope;            // none = NoPE
  // qwen3_next / qwen3_5 gated attention: q_proj gives [query (d) | gate (d)] per head, and the
  // attention output is multiplied by sigmoid(gate) before o_proj.
  bool output_gate = false;
  double scale = 0;           // logits scale; 0 = head_dim^-1/2 (granite: attention_multiplier)
  double key_multiplier = 1;  // falcon_h1: k_proj output times key_multiplier, before RoPE
};

// The fields every family reads from config.json alike: sizes, attention_bias, rms_norm_eps (for
// QK-norms) and the RoPE of `layer_kind` (none = NoPE). The caller sets the family's choices
// (qk_norm, norm_kind, window, output_gate, scale, key_multiplier).
AttentionSpec attention_spec_from_config(const ModelConfig& c, std::string_view layer_kind);

class Attention final : public Mixer {
 public:
  // Adds <prefix>{q,k,v,o}_proj.weight (+ .bias) and <prefix>{q,k}_norm.weight to the plan.
  static void plan(TensorPlan& plan, const std::string& prefix, const AttentionSpec& s);
  Attention(const PlanBinding& w, Backend& be, const std::string& prefix, AttentionSpec s);

  // out[T, hidden] = o_proj(attention(x[T, hidden])).
  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

 private:
  AttentionSpec s_;
  Weight q_, k_, v_, o_;
  std::optional<Weight> q_bias_, k_bias_, v_bias_, o_bias_;
  std::optional<RmsNorm> q_norm_, k_norm_;
};

}  // namespace lossgap
