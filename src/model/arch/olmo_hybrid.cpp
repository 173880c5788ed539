// olmo_hybrid (hf-architectures.md §2.5): Olmo Hybrid interleaves Gated DeltaNet layers
// ("linear_attention", pre-norm template P with input_layernorm / post_attention_layernorm) with
// Olmo-3 attention layers ("full_attention", post-norm template O, q/k RMSNorm over the whole
// projection, no sliding window, RoPE only when the config has a rope_theta). Every layer has a
// SwiGLU MLP; norms are Olmo's (weight times the normalised value); lm_head untied by default.
// GDN: the released layout (separate q/k/v/g/a/b projections and q/k/v convolutions), beta
// doubled with linear_allow_neg_eigval, gated output norm with transformers' fixed eps 1e-5.
#include "core/error.h"
#include "model/arch/arch.h"
#include "model/blocks/attention.h"
#include "model/blocks/gdn.h"
#include "model/blocks/mlp.h"

namespace lossgap {
namespace {

constexpr float kOutputNormEps = 1e-5f;  // OlmoHybridGatedDeltaNet's o_norm (FLA's default)

std::string layer_prefix(int64_t il) { return "model.layers." + std::to_string(il) + "."; }

bool is_linear(const ModelConfig& c, int64_t il) { return c.layer_types.at(il) == kLinearAttention; }

GdnSpec gdn_spec(const ModelConfig& c) {
  LG_CHECK(c.linear_attention.has_value(), "olmo_hybrid config without linear_* parameters");
  const LinearAttentionParams& la = *c.linear_attention;
  return GdnSpec{GdnLayout::OlmoHybrid,     c.hidden_size,
                 la.linear_num_key_heads,   la.linear_num_value_heads,
                 la.linear_key_head_dim,    la.linear_value_head_dim,
                 la.linear_conv_kernel_dim, la.linear_allow_neg_eigval ? 2.0f : 1.0f,
                 kOutputNormEps};
}

AttentionSpec attention_spec(const ModelConfig& c) {
  AttentionSpec s = attention_spec_from_config(c, kFullAttention);
  s.qk_norm = QkNorm::Full;
  s.norm_kind = NormWeight::Scale;
  return s;
}

// The two norms of a layer: GDN layers are pre-norm, attention layers Olmo post-norm.
std::pair<std::string, std::string> norm_names(bool linear) {
  if (linear) return {"input_layernorm", "post_attention_layernorm"};
  return {"post_attention_layernorm", "post_feedforward_layernorm"};
}

TensorPlan plan(const ModelConfig& c) {
  TensorPlan plan;
  const int64_t H = c.hidden_size;
  plan.require("model.embed_tokens.weight", {c.vocab_size, H});
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = layer_prefix(il);
    const auto [norm1, norm2] = norm_names(is_linear(c, il));
    RmsNorm::plan(plan, p + norm1 + ".weight", H);
    RmsNorm::plan(plan, p + norm2 + ".weight", H);
    if (is_linear(c, il)) {
      GatedDeltaNet::plan(plan, p + "linear_attn.", gdn_spec(c));
    } else {
      Attention::plan(plan, p + "self_attn.", attention_spec(c));
    }
    SwiGluMlp::plan(plan, p + "mlp.", H, c.intermediate_size, false);
  }
  RmsNorm::plan(plan, "model.norm.weight", H);
  if (c.tie_word_embeddings) {
    plan.tied("lm_head.weight", "model.embed_tokens.weight");
  } else {
    plan.require("lm_head.weight", {c.vocab_size, H});
  }
  plan.ignore("mtp.*", "multi-token-prediction head; transformers ignores it too");
  return plan;
}

Decoder build(const ModelConfig& c, const PlanBinding& w, Backend& be) {
  Decoder d;
  d.embed_tokens = be.weight(w.get("model.embed_tokens.weight"));
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = layer_prefix(il);
    const bool linear = is_linear(c, il);
    const auto [norm1, norm2] = norm_names(linear);
    DecoderLayer layer;
    layer.kind = c.layer_types.at(il);
    layer.residual = linear ? ResidualTemplate::PreNorm : ResidualTemplate::PostNorm;
    layer.mixer_norm = RmsNorm::bind(w, be, p + norm1 + ".weight", c.rms_norm_eps, NormWeight::Scale);
    layer.ffn_norm = RmsNorm::bind(w, be, p + norm2 + ".weight", c.rms_norm_eps, NormWeight::Scale);
    if (linear) {
      layer.mixer = std::make_unique<GatedDeltaNet>(w, be, p + "linear_attn.", gdn_spec(c));
    } else {
      layer.mixer = std::make_unique<Attention>(w, be, p + "self_attn.", attention_spec(c));
    }
    layer.ffn = std::make_unique<SwiGluMlp>(w, be, p + "mlp.", false);
    d.layers.push_back(std::move(layer));
  }
  d.final_norm = RmsNorm::bind(w, be, "model.norm.weight", c.rms_norm_eps, NormWeight::Scale);
  d.lm_head = be.weight(w.get("lm_head.weight"));
  return d;
}

}  // namespace

ArchModule olmo_hybrid_module() { return ArchModule{"olmo_hybrid", plan, build}; }

}  // namespace lossgap
