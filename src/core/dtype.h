// Storage dtypes of checkpoint tensors and a read-only view of one stored tensor.
// Not an activation tensor type: activations are fp32 buffers owned by the backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lossgap {

enum class DType { F32, F16, BF16 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "F32", "F16", "BF16" (safetensors spelling)

// A tensor as stored in a checkpoint file (usually mmapped): shape in PyTorch order.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;

  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  std::string shape_string() const;  // "[4096, 11008]"
};

// Scalar conversions to fp32 (exact for BF16 and F16).
float bf16_to_f32(uint16_t v);
float f16_to_f32(uint16_t v);

// out[i] = float(view.data[offset + i]) for i in [0, n).
void to_f32(const TensorView& view, int64_t offset, int64_t n, float* out);

}  // namespace lossgap
