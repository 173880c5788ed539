// Small helpers shared by the CPU backend's op files (cpu_backend.cpp, cpu_recurrent.cpp,
// cpu_ssm.cpp): shape strings for check messages, whole-tensor widening to fp32, and torch's
// softplus. Internal to backend/cpu; not an op.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/dtype.h"

namespace lossgap::cpu {

// "[rows, cols]" of an activation buffer.
inline std::string shape_of(const Buf& b) {
  std::string s(1, '[');
  s += std::to_string(b.rows());
  s += ", ";
  s += std::to_string(b.cols());
  s += ']';
  return s;
}

// The whole stored tensor as fp32 values (small tensors: biases, per-head parameters).
inline std::vector<float> widen(const TensorView& w) {
  std::vector<float> out(static_cast<size_t>(w.numel()));
  to_f32(w, 0, w.numel(), out.data());
  return out;
}

// torch.nn.functional.softplus with beta 1, threshold 20.
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

}  // namespace lossgap::cpu
