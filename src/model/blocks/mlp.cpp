// The SwiGLU feed-forward part; see mlp.h.
#include "model/blocks/mlp.h"

namespace lossgap {

void SwiGluMlp::plan(TensorPlan& plan, const std::string& prefix, int64_t H, int64_t I, bool bias) {
  plan.require(prefix + "gate_proj.weight", {I, H});
  plan.require(prefix + "up_proj.weight", {I, H});
  plan.require(prefix + "down_proj.weight", {H, I});
  if (bias) {
    plan.require(prefix + "gate_proj.bias", {I});
    plan.require(prefix + "up_proj.bias", {I});
    plan.require(prefix + "down_proj.bias", {H});
  }
}

SwiGluMlp::SwiGluMlp(const PlanBinding& w, Backend& be, const std::string& prefix, bool bias)
    : gate_(be.weight(w.get(prefix + "gate_proj.weight"))),
      up_(be.weight(w.get(prefix + "up_proj.weight"))),
      down_(be.weight(w.get(prefix + "down_proj.weight"))) {
  if (bias) {
    gate_bias_ = be.weight(w.get(prefix + "gate_proj.bias"));
    up_bias_ = be.weight(w.get(prefix + "up_proj.bias"));
    down_bias_ = be.weight(w.get(prefix + "down_proj.bias"));
  }
}

void SwiGluMlp::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), I = gate_.view.shape[0];
  Buf gate = be.alloc(T, I);  // [T, I]
  Buf up = be.alloc(T, I);    // [T, I]
  be.linear(x, gate_, gate_bias_ ? &*gate_bias_ : nullptr, gate);
  be.linear(x, up_, up_bias_ ? &*up_bias_ : nullptr, up);
  be.swiglu(gate, up, gate);
  be.linear(gate, down_, down_bias_ ? &*down_bias_ : nullptr, out);
}

}  // namespace lossgap
