// The feed-forward variants; see mlp_variants.h.
#include "model/blocks/mlp_variants.h"

namespace lossgap {
namespace {

const char* in_name(MlpVariant k) { return k == MlpVariant::GraniteFused ? "input_linear" : "up_proj"; }
const char* out_name(MlpVariant k) {
  return k == MlpVariant::GraniteFused ? "output_linear" : "down_proj";
}

}  // namespace

void VariantMlp::plan(TensorPlan& plan, const std::string& prefix, const MlpVariantSpec& s) {
  const int64_t H = s.hidden_size, I = s.intermediate_size;
  const bool fused = s.kind == MlpVariant::GraniteFused;
  plan.require(prefix + in_name(s.kind) + ".weight", {fused ? 2 * I : I, H});
  plan.require(prefix + out_name(s.kind) + ".weight", {H, I});
  if (s.kind == MlpVariant::ScaledSwiGlu) plan.require(prefix + "gate_proj.weight", {I, H});
  if (s.bias && !fused) {
    plan.require(prefix + in_name(s.kind) + ".bias", {I});
    plan.require(prefix + out_name(s.kind) + ".bias", {H});
    if (s.kind == MlpVariant::ScaledSwiGlu) plan.require(prefix + "gate_proj.bias", {I});
  }
}

VariantMlp::VariantMlp(const PlanBinding& w, Backend& be, const std::string& prefix,
                       MlpVariantSpec s)
    : s_(s),
      in_(be.weight(w.get(prefix + in_name(s.kind) + ".weight"))),
      out_(be.weight(w.get(prefix + out_name(s.kind) + ".weight"))) {
  const bool gated = s_.kind == MlpVariant::ScaledSwiGlu;
  if (gated) gate_ = be.weight(w.get(prefix + "gate_proj.weight"));
  if (s_.bias && s_.kind != MlpVariant::GraniteFused) {
    in_bias_ = be.weight(w.get(prefix + in_name(s_.kind) + ".bias"));
    out_bias_ = be.weight(w.get(prefix + out_name(s_.kind) + ".bias"));
    if (gated) gate_bias_ = be.weight(w.get(prefix + "gate_proj.bias"));
  }
}

void VariantMlp::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), I = s_.intermediate_size;
  Buf act = be.alloc(T, I);  // [T, I] the down projection's input
  switch (s_.kind) {
    case MlpVariant::Relu2: {
      be.linear(x, in_, in_bias_ ? &*in_bias_ : nullptr, act);
      be.relu2(act);
      break;
    }
    case MlpVariant::GraniteFused: {
      Buf gu = be.alloc(T, 2 * I);  // [T, 2I] = [gate | up]
      be.linear(x, in_, nullptr, gu);
      Buf up = be.alloc(T, I);  // [T, I]
      const ColBlock g{0, I}, u{I, I};
      be.gather_cols(gu, {&g, 1}, act);
      be.gather_cols(gu, {&u, 1}, up);
      be.swiglu(act, up, act);
      break;
    }
    case MlpVariant::ScaledSwiGlu: {
      Buf up = be.alloc(T, I);  // [T, I]
      be.linear(x, *gate_, gate_bias_ ? &*gate_bias_ : nullptr, act);
      if (s_.gate_multiplier != 1) be.scale(act, static_cast<float>(s_.gate_multiplier));
      be.linear(x, in_, in_bias_ ? &*in_bias_ : nullptr, up);
      be.swiglu(act, up, act);
      break;
    }
  }
  be.linear(act, out_, out_bias_ ? &*out_bias_ : nullptr, out);
  if (s_.down_multiplier != 1) be.scale(out, static_cast<float>(s_.down_multiplier));
}

}  // namespace lossgap
