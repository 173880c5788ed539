// The architecture modules registered in model/registry.cpp, one function per family.
// Not for direct use: go through arch_module(cfg).
#pragma once

#include <vector>

#include "model/registry.h"

namespace lossgap {

ArchModule llama_module();  // arch/llama.cpp
ArchModule qwen3_module();  // arch/qwen3.cpp
ArchModule olmo2_module();  // arch/olmo.cpp
ArchModule olmo3_module();  // arch/olmo.cpp
// nemotron_h, falcon_h1, granitemoehybrid, bamba, mamba2, mamba, falcon_mamba, jamba.
std::vector<ArchModule> mamba_modules();  // arch/mamba_hybrids.cpp
ArchModule olmo_hybrid_module();   // arch/olmo_hybrid.cpp
ArchModule qwen3_next_module();    // arch/qwen3_next.cpp
ArchModule qwen3_5_module();       // arch/qwen3_next.cpp (nested text_config)
ArchModule qwen3_5_text_module();  // arch/qwen3_next.cpp

}  // namespace lossgap
