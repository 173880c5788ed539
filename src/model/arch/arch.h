// The architecture modules registered in model/registry.cpp, one function per family.
// Not for direct use: go through arch_module(cfg).
#pragma once

#include "model/registry.h"

namespace lossgap {

ArchModule llama_module();  // arch/llama.cpp
ArchModule qwen3_module();  // arch/qwen3.cpp
ArchModule olmo2_module();  // arch/olmo.cpp
ArchModule olmo3_module();  // arch/olmo.cpp
ArchModule olmo_hybrid_module();   // arch/olmo_hybrid.cpp
ArchModule qwen3_next_module();    // arch/qwen3_next.cpp
ArchModule qwen3_5_module();       // arch/qwen3_next.cpp (nested text_config)
ArchModule qwen3_5_text_module();  // arch/qwen3_next.cpp

}  // namespace lossgap
