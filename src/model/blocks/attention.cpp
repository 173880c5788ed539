// The attention mixer; see attention.h.
#include "model/blocks/attention.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace lossgap {
namespace {

std::optional<Weight> bias_of(const PlanBinding& w, Backend& be, const std::string& name, bool on) {
  if (!on) return std::nullopt;
  return be.weight(w.get(name));
}

int64_t qk_norm_size(QkNorm n, int64_t heads, int64_t head_dim) {
  return n == QkNorm::PerHead ? head_dim : heads * head_dim;
}

}  // namespace

AttentionSpec attention_spec_from_config(const ModelConfig& c, std::string_view layer_kind) {
  AttentionSpec s;
  s.hidden_size = c.hidden_size;
  s.num_attention_heads = c.num_attention_heads;
  s.num_key_value_heads = c.num_key_value_heads;
  s.head_dim = c.head_dim;
  s.bias = c.attention_bias;
  s.norm_eps = c.rms_norm_eps;
  if (const RopeParams* p = c.rope_for(layer_kind)) s.rope = *p;
  return s;
}

void Attention::plan(TensorPlan& plan, const std::string& prefix, const AttentionSpec& s) {
  const int64_t H = s.hidden_size, dq = s.num_attention_heads * s.head_dim,
                dkv = s.num_key_value_heads * s.head_dim, dq_proj = s.output_gate ? 2 * dq : dq;
  plan.require(prefix + "q_proj.weight", {dq_proj, H});
  plan.require(prefix + "k_proj.weight", {dkv, H});
  plan.require(prefix + "v_proj.weight", {dkv, H});
  plan.require(prefix + "o_proj.weight", {H, dq});
  if (s.bias) {
    plan.require(prefix + "q_proj.bias", {dq_proj});
    plan.require(prefix + "k_proj.bias", {dkv});
    plan.require(prefix + "v_proj.bias", {dkv});
    plan.require(prefix + "o_proj.bias", {H});
  }
  if (s.qk_norm != QkNorm::None) {
    RmsNorm::plan(plan, prefix + "q_norm.weight",
                  qk_norm_size(s.qk_norm, s.num_attention_heads, s.head_dim));
    RmsNorm::plan(plan, prefix + "k_norm.weight",
                  qk_norm_size(s.qk_norm, s.num_key_value_heads, s.head_dim));
  }
}

Attention::Attention(const PlanBinding& w, Backend& be, const std::string& prefix, AttentionSpec s)
    : s_(std::move(s)),
      q_(be.weight(w.get(prefix + "q_proj.weight"))),
      k_(be.weight(w.get(prefix + "k_proj.weight"))),
      v_(be.weight(w.get(prefix + "v_proj.weight"))),
      o_(be.weight(w.get(prefix + "o_proj.weight"))),
      q_bias_(bias_of(w, be, prefix + "q_proj.bias", s_.bias)),
      k_bias_(bias_of(w, be, prefix + "k_proj.bias", s_.bias)),
      v_bias_(bias_of(w, be, prefix + "v_proj.bias", s_.bias)),
      o_bias_(bias_of(w, be, prefix + "o_proj.bias", s_.bias)) {
  LG_CHECK(s_.num_attention_heads % s_.num_key_value_heads == 0, "GQA heads");
  if (s_.qk_norm != QkNorm::None) {
    q_norm_ = RmsNorm::bind(w, be, prefix + "q_norm.weight", s_.norm_eps, s_.norm_kind);
    k_norm_ = RmsNorm::bind(w, be, prefix + "k_norm.weight", s_.norm_eps, s_.norm_kind);
  }
}

void Attention::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), Hq = s_.num_attention_heads, Hkv = s_.num_key_value_heads,
                d = s_.head_dim;
  Buf q = be.alloc(T, Hq * d);   // [T, Hq * d]
  Buf k = be.alloc(T, Hkv * d);  // [T, Hkv * d]
  Buf v = be.alloc(T, Hkv * d);  // [T, Hkv * d]
  Buf gate;                      // [T, Hq * d] output gate (output_gate only)
  if (s_.output_gate) {
    Buf qg = be.alloc(T, 2 * Hq * d);  // [T, Hq, 2 * d]: per head [query | gate]
    be.linear(x, q_, q_bias_ ? &*q_bias_ : nullptr, qg);
    std::vector<ColBlock> qb, gb;
    for (int64_t h = 0; h < Hq; ++h) {
      qb.push_back({2 * h * d, d});
      gb.push_back({2 * h * d + d, d});
    }
    gate = be.alloc(T, Hq * d);
    be.gather_cols(qg, qb, q);
    be.gather_cols(qg, gb, gate);
  } else {
    be.linear(x, q_, q_bias_ ? &*q_bias_ : nullptr, q);
  }
  be.linear(x, k_, k_bias_ ? &*k_bias_ : nullptr, k);
  be.linear(x, v_, v_bias_ ? &*v_bias_ : nullptr, v);
  if (s_.key_multiplier != 1) be.scale(k, static_cast<float>(s_.key_multiplier));
  if (q_norm_) {
    (*q_norm_)(be, q, q);
    (*k_norm_)(be, k, k);
  }
  if (s_.rope) {
    const ForwardContext::RopeBufs r = ctx.rope(*s_.rope, d);
    be.rope(q, Hq, d, r.cos, r.sin);
    be.rope(k, Hkv, d, r.cos, r.sin);
  }
  // HF: head_dim ** -0.5 in Python (double), applied to the fp32 scores.
  const double scale = s_.scale != 0 ? s_.scale : std::pow(static_cast<double>(d), -0.5);
  const AttnShape shape{Hq, Hkv, d, static_cast<float>(scale),
                        s_.window};
  Buf a = be.alloc(T, Hq * d);  // [T, Hq * d] heads concatenated
  be.attention(q, k, v, shape, a);
  if (s_.output_gate) be.mul_sigmoid(gate, a);
  be.linear(a, o_, o_bias_ ? &*o_bias_ : nullptr, out);
}

}  // namespace lossgap
