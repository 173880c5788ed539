// The Mamba-1 mixer; see mamba1.h. Follows transformers' MambaMixer.slow_forward (and Jamba's
// and FalconMamba's variants of it).
#include "model/blocks/mamba1.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace lossgap {
namespace {

std::optional<Weight> opt(const PlanBinding& w, Backend& be, const std::string& name, bool on) {
  if (!on) return std::nullopt;
  return be.weight(w.get(name));
}

}  // namespace

void Mamba1Mixer::plan(TensorPlan& plan, const std::string& prefix, int64_t H,
                       const Mamba1Params& p) {
  const int64_t d = p.d_inner, N = p.state_size, R = p.dt_rank;
  plan.require(prefix + "in_proj.weight", {2 * d, H});
  if (p.proj_bias) plan.require(prefix + "in_proj.bias", {2 * d});
  plan.require(prefix + "conv1d.weight", {d, 1, p.conv_kernel});
  if (p.conv_bias) plan.require(prefix + "conv1d.bias", {d});
  plan.require(prefix + "x_proj.weight", {R + 2 * N, d});
  plan.require(prefix + "dt_proj.weight", {d, R});
  plan.require(prefix + "dt_proj.bias", {d});
  plan.require(prefix + "A_log", {d, N});
  plan.require(prefix + "D", {d});
  plan.require(prefix + "out_proj.weight", {H, d});
  if (p.proj_bias) plan.require(prefix + "out_proj.bias", {H});
  if (p.dtbc_norm == Mamba1Params::DtBcNorm::Weighted) {
    plan.require(prefix + "dt_layernorm.weight", {R});
    plan.require(prefix + "b_layernorm.weight", {N});
    plan.require(prefix + "c_layernorm.weight", {N});
  }
}

Mamba1Mixer::Mamba1Mixer(const PlanBinding& w, Backend& be, const std::string& prefix,
                         Mamba1Params p)
    : p_(std::move(p)),
      in_proj_(be.weight(w.get(prefix + "in_proj.weight"))),
      conv_(be.weight(w.get(prefix + "conv1d.weight"))),
      x_proj_(be.weight(w.get(prefix + "x_proj.weight"))),
      dt_proj_(be.weight(w.get(prefix + "dt_proj.weight"))),
      dt_proj_bias_(be.weight(w.get(prefix + "dt_proj.bias"))),
      A_log_(be.weight(w.get(prefix + "A_log"))),
      D_(be.weight(w.get(prefix + "D"))),
      out_proj_(be.weight(w.get(prefix + "out_proj.weight"))),
      in_bias_(opt(w, be, prefix + "in_proj.bias", p_.proj_bias)),
      conv_bias_(opt(w, be, prefix + "conv1d.bias", p_.conv_bias)),
      out_bias_(opt(w, be, prefix + "out_proj.bias", p_.proj_bias)) {
  const bool weighted = p_.dtbc_norm == Mamba1Params::DtBcNorm::Weighted;
  dt_norm_ = opt(w, be, prefix + "dt_layernorm.weight", weighted);
  b_norm_ = opt(w, be, prefix + "b_layernorm.weight", weighted);
  c_norm_ = opt(w, be, prefix + "c_layernorm.weight", weighted);
  if (p_.dtbc_norm == Mamba1Params::DtBcNorm::Unweighted) {
    // falcon_mamba's rms_forward has no weight: a unit weight gives the same values.
    ones_.assign(static_cast<size_t>(std::max(p_.dt_rank, p_.state_size)), 1.0f);
    auto unit = [&](int64_t n, const char* name) {
      TensorView v;
      v.name = prefix + name;
      v.dtype = DType::F32;
      v.shape = {n};
      v.data = ones_.data();
      return v;
    };
    ones_r_ = unit(p_.dt_rank, "rms_forward(dt)");
    ones_n_ = unit(p_.state_size, "rms_forward(B, C)");
    dt_norm_ = be.weight(*ones_r_);
    b_norm_ = be.weight(*ones_n_);
    c_norm_ = be.weight(*ones_n_);
  }
}

void Mamba1Mixer::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), d = p_.d_inner, N = p_.state_size, R = p_.dt_rank;
  Buf xz = be.alloc(T, 2 * d);  // [T, 2 d_inner] = [x | z]
  be.linear(x, in_proj_, in_bias_ ? &*in_bias_ : nullptr, xz);
  Buf xs = be.alloc(T, d);  // [T, d_inner]
  Buf z = be.alloc(T, d);   // [T, d_inner]
  const ColBlock xb{0, d}, zb{d, d};
  be.gather_cols(xz, {&xb, 1}, xs);
  be.gather_cols(xz, {&zb, 1}, z);
  Buf xc = be.alloc(T, d);  // [T, d_inner] silu(conv1d(x))
  be.conv1d_silu(xs, conv_, xc, conv_bias_ ? &*conv_bias_ : nullptr);
  Buf dbc = be.alloc(T, R + 2 * N);  // [T, R + 2N] = [dt | B | C]
  be.linear(xc, x_proj_, nullptr, dbc);
  Buf dtr = be.alloc(T, R);  // [T, R]
  Buf B = be.alloc(T, N);    // [T, N]
  Buf C = be.alloc(T, N);    // [T, N]
  const ColBlock db{0, R}, bb{R, N}, cb{R + N, N};
  be.gather_cols(dbc, {&db, 1}, dtr);
  be.gather_cols(dbc, {&bb, 1}, B);
  be.gather_cols(dbc, {&cb, 1}, C);
  if (dt_norm_) {
    const float eps = static_cast<float>(p_.dtbc_eps);
    be.rms_norm(dtr, *dt_norm_, eps, NormWeight::Scale, dtr);
    be.rms_norm(B, *b_norm_, eps, NormWeight::Scale, B);
    be.rms_norm(C, *c_norm_, eps, NormWeight::Scale, C);
  }
  Buf dt = be.alloc(T, d);  // [T, d_inner] softplus(dt_proj(dt))
  be.linear(dtr, dt_proj_, &dt_proj_bias_, dt);
  be.ssm_dt(dt, nullptr, 0.0f, std::numeric_limits<float>::infinity());
  Buf y = be.alloc(T, d);  // [T, d_inner]
  be.selective_scan(xc, dt, A_log_, B, C, D_, T >= kChunkedFrom ? SsdForm::Chunked : SsdForm::Step,
                    y);
  be.swiglu(z, y, y);  // y * silu(z)
  be.linear(y, out_proj_, out_bias_ ? &*out_bias_ : nullptr, out);
}

}  // namespace lossgap
