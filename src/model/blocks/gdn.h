// The Gated DeltaNet token mixer (hf-architectures.md §1.10) shared by olmo_hybrid, qwen3_next
// and qwen3_5: input projections in one of three checkpoint layouts, causal depthwise
// convolution + SiLU over [q | k | v], per-head L2 norm of q and k (q then scaled by dk^-1/2),
// gates g = -exp(A_log) softplus(a + dt_bias) and beta = sigmoid(b) (x2 with
// linear_allow_neg_eigval), the gated delta rule from a zero state (step form for short windows,
// chunked form otherwise), gated RMSNorm G1 per value head, output projection.
// Not the decode-time recurrent cache: lossgap scores whole windows.
#pragma once

#include <string>

#include "model/blocks/layer.h"
#include "model/tensor_plan.h"

namespace lossgap {

// How the checkpoint stores the mixer's projections (§1.10 table).
enum class GdnLayout {
  OlmoHybrid,  // q/k/v/g/a/b_proj, q/k/v_conv1d, o_norm (eps 1e-5), o_proj
  Qwen3Next,   // in_proj_qkvz and in_proj_ba grouped per key head, conv1d, norm, out_proj
  Qwen3_5,     // in_proj_qkv (contiguous [q | k | v]), in_proj_z, in_proj_b, in_proj_a, ...
};

struct GdnSpec {
  GdnLayout layout = GdnLayout::OlmoHybrid;
  int64_t hidden_size = 0;
  int64_t n_k_heads = 0;  // linear_num_key_heads
  int64_t n_v_heads = 0;  // linear_num_value_heads
  int64_t k_dim = 0;      // linear_key_head_dim
  int64_t v_dim = 0;      // linear_value_head_dim
  int64_t conv_kernel = 0;  // linear_conv_kernel_dim
  float beta_scale = 1;     // 2 with linear_allow_neg_eigval
  float norm_eps = 0;       // of the gated output norm
};

// Windows up to this many tokens run the step form; longer ones the chunked form.
inline constexpr int64_t kGdnStepMaxTokens = 64;

class GatedDeltaNet final : public Mixer {
 public:
  // Adds the mixer's tensors under `prefix` (e.g. "model.layers.0.linear_attn.") to the plan.
  static void plan(TensorPlan& plan, const std::string& prefix, const GdnSpec& s);
  GatedDeltaNet(const PlanBinding& w, Backend& be, const std::string& prefix, GdnSpec s);

  // out[T, hidden] from x[T, hidden].
  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

 private:
  GdnSpec s_;
  // OlmoHybrid: q, k, v, z (g_proj), a, b projections and three convolutions.
  // Qwen3Next: in_proj (qkvz) and ba; Qwen3_5: in_proj (qkv), z, b, a; one convolution.
  Weight in_q_, in_k_, in_v_, in_z_, in_a_, in_b_;
  Weight in_proj_, in_ba_;
  Weight conv_q_, conv_k_, conv_v_, conv_;
  Weight A_log_, dt_bias_, norm_, out_;
};

}  // namespace lossgap
