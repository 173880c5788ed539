// Elementwise fp32 maths of the CPU backend written so the compiler vectorises the loops that call
// them (`#pragma omp simd`, no libm calls, selects on integers only): exp and silu. Not a general
// math library: inputs are finite with |x| < 1e6 (softmax arguments, activations).
#pragma once

#include <bit>
#include <cstdint>

namespace lossgap::cpu {

// exp(x) within 2 ulp for x in [-87.3, 88.3] (normal results); 0 below that
// (results under FLT_MIN flush to 0), +inf from about 88.4 up. Cephes expf: exp(x) = 2^n exp(r),
// |r| <= ln2/2, exp(r) by a degree-6 polynomial.
#pragma omp declare simd notinbranch
inline float exp_f32(float x) {
  // n = round(x / ln2): adding and removing 1.5 * 2^23 rounds to an integer without a libm call
  // (not folded by the compiler: we never build with -ffast-math).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;  // Cody-Waite: ln2 split into an exact high part and a low part
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t ni = static_cast<int32_t>(n);
  ni = ni > 128 ? 128 : ni;                                      // 2^128 -> +inf
  const int32_t bits = ni < -126 ? 0 : (ni + 127) << 23;        // 2^n, or 0 below the normal range
  return p * std::bit_cast<float>(bits);
}

// silu(x) = x * sigmoid(x) = x / (1 + exp(-x)) (-0 for large negative x, as in torch).
#pragma omp declare simd notinbranch
inline float silu_f32(float x) { return x / (1.0f + exp_f32(-x)); }

}  // namespace lossgap::cpu
