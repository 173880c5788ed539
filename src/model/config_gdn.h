// Strict config.json reading for the Gated DeltaNet families (hf-architectures.md §2.5-2.7):
// olmo_hybrid, qwen3_next, qwen3_5 (Qwen3_5ForConditionalGeneration: the decoder's keys under
// text_config) and its qwen3_5_text form. Mirrors transformers 5.17's configuration classes;
// docs/recurrent.md lists where lossgap departs from them. Internal to the config readers.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace lossgap::config_detail {

// True for the model_type values read_gdn_config accepts.
bool is_gdn_model_type(std::string_view model_type);

// Reads a whole config.json object of one of those families (`file` names it in errors).
// Throws InputError naming the key for a wrong type or value, an unknown key, or a layout
// transformers would reject.
ModelConfig read_gdn_config(const nlohmann::json& cfg, const std::string& file,
                            const std::string& model_type);

}  // namespace lossgap::config_detail
