// CPU implementations of the Mamba-mixer ops (see cpu_ssm.h and the contracts in
// backend/backend.h). fp32 throughout; RMS statistics accumulate in double like
// Backend::rms_norm. The Mamba-2 SSD recurrence has two forms: `ssd_step` is the recurrence
// written out token by token (the reference), `ssd_chunked` the block decomposition of Dao & Gu
// 2024 ("Transformers are SSMs", §6; transformers' torch_forward) over chunks of kSsdChunk
// tokens with OpenBLAS products (C B^T once per chunk and group, shared by the group's heads):
// within a chunk with cumulative log decays c_i (from the chunk start) and incoming state S [P, N]
//   y_i = sum_{j<=i} (C_i . B_j) exp(c_i - c_j) dt_j x_j + exp(c_i) S C_i + D x_i,
//   S <- exp(c_n) S + sum_j exp(c_n - c_j) dt_j x_j B_j^T.
// Every exponent is a difference of cumulative log decays that is <= 0, so nothing overflows
// for step sizes near 0 or large. The Mamba-1 selective scan has a step form (`scan_step`, the
// reference) and a chunked form (`scan_chunked`, see there).
#include "backend/cpu/cpu_ssm.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_util.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"

namespace lossgap::cpu {
namespace {


void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

// Strided views of one SSD head's inputs (row t of x at x + t * ldx, etc.).
struct SsdHead {
  const float* x;
  const float* dt;
  const float* B;
  const float* C;
  float* y;
  int64_t ldx, ldt, ldb;
  float A;  // -exp(A_log[h])
  float D;
};

void ssd_step(const SsdHead& h, int64_t T, int64_t P, int64_t N) {
  std::vector<float> S(static_cast<size_t>(P * N), 0.0f);  // [P, N]
  for (int64_t t = 0; t < T; ++t) {
    const float* x = h.x + t * h.ldx;
    const float* B = h.B + t * h.ldb;
    const float* C = h.C + t * h.ldb;
    float* y = h.y + t * h.ldx;
    const float dt = h.dt[t * h.ldt];
    const float decay = std::exp(dt * h.A);
    for (int64_t p = 0; p < P; ++p) {
      float* Sp = S.data() + p * N;
      const float u = dt * x[p];
      float acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t n = 0; n < N; ++n) {
        Sp[n] = decay * Sp[n] + u * B[n];
        acc += Sp[n] * C[n];
      }
      y[p] = acc + h.D * x[p];
    }
  }
}

// CB [n_chunks, L, L]: the head's group's C B^T of each chunk (shared by the heads of a group;
// computed once in ssd_scan).
void ssd_chunked(const SsdHead& h, const float* CB, int64_t T, int64_t P, int64_t N) {
  const int64_t L = kSsdChunk;
  std::vector<float> S(static_cast<size_t>(P * N), 0.0f);  // [P, N]
  std::vector<float> X(L * P), M(L * L);                    // [L, P], [L, L]
  std::vector<float> c(L), dt(L), ec(L);                    // [L]
  for (int64_t t0 = 0; t0 < T; t0 += L) {
    const int64_t n = std::min(L, T - t0);
    const float* Bc = h.B + t0 * h.ldb;  // [n, N], row stride ldb
    const float* Cc = h.C + t0 * h.ldb;  // [n, N], row stride ldb
    const float* xc = h.x + t0 * h.ldx;  // [n, P], row stride ldx
    float acc = 0;
    for (int64_t i = 0; i < n; ++i) {
      dt[i] = h.dt[(t0 + i) * h.ldt];
      acc += dt[i] * h.A;
      c[i] = acc;
    }
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) ec[i] = exp_f32(c[i]);
    float* y = h.y + t0 * h.ldx;
    // Off-diagonal term first: y = diag(exp(c)) C S^T + D x  [n, P].
    sgemm(false, true, n, P, N, 1.0f, Cc, h.ldb, S.data(), N, 0.0f, y, h.ldx);
    for (int64_t i = 0; i < n; ++i) {
      const float e = ec[i];
      float* yi = y + i * h.ldx;
      const float* xi = xc + i * h.ldx;
#pragma omp simd
      for (int64_t p = 0; p < P; ++p) yi[p] = e * yi[p] + h.D * xi[p];
    }
    // M = (C B^T) masked causal, decayed and scaled by dt_j  [n, n]; y += M X.
    const float* CBk = CB + (t0 / L) * L * L;
    for (int64_t i = 0; i < n; ++i) {
      float* Mi = M.data() + i * L;
      const float* Gi = CBk + i * L;
      const float ci = c[i];
#pragma omp simd
      for (int64_t j = 0; j <= i; ++j) Mi[j] = Gi[j] * exp_f32(ci - c[j]) * dt[j];
      for (int64_t j = i + 1; j < n; ++j) Mi[j] = 0.0f;
    }
    sgemm(false, false, n, P, n, 1.0f, M.data(), L, xc, h.ldx, 1.0f, y, h.ldx);
    // S <- exp(c_n) S + (diag(exp(c_n - c) dt) X)^T B.
    const float cn = c[n - 1];
    for (int64_t i = 0; i < n; ++i) {
      const float w = exp_f32(cn - c[i]) * dt[i];
      const float* xi = xc + i * h.ldx;
#pragma omp simd
      for (int64_t p = 0; p < P; ++p) X[i * P + p] = w * xi[p];
    }
    sgemm(true, false, P, N, n, 1.0f, X.data(), P, Bc, h.ldb, ec[n - 1], S.data(), N);
  }
}

// Row-major views of the selective-scan operands: x, dt, y [T, C]; B, C [T, N]; A [C, N]
// (already -exp(A_log)); D [C].
struct ScanIO {
  const float* x;
  const float* dt;
  const float* B;
  const float* C;
  float* y;
  const float* A;
  const float* D;
  int64_t Ch, N;
};

constexpr int64_t kStepBlock = 64;  // channels per task in the step form
constexpr int64_t kScanBlock = 16;  // channels per task (and SIMD width of the scan) when chunked

// The recurrence token by token for channels [c0, c0 + nc) (the reference form).
void scan_step(const ScanIO& io, int64_t T, int64_t c0, int64_t nc) {
  const int64_t Ch = io.Ch, N = io.N;
  std::vector<float> S(static_cast<size_t>(nc * N), 0.0f);  // [nc, N]
  for (int64_t t = 0; t < T; ++t) {
    const float* xt = io.x + t * Ch + c0;
    const float* dtt = io.dt + t * Ch + c0;
    const float* Bt = io.B + t * N;
    const float* Ct = io.C + t * N;
    float* yt = io.y + t * Ch + c0;
    for (int64_t c = 0; c < nc; ++c) {
      float* Sc = S.data() + c * N;
      const float* Ac = io.A + (c0 + c) * N;
      const float d = dtt[c], u = xt[c];
      float acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        Sc[n] = std::exp(Ac[n] * d) * Sc[n] + (d * Bt[n]) * u;
        acc += Sc[n] * Ct[n];
      }
      yt[c] = acc + u * io.D[c0 + c];
    }
  }
}

// The chunked form for channels [c0, c0 + nc), nc <= kScanBlock. A has one decay per (channel,
// state), so there is no shared scalar decay that would turn a chunk into matrix products as in
// SSD; what a chunk buys is the order of the work. Per chunk of kSsdChunk tokens:
//   pass 1 (no dependency between tokens): dA[i, n, c] = exp(dt_i[c] A[c, n]) for the whole
//     chunk in one vectorised loop (exp_f32; the exponentials are most of the arithmetic), and
//     u[i, c] = dt_i[c] x_i[c];
//   pass 2 (the recurrence, multiply-adds only, vectorised over channels):
//     S[n, c] <- dA[i, n, c] S[n, c] + u[i, c] B_i[n];  y_i[c] = sum_n S[n, c] C_i[n] + D[c] x_i[c].
// The state S [N, kScanBlock] is carried from chunk to chunk. Padding channels (c >= nc) have
// dt = x = 0, so their state stays 0.
void scan_chunked(const ScanIO& io, int64_t T, int64_t c0, int64_t nc) {
  constexpr int64_t W = kScanBlock, L = kSsdChunk;
  const int64_t Ch = io.Ch, N = io.N;
  std::vector<float> At(static_cast<size_t>(N * W), 0.0f);   // [N, W] A transposed
  std::vector<float> S(static_cast<size_t>(N * W), 0.0f);    // [N, W]
  std::vector<float> dA(static_cast<size_t>(L * N * W));     // [L, N, W]
  std::vector<float> u(static_cast<size_t>(L * W), 0.0f);    // [L, W]
  std::vector<float> dtc(static_cast<size_t>(L * W), 0.0f);  // [L, W]
  float Dc[W] = {}, yc[W];
  for (int64_t c = 0; c < nc; ++c) {
    Dc[c] = io.D[c0 + c];
    for (int64_t n = 0; n < N; ++n) At[n * W + c] = io.A[(c0 + c) * N + n];
  }
  for (int64_t t0 = 0; t0 < T; t0 += L) {
    const int64_t len = std::min(L, T - t0);
    for (int64_t i = 0; i < len; ++i) {
      const float* xt = io.x + (t0 + i) * Ch + c0;
      const float* dtt = io.dt + (t0 + i) * Ch + c0;
      for (int64_t c = 0; c < nc; ++c) {
        dtc[i * W + c] = dtt[c];
        u[i * W + c] = dtt[c] * xt[c];
      }
    }
    // Pass 1: every decay of the chunk.
    for (int64_t i = 0; i < len; ++i) {
      const float* d = dtc.data() + i * W;
      for (int64_t n = 0; n < N; ++n) {
        float* out = dA.data() + (i * N + n) * W;
        const float* a = At.data() + n * W;
#pragma omp simd
        for (int64_t c = 0; c < W; ++c) out[c] = exp_f32(a[c] * d[c]);
      }
    }
    // Pass 2: the recurrence over the chunk.
    for (int64_t i = 0; i < len; ++i) {
      const int64_t t = t0 + i;
      const float* Bt = io.B + t * N;
      const float* Ct = io.C + t * N;
      const float* ui = u.data() + i * W;
      const float* xt = io.x + t * Ch + c0;
      for (int64_t c = 0; c < W; ++c) yc[c] = 0.0f;
      for (int64_t n = 0; n < N; ++n) {
        float* Sn = S.data() + n * W;
        const float* dAn = dA.data() + (i * N + n) * W;
        const float b = Bt[n], cc = Ct[n];
#pragma omp simd
        for (int64_t c = 0; c < W; ++c) {
          Sn[c] = dAn[c] * Sn[c] + ui[c] * b;
          yc[c] += Sn[c] * cc;
        }
      }
      float* yt = io.y + t * Ch + c0;
      for (int64_t c = 0; c < nc; ++c) yt[c] = yc[c] + xt[c] * Dc[c];
    }
  }
}

}  // namespace

void scale(Buf& x, float s) {
  const int64_t n = x.numel();
  float* p = x.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] *= s;
}

void scale_cols(Buf& x, std::span<const float> s) {
  LG_CHECK(static_cast<int64_t>(s.size()) == x.cols(), "scale_cols: x " + shape_of(x));
  const int64_t T = x.rows(), C = x.cols();
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    float* row = x.data() + t * C;
    for (int64_t c = 0; c < C; ++c) row[c] *= s[c];
  }
}

void relu2(Buf& x) {
  const int64_t n = x.numel();
  float* p = x.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float r = p[i] > 0.0f ? p[i] : 0.0f;
    p[i] = r * r;
  }
}

void ssm_dt(Buf& dt, const Weight* bias, float lo, float hi) {
  const int64_t T = dt.rows(), C = dt.cols();
  LG_CHECK(!bias || bias->view.numel() == C, "ssm_dt: dt " + shape_of(dt));
  const std::vector<float> b = bias ? widen(bias->view) : std::vector<float>(C, 0.0f);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    float* row = dt.data() + t * C;
    for (int64_t c = 0; c < C; ++c) row[c] = std::clamp(softplus(row[c] + b[c]), lo, hi);
  }
}

void ssd_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B, const Buf& C,
              const Weight& D, const SsdShape& s, SsdForm form, Buf& y) {
  const int64_t T = x.rows(), H = s.n_heads, P = s.head_dim, G = s.n_groups, N = s.state_size;
  LG_CHECK(H > 0 && P > 0 && G > 0 && N > 0 && H % G == 0, "ssd_scan shape");
  LG_CHECK(x.cols() == H * P && dt.rows() == T && dt.cols() == H && B.rows() == T &&
               B.cols() == G * N && C.rows() == T && C.cols() == G * N && y.rows() == T &&
               y.cols() == H * P && A_log.view.numel() == H && D.view.numel() == H &&
               y.data() != x.data(),
           "ssd_scan: x " + shape_of(x) + " dt " + shape_of(dt) + " B " + shape_of(B) + " y " +
               shape_of(y));
  const std::vector<float> A = widen(A_log.view), Dv = widen(D.view);
  const int64_t r = H / G, L = kSsdChunk, n_chunks = (T + L - 1) / L;
  // Chunked: C B^T of every chunk and group once, shared by the group's heads. [G, n_chunks, L, L]
  std::vector<float> CB(form == SsdForm::Chunked ? static_cast<size_t>(G * n_chunks * L * L) : 0);
  if (form == SsdForm::Chunked) {
#pragma omp parallel for schedule(static)
    for (int64_t gk = 0; gk < G * n_chunks; ++gk) {
      const int64_t g = gk / n_chunks, t0 = (gk % n_chunks) * L, n = std::min(L, T - t0);
      const float* Bc = B.data() + t0 * G * N + g * N;
      const float* Cc = C.data() + t0 * G * N + g * N;
      sgemm(false, true, n, n, N, 1.0f, Cc, G * N, Bc, G * N, 0.0f, CB.data() + gk * L * L, L);
    }
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / r;
    const SsdHead io{x.data() + h * P, dt.data() + h,     B.data() + g * N, C.data() + g * N,
                     y.data() + h * P, H * P,             H,                G * N,
                     -std::exp(A[h]),  Dv[h]};
    if (form == SsdForm::Step) {
      ssd_step(io, T, P, N);
    } else {
      ssd_chunked(io, CB.data() + g * n_chunks * L * L, T, P, N);
    }
  }
}

void selective_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B,
                    const Buf& Cm, const Weight& D, SsdForm form, Buf& y) {
  const int64_t T = x.rows(), Ch = x.cols(), N = B.cols();
  LG_CHECK(dt.rows() == T && dt.cols() == Ch && B.rows() == T && Cm.rows() == T &&
               Cm.cols() == N && y.rows() == T && y.cols() == Ch &&
               A_log.view.numel() == Ch * N && D.view.numel() == Ch && y.data() != x.data(),
           "selective_scan: x " + shape_of(x) + " dt " + shape_of(dt) + " B " + shape_of(B) +
               " A_log " + A_log.view.shape_string());
  std::vector<float> A = widen(A_log.view);  // [C, N]
  for (float& a : A) a = -std::exp(a);
  const std::vector<float> Dv = widen(D.view);
  const ScanIO io{x.data(), dt.data(), B.data(), Cm.data(), y.data(), A.data(), Dv.data(), Ch, N};
  const int64_t block = form == SsdForm::Step ? kStepBlock : kScanBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t c0 = 0; c0 < Ch; c0 += block) {
    const int64_t nc = std::min(block, Ch - c0);
    if (form == SsdForm::Step) {
      scan_step(io, T, c0, nc);
    } else {
      scan_chunked(io, T, c0, nc);
    }
  }
}

void rms_norm_gate(const Buf& x, const Buf& z, const Weight& w, float eps, int64_t group,
                   GateOrder order, Buf& y) {
  const int64_t T = x.rows(), Cn = x.cols();
  LG_CHECK(group > 0 && Cn % group == 0 && w.view.numel() == Cn && z.rows() == T &&
               z.cols() == Cn && y.rows() == T && y.cols() == Cn,
           "rms_norm_gate " + w.view.name + ": x " + shape_of(x) + " z " + shape_of(z) +
               " group " + std::to_string(group));
  const std::vector<float> wf = widen(w.view);
  const bool gate_first = order == GateOrder::GateThenNorm;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    const float* xt = x.data() + t * Cn;
    const float* zt = z.data() + t * Cn;
    float* yt = y.data() + t * Cn;
    std::vector<float> v(static_cast<size_t>(group));
    for (int64_t g0 = 0; g0 < Cn; g0 += group) {
      double ss = 0;
      for (int64_t c = 0; c < group; ++c) {
        v[c] = gate_first ? xt[g0 + c] * silu_f32(zt[g0 + c]) : xt[g0 + c];
        ss += static_cast<double>(v[c]) * v[c];
      }
      const float r = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(group)) + eps);
      for (int64_t c = 0; c < group; ++c) {
        const float n = wf[g0 + c] * (v[c] * r);
        yt[g0 + c] = gate_first ? n : n * silu_f32(zt[g0 + c]);
      }
    }
  }
}

}  // namespace lossgap::cpu
