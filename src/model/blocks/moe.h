// The sparse mixture-of-experts feed-forward parts (hf-architectures.md §1.11) of the four
// families that have one, as transformers 5.17 runs them in fp32:
//   qwen3_next  softmax router over all experts, top-k, renormalised when norm_topk_prob; SwiGLU
//               experts; a shared SwiGLU expert scaled by sigmoid(shared_expert_gate(x)).
//   jamba       softmax router, top-k, never renormalised; SwiGLU experts; no shared expert.
//   granite     (granitemoehybrid) top-k on the router logits, then softmax over those k; SwiGLU
//               experts stored fused ([E, 2I, H] input_linear, gate first; [E, H, I]
//               output_linear); plus the layer's dense shared_mlp (a sibling module).
//   nemotron_h  sigmoid scores; experts chosen on scores + e_score_correction_bias within the
//               topk_group best of n_group groups; weights are the unbiased scores, normalised
//               (+1e-20) when norm_topk_prob, times routed_scaling_factor; relu^2 experts (up,
//               down); plus a relu^2 shared expert.
// Routing is decided on the host from fp32 router logits; each expert runs on the gathered rows
// of its tokens and adds its weighted output back. Not the dense MLPs (mlp.h, mlp_variants.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/blocks/layer.h"
#include "model/tensor_plan.h"

namespace lossgap {

enum class MoeFamily { Qwen3Next, Jamba, Granite, NemotronH };

struct MoeSpec {
  int64_t hidden_size = 0;
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;           // one routed expert's width
  int64_t shared_expert_intermediate_size = 0;  // qwen3_next, granite (shared_mlp), nemotron_h
  bool norm_topk_prob = true;                   // qwen3_next, nemotron_h
  MoeFamily family = MoeFamily::Qwen3Next;
  int64_t n_group = 1, topk_group = 1;  // nemotron_h
  double routed_scaling_factor = 1;     // nemotron_h
  bool shared_bias = false;             // nemotron_h: the shared expert's mlp_bias
};

// Per token, the chosen experts and their weights (host-side routing, exposed for tests).
struct Routing {
  std::vector<std::vector<int32_t>> expert_rows;  // per expert: token indices, ascending
  std::vector<std::vector<float>> expert_weights;  // per expert: the matching weights
};

// All routers below take logits [T, E] row-major (fp32, as transformers computes them) and break
// ties between equal selection scores towards the lower expert id.

// qwen3_next and jamba: softmax over logits[t, :] (accumulated in double), the k largest
// probabilities, divided by their sum when `renormalise`.
Routing route_top_k(const std::vector<float>& logits, int64_t T, int64_t E, int64_t k,
                    bool renormalise);

// granite: the k largest logits, weights softmax over those k.
Routing route_top_k_softmax(const std::vector<float>& logits, int64_t T, int64_t E, int64_t k);

// nemotron_h (DeepSeek-V3's noaux_tc routing as NemotronHMoE.route_tokens_to_experts does it):
// s = sigmoid(logits); c = s + bias [E]; each of n_group consecutive groups of E / n_group experts
// scores the sum of its two largest c; the topk_group best groups stay; the k largest c among
// their experts are chosen; weights s / (sum of the k s + 1e-20) when `normalise`, else s; all
// times `scaling`. E % n_group == 0, E / n_group >= 2, topk_group <= n_group.
Routing route_grouped_sigmoid(const std::vector<float>& logits, const std::vector<float>& bias,
                              int64_t T, int64_t E, int64_t k, int64_t n_group,
                              int64_t topk_group, bool normalise, float scaling);

class SparseMoe final : public FeedForward {
 public:
  // Adds the family's tensors under `prefix` (the MoE module's prefix; for granite the layer's
  // prefix, as block_sparse_moe. and shared_mlp. are siblings there):
  //   qwen3_next  gate.weight [E, H]; experts.{e}.{gate,up,down}_proj.weight;
  //               shared_expert.{gate,up,down}_proj.weight; shared_expert_gate.weight [1, H]
  //   jamba       router.weight [E, H]; experts.{e}.{gate,up,down}_proj.weight
  //   granite     block_sparse_moe.router.layer.weight [E, H];
  //               block_sparse_moe.input_linear.weight [E, 2I, H];
  //               block_sparse_moe.output_linear.weight [E, H, I];
  //               shared_mlp.input_linear.weight [2Is, H]; shared_mlp.output_linear.weight [H, Is]
  //   nemotron_h  gate.weight [E, H]; gate.e_score_correction_bias [E];
  //               experts.{e}.{up,down}_proj.weight; shared_experts.{up,down}_proj.weight (+ .bias
  //               when shared_bias)
  static void plan(TensorPlan& plan, const std::string& prefix, const MoeSpec& s);
  SparseMoe(const PlanBinding& w, Backend& be, const std::string& prefix, MoeSpec s);

  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

 private:
  Routing route(Backend& be, const Buf& x) const;

  MoeSpec s_;
  Weight router_;
  std::vector<float> score_bias_;  // nemotron_h: e_score_correction_bias [E]
  std::vector<std::unique_ptr<FeedForward>> experts_;
  std::unique_ptr<FeedForward> shared_;  // null for jamba
  std::optional<Weight> shared_gate_;    // qwen3_next only
};

}  // namespace lossgap
