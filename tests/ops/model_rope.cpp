// RoPE tables (model/blocks/rope.h) against the spec's sanity numbers (hf-architectures.md §1.5,
// Olmo-3's YaRN range) and against the formulas evaluated independently in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "model/blocks/rope.h"

namespace lossgap {
namespace {

RopeParams olmo3_full_attention() {  // Olmo-3-7B's full-attention layers (spec §2.4)
  RopeParams p;
  p.rope_type = "yarn";
  p.rope_theta = 500000.0;
  p.factor = 8.0;
  p.original_max_position_embeddings = 8192;
  p.beta_fast = 32.0;
  p.beta_slow = 1.0;
  p.attention_factor = 1.2079441541679836;
  return p;
}

double pos_freq(double theta, int64_t i, int64_t d) { return std::pow(theta, 2.0 * i / d); }

TEST(Rope, DefaultInvFreqIsTheCorrectlyRoundedPower) {
  RopeParams p;
  p.rope_theta = 10000.0;
  for (int64_t d : {int64_t{8}, int64_t{64}, int64_t{128}}) {
    const std::vector<float> inv = rope_inv_freq(p, d);
    ASSERT_EQ(inv.size(), static_cast<size_t>(d / 2));
    for (int64_t i = 0; i < d / 2; ++i)
      EXPECT_NEAR(inv[i], 1.0 / pos_freq(p.rope_theta, i, d), 2.5e-7 / pos_freq(p.rope_theta, i, d))
          << "d=" << d << " i=" << i;
  }
}

TEST(Rope, PartialRotaryUsesTheRotaryDim) {
  RopeParams p;
  p.partial_rotary_factor = 0.25;
  const std::vector<float> inv = rope_inv_freq(p, 256);
  ASSERT_EQ(inv.size(), 32u);  // d_rot = int(256 * 0.25) = 64
  EXPECT_NEAR(inv[1], 1.0 / pos_freq(p.rope_theta, 1, 64), 1e-7);
}

TEST(Rope, YarnSanityNumbersOfOlmo3) {
  const YarnRange r = yarn_correction_range(olmo3_full_attention(), 128);
  EXPECT_EQ(r.low, 18);
  EXPECT_EQ(r.high, 35);
}

TEST(Rope, YarnInvFreqBlendsInterpolationAndExtrapolation) {
  const RopeParams p = olmo3_full_attention();
  const std::vector<float> inv = rope_inv_freq(p, 128);
  for (int64_t i = 0; i < 64; ++i) {
    const double ramp = std::clamp((i - 18.0) / (35.0 - 18.0), 0.0, 1.0);
    const double ex = 1.0 / pos_freq(p.rope_theta, i, 128);
    const double want = ex / p.factor * ramp + ex * (1.0 - ramp);
    EXPECT_NEAR(inv[i], want, 1e-6 * want) << "i=" << i;
  }
}

TEST(Rope, Llama3InvFreqSmoothsBetweenWavelengths) {
  RopeParams p;  // Llama-3.2-1B (spec §2.1)
  p.rope_type = "llama3";
  p.rope_theta = 500000.0;
  p.factor = 32.0;
  p.low_freq_factor = 1.0;
  p.high_freq_factor = 4.0;
  p.original_max_position_embeddings = 8192;
  const std::vector<float> inv = rope_inv_freq(p, 64);
  for (int64_t i = 0; i < 32; ++i) {
    const double f = 1.0 / pos_freq(p.rope_theta, i, 64);
    const double wavelen = 2 * std::numbers::pi / f;
    double want;
    if (wavelen < 8192.0 / 4.0) {
      want = f;
    } else if (wavelen > 8192.0 / 1.0) {
      want = f / 32.0;
    } else {
      const double s = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
      want = (1 - s) * f / 32.0 + s * f;
    }
    EXPECT_NEAR(inv[i], want, 1e-6 * want) << "i=" << i;
  }
}

// The angle is the fp32 product float(p) * inv_freq (exact in double, then rounded once), and
// cos/sin of it are accurate to fp32 rounding, times the attention factor.
TEST(Rope, TableUsesTheFp32AngleAndTheAttentionFactor) {
  const RopeParams p = olmo3_full_attention();
  const int64_t n_pos = 70000, d = 128;
  const RopeTable t = rope_table(p, d, n_pos);
  ASSERT_EQ(t.d_rot, d);
  const std::vector<float> inv = rope_inv_freq(p, d);
  const float attn = static_cast<float>(p.attention_factor);
  for (int64_t pos : {int64_t{0}, int64_t{1}, int64_t{4000}, int64_t{65535}, n_pos - 1}) {
    for (int64_t i = 0; i < d / 2; ++i) {
      const double phi = static_cast<float>(static_cast<double>(pos) * inv[i]);
      for (int64_t half : {int64_t{0}, d / 2}) {
        EXPECT_NEAR(t.cos[pos * d + half + i], std::cos(phi) * attn, 2e-7) << pos << " " << i;
        EXPECT_NEAR(t.sin[pos * d + half + i], std::sin(phi) * attn, 2e-7) << pos << " " << i;
      }
    }
  }
}

}  // namespace
}  // namespace lossgap
