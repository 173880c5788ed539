// The Mamba-1 selective-scan mixer of mamba, falcon_mamba and jamba (hf-architectures.md §1.9):
// in_proj -> [x | z], causal conv + SiLU over x, x_proj -> [dt | B | C] (RMS-normalised with
// weights for jamba, without for falcon_mamba), dt_proj + softplus, the selective scan,
// y * silu(z), out_proj. Not Mamba-2 (mamba2.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/blocks/layer.h"
#include "model/config.h"
#include "model/tensor_plan.h"

namespace lossgap {

class Mamba1Mixer final : public Mixer {
 public:
  // Adds <prefix>{in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj} (+ jamba's
  // {dt,b,c}_layernorm) to the plan.
  static void plan(TensorPlan& plan, const std::string& prefix, int64_t hidden_size,
                   const Mamba1Params& p);
  Mamba1Mixer(const PlanBinding& w, Backend& be, const std::string& prefix, Mamba1Params p);

  // out[T, hidden] = out_proj(scan(conv(x)) * silu(z)) of x[T, hidden].
  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override;

  // Windows of at least this many tokens use the chunked selective scan.
  static constexpr int64_t kChunkedFrom = kSsdChunk;

 private:
  Mamba1Params p_;
  Weight in_proj_, conv_, x_proj_, dt_proj_, dt_proj_bias_, A_log_, D_, out_proj_;
  std::optional<Weight> in_bias_, conv_bias_, out_bias_;
  std::optional<Weight> dt_norm_, b_norm_, c_norm_;  // jamba; falcon_mamba uses the ones below
  std::vector<float> ones_;                          // [max(R, N)] unit weights (falcon_mamba)
  std::optional<TensorView> ones_r_, ones_n_;
};

}  // namespace lossgap
