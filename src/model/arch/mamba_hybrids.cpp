// The Mamba families (hf-architectures.md §2.8-2.14) as one recipe over shared blocks, driven
// by the per-layer kinds of ModelConfig (config_ssm.cpp) and a per-family naming table:
//   nemotron_h  template S, "backbone." names, kinds mamba / full_attention / mlp (relu^2)
//   mamba2      template S, "backbone." names, Mamba-2 (G2) everywhere
//   mamba, falcon_mamba  template S, "backbone." names, Mamba-1 everywhere
//   bamba       template P, Mamba-2 (G2) or attention (partial RoPE), SwiGLU feed_forward
//   jamba       template P, Mamba-1 with dt/B/C norms or NoPE attention, SwiGLU feed_forward
//   granitemoehybrid  template G (residual_multiplier), fused SwiGLU shared_mlp, attention
//               scale attention_multiplier, embedding and logits multipliers
//   falcon_h1   template F: Mamba-2 beside attention in every layer, multipliers everywhere
// MoE (blocks/moe.h): nemotron_h's "moe" layers (a whole mixer, template S, relu^2 experts and
// shared expert), jamba's feed_forward on expert layers, granitemoehybrid's block_sparse_moe plus
// shared_mlp on every layer when num_local_experts > 0.
// One function per family says its names; plan and build walk the same description so the two
// cannot disagree.
#include <functional>

#include "core/error.h"
#include "model/arch/arch.h"
#include "model/blocks/attention.h"
#include "model/blocks/mamba1.h"
#include "model/blocks/mamba2.h"
#include "model/blocks/mlp.h"
#include "model/blocks/mlp_variants.h"
#include "model/blocks/moe.h"

namespace lossgap {
namespace {

struct Names {
  std::string embed, layers, final_norm;  // full names / the layer prefix before the index
  std::string norm1, norm2;               // per layer (norm2 empty for template S)
  std::string mamba, attention, ffn;      // sub-module prefixes inside a layer
  ResidualTemplate residual;
};

Names names_of(const ModelConfig& c) {
  const std::string& t = c.model_type;
  if (t == "nemotron_h" || t == "mamba2" || t == "mamba" || t == "falcon_mamba")
    return {"backbone.embeddings.weight", "backbone.layers.", "backbone.norm_f.weight", "norm",
            "", "mixer.", "mixer.", "mixer.", ResidualTemplate::SingleMixer};
  if (t == "granitemoehybrid")
    return {"model.embed_tokens.weight", "model.layers.", "model.norm.weight", "input_layernorm",
            "post_attention_layernorm", "mamba.", "self_attn.", "shared_mlp.",
            ResidualTemplate::ScaledResidual};
  if (t == "falcon_h1")
    return {"model.embed_tokens.weight", "model.layers.", "model.final_layernorm.weight",
            "input_layernorm", "pre_ff_layernorm", "mamba.", "self_attn.", "feed_forward.",
            ResidualTemplate::ParallelHybrid};
  LG_CHECK(t == "bamba" || t == "jamba", "mamba_hybrids: " + t);
  return {"model.embed_tokens.weight", "model.layers.", "model.final_layernorm.weight",
          "input_layernorm", "pre_ff_layernorm", "mamba.", "self_attn.", "feed_forward.",
          ResidualTemplate::PreNorm};
}

AttentionSpec attention_spec(const ModelConfig& c, const std::string& kind) {
  const SsmParams& s = *c.ssm;
  AttentionSpec a = attention_spec_from_config(c, kind);
  a.scale = s.attention_scale;
  a.key_multiplier = s.key_multiplier;
  return a;
}

MlpVariantSpec mlp_spec(const ModelConfig& c) {
  const SsmParams& s = *c.ssm;
  MlpVariantSpec m;
  m.hidden_size = c.hidden_size;
  m.intermediate_size = c.intermediate_size;
  m.bias = c.mlp_bias;
  if (c.model_type == "nemotron_h") {
    m.kind = MlpVariant::Relu2;
  } else if (c.model_type == "granitemoehybrid") {
    m.kind = MlpVariant::GraniteFused;
  } else {
    m.kind = MlpVariant::ScaledSwiGlu;
    m.gate_multiplier = s.mlp_gate_multiplier;
    m.down_multiplier = s.mlp_down_multiplier;
  }
  return m;
}

MoeSpec moe_spec(const ModelConfig& c) {
  const SsmParams& s = *c.ssm;
  LG_CHECK(s.moe.has_value(), c.model_type + " MoE layer without expert settings");
  const SsmMoeParams& m = *s.moe;
  MoeSpec e;
  e.hidden_size = c.hidden_size;
  e.num_experts = m.num_experts;
  e.num_experts_per_tok = m.num_experts_per_tok;
  e.moe_intermediate_size = m.intermediate_size;
  e.shared_expert_intermediate_size = m.shared_intermediate_size;
  e.norm_topk_prob = m.norm_topk_prob;
  e.n_group = m.n_group;
  e.topk_group = m.topk_group;
  e.routed_scaling_factor = m.routed_scaling_factor;
  if (c.model_type == "nemotron_h") {
    e.family = MoeFamily::NemotronH;
    e.shared_bias = c.mlp_bias;
  } else if (c.model_type == "granitemoehybrid") {
    e.family = MoeFamily::Granite;
  } else {
    LG_CHECK(c.model_type == "jamba", "mamba_hybrids: MoE in " + c.model_type);
    e.family = MoeFamily::Jamba;
  }
  return e;
}

// Plans (plan != null) or builds (w, be != null) the whole model.
struct Assembly {
  TensorPlan* plan = nullptr;
  const PlanBinding* w = nullptr;
  Backend* be = nullptr;
  Decoder* d = nullptr;

  template <class Block, class Spec>
  std::unique_ptr<Block> part(const std::string& prefix, const Spec& spec) {
    if (plan) {
      Block::plan(*plan, prefix, spec);
      return nullptr;
    }
    return std::make_unique<Block>(*w, *be, prefix, spec);
  }
  std::unique_ptr<Mixer> mamba(const ModelConfig& c, const std::string& prefix) {
    const SsmParams& s = *c.ssm;
    if (s.mamba2) {
      if (plan) {
        Mamba2Mixer::plan(*plan, prefix, c.hidden_size, *s.mamba2);
        return nullptr;
      }
      return std::make_unique<Mamba2Mixer>(*w, *be, prefix, *s.mamba2);
    }
    LG_CHECK(s.mamba1.has_value(), "mamba layer without mixer settings");
    if (plan) {
      Mamba1Mixer::plan(*plan, prefix, c.hidden_size, *s.mamba1);
      return nullptr;
    }
    return std::make_unique<Mamba1Mixer>(*w, *be, prefix, *s.mamba1);
  }
  RmsNorm norm(const std::string& name, int64_t size, double eps) {
    if (plan) {
      RmsNorm::plan(*plan, name, size);
      return {};
    }
    return RmsNorm::bind(*w, *be, name, eps, NormWeight::Scale);
  }
};

void assemble(const ModelConfig& c, Assembly& a) {
  LG_CHECK(c.ssm.has_value(), c.model_type + " config without SSM settings");
  const SsmParams& s = *c.ssm;
  const Names n = names_of(c);
  const int64_t H = c.hidden_size;
  if (a.plan) {
    a.plan->require(n.embed, {c.vocab_size, H});
  } else {
    a.d->embed_tokens = a.be->weight(a.w->get(n.embed));
    a.d->embedding_multiplier = static_cast<float>(s.embedding_multiplier);
    a.d->logits_multiplier = static_cast<float>(s.logits_multiplier);
  }
  for (int64_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string p = n.layers + std::to_string(il) + ".";
    const std::string& kind = c.layer_types.at(il);
    const std::string& ffn = s.ffn_types.at(il);
    DecoderLayer layer;
    layer.kind = kind;
    layer.residual = n.residual;
    layer.mixer_norm = a.norm(p + n.norm1 + ".weight", H, c.rms_norm_eps);
    if (kind == "mamba") {
      layer.mixer = a.mamba(c, p + n.mamba);
    } else if (kind == kFullAttention) {
      layer.mixer = a.part<Attention>(p + n.attention, attention_spec(c, kind));
    } else if (kind == "mlp") {
      std::unique_ptr<VariantMlp> mlp = a.part<VariantMlp>(p + n.ffn, mlp_spec(c));
      if (mlp) layer.mixer = std::make_unique<MlpAsMixer>(std::move(mlp));
    } else if (kind == "moe") {
      std::unique_ptr<SparseMoe> moe = a.part<SparseMoe>(p + n.ffn, moe_spec(c));
      if (moe) layer.mixer = std::make_unique<MlpAsMixer>(std::move(moe));
    } else {
      LG_CHECK(kind == "parallel_hybrid", "mamba_hybrids: layer kind " + kind);
      layer.mixer = a.mamba(c, p + n.mamba);
      layer.mixer2 = a.part<Attention>(p + n.attention, attention_spec(c, kind));
      layer.mixer_scale = static_cast<float>(s.ssm_out_multiplier);
      layer.mixer2_in_scale = static_cast<float>(s.attention_in_multiplier);
      layer.mixer2_scale = static_cast<float>(s.attention_out_multiplier);
    }
    if (n.residual == ResidualTemplate::ScaledResidual)
      layer.mixer_scale = static_cast<float>(s.residual_multiplier);
    if (!ffn.empty()) {
      layer.ffn_norm = a.norm(p + n.norm2 + ".weight", H, c.rms_norm_eps);
      if (ffn == "moe") {
        // granite's block_sparse_moe and shared_mlp are siblings in the layer (prefix p).
        const bool granite = c.model_type == "granitemoehybrid";
        layer.ffn = a.part<SparseMoe>(granite ? p : p + n.ffn, moe_spec(c));
      } else if (c.model_type == "bamba" || c.model_type == "jamba") {
        if (a.plan) {
          SwiGluMlp::plan(*a.plan, p + n.ffn, H, c.intermediate_size, c.mlp_bias);
        } else {
          layer.ffn = std::make_unique<SwiGluMlp>(*a.w, *a.be, p + n.ffn, c.mlp_bias);
        }
      } else {
        layer.ffn = a.part<VariantMlp>(p + n.ffn, mlp_spec(c));
      }
    }
    if (!a.plan) a.d->layers.push_back(std::move(layer));
  }
  const bool tied = c.tie_word_embeddings;
  if (a.plan) {
    RmsNorm::plan(*a.plan, n.final_norm, H);
    if (tied) {
      a.plan->tied("lm_head.weight", n.embed);
    } else {
      a.plan->require("lm_head.weight", {c.vocab_size, H});
    }
    a.plan->ignore("mtp.*", "multi-token-prediction layers; not part of the forward pass");
  } else {
    a.d->final_norm = RmsNorm::bind(*a.w, *a.be, n.final_norm, c.rms_norm_eps, NormWeight::Scale);
    a.d->lm_head = a.be->weight(a.w->get("lm_head.weight"));
  }
}

TensorPlan plan_of(const ModelConfig& c) {
  TensorPlan plan;
  Assembly a;
  a.plan = &plan;
  assemble(c, a);
  return plan;
}

Decoder build_of(const ModelConfig& c, const PlanBinding& w, Backend& be) {
  Decoder d;
  Assembly a;
  a.w = &w;
  a.be = &be;
  a.d = &d;
  assemble(c, a);
  return d;
}

}  // namespace

std::vector<ArchModule> mamba_modules() {
  std::vector<ArchModule> out;
  for (const char* t : {"nemotron_h", "falcon_h1", "granitemoehybrid", "bamba", "mamba2", "mamba",
                        "falcon_mamba", "jamba"})
    out.push_back(ArchModule{t, plan_of, build_of});
  return out;
}

}  // namespace lossgap
