// Op tests of the Mamba ops of the CPU backend (ssm_dt, ssd_scan and selective_scan in both
// forms, rms_norm_gate, conv1d_silu with bias, relu2, scale_cols): each against a plain
// double-precision computation written here, and the chunked SSD and chunked selective scan
// against their step forms across chunk boundaries (T = 1, chunk-1, chunk, chunk+1, 3 chunk+5)
// with step sizes near 0 and large and A_log spread over three (SSD) or four (selective scan)
// decades, so decays run from near 1 to near 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"

namespace lossgap {
namespace {

struct HostWeight {
  std::vector<float> data;
  TensorView view;
  HostWeight(std::vector<float> d, std::vector<int64_t> shape, std::string name)
      : data(std::move(d)) {
    view.name = std::move(name);
    view.dtype = DType::F32;
    view.shape = std::move(shape);
    view.data = data.data();
  }
  Weight w() const { return Weight{view}; }
};

std::vector<float> uniform(std::mt19937& g, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

double softplus(double x) { return x > 20 ? x : std::log1p(std::exp(x)); }
double silu(double x) { return x / (1 + std::exp(-x)); }

std::vector<float> run_ssd(Backend& be, const std::vector<float>& x, const std::vector<float>& dt,
                           const HostWeight& A, const std::vector<float>& B,
                           const std::vector<float>& C, const HostWeight& D, const SsdShape& s,
                           int64_t T, SsdForm form) {
  Buf xb = be.from_host(x.data(), T, s.n_heads * s.head_dim);
  Buf db = be.from_host(dt.data(), T, s.n_heads);
  Buf bb = be.from_host(B.data(), T, s.n_groups * s.state_size);
  Buf cb = be.from_host(C.data(), T, s.n_groups * s.state_size);
  Buf y = be.alloc(T, s.n_heads * s.head_dim);
  be.ssd_scan(xb, db, A.w(), bb, cb, D.w(), s, form, y);
  std::vector<float> out(static_cast<size_t>(y.numel()));
  be.to_host(y, out.data());
  return out;
}

// The recurrence of §1.8 in double.
std::vector<double> ssd_reference(const std::vector<float>& x, const std::vector<float>& dt,
                                  const std::vector<float>& A_log, const std::vector<float>& B,
                                  const std::vector<float>& C, const std::vector<float>& D,
                                  const SsdShape& s, int64_t T) {
  const int64_t H = s.n_heads, P = s.head_dim, N = s.state_size, G = s.n_groups;
  std::vector<double> y(static_cast<size_t>(T * H * P));
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / (H / G);
    std::vector<double> S(static_cast<size_t>(P * N), 0.0);
    const double A = -std::exp(static_cast<double>(A_log[h]));
    for (int64_t t = 0; t < T; ++t) {
      const double d = dt[t * H + h];
      for (int64_t p = 0; p < P; ++p) {
        const double xv = x[t * H * P + h * P + p];
        double acc = 0;
        for (int64_t n = 0; n < N; ++n) {
          double& st = S[p * N + n];
          st = std::exp(d * A) * st + d * xv * B[t * G * N + g * N + n];
          acc += st * C[t * G * N + g * N + n];
        }
        y[t * H * P + h * P + p] = acc + D[h] * xv;
      }
    }
  }
  return y;
}

struct SsdCase {
  std::vector<float> x, dt, B, C;
  HostWeight A, D;
};

SsdCase make_ssd(std::mt19937& g, const SsdShape& s, int64_t T, float dt_lo, float dt_hi) {
  std::vector<float> A_log = uniform(g, s.n_heads, std::log(0.01f), std::log(10.0f));
  return SsdCase{uniform(g, T * s.n_heads * s.head_dim, -2, 2),
                 uniform(g, T * s.n_heads, dt_lo, dt_hi),
                 uniform(g, T * s.n_groups * s.state_size, -1, 1),
                 uniform(g, T * s.n_groups * s.state_size, -1, 1),
                 HostWeight(A_log, {s.n_heads}, "A_log"),
                 HostWeight(uniform(g, s.n_heads, -1, 1), {s.n_heads}, "D")};
}

class SsdForms : public testing::TestWithParam<int64_t> {};

TEST_P(SsdForms, StepMatchesDoubleAndChunkedMatchesStep) {
  const int64_t T = GetParam();
  auto be = make_cpu_backend();
  const SsdShape s{6, 8, 3, 16};
  std::mt19937 g(static_cast<unsigned>(T));
  // Step sizes near 0 (slow decay), moderate, and large (state reset within one token).
  for (auto [lo, hi] : {std::pair{1e-4f, 1e-2f}, std::pair{0.01f, 1.0f}, std::pair{1.0f, 8.0f}}) {
    SsdCase c = make_ssd(g, s, T, lo, hi);
    const std::vector<float> step = run_ssd(*be, c.x, c.dt, c.A, c.B, c.C, c.D, s, T, SsdForm::Step);
    const std::vector<float> chunked =
        run_ssd(*be, c.x, c.dt, c.A, c.B, c.C, c.D, s, T, SsdForm::Chunked);
    const std::vector<double> ref = ssd_reference(c.x, c.dt, c.A.data, c.B, c.C, c.D.data, s, T);
    double worst_step = 0, worst_chunk = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const double tol = 1e-4 * (1 + std::abs(ref[i]));
      worst_step = std::max(worst_step, std::abs(step[i] - ref[i]) / tol);
      worst_chunk = std::max(worst_chunk, std::abs(chunked[i] - step[i]) / tol);
    }
    EXPECT_LE(worst_step, 1.0) << "step vs double, T " << T << " dt in [" << lo << ", " << hi << "]";
    EXPECT_LE(worst_chunk, 1.0) << "chunked vs step, T " << T << " dt in [" << lo << ", " << hi << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(ChunkBoundaries, SsdForms,
                         testing::Values(1, kSsdChunk - 1, kSsdChunk, kSsdChunk + 1,
                                         3 * kSsdChunk + 5));

std::vector<float> run_scan(Backend& be, const std::vector<float>& x, const std::vector<float>& dt,
                            const HostWeight& A, const std::vector<float>& B,
                            const std::vector<float>& C, const HostWeight& D, int64_t T,
                            int64_t Ch, int64_t N, SsdForm form) {
  Buf xb = be.from_host(x.data(), T, Ch), db = be.from_host(dt.data(), T, Ch);
  Buf bb = be.from_host(B.data(), T, N), cb = be.from_host(C.data(), T, N);
  Buf y = be.alloc(T, Ch);
  be.selective_scan(xb, db, A.w(), bb, cb, D.w(), form, y);
  std::vector<float> out(static_cast<size_t>(T * Ch));
  be.to_host(y, out.data());
  return out;
}

// The recurrence of §1.9 in double.
std::vector<double> scan_reference(const std::vector<float>& x, const std::vector<float>& dt,
                                   const std::vector<float>& A_log, const std::vector<float>& B,
                                   const std::vector<float>& C, const std::vector<float>& D,
                                   int64_t T, int64_t Ch, int64_t N) {
  std::vector<double> y(static_cast<size_t>(T * Ch));
  for (int64_t c = 0; c < Ch; ++c) {
    std::vector<double> S(N, 0.0);
    for (int64_t t = 0; t < T; ++t) {
      const double d = dt[t * Ch + c], u = x[t * Ch + c];
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const double a = -std::exp(static_cast<double>(A_log[c * N + n]));
        S[n] = std::exp(a * d) * S[n] + d * B[t * N + n] * u;
        acc += S[n] * C[t * N + n];
      }
      y[t * Ch + c] = acc + D[c] * u;
    }
  }
  return y;
}

class ScanForms : public testing::TestWithParam<int64_t> {};

TEST_P(ScanForms, StepMatchesDoubleAndChunkedMatchesStep) {
  const int64_t T = GetParam();
  const int64_t Ch = 70, N = 16;  // 70 channels cross the step form's and the chunked form's blocks
  auto be = make_cpu_backend();
  std::mt19937 g(static_cast<unsigned>(T) + 100);
  // Step sizes near 0 (decays near 1), moderate, and large (decays near 0 within one token);
  // A_log over four decades as in Mamba's init (A = -[1..N]) and beyond.
  for (auto [lo, hi] : {std::pair{1e-4f, 1e-2f}, std::pair{0.01f, 1.0f}, std::pair{1.0f, 8.0f}}) {
    const std::vector<float> x = uniform(g, T * Ch, -2, 2), dt = uniform(g, T * Ch, lo, hi);
    const std::vector<float> B = uniform(g, T * N, -1, 1), C = uniform(g, T * N, -1, 1);
    const HostWeight A(uniform(g, Ch * N, std::log(0.01f), std::log(100.0f)), {Ch, N}, "A_log");
    const HostWeight D(uniform(g, Ch, -1, 1), {Ch}, "D");
    const std::vector<float> step = run_scan(*be, x, dt, A, B, C, D, T, Ch, N, SsdForm::Step);
    const std::vector<float> chunked = run_scan(*be, x, dt, A, B, C, D, T, Ch, N, SsdForm::Chunked);
    const std::vector<double> ref = scan_reference(x, dt, A.data, B, C, D.data, T, Ch, N);
    double worst_step = 0, worst_chunk = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const double tol = 1e-4 * (1 + std::abs(ref[i]));
      worst_step = std::max(worst_step, std::abs(step[i] - ref[i]) / tol);
      worst_chunk = std::max(worst_chunk, std::abs(chunked[i] - step[i]) / tol);
    }
    EXPECT_LE(worst_step, 1.0) << "step vs double, T " << T << " dt in [" << lo << ", " << hi << "]";
    EXPECT_LE(worst_chunk, 1.0) << "chunked vs step, T " << T << " dt in [" << lo << ", " << hi << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(ChunkBoundaries, ScanForms,
                         testing::Values(1, kSsdChunk - 1, kSsdChunk, kSsdChunk + 1,
                                         3 * kSsdChunk + 5));

TEST(MambaOps, SsmDtSoftplusAndClamp) {
  auto be = make_cpu_backend();
  const std::vector<float> raw = {-30.0f, -2.0f, 0.0f, 0.5f, 19.5f, 25.0f};
  HostWeight bias({0.0f, 0.1f, -0.2f, 0.3f, 0.4f, -0.5f}, {6}, "dt_bias");
  for (auto [lo, hi] : {std::pair{0.0f, INFINITY}, std::pair{0.01f, 5.0f}}) {
    Buf dt = be->from_host(raw.data(), 1, 6);
    const Weight bw = bias.w();
    be->ssm_dt(dt, &bw, lo, hi);
    std::vector<float> got(6);
    be->to_host(dt, got.data());
    for (int i = 0; i < 6; ++i) {
      const double want = std::clamp(softplus(static_cast<double>(raw[i]) + bias.data[i]),
                                     static_cast<double>(lo), static_cast<double>(hi));
      EXPECT_NEAR(got[i], want, 1e-6 * (1 + want)) << i;
    }
  }
}

TEST(MambaOps, RmsNormGateBothOrdersGrouped) {
  auto be = make_cpu_backend();
  std::mt19937 g(3);
  const int64_t T = 3, Cn = 24;
  std::vector<float> x = uniform(g, T * Cn, -3, 3), z = uniform(g, T * Cn, -3, 3);
  HostWeight w(uniform(g, Cn, 0.5f, 1.5f), {Cn}, "norm.weight");
  for (int64_t group : {Cn, Cn / 4}) {
    for (GateOrder order : {GateOrder::GateThenNorm, GateOrder::NormThenGate}) {
      Buf xb = be->from_host(x.data(), T, Cn), zb = be->from_host(z.data(), T, Cn);
      Buf y = be->alloc(T, Cn);
      be->rms_norm_gate(xb, zb, w.w(), 1e-5f, group, order, y);
      std::vector<float> got(static_cast<size_t>(T * Cn));
      be->to_host(y, got.data());
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t g0 = 0; g0 < Cn; g0 += group) {
          std::vector<double> v(group);
          double ss = 0;
          for (int64_t c = 0; c < group; ++c) {
            const int64_t i = t * Cn + g0 + c;
            v[c] = order == GateOrder::GateThenNorm ? x[i] * silu(z[i]) : x[i];
            ss += v[c] * v[c];
          }
          const double r = 1 / std::sqrt(ss / group + 1e-5);
          for (int64_t c = 0; c < group; ++c) {
            const int64_t i = t * Cn + g0 + c;
            double want = w.data[g0 + c] * v[c] * r;
            if (order == GateOrder::NormThenGate) want *= silu(z[i]);
            EXPECT_NEAR(got[i], want, 1e-5 * (1 + std::abs(want))) << "group " << group << " i " << i;
          }
        }
      }
    }
  }
}

TEST(MambaOps, Conv1dSiluBiasRelu2ScaleCols) {
  auto be = make_cpu_backend();
  std::mt19937 g(11);
  const int64_t T = 6, Cn = 5, K = 4;
  std::vector<float> x = uniform(g, T * Cn, -2, 2);
  HostWeight w(uniform(g, Cn * K, -1, 1), {Cn, 1, K}, "conv1d.weight");
  HostWeight b(uniform(g, Cn, -1, 1), {Cn}, "conv1d.bias");
  Buf xb = be->from_host(x.data(), T, Cn), y = be->alloc(T, Cn);
  const Weight bw = b.w();
  be->conv1d_silu(xb, w.w(), y, &bw);
  std::vector<float> cols = uniform(g, Cn, -2, 2);
  be->relu2(y);
  be->scale_cols(y, cols);
  std::vector<float> got(static_cast<size_t>(T * Cn));
  be->to_host(y, got.data());
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t c = 0; c < Cn; ++c) {
      double acc = b.data[c];
      for (int64_t k = 0; k < K; ++k) {
        const int64_t s = t - (K - 1) + k;
        if (s >= 0) acc += static_cast<double>(w.data[c * K + k]) * x[s * Cn + c];
      }
      const double r = std::max(silu(acc), 0.0);
      const double want = r * r * cols[c];
      EXPECT_NEAR(got[t * Cn + c], want, 1e-5 * (1 + std::abs(want))) << t << "," << c;
    }
  }
}

}  // namespace
}  // namespace lossgap
