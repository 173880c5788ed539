// olmo2 and olmo3 (hf-architectures.md §2.3-2.4): Olmo's post-norm template (norms on the
// sub-layer outputs, no input norm), QK RMSNorm over the whole q and k projections, SwiGLU MLP
// without biases. olmo3 differs only through its config: sliding/full layers from layer_types
// and one RoPE table per layer type (config.h resolves both), so one recipe serves both.
#include "model/arch/arch.h"
#include "model/arch/transformer.h"

namespace lossgap {
namespace {

const TransformerRecipe kOlmo{ResidualTemplate::PostNorm, QkNorm::Full, NormWeight::Scale, false};

ArchModule olmo_module(const char* model_type) {
  return ArchModule{
      model_type,
      [](const ModelConfig& c) { return transformer_plan(c, kOlmo); },
      [](const ModelConfig& c, const PlanBinding& w, Backend& be) {
        return transformer_build(c, w, be, kOlmo);
      },
  };
}

}  // namespace

ArchModule olmo2_module() { return olmo_module("olmo2"); }
ArchModule olmo3_module() { return olmo_module("olmo3"); }

}  // namespace lossgap
