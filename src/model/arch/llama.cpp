// llama (hf-architectures.md §2.1): pre-norm layers, plain GQA attention (attention_bias), RoPE
// with optional llama3 scaling, SwiGLU MLP with mlp_bias.
#include "model/arch/arch.h"
#include "model/arch/transformer.h"

namespace lossgap {
namespace {

const TransformerRecipe kLlama{ResidualTemplate::PreNorm, QkNorm::None, NormWeight::Scale, true};

}  // namespace

ArchModule llama_module() {
  return ArchModule{
      "llama",
      [](const ModelConfig& c) { return transformer_plan(c, kLlama); },
      [](const ModelConfig& c, const PlanBinding& w, Backend& be) {
        return transformer_build(c, w, be, kLlama);
      },
  };
}

}  // namespace lossgap
