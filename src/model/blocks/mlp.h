// The SwiGLU feed-forward part (hf-architectures.md §1.6): down(silu(gate(x)) * up(x)), with
// optional biases (mlp_bias). Not the fused (granite), relu^2 (nemotron_h) or MoE variants.
#pragma once

#include <optional>
#include <string>

#include "model/blocks/layer.h"
#include "model/tensor_plan.h"

namespace lossgap {

class SwiGluMlp final : public FeedForward {
 public:
  // Adds <prefix>{gate,up,down}_proj.weight (+ .bias) to the plan.
  static void plan(TensorPlan& plan, const std::string& prefix, int64_t hidden_size,
                   int64_t intermediate_size, bool bias);
  SwiGluMlp(const PlanBinding& w, Backend& be, const std::string& prefix, bool bias);

  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

 private:
  Weight gate_, up_, down_;
  std::optional<Weight> gate_bias_, up_bias_, down_bias_;
};

}  // namespace lossgap
