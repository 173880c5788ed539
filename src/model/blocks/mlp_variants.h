// The feed-forward variants of the Mamba hybrids (hf-architectures.md §1.6): nemotron_h's
// non-gated relu^2 MLP (up, down), granitemoehybrid's fused SwiGLU shared_mlp (input_linear =
// [gate | up], output_linear) and falcon_h1's SwiGLU with mlp_multipliers. Not the plain SwiGLU
// (mlp.h) nor mixtures of experts.
#pragma once

#include <optional>
#include <string>

#include "model/blocks/layer.h"
#include "model/tensor_plan.h"

namespace lossgap {

enum class MlpVariant {
  Relu2,         // down(relu(up(x))^2); names up_proj, down_proj
  GraniteFused,  // output_linear(silu(g) * u), [g, u] = input_linear(x); no biases
  ScaledSwiGlu,  // down(up(x) * silu(gate(x) * gate_mult)) * down_mult; names gate/up/down_proj
};

struct MlpVariantSpec {
  MlpVariant kind = MlpVariant::Relu2;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  bool bias = false;  // Relu2 and ScaledSwiGlu (mlp_bias)
  double gate_multiplier = 1, down_multiplier = 1;
};

class VariantMlp final : public FeedForward {
 public:
  static void plan(TensorPlan& plan, const std::string& prefix, const MlpVariantSpec& s);
  VariantMlp(const PlanBinding& w, Backend& be, const std::string& prefix, MlpVariantSpec s);

  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

 private:
  MlpVariantSpec s_;
  Weight in_, out_;              // up (Relu2, ScaledSwiGlu) or input_linear; down/output_linear
  std::optional<Weight> gate_;   // ScaledSwiGlu
  std::optional<Weight> in_bias_, out_bias_, gate_bias_;
};

// nemotron_h's "mlp" layers are a whole mixer (template S); this adapts the MLP to that role.
class MlpAsMixer final : public Mixer {
 public:
  explicit MlpAsMixer(std::unique_ptr<FeedForward> ffn) : ffn_(std::move(ffn)) {}
  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override {
    ffn_->forward(ctx, x, out);
  }

 private:
  std::unique_ptr<FeedForward> ffn_;
};

}  // namespace lossgap
