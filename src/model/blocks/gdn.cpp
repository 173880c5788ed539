// The Gated DeltaNet mixer; see gdn.h. Tensor names and layouts follow transformers'
// OlmoHybridGatedDeltaNet (released checkpoint layout), Qwen3NextGatedDeltaNet and
// Qwen3_5GatedDeltaNet.
#include "model/blocks/gdn.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace lossgap {
namespace {

constexpr float kL2NormEps = 1e-6f;  // fla's l2norm, inside the sqrt of the sum (§1.10 step 3)

int64_t key_dim(const GdnSpec& s) { return s.n_k_heads * s.k_dim; }
int64_t value_dim(const GdnSpec& s) { return s.n_v_heads * s.v_dim; }
int64_t conv_dim(const GdnSpec& s) { return 2 * key_dim(s) + value_dim(s); }

Weight bind(const PlanBinding& w, Backend& be, const std::string& name) {
  return be.weight(w.get(name));
}

}  // namespace

void GatedDeltaNet::plan(TensorPlan& plan, const std::string& p, const GdnSpec& s) {
  LG_CHECK(s.n_k_heads > 0 && s.n_v_heads % s.n_k_heads == 0, "GDN heads");
  const int64_t H = s.hidden_size, kd = key_dim(s), vd = value_dim(s), Hv = s.n_v_heads,
                K = s.conv_kernel;
  switch (s.layout) {
    case GdnLayout::OlmoHybrid:
      plan.require(p + "q_proj.weight", {kd, H});
      plan.require(p + "k_proj.weight", {kd, H});
      plan.require(p + "v_proj.weight", {vd, H});
      plan.require(p + "g_proj.weight", {vd, H});
      plan.require(p + "a_proj.weight", {Hv, H});
      plan.require(p + "b_proj.weight", {Hv, H});
      plan.require(p + "q_conv1d.weight", {kd, 1, K});
      plan.require(p + "k_conv1d.weight", {kd, 1, K});
      plan.require(p + "v_conv1d.weight", {vd, 1, K});
      plan.require(p + "o_norm.weight", {s.v_dim});
      plan.require(p + "o_proj.weight", {H, vd});
      break;
    case GdnLayout::Qwen3Next:
      plan.require(p + "in_proj_qkvz.weight", {2 * kd + 2 * vd, H});
      plan.require(p + "in_proj_ba.weight", {2 * Hv, H});
      break;
    case GdnLayout::Qwen3_5:
      plan.require(p + "in_proj_qkv.weight", {2 * kd + vd, H});
      plan.require(p + "in_proj_z.weight", {vd, H});
      plan.require(p + "in_proj_b.weight", {Hv, H});
      plan.require(p + "in_proj_a.weight", {Hv, H});
      break;
  }
  if (s.layout != GdnLayout::OlmoHybrid) {
    plan.require(p + "conv1d.weight", {conv_dim(s), 1, K});
    plan.require(p + "norm.weight", {s.v_dim});
    plan.require(p + "out_proj.weight", {H, vd});
  }
  plan.require(p + "A_log", {Hv});
  plan.require(p + "dt_bias", {Hv});
}

GatedDeltaNet::GatedDeltaNet(const PlanBinding& w, Backend& be, const std::string& p, GdnSpec s)
    : s_(s), A_log_(bind(w, be, p + "A_log")), dt_bias_(bind(w, be, p + "dt_bias")) {
  switch (s_.layout) {
    case GdnLayout::OlmoHybrid:
      in_q_ = bind(w, be, p + "q_proj.weight");
      in_k_ = bind(w, be, p + "k_proj.weight");
      in_v_ = bind(w, be, p + "v_proj.weight");
      in_z_ = bind(w, be, p + "g_proj.weight");
      in_a_ = bind(w, be, p + "a_proj.weight");
      in_b_ = bind(w, be, p + "b_proj.weight");
      conv_q_ = bind(w, be, p + "q_conv1d.weight");
      conv_k_ = bind(w, be, p + "k_conv1d.weight");
      conv_v_ = bind(w, be, p + "v_conv1d.weight");
      norm_ = bind(w, be, p + "o_norm.weight");
      out_ = bind(w, be, p + "o_proj.weight");
      return;
    case GdnLayout::Qwen3Next:
      in_proj_ = bind(w, be, p + "in_proj_qkvz.weight");
      in_ba_ = bind(w, be, p + "in_proj_ba.weight");
      break;
    case GdnLayout::Qwen3_5:
      in_proj_ = bind(w, be, p + "in_proj_qkv.weight");
      in_z_ = bind(w, be, p + "in_proj_z.weight");
      in_b_ = bind(w, be, p + "in_proj_b.weight");
      in_a_ = bind(w, be, p + "in_proj_a.weight");
      break;
  }
  conv_ = bind(w, be, p + "conv1d.weight");
  norm_ = bind(w, be, p + "norm.weight");
  out_ = bind(w, be, p + "out_proj.weight");
}

void GatedDeltaNet::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), kd = key_dim(s_), vd = value_dim(s_), Hk = s_.n_k_heads,
                Hv = s_.n_v_heads, r = Hv / Hk, dk = s_.k_dim, dv = s_.v_dim;
  Buf q = be.alloc(T, kd);  // [T, Hk * dk] after the convolution
  Buf k = be.alloc(T, kd);  // [T, Hk * dk]
  Buf v = be.alloc(T, vd);  // [T, Hv * dv]
  Buf z = be.alloc(T, vd);  // [T, Hv * dv] output gate
  Buf a = be.alloc(T, Hv);  // [T, Hv] -> log decay g
  Buf b = be.alloc(T, Hv);  // [T, Hv] -> beta

  if (s_.layout == GdnLayout::OlmoHybrid) {
    Buf pre_k = be.alloc(T, kd);  // [T, Hk * dk] before the convolution
    Buf pre_v = be.alloc(T, vd);  // [T, Hv * dv]
    be.linear(x, in_q_, nullptr, pre_k);
    be.conv1d_silu(pre_k, conv_q_, q);
    be.linear(x, in_k_, nullptr, pre_k);
    be.conv1d_silu(pre_k, conv_k_, k);
    be.linear(x, in_v_, nullptr, pre_v);
    be.conv1d_silu(pre_v, conv_v_, v);
    be.linear(x, in_z_, nullptr, z);
    be.linear(x, in_a_, nullptr, a);
    be.linear(x, in_b_, nullptr, b);
  } else {
    Buf mixed = be.alloc(T, conv_dim(s_));  // [T, 2 Hk dk + Hv dv] as [q | k | v]
    if (s_.layout == GdnLayout::Qwen3Next) {
      // in_proj_qkvz rows, per key head g: q_g (dk), k_g (dk), v_g (r dv), z_g (r dv).
      const int64_t G = 2 * dk + 2 * r * dv;
      Buf qkvz = be.alloc(T, Hk * G);  // [T, Hk * G] grouped
      be.linear(x, in_proj_, nullptr, qkvz);
      std::vector<ColBlock> qkv_blocks, z_blocks;
      for (int64_t g = 0; g < Hk; ++g) qkv_blocks.push_back({g * G, dk});
      for (int64_t g = 0; g < Hk; ++g) qkv_blocks.push_back({g * G + dk, dk});
      for (int64_t g = 0; g < Hk; ++g) qkv_blocks.push_back({g * G + 2 * dk, r * dv});
      for (int64_t g = 0; g < Hk; ++g) z_blocks.push_back({g * G + 2 * dk + r * dv, r * dv});
      be.gather_cols(qkvz, qkv_blocks, mixed);
      be.gather_cols(qkvz, z_blocks, z);
      // in_proj_ba rows, per key head g: b_g (r), a_g (r).
      Buf ba = be.alloc(T, 2 * Hv);  // [T, 2 Hv] grouped
      be.linear(x, in_ba_, nullptr, ba);
      std::vector<ColBlock> b_blocks, a_blocks;
      for (int64_t g = 0; g < Hk; ++g) {
        b_blocks.push_back({g * 2 * r, r});
        a_blocks.push_back({g * 2 * r + r, r});
      }
      be.gather_cols(ba, b_blocks, b);
      be.gather_cols(ba, a_blocks, a);
    } else {
      be.linear(x, in_proj_, nullptr, mixed);
      be.linear(x, in_z_, nullptr, z);
      be.linear(x, in_b_, nullptr, b);
      be.linear(x, in_a_, nullptr, a);
    }
    Buf conv = be.alloc(T, conv_dim(s_));  // [T, 2 Hk dk + Hv dv]
    be.conv1d_silu(mixed, conv_, conv);
    const ColBlock qb[] = {{0, kd}}, kb[] = {{kd, kd}}, vb[] = {{2 * kd, vd}};
    be.gather_cols(conv, qb, q);
    be.gather_cols(conv, kb, k);
    be.gather_cols(conv, vb, v);
  }

  // q <- l2norm(q) * dk^-1/2 (Python's float, applied to the fp32 values); k <- l2norm(k).
  be.l2_norm_heads(q, dk, kL2NormEps, static_cast<float>(1.0 / std::sqrt(static_cast<double>(dk))));
  be.l2_norm_heads(k, dk, kL2NormEps, 1.0f);
  be.delta_gates(a, b, A_log_, dt_bias_, s_.beta_scale);
  Buf o = be.alloc(T, vd);  // [T, Hv * dv]
  const DeltaShape shape{Hk, Hv, dk, dv};
  be.gated_delta_rule(q, k, v, a, b, shape,
                      T <= kGdnStepMaxTokens ? DeltaForm::Step : DeltaForm::Chunked, o);
  be.rms_norm_gated(o, z, norm_, s_.norm_eps, o);
  be.linear(o, out_, nullptr, out);
}

}  // namespace lossgap
