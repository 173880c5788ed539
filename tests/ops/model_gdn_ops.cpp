// The Gated DeltaNet and MoE ops of the CPU backend (backend/cpu/cpu_recurrent.cpp): each against
// a plain double-precision computation written out here, and the chunked gated delta rule
// against the step-by-step one across chunk boundaries (T = 1, chunk-1, chunk, chunk+1,
// 3*chunk+5) with realistic ranges: decays near 0 and near 1, beta in [0, 2], L2-normalised keys,
// more value heads than key heads. Not a parity test against transformers (the golden test is).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"

namespace lossgap {
namespace {

// A weight tensor held in F32 or BF16, with the exact values it represents.
struct HostWeight {
  std::vector<float> f32;
  std::vector<uint16_t> bf16;
  std::vector<double> value;
  TensorView view;
};

uint16_t to_bf16(float f) {  // round to nearest even
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b += 0x7fff + ((b >> 16) & 1);
  return static_cast<uint16_t>(b >> 16);
}

HostWeight make_weight(DType dt, std::vector<int64_t> shape, const std::vector<float>& vals) {
  HostWeight w;
  w.value.assign(vals.begin(), vals.end());
  if (dt == DType::BF16) {
    for (float v : vals) w.bf16.push_back(to_bf16(v));
    for (size_t i = 0; i < vals.size(); ++i) w.value[i] = bf16_to_f32(w.bf16[i]);
    w.view.data = w.bf16.data();
  } else {
    w.f32 = vals;
    w.view.data = w.f32.data();
  }
  w.view.name = "test.weight";
  w.view.dtype = dt;
  w.view.shape = std::move(shape);
  return w;
}

std::vector<float> normal(int64_t n, std::mt19937& rng, float mean, float stddev) {
  std::normal_distribution<float> d(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<float> uniform(int64_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<float> host(Backend& be, const Buf& b) {
  std::vector<float> v(b.numel());
  be.to_host(b, v.data());
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }

// ---------------------------------------------------------------------------------------------
// The gated delta rule

struct DeltaInputs {
  DeltaShape s;
  int64_t T;
  std::vector<float> q, k, v, g, beta;  // [T, Hk*dk], [T, Hk*dk], [T, Hv*dv], [T, Hv], [T, Hv]
};

// L2-normalised q (then scaled by dk^-1/2) and k; v ~ N(0, 1); per value head a decay regime:
// even heads decay fast (exp(g) in [0.001, 0.1], state mostly forgotten), odd heads slowly
// (exp(g) in [0.98, 1)), with a few tokens of each regime mixed in; beta in [0, 2].
DeltaInputs delta_inputs(int64_t T, std::mt19937& rng) {
  DeltaInputs in;
  in.s = DeltaShape{2, 4, 16, 24};
  in.T = T;
  const int64_t Hk = in.s.n_k_heads, Hv = in.s.n_v_heads, dk = in.s.k_dim, dv = in.s.v_dim;
  in.q = normal(T * Hk * dk, rng, 0, 1);
  in.k = normal(T * Hk * dk, rng, 0, 1);
  for (auto* x : {&in.q, &in.k}) {
    for (int64_t i = 0; i < T * Hk; ++i) {
      double ss = 0;
      for (int64_t c = 0; c < dk; ++c) ss += double((*x)[i * dk + c]) * (*x)[i * dk + c];
      const double sc = (x == &in.q ? 1.0 / std::sqrt(double(dk)) : 1.0) / std::sqrt(ss);
      for (int64_t c = 0; c < dk; ++c) (*x)[i * dk + c] = float((*x)[i * dk + c] * sc);
    }
  }
  in.v = normal(T * Hv * dv, rng, 0, 1);
  const std::vector<float> fast = uniform(T * Hv, rng, 0.001f, 0.1f);
  const std::vector<float> slow = uniform(T * Hv, rng, 0.98f, 0.99999f);
  const std::vector<float> swap = uniform(T * Hv, rng, 0, 1);
  in.g.resize(T * Hv);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t h = 0; h < Hv; ++h) {
      const int64_t i = t * Hv + h;
      const bool fast_head = (h % 2 == 0) != (swap[i] < 0.1f);
      in.g[i] = std::log(fast_head ? fast[i] : slow[i]);
    }
  }
  in.beta = uniform(T * Hv, rng, 0.0f, 2.0f);
  return in;
}

// The recurrence in double precision.
std::vector<double> delta_reference(const DeltaInputs& in) {
  const int64_t T = in.T, Hk = in.s.n_k_heads, Hv = in.s.n_v_heads, dk = in.s.k_dim,
                dv = in.s.v_dim, r = Hv / Hk;
  std::vector<double> out(T * Hv * dv);
  for (int64_t h = 0; h < Hv; ++h) {
    const int64_t kh = h / r;
    std::vector<double> S(dk * dv, 0.0);
    for (int64_t t = 0; t < T; ++t) {
      const float* q = in.q.data() + t * Hk * dk + kh * dk;
      const float* k = in.k.data() + t * Hk * dk + kh * dk;
      const float* v = in.v.data() + t * Hv * dv + h * dv;
      const double decay = std::exp(double(in.g[t * Hv + h])), beta = in.beta[t * Hv + h];
      for (double& x : S) x *= decay;
      for (int64_t j = 0; j < dv; ++j) {
        double m = 0;
        for (int64_t i = 0; i < dk; ++i) m += S[i * dv + j] * k[i];
        const double delta = beta * (v[j] - m);
        for (int64_t i = 0; i < dk; ++i) S[i * dv + j] += k[i] * delta;
      }
      for (int64_t j = 0; j < dv; ++j) {
        double o = 0;
        for (int64_t i = 0; i < dk; ++i) o += S[i * dv + j] * q[i];
        out[t * Hv * dv + h * dv + j] = o;
      }
    }
  }
  return out;
}

std::vector<float> run_delta(Backend& be, const DeltaInputs& in, DeltaForm form) {
  const int64_t T = in.T, Hk = in.s.n_k_heads, Hv = in.s.n_v_heads;
  Buf q = be.from_host(in.q.data(), T, Hk * in.s.k_dim);
  Buf k = be.from_host(in.k.data(), T, Hk * in.s.k_dim);
  Buf v = be.from_host(in.v.data(), T, Hv * in.s.v_dim);
  Buf g = be.from_host(in.g.data(), T, Hv);
  Buf beta = be.from_host(in.beta.data(), T, Hv);
  Buf out = be.alloc(T, Hv * in.s.v_dim);
  be.gated_delta_rule(q, k, v, g, beta, in.s, form, out);
  return host(be, out);
}

class DeltaRule : public testing::TestWithParam<int64_t> {};

TEST_P(DeltaRule, StepAndChunkedMatchDoubleRecurrence) {
  const int64_t T = GetParam();
  std::mt19937 rng(1000 + static_cast<unsigned>(T));
  const DeltaInputs in = delta_inputs(T, rng);
  const auto be = make_cpu_backend();
  const std::vector<double> want = delta_reference(in);
  const std::vector<float> step = run_delta(*be, in, DeltaForm::Step);
  const std::vector<float> chunked = run_delta(*be, in, DeltaForm::Chunked);
  double scale = 0;
  for (double x : want) scale = std::max(scale, std::abs(x));
  ASSERT_GT(scale, 0.1) << "degenerate test data";
  EXPECT_LT(max_abs_diff(step, want), 2e-5 * scale) << "step form, T = " << T;
  EXPECT_LT(max_abs_diff(chunked, want), 2e-5 * scale) << "chunked form, T = " << T;
  std::vector<double> step_d(step.begin(), step.end());
  EXPECT_LT(max_abs_diff(chunked, step_d), 2e-5 * scale) << "chunked vs step, T = " << T;
}

INSTANTIATE_TEST_SUITE_P(ChunkBoundaries, DeltaRule,
                         testing::Values(int64_t{1}, kDeltaChunk - 1, kDeltaChunk,
                                         kDeltaChunk + 1, 3 * kDeltaChunk + 5));

// ---------------------------------------------------------------------------------------------
// The other ops

TEST(GdnOps, Conv1dSiluMatchesDouble) {
  std::mt19937 rng(7);
  const int64_t C = 40, K = 4;
  const HostWeight w = make_weight(DType::BF16, {C, 1, K}, normal(C * K, rng, 0, 0.5f));
  const auto be = make_cpu_backend();
  for (int64_t T : {int64_t{1}, K - 1, K, K + 1, int64_t{70}}) {
    const std::vector<float> x = normal(T * C, rng, 0, 1);
    std::vector<double> want(T * C);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t c = 0; c < C; ++c) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t s = t - (K - 1) + k;
          if (s >= 0) acc += w.value[c * K + k] * x[s * C + c];
        }
        want[t * C + c] = silu(acc);
      }
    }
    Buf xb = be->from_host(x.data(), T, C);
    Buf y = be->alloc(T, C);
    be->conv1d_silu(xb, Weight{w.view}, y);
    EXPECT_LT(max_abs_diff(host(*be, y), want), 2e-6) << "T = " << T;
  }
}

TEST(GdnOps, L2NormHeadsMatchesDouble) {
  std::mt19937 rng(8);
  const int64_t T = 5, heads = 3, d = 24;
  const float eps = 1e-6f, scale = 0.2f;
  std::vector<float> x = normal(T * heads * d, rng, 0, 2);
  for (int64_t c = 0; c < d; ++c) x[c] = 0;  // an all-zero head: eps keeps it finite (zero)
  std::vector<double> want(x.size());
  for (int64_t i = 0; i < T * heads; ++i) {
    double ss = 0;
    for (int64_t c = 0; c < d; ++c) ss += double(x[i * d + c]) * x[i * d + c];
    for (int64_t c = 0; c < d; ++c) want[i * d + c] = scale * x[i * d + c] / std::sqrt(ss + eps);
  }
  const auto be = make_cpu_backend();
  Buf b = be->from_host(x.data(), T, heads * d);
  be->l2_norm_heads(b, d, eps, scale);
  EXPECT_LT(max_abs_diff(host(*be, b), want), 1e-6);
}

TEST(GdnOps, DeltaGatesMatchDouble) {
  std::mt19937 rng(9);
  const int64_t T = 6, H = 4;
  const HostWeight A_log = make_weight(DType::F32, {H}, uniform(H, rng, -3, 2.5f));
  const HostWeight dt_bias = make_weight(DType::BF16, {H}, uniform(H, rng, -5, 1));
  std::vector<float> a = normal(T * H, rng, 0, 3), b = normal(T * H, rng, 0, 3);
  a[0] = 25.0f;  // above softplus's threshold of 20
  a[1] = 19.5f;
  std::vector<double> g(T * H), beta(T * H);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t h = 0; h < H; ++h) {
      const double x = double(a[t * H + h]) + dt_bias.value[h];
      const double sp = x > 20 ? x : std::log1p(std::exp(x));
      g[t * H + h] = -std::exp(A_log.value[h]) * sp;
      beta[t * H + h] = 2.0 / (1.0 + std::exp(-double(b[t * H + h])));
    }
  }
  const auto be = make_cpu_backend();
  Buf ab = be->from_host(a.data(), T, H), bb = be->from_host(b.data(), T, H);
  be->delta_gates(ab, bb, Weight{A_log.view}, Weight{dt_bias.view}, 2.0f);
  const std::vector<float> got_g = host(*be, ab), got_b = host(*be, bb);
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_NEAR(got_g[i], g[i], 2e-6 * std::max(1.0, std::abs(g[i]))) << i;
    EXPECT_NEAR(got_b[i], beta[i], 1e-6) << i;
  }
}

TEST(GdnOps, GatedRmsNormMatchesDouble) {
  std::mt19937 rng(10);
  const int64_t T = 7, heads = 3, d = 32;
  const float eps = 1e-5f;
  const HostWeight w = make_weight(DType::BF16, {d}, uniform(d, rng, 0.5f, 1.5f));
  const std::vector<float> x = normal(T * heads * d, rng, 0, 0.3f);
  const std::vector<float> z = normal(T * heads * d, rng, 0, 2);
  std::vector<double> want(x.size());
  for (int64_t i = 0; i < T * heads; ++i) {
    double ss = 0;
    for (int64_t c = 0; c < d; ++c) ss += double(x[i * d + c]) * x[i * d + c];
    const double r = 1.0 / std::sqrt(ss / d + eps);
    for (int64_t c = 0; c < d; ++c)
      want[i * d + c] = w.value[c] * x[i * d + c] * r * silu(z[i * d + c]);
  }
  const auto be = make_cpu_backend();
  Buf xb = be->from_host(x.data(), T, heads * d), zb = be->from_host(z.data(), T, heads * d);
  be->rms_norm_gated(xb, zb, Weight{w.view}, eps, xb);  // in place
  EXPECT_LT(max_abs_diff(host(*be, xb), want), 5e-6);
}

TEST(GdnOps, GatherColsMulSigmoidGatherAndAddRows) {
  std::mt19937 rng(11);
  const int64_t T = 5, C = 9;
  const std::vector<float> x = normal(T * C, rng, 0, 1);
  const auto be = make_cpu_backend();
  Buf xb = be->from_host(x.data(), T, C);

  const std::vector<ColBlock> blocks = {{6, 3}, {0, 2}, {4, 1}};
  Buf cols = be->alloc(T, 6);
  be->gather_cols(xb, blocks, cols);
  const std::vector<float> got = host(*be, cols);
  for (int64_t t = 0; t < T; ++t) {
    int64_t o = 0;
    for (const ColBlock& b : blocks)
      for (int64_t j = 0; j < b.n; ++j) EXPECT_EQ(got[t * 6 + o++], x[t * C + b.col0 + j]);
  }

  const std::vector<float> gate = normal(T * C, rng, 0, 3);
  Buf gb = be->from_host(gate.data(), T, C);
  Buf y = be->from_host(x.data(), T, C);
  be->mul_sigmoid(gb, y);
  std::vector<double> want(T * C);
  for (int64_t i = 0; i < T * C; ++i) want[i] = x[i] / (1.0 + std::exp(-double(gate[i])));
  EXPECT_LT(max_abs_diff(host(*be, y), want), 1e-6);

  const std::vector<int32_t> rows = {3, 0, 4};
  Buf picked = be->alloc(3, C);
  be->gather_rows(xb, rows, picked);
  const std::vector<float> p = host(*be, picked);
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t c = 0; c < C; ++c) EXPECT_EQ(p[i * C + c], x[rows[i] * C + c]);

  const std::vector<float> scale = {0.5f, -2.0f, 1.25f};
  Buf acc = be->from_host(x.data(), T, C);
  be->add_rows_scaled(picked, rows, scale, acc);
  const std::vector<float> a = host(*be, acc);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t c = 0; c < C; ++c) {
      double w = x[t * C + c];
      for (size_t i = 0; i < rows.size(); ++i)
        if (rows[i] == t) w += double(scale[i]) * x[rows[i] * C + c];
      EXPECT_NEAR(a[t * C + c], w, 1e-6);
    }
  }
}

}  // namespace
}  // namespace lossgap
