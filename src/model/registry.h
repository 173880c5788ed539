// The one switch over architectures: config model_type -> architecture module. A module turns
// a ModelConfig into a tensor plan and, once the plan is bound to the files, into a Decoder
// built from shared blocks (one per layer kind). Model::load goes through here; so does
// `lossgap inspect`.
#pragma once

#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/blocks/decoder.h"
#include "model/config.h"
#include "model/tensor_plan.h"

namespace lossgap {

struct ArchModule {
  std::string model_type;
  // Every tensor the module reads, with shapes from the config.
  TensorPlan (*plan)(const ModelConfig& cfg);
  // The forward structure over `w` (a binding of plan(cfg)); weights stay in the files' memory.
  Decoder (*build)(const ModelConfig& cfg, const PlanBinding& w, Backend& be);
};

// The module registered for cfg.model_type. Throws InputError(config.json, "model_type: ...")
// listing the supported types when there is none.
const ArchModule& arch_module(const ModelConfig& cfg);

// Registered model_type values, sorted.
std::vector<std::string> registered_model_types();

}  // namespace lossgap
