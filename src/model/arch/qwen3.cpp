// qwen3 (hf-architectures.md §2.2): llama's layout plus per-head QK RMSNorm (weight [head_dim],
// shared by the heads) before RoPE; MLP without biases; sliding layers when layer_types says so.
#include "model/arch/arch.h"
#include "model/arch/transformer.h"

namespace lossgap {
namespace {

const TransformerRecipe kQwen3{ResidualTemplate::PreNorm, QkNorm::PerHead, NormWeight::Scale, false};

}  // namespace

ArchModule qwen3_module() {
  return ArchModule{
      "qwen3",
      [](const ModelConfig& c) { return transformer_plan(c, kQwen3); },
      [](const ModelConfig& c, const PlanBinding& w, Backend& be) {
        return transformer_build(c, w, be, kQwen3);
      },
  };
}

}  // namespace lossgap
