// The Mamba-2 (SSD) mixer of nemotron_h, falcon_h1, granitemoehybrid, bamba and mamba2
// (hf-architectures.md §1.8): in_proj -> [z | xBC | dt], causal conv + SiLU over xBC, the SSD
// recurrence (chunked form for long windows, step form otherwise), gated RMSNorm G2/G3/G4 (or
// plain gating), out_proj; falcon_h1's ssm_in_multiplier and mup_vector. Not Mamba-1 (mamba1.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/blocks/layer.h"
#include "model/config.h"
#include "model/tensor_plan.h"

namespace lossgap {

class Mamba2Mixer final : public Mixer {
 public:
  // Adds <prefix>{in_proj, conv1d, dt_bias, A_log, D, norm, out_proj} to the plan.
  static void plan(TensorPlan& plan, const std::string& prefix, int64_t hidden_size,
                   const Mamba2Params& p);
  Mamba2Mixer(const PlanBinding& w, Backend& be, const std::string& prefix, Mamba2Params p);

  // out[T, hidden] = out_proj(gated_norm(SSD(conv(xBC)), z)) of x[T, hidden].
  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

  // Windows of at least this many tokens use the chunked SSD form.
  static constexpr int64_t kChunkedFrom = 2 * kSsdChunk;

 private:
  Mamba2Params p_;
  Weight in_proj_, conv_, dt_bias_, A_log_, D_, out_proj_;
  std::optional<Weight> in_bias_, conv_bias_, out_bias_, norm_;
  std::vector<float> mup_;  // [in_proj rows] falcon_h1's column multipliers (empty: none)
};

}  // namespace lossgap
