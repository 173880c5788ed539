// Strict config.json reading for the Mamba families (hf-architectures.md §2.8-2.14):
// nemotron_h, falcon_h1, granitemoehybrid, bamba, mamba2, mamba, falcon_mamba, jamba. Mirrors
// the dataclass defaults and __post_init__ rules of transformers 5.17's configuration classes and
// resolves them into ModelConfig (layer kinds, SsmParams); docs/ssm.md lists the choices.
// Internal to the config readers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace lossgap::config_detail {

// The model_type values read_ssm_config accepts.
const std::vector<std::string>& ssm_model_types();
bool is_ssm_model_type(std::string_view model_type);

// Reads a whole config.json object of one of those families (`file` names it in errors).
// Throws InputError naming the key for a wrong type or value, an unknown key, or a layout
// transformers would reject.
ModelConfig read_ssm_config(const nlohmann::json& cfg, const std::string& file,
                            const std::string& model_type);

}  // namespace lossgap::config_detail
