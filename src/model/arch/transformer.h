// The pure-transformer families (llama, qwen3, olmo2, olmo3) as one recipe over shared blocks:
// per layer an Attention mixer (full or sliding by layer_types, RoPE per layer type) and a
// SwiGLU MLP, wired by a residual template; HF names under model.*. A family module is the
// recipe's block choices. Not for hybrids: their modules (issue 4) pick other mixers per kind.
#pragma once

#include "model/blocks/attention.h"
#include "model/blocks/decoder.h"
#include "model/config.h"
#include "model/tensor_plan.h"

namespace lossgap {

struct TransformerRecipe {
  ResidualTemplate residual = ResidualTemplate::PreNorm;
  QkNorm qk_norm = QkNorm::None;
  NormWeight norm_kind = NormWeight::Scale;
  bool mlp_bias_from_config = false;  // the MLP has biases when config mlp_bias (llama only)
};

TensorPlan transformer_plan(const ModelConfig& cfg, const TransformerRecipe& r);
Decoder transformer_build(const ModelConfig& cfg, const PlanBinding& w, Backend& be,
                          const TransformerRecipe& r);

}  // namespace lossgap
