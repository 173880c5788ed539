// The architecture registry; see registry.h. Adding a family = one module in model/arch/ and
// one line here.
#include "model/registry.h"

#include <algorithm>

#include "core/error.h"
#include "model/arch/arch.h"

namespace lossgap {
namespace {

const std::vector<ArchModule>& modules() {
  static const std::vector<ArchModule> m = [] {
    std::vector<ArchModule> v = {
        llama_module(),
        qwen3_module(),
        olmo2_module(),
        olmo3_module(),
        olmo_hybrid_module(),
        qwen3_next_module(),
        qwen3_5_module(),
        qwen3_5_text_module(),
    };
    for (ArchModule& a : mamba_modules()) v.push_back(std::move(a));
    return v;
  }();
  return m;
}

}  // namespace

const ArchModule& arch_module(const ModelConfig& cfg) {
  for (const ArchModule& m : modules()) {
    if (m.model_type == cfg.model_type) return m;
  }
  std::string known;
  for (const std::string& t : registered_model_types()) known += (known.empty() ? "" : ", ") + t;
  throw InputError(cfg.path.string(), "model_type: no architecture module for '" + cfg.model_type +
                                          "' (supported: " + known + ")");
}

std::vector<std::string> registered_model_types() {
  std::vector<std::string> t;
  for (const ArchModule& m : modules()) t.push_back(m.model_type);
  std::sort(t.begin(), t.end());
  return t;
}

}  // namespace lossgap
