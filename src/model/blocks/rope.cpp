// RoPE tables; see rope.h. The float arithmetic mirrors transformers' modeling_rope_utils.py
// operation by operation (tensor ops in fp32, Python scalars in double), since a 1-ulp change of
// inv_freq moves the angle at position 4000 by ~5e-4 rad.
#include "model/blocks/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace lossgap {
namespace {

// base ** (arange(0, d_rot, 2).float() / d_rot): the exponent is an fp32 division, the power is
// evaluated in double and rounded (torch's fp32 pow is accurate to ~1 ulp; double-then-round is
// the correctly rounded value).
std::vector<float> pos_freqs(double theta, int64_t d_rot) {
  std::vector<float> f(d_rot / 2);
  const float base = static_cast<float>(theta);
  for (int64_t i = 0; i < d_rot / 2; ++i) {
    const float e = static_cast<float>(2 * i) / static_cast<float>(d_rot);
    f[i] = static_cast<float>(std::pow(static_cast<double>(base), static_cast<double>(e)));
  }
  return f;
}

void check_params(const RopeParams& p, int64_t d_rot) {
  LG_CHECK(d_rot > 0 && d_rot % 2 == 0, "rotary dim must be positive and even");
  LG_CHECK(p.rope_theta > 0, "rope_theta must be positive");
  if (p.rope_type == "llama3" || p.rope_type == "yarn") {
    LG_CHECK(p.original_max_position_embeddings > 0, p.rope_type + " needs original_max_position_embeddings");
  }
}

}  // namespace

YarnRange yarn_correction_range(const RopeParams& p, int64_t head_dim) {
  const int64_t d_rot = p.rotary_dim(head_dim);
  check_params(p, d_rot);
  const double dim = static_cast<double>(d_rot);
  const double L0 = static_cast<double>(p.original_max_position_embeddings);
  auto correction_dim = [&](double num_rotations) {
    return (dim * std::log(L0 / (num_rotations * 2 * std::numbers::pi))) / (2 * std::log(p.rope_theta));
  };
  double low = correction_dim(p.beta_fast), high = correction_dim(p.beta_slow);
  if (p.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  return {std::max(low, 0.0), std::min(high, dim - 1)};
}

std::vector<float> rope_inv_freq(const RopeParams& p, int64_t head_dim) {
  const int64_t d_rot = p.rotary_dim(head_dim);
  check_params(p, d_rot);
  const std::vector<float> pf = pos_freqs(p.rope_theta, d_rot);
  const int64_t n = d_rot / 2;
  std::vector<float> inv(n);
  for (int64_t i = 0; i < n; ++i) inv[i] = 1.0f / pf[i];
  if (p.rope_type == "default") return inv;
  const float factor = static_cast<float>(p.factor);
  if (p.rope_type == "linear") {
    for (float& v : inv) v /= factor;
    return inv;
  }
  if (p.rope_type == "llama3") {
    const double L0 = static_cast<double>(p.original_max_position_embeddings);
    const float low_wavelen = static_cast<float>(L0 / p.low_freq_factor);
    const float high_wavelen = static_cast<float>(L0 / p.high_freq_factor);
    const float two_pi = static_cast<float>(2 * std::numbers::pi);
    for (int64_t i = 0; i < n; ++i) {
      const float wavelen = two_pi / inv[i];
      const float scaled = wavelen > low_wavelen ? inv[i] / factor : inv[i];
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      if (medium) {
        const float smooth = (static_cast<float>(L0) / wavelen - static_cast<float>(p.low_freq_factor)) /
                             static_cast<float>(p.high_freq_factor - p.low_freq_factor);
        inv[i] = (1.0f - smooth) * scaled / factor + smooth * scaled;
      } else {
        inv[i] = scaled;
      }
    }
    return inv;
  }
  if (p.rope_type == "yarn") {
    YarnRange r = yarn_correction_range(p, head_dim);
    if (r.low == r.high) r.high += 0.001;
    for (int64_t i = 0; i < n; ++i) {
      const float ramp = std::clamp(
          (static_cast<float>(i) - static_cast<float>(r.low)) / static_cast<float>(r.high - r.low), 0.0f, 1.0f);
      const float extrapolation = 1.0f - ramp;  // weight of the unscaled frequency
      const float interp = 1.0f / (factor * pf[i]);
      const float extrap = 1.0f / pf[i];
      inv[i] = interp * (1.0f - extrapolation) + extrap * extrapolation;
    }
    return inv;
  }
  LG_CHECK(false, "rope_type '" + p.rope_type + "' has no inv_freq rule");
}

RopeTable rope_table(const RopeParams& p, int64_t head_dim, int64_t n_pos) {
  const std::vector<float> inv = rope_inv_freq(p, head_dim);
  const int64_t half = static_cast<int64_t>(inv.size());
  RopeTable t;
  t.d_rot = 2 * half;
  t.cos.resize(n_pos * t.d_rot);
  t.sin.resize(n_pos * t.d_rot);
  const float attn = static_cast<float>(p.attention_factor);
  for (int64_t pos = 0; pos < n_pos; ++pos) {
    for (int64_t i = 0; i < half; ++i) {
      const float phi = static_cast<float>(pos) * inv[i];  // one fp32 product
      const float c = static_cast<float>(std::cos(static_cast<double>(phi))) * attn;
      const float s = static_cast<float>(std::sin(static_cast<double>(phi))) * attn;
      t.cos[pos * t.d_rot + i] = t.cos[pos * t.d_rot + half + i] = c;
      t.sin[pos * t.d_rot + i] = t.sin[pos * t.d_rot + half + i] = s;
    }
  }
  return t;
}

}  // namespace lossgap
