// The Mamba-2 mixer; see mamba2.h. Column layout of in_proj (transformers' torch_forward):
// [z (d_inner) | xBC (d_inner + 2 G N) | dt (n_heads)]; xBC after the convolution is
// [x (d_inner) | B (G N) | C (G N)].
#include "model/blocks/mamba2.h"

#include <cmath>

#include "core/error.h"

namespace lossgap {
namespace {

int64_t conv_dim(const Mamba2Params& p) { return p.d_inner + 2 * p.n_groups * p.state_size; }
int64_t proj_dim(const Mamba2Params& p) { return p.d_inner + conv_dim(p) + p.num_heads; }

std::optional<Weight> opt(const PlanBinding& w, Backend& be, const std::string& name, bool on) {
  if (!on) return std::nullopt;
  return be.weight(w.get(name));
}

}  // namespace

void Mamba2Mixer::plan(TensorPlan& plan, const std::string& prefix, int64_t H,
                       const Mamba2Params& p) {
  plan.require(prefix + "in_proj.weight", {proj_dim(p), H});
  if (p.in_proj_bias) plan.require(prefix + "in_proj.bias", {proj_dim(p)});
  plan.require(prefix + "conv1d.weight", {conv_dim(p), 1, p.conv_kernel});
  if (p.conv_bias) plan.require(prefix + "conv1d.bias", {conv_dim(p)});
  plan.require(prefix + "dt_bias", {p.num_heads});
  plan.require(prefix + "A_log", {p.num_heads});
  plan.require(prefix + "D", {p.num_heads});
  if (p.norm != SsmGatedNorm::None) plan.require(prefix + "norm.weight", {p.d_inner});
  plan.require(prefix + "out_proj.weight", {H, p.d_inner});
  if (p.out_proj_bias) plan.require(prefix + "out_proj.bias", {H});
}

Mamba2Mixer::Mamba2Mixer(const PlanBinding& w, Backend& be, const std::string& prefix,
                         Mamba2Params p)
    : p_(std::move(p)),
      in_proj_(be.weight(w.get(prefix + "in_proj.weight"))),
      conv_(be.weight(w.get(prefix + "conv1d.weight"))),
      dt_bias_(be.weight(w.get(prefix + "dt_bias"))),
      A_log_(be.weight(w.get(prefix + "A_log"))),
      D_(be.weight(w.get(prefix + "D"))),
      out_proj_(be.weight(w.get(prefix + "out_proj.weight"))),
      in_bias_(opt(w, be, prefix + "in_proj.bias", p_.in_proj_bias)),
      conv_bias_(opt(w, be, prefix + "conv1d.bias", p_.conv_bias)),
      out_bias_(opt(w, be, prefix + "out_proj.bias", p_.out_proj_bias)),
      norm_(opt(w, be, prefix + "norm.weight", p_.norm != SsmGatedNorm::None)) {
  if (!p_.ssm_multipliers.empty()) {
    LG_CHECK(p_.ssm_multipliers.size() == 5, "ssm_multipliers");
    const int64_t GN = p_.n_groups * p_.state_size;
    const int64_t sizes[5] = {p_.d_inner, p_.d_inner, GN, GN, p_.num_heads};
    for (int s = 0; s < 5; ++s)
      mup_.insert(mup_.end(), static_cast<size_t>(sizes[s]), static_cast<float>(p_.ssm_multipliers[s]));
  }
}

void Mamba2Mixer::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), d = p_.d_inner, GN = p_.n_groups * p_.state_size,
                nh = p_.num_heads, cd = conv_dim(p_);
  Buf zxbcdt = be.alloc(T, proj_dim(p_));  // [T, d + conv_dim + nh]
  if (p_.ssm_in_multiplier != 1.0) {
    Buf u = be.alloc(T, x.cols());  // [T, hidden] x * ssm_in_multiplier
    const ColBlock all{0, x.cols()};
    be.gather_cols(x, {&all, 1}, u);
    be.scale(u, static_cast<float>(p_.ssm_in_multiplier));
    be.linear(u, in_proj_, in_bias_ ? &*in_bias_ : nullptr, zxbcdt);
  } else {
    be.linear(x, in_proj_, in_bias_ ? &*in_bias_ : nullptr, zxbcdt);
  }
  if (!mup_.empty()) be.scale_cols(zxbcdt, mup_);
  Buf z = be.alloc(T, d);     // [T, d_inner]
  Buf xbc = be.alloc(T, cd);  // [T, conv_dim]
  Buf dt = be.alloc(T, nh);   // [T, n_heads]
  const ColBlock zb{0, d}, xbcb{d, cd}, dtb{d + cd, nh};
  be.gather_cols(zxbcdt, {&zb, 1}, z);
  be.gather_cols(zxbcdt, {&xbcb, 1}, xbc);
  be.gather_cols(zxbcdt, {&dtb, 1}, dt);
  Buf conv = be.alloc(T, cd);  // [T, conv_dim] silu(conv1d(xBC))
  be.conv1d_silu(xbc, conv_, conv, conv_bias_ ? &*conv_bias_ : nullptr);
  Buf xs = be.alloc(T, d);  // [T, n_heads * head_dim]
  Buf B = be.alloc(T, GN);  // [T, n_groups * state_size]
  Buf C = be.alloc(T, GN);  // [T, n_groups * state_size]
  const ColBlock xb{0, d}, bb{d, GN}, cb{d + GN, GN};
  be.gather_cols(conv, {&xb, 1}, xs);
  be.gather_cols(conv, {&bb, 1}, B);
  be.gather_cols(conv, {&cb, 1}, C);
  be.ssm_dt(dt, &dt_bias_, static_cast<float>(p_.dt_min), static_cast<float>(p_.dt_max));
  Buf y = be.alloc(T, d);  // [T, n_heads * head_dim]
  const SsdShape shape{nh, p_.head_dim, p_.n_groups, p_.state_size};
  be.ssd_scan(xs, dt, A_log_, B, C, D_, shape,
              T >= kChunkedFrom ? SsdForm::Chunked : SsdForm::Step, y);
  if (p_.norm == SsmGatedNorm::None) {
    be.swiglu(z, y, y);  // y * silu(z)
  } else {
    be.rms_norm_gate(y, z, *norm_, static_cast<float>(p_.norm_eps), d / p_.norm_groups,
                     p_.norm == SsmGatedNorm::GateThenNorm ? GateOrder::GateThenNorm
                                                           : GateOrder::NormThenGate,
                     y);
  }
  be.linear(y, out_proj_, out_bias_ ? &*out_bias_ : nullptr, out);
}

}  // namespace lossgap
