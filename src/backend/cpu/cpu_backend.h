// The CPU backend: the fp32 reference implementation of every op in backend/backend.h, on all
// cores (OpenMP loops, OpenBLAS sgemm). Weights stay in their stored dtype (F32/F16/BF16) and
// are widened to fp32 in row blocks just before each matrix product. Not a device abstraction:
// it is one Backend among those the model code may be handed.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace lossgap {

std::unique_ptr<Backend> make_cpu_backend();

// Sets the threads of OpenMP loops and OpenBLAS together; n = 0 means all cores.
void cpu_set_num_threads(int n);

}  // namespace lossgap
