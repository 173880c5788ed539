// qwen3_next and qwen3_5 (hf-architectures.md §2.6-2.7): Gated DeltaNet layers
// ("linear_attention") and gated attention layers ("full_attention"), both pre-norm (template
// P); every RMSNorm outside the GDN mixer is zero-centred ((1 + w), N-C), including the per-head
// q/k norms; attention q_proj carries a per-head output gate; partial RoPE (0.25 of head_dim by
// default). Feed-forward: qwen3_next's sparse MoE with a shared expert on MoE layers, SwiGLU on
// the others (mlp_only_layers, decoder_sparse_step); qwen3_5's dense SwiGLU everywhere.
// GDN layouts: qwen3_next's in_proj_qkvz / in_proj_ba grouped per key head; qwen3_5's contiguous
// in_proj_qkv, in_proj_z, in_proj_b, in_proj_a. qwen3_5 read from a nested text_config keeps its
// decoder under model.language_model. (the vision tower model.visual.* is not used for text).
#include "core/error.h"
#include "model/arch/arch.h"
#include "model/blocks/attention.h"
#include "model/blocks/gdn.h"
#include "model/blocks/mlp.h"
#include "model/blocks/moe.h"

namespace lossgap {
namespace {

bool is_next(const ModelConfig& c) { return c.model_type == "qwen3_next"; }

std::string decoder_prefix(const ModelConfig& c) {
  return c.nested_text_config ? "model.language_model." : "model.";
}

std::string layer_prefix(const ModelConfig& c, int64_t il) {
  return decoder_prefix(c) + "layers." + std::to_string(il) + ".";
}

bool is_linear(const ModelConfig& c, int64_t il) { return c.layer_types.at(il) == kLinearAttention; }

bool is_moe(const ModelConfig& c, int64_t il) { return c.moe && c.moe->is_moe_layer(il); }

GdnSpec gdn_spec(const ModelConfig& c) {
  LG_CHECK(c.linear_attention.has_value(), c.model_type + " config without linear_* parameters");
  const LinearAttentionParams& la = *c.linear_attention;
  return GdnSpec{is_next(c) ? GdnLayout::Qwen3Next : GdnLayout::Qwen3_5,
                 c.hidden_size,
                 la.linear_num_key_heads,
                 la.linear_num_value_heads,
                 la.linear_key_head_dim,
                 la.linear_value_head_dim,
                 la.linear_conv_kernel_dim,
                 1.0f,
                 static_cast<float>(c.rms_norm_eps)};
}

AttentionSpec attention_spec(const ModelConfig& c) {
  AttentionSpec s = attention_spec_from_config(c, kFullAttention);
  s.qk_norm = QkNorm::PerHead;
  s.norm_kind = NormWeight::OnePlus;
  s.output_gate = true;
  return s;
}

MoeSpec moe_spec(const ModelConfig& c) {
  const MoeParams& m = *c.moe;
  return MoeSpec{c.hidden_size, m.num_experts, m.num_experts_per_tok, m.moe_intermediate_size,
                 m.shared_expert_intermediate_size, m.norm_topk_prob};
}

TensorPlan plan(const ModelConfig& c) {
  TensorPlan plan;
  const int64_t H = c.hidden_size;
  const std::string dp = decoder_prefix(c);
  plan.require(dp + "embed_tokens.weight", {c.vocab_size, H});
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = layer_prefix(c, il);
    RmsNorm::plan(plan, p + "input_layernorm.weight", H);
    RmsNorm::plan(plan, p + "post_attention_layernorm.weight", H);
    if (is_linear(c, il)) {
      GatedDeltaNet::plan(plan, p + "linear_attn.", gdn_spec(c));
    } else {
      Attention::plan(plan, p + "self_attn.", attention_spec(c));
    }
    if (is_moe(c, il)) {
      SparseMoe::plan(plan, p + "mlp.", moe_spec(c));
    } else {
      SwiGluMlp::plan(plan, p + "mlp.", H, c.intermediate_size, false);
    }
  }
  RmsNorm::plan(plan, dp + "norm.weight", H);
  if (c.tie_word_embeddings) {
    plan.tied("lm_head.weight", dp + "embed_tokens.weight");
  } else {
    plan.require("lm_head.weight", {c.vocab_size, H});
  }
  plan.ignore("mtp.*", "multi-token-prediction head; transformers ignores it too");
  if (c.nested_text_config)
    plan.ignore("model.visual.*", "vision tower; not used to score text");
  return plan;
}

Decoder build(const ModelConfig& c, const PlanBinding& w, Backend& be) {
  Decoder d;
  const std::string dp = decoder_prefix(c);
  d.embed_tokens = be.weight(w.get(dp + "embed_tokens.weight"));
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = layer_prefix(c, il);
    DecoderLayer layer;
    layer.kind = c.layer_types.at(il);
    layer.residual = ResidualTemplate::PreNorm;
    layer.mixer_norm =
        RmsNorm::bind(w, be, p + "input_layernorm.weight", c.rms_norm_eps, NormWeight::OnePlus);
    layer.ffn_norm = RmsNorm::bind(w, be, p + "post_attention_layernorm.weight", c.rms_norm_eps,
                                   NormWeight::OnePlus);
    if (is_linear(c, il)) {
      layer.mixer = std::make_unique<GatedDeltaNet>(w, be, p + "linear_attn.", gdn_spec(c));
    } else {
      layer.mixer = std::make_unique<Attention>(w, be, p + "self_attn.", attention_spec(c));
    }
    if (is_moe(c, il)) {
      layer.ffn = std::make_unique<SparseMoe>(w, be, p + "mlp.", moe_spec(c));
    } else {
      layer.ffn = std::make_unique<SwiGluMlp>(w, be, p + "mlp.", false);
    }
    d.layers.push_back(std::move(layer));
  }
  d.final_norm = RmsNorm::bind(w, be, dp + "norm.weight", c.rms_norm_eps, NormWeight::OnePlus);
  d.lm_head = be.weight(w.get("lm_head.weight"));
  return d;
}

}  // namespace

ArchModule qwen3_next_module() { return ArchModule{"qwen3_next", plan, build}; }
ArchModule qwen3_5_module() { return ArchModule{"qwen3_5", plan, build}; }
ArchModule qwen3_5_text_module() { return ArchModule{"qwen3_5_text", plan, build}; }

}  // namespace lossgap
