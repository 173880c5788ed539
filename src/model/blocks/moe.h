// The sparse mixture-of-experts feed-forward of qwen3_next (hf-architectures.md §1.11): a
// softmax router over num_experts (fp32), the top num_experts_per_tok experts per token (their
// probabilities renormalised when norm_topk_prob), each expert a SwiGLU MLP, plus a shared
// SwiGLU expert scaled by sigmoid(shared_expert_gate(x)). Routing is decided on the host from
// the router logits; the experts run on the gathered rows of their tokens.
// Not the Jamba, Granite or Nemotron-H routers (other weightings and selections).
#pragma once

#include <string>
#include <vector>

#include "model/blocks/layer.h"
#include "model/blocks/mlp.h"
#include "model/tensor_plan.h"

namespace lossgap {

struct MoeSpec {
  int64_t hidden_size = 0;
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t shared_expert_intermediate_size = 0;
  bool norm_topk_prob = true;
};

// Per token, the chosen experts and their weights (host-side routing, exposed for tests):
// softmax over logits[t, :] in fp32, the k largest (ties: lower expert id first), divided by
// their sum when `renormalise`. logits: [T, E] row-major.
struct Routing {
  std::vector<std::vector<int32_t>> expert_rows;  // per expert: token indices, ascending
  std::vector<std::vector<float>> expert_weights;  // per expert: the matching weights
};
Routing route_top_k(const std::vector<float>& logits, int64_t T, int64_t E, int64_t k,
                    bool renormalise);

class SparseMoe final : public FeedForward {
 public:
  // Adds <prefix>gate.weight [E, H], <prefix>experts.{e}.{gate,up,down}_proj.weight,
  // <prefix>shared_expert.{gate,up,down}_proj.weight and <prefix>shared_expert_gate.weight [1, H].
  static void plan(TensorPlan& plan, const std::string& prefix, const MoeSpec& s);
  SparseMoe(const PlanBinding& w, Backend& be, const std::string& prefix, MoeSpec s);

  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

 private:
  MoeSpec s_;
  Weight router_;
  std::vector<SwiGluMlp> experts_;
  SwiGluMlp shared_;
  Weight shared_gate_;
};

}  // namespace lossgap
