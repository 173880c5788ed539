// The transformer recipe; see transformer.h. Tensor names follow transformers'
// Llama/Qwen3/Olmo2/Olmo3 modules (hf-architectures.md §2.1-2.4).
#include "model/arch/transformer.h"

#include "core/error.h"
#include "model/blocks/mlp.h"

namespace lossgap {
namespace {

std::string layer_prefix(int64_t il) { return "model.layers." + std::to_string(il) + "."; }

// Names of the two norms of a layer under each template.
std::pair<std::string, std::string> norm_names(ResidualTemplate t) {
  if (t == ResidualTemplate::PreNorm) return {"input_layernorm", "post_attention_layernorm"};
  return {"post_attention_layernorm", "post_feedforward_layernorm"};
}

AttentionSpec attention_spec(const ModelConfig& c, const TransformerRecipe& r, int64_t il) {
  const std::string& kind = c.layer_types.at(il);
  AttentionSpec s = attention_spec_from_config(c, kind);
  s.qk_norm = r.qk_norm;
  s.norm_kind = r.norm_kind;
  if (kind == kSlidingAttention) {
    LG_CHECK(c.sliding_window.has_value(), "sliding layer without sliding_window");
    s.window = *c.sliding_window;
  } else {
    LG_CHECK(kind == kFullAttention, "transformer recipe got layer type " + kind);
  }
  return s;
}

bool mlp_bias(const ModelConfig& c, const TransformerRecipe& r) {
  return r.mlp_bias_from_config && c.mlp_bias;
}

}  // namespace

TensorPlan transformer_plan(const ModelConfig& c, const TransformerRecipe& r) {
  TensorPlan plan;
  const int64_t H = c.hidden_size;
  plan.require("model.embed_tokens.weight", {c.vocab_size, H});
  const auto [norm1, norm2] = norm_names(r.residual);
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = layer_prefix(il);
    RmsNorm::plan(plan, p + norm1 + ".weight", H);
    RmsNorm::plan(plan, p + norm2 + ".weight", H);
    Attention::plan(plan, p + "self_attn.", attention_spec(c, r, il));
    SwiGluMlp::plan(plan, p + "mlp.", H, c.intermediate_size, mlp_bias(c, r));
  }
  RmsNorm::plan(plan, "model.norm.weight", H);
  if (c.tie_word_embeddings) {
    plan.tied("lm_head.weight", "model.embed_tokens.weight");
  } else {
    plan.require("lm_head.weight", {c.vocab_size, H});
  }
  plan.ignore("model.layers.*.self_attn.rotary_emb.inv_freq",
              "RoPE buffer saved by older transformers; recomputed from the config");
  return plan;
}

Decoder transformer_build(const ModelConfig& c, const PlanBinding& w, Backend& be,
                          const TransformerRecipe& r) {
  Decoder d;
  d.embed_tokens = be.weight(w.get("model.embed_tokens.weight"));
  const auto [norm1, norm2] = norm_names(r.residual);
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = layer_prefix(il);
    DecoderLayer layer;
    layer.kind = c.layer_types.at(il);
    layer.residual = r.residual;
    layer.mixer_norm = RmsNorm::bind(w, be, p + norm1 + ".weight", c.rms_norm_eps, r.norm_kind);
    layer.ffn_norm = RmsNorm::bind(w, be, p + norm2 + ".weight", c.rms_norm_eps, r.norm_kind);
    layer.mixer = std::make_unique<Attention>(w, be, p + "self_attn.", attention_spec(c, r, il));
    layer.ffn = std::make_unique<SwiGluMlp>(w, be, p + "mlp.", mlp_bias(c, r));
    d.layers.push_back(std::move(layer));
  }
  d.final_norm = RmsNorm::bind(w, be, "model.norm.weight", c.rms_norm_eps, r.norm_kind);
  d.lm_head = be.weight(w.get("lm_head.weight"));
  return d;
}

}  // namespace lossgap
