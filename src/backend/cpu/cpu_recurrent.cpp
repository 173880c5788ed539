// CPU implementations of the recurrent-mixer and MoE ops (see cpu_recurrent.h and the contracts
// in backend/backend.h). fp32 throughout; the RMS statistics accumulate in double like
// Backend::rms_norm. The gated delta rule has two forms: `step` is the recurrence written out
// token by token (the reference), `chunked` is the WY/UT form of Yang et al. 2024 ("Gated Delta
// Networks", §3.3; transformers' torch_chunk_gated_delta_rule) over chunks of kDeltaChunk tokens
// with OpenBLAS products (and one triangular solve) inside each chunk. Every exponent in the chunked form is a difference of
// cumulative log decays that is <= 0, so nothing overflows for decays near 0 or near 1.
#include "backend/cpu/cpu_recurrent.h"

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

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }


// Strided views of one value head's inputs.
struct HeadIO {
  const float* q;  // row t at q + t * ldq, dk values
  const float* k;
  const float* v;  // row t at v + t * ldv, dv values
  const float* g;  // row t at g + t * ldg
  const float* beta;
  float* out;  // row t at out + t * ldv
  int64_t ldq, ldv, ldg;
};

// The recurrence token by token (hf-architectures.md §1.10 step 6).
void delta_step(const HeadIO& io, int64_t T, int64_t dk, int64_t dv) {
  std::vector<float> S(static_cast<size_t>(dk * dv), 0.0f);  // [dk, dv]
  std::vector<float> m(static_cast<size_t>(dv));               // [dv]
  for (int64_t t = 0; t < T; ++t) {
    const float* q = io.q + t * io.ldq;
    const float* k = io.k + t * io.ldq;
    const float* v = io.v + t * io.ldv;
    const float decay = std::exp(io.g[t * io.ldg]);
    const float beta = io.beta[t * io.ldg];
    std::fill(m.begin(), m.end(), 0.0f);
    for (int64_t i = 0; i < dk; ++i) {
      float* Si = S.data() + i * dv;
      const float ki = k[i];
#pragma omp simd
      for (int64_t j = 0; j < dv; ++j) {
        Si[j] *= decay;
        m[j] += Si[j] * ki;
      }
    }
    for (int64_t j = 0; j < dv; ++j) m[j] = beta * (v[j] - m[j]);  // delta
    float* o = io.out + t * io.ldv;
    std::fill(o, o + dv, 0.0f);
    for (int64_t i = 0; i < dk; ++i) {
      float* Si = S.data() + i * dv;
      const float ki = k[i], qi = q[i];
#pragma omp simd
      for (int64_t j = 0; j < dv; ++j) {
        Si[j] += ki * m[j];
        o[j] += Si[j] * qi;
      }
    }
  }
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

void strsm_lower_unit(int64_t n, int64_t m, const float* L, int64_t ldl, float* X, int64_t ldx) {
  cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasUnit, static_cast<int>(n),
              static_cast<int>(m), 1.0f, L, static_cast<int>(ldl), X, static_cast<int>(ldx));
}

// The chunked form. Per chunk of n <= C tokens with cumulative log decays c_i (from the chunk
// start), decay matrix E[i, j] = exp(c_i - c_j) (j <= i) and incoming state S [dk, dv]:
//   A[i, j] = beta_i (k_i . k_j) E[i, j] for j < i (strictly lower);
//   (I + A) [W | U] = [diag(beta exp(c)) K | diag(beta) V]   (one triangular solve, BLAS-3);
//   V' = U - W S;  out_i = exp(c_i) q_i S + sum_{j <= i} (q_i . k_j) E[i, j] V'_j;
//   S <- exp(c_n) S + K^T diag(exp(c_n - c)) V'.
// Q and K are read in place (strided rows of the [T, Hk dk] inputs); E is computed once per
// chunk and serves both A and the output mask (libm exp: exp_f32's 2 ulp moved the
// qwen3_next_moe fixture's worst log-prob from 8e-5 to 1.0e-4). Seven BLAS calls per chunk and
// head; everything between them is O(n^2) or O(n (dk + dv)).
void delta_chunked(const HeadIO& io, int64_t T, int64_t dk, int64_t dv) {
  const int64_t C = kDeltaChunk, m = dk + dv;
  std::vector<float> S(static_cast<size_t>(dk * dv), 0.0f);  // [dk, dv]
  std::vector<float> R(static_cast<size_t>(C * m));           // [C, dk + dv] = [W | U]
  std::vector<float> KK(C * C), QK(C * C), E(C * C);          // [C, C] each
  std::vector<float> c(C), beta(C), ec(C);                    // [C]
  for (int64_t t0 = 0; t0 < T; t0 += C) {
    const int64_t n = std::min(C, T - t0);
    const float* Q = io.q + t0 * io.ldq;  // [n, dk], row stride ldq
    const float* K = io.k + t0 * io.ldq;  // [n, dk], row stride ldq
    float acc = 0;
    for (int64_t i = 0; i < n; ++i) {
      acc += io.g[(t0 + i) * io.ldg];
      c[i] = acc;
      beta[i] = io.beta[(t0 + i) * io.ldg];
    }
    for (int64_t i = 0; i < n; ++i) {
      float* Ei = E.data() + i * C;
      const float ci = c[i];
#pragma omp simd
      for (int64_t j = 0; j <= i; ++j) Ei[j] = std::exp(ci - c[j]);
    }
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) ec[i] = std::exp(c[i]);
    // KK = K K^T, QK = Q K^T  [n, n].
    sgemm(false, true, n, n, dk, 1.0f, K, io.ldq, K, io.ldq, 0.0f, KK.data(), C);
    sgemm(false, true, n, n, dk, 1.0f, Q, io.ldq, K, io.ldq, 0.0f, QK.data(), C);
    // KK <- I + A (unit lower; the solver reads only the strictly lower part); QK <- QK * E,
    // causal with the diagonal.
    for (int64_t i = 0; i < n; ++i) {
      float* Ai = KK.data() + i * C;
      float* Mi = QK.data() + i * C;
      const float* Ei = E.data() + i * C;
      const float b = beta[i];
#pragma omp simd
      for (int64_t j = 0; j < i; ++j) Ai[j] = b * Ai[j] * Ei[j];
#pragma omp simd
      for (int64_t j = 0; j <= i; ++j) Mi[j] *= Ei[j];
      for (int64_t j = i + 1; j < n; ++j) Mi[j] = 0.0f;
    }
    // R = [diag(beta exp(c)) K | diag(beta) V], then (I + A) R' = R in place.
    for (int64_t i = 0; i < n; ++i) {
      float* Ri = R.data() + i * m;
      const float* Ki = K + i * io.ldq;
      const float* Vi = io.v + (t0 + i) * io.ldv;
      const float wk = beta[i] * ec[i], wv = beta[i];
#pragma omp simd
      for (int64_t x = 0; x < dk; ++x) Ri[x] = wk * Ki[x];
#pragma omp simd
      for (int64_t x = 0; x < dv; ++x) Ri[dk + x] = wv * Vi[x];
    }
    strsm_lower_unit(n, m, KK.data(), C, R.data(), m);
    float* U = R.data() + dk;  // [n, dv], row stride m
    // V' = U - W S (in U).
    sgemm(false, false, n, dv, dk, -1.0f, R.data(), m, S.data(), dv, 1.0f, U, m);
    // out = diag(exp(c)) Q S + (QK * E) V'  (written straight into the strided output).
    float* out = io.out + t0 * io.ldv;
    sgemm(false, false, n, dv, dk, 1.0f, Q, io.ldq, S.data(), dv, 0.0f, out, io.ldv);
    for (int64_t i = 0; i < n; ++i) {
      float* oi = out + i * io.ldv;
      const float e = ec[i];
#pragma omp simd
      for (int64_t x = 0; x < dv; ++x) oi[x] *= e;
    }
    sgemm(false, false, n, dv, n, 1.0f, QK.data(), C, U, m, 1.0f, out, io.ldv);
    // S <- exp(c_n) S + K^T (diag(exp(c_n - c)) V').
    const float* En = E.data() + (n - 1) * C;  // exp(c_n - c_j)
    for (int64_t i = 0; i < n; ++i) {
      float* Ui = U + i * m;
      const float e = En[i];
#pragma omp simd
      for (int64_t x = 0; x < dv; ++x) Ui[x] *= e;
    }
    sgemm(true, false, dk, dv, n, 1.0f, K, io.ldq, U, m, ec[n - 1], S.data(), dv);
  }
}

}  // namespace

void gather_cols(const Buf& x, std::span<const ColBlock> blocks, Buf& out) {
  int64_t width = 0;
  for (const ColBlock& b : blocks) {
    LG_CHECK(b.col0 >= 0 && b.n >= 0 && b.col0 + b.n <= x.cols(),
             "gather_cols: block outside x " + shape_of(x));
    width += b.n;
  }
  LG_CHECK(out.rows() == x.rows() && out.cols() == width && out.data() != x.data(),
           "gather_cols: x " + shape_of(x) + " out " + shape_of(out));
  const int64_t T = x.rows();
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    const float* src = x.data() + t * x.cols();
    float* dst = out.data() + t * width;
    for (const ColBlock& b : blocks) {
      std::copy_n(src + b.col0, b.n, dst);
      dst += b.n;
    }
  }
}

void conv1d_silu(const Buf& x, const Weight& w, Buf& y, const Weight* bias) {
  const TensorView& wv = w.view;
  LG_CHECK(wv.shape.size() == 3 && wv.shape[1] == 1 && wv.shape[0] == x.cols() &&
               y.rows() == x.rows() && y.cols() == x.cols() && y.data() != x.data(),
           "conv1d_silu " + wv.name + ": x " + shape_of(x) + " w " + wv.shape_string());
  const int64_t T = x.rows(), Cn = x.cols(), K = wv.shape[2];
  const std::vector<float> wf = widen(wv);  // [C, K]
  LG_CHECK(!bias || bias->view.numel() == Cn, "conv1d_silu bias " + wv.name);
  const std::vector<float> bf = bias ? widen(bias->view) : std::vector<float>(Cn, 0.0f);  // [C]
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    float* yt = y.data() + t * Cn;
    std::copy(bf.begin(), bf.end(), yt);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t s = t - (K - 1) + k;  // source row; rows before 0 are the zero padding
      if (s < 0) continue;
      const float* xs = x.data() + s * Cn;
      for (int64_t ch = 0; ch < Cn; ++ch) yt[ch] += wf[ch * K + k] * xs[ch];
    }
#pragma omp simd
    for (int64_t ch = 0; ch < Cn; ++ch) yt[ch] = silu_f32(yt[ch]);
  }
}

void l2_norm_heads(Buf& x, int64_t head_dim, float eps, float scale) {
  LG_CHECK(head_dim > 0 && x.cols() % head_dim == 0,
           "l2_norm_heads: x " + shape_of(x) + " head_dim " + std::to_string(head_dim));
  const int64_t n = x.numel() / head_dim;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float* h = x.data() + i * head_dim;
    double ss = 0;
    for (int64_t c = 0; c < head_dim; ++c) ss += static_cast<double>(h[c]) * h[c];
    const float inv = 1.0f / std::sqrt(static_cast<float>(ss) + eps);
    for (int64_t c = 0; c < head_dim; ++c) h[c] = (h[c] * inv) * scale;
  }
}

void delta_gates(Buf& a, Buf& b, const Weight& A_log, const Weight& dt_bias, float beta_scale) {
  const int64_t T = a.rows(), H = a.cols();
  LG_CHECK(b.rows() == T && b.cols() == H && A_log.view.numel() == H &&
               dt_bias.view.numel() == H,
           "delta_gates: a " + shape_of(a) + " b " + shape_of(b) + " A_log " +
               A_log.view.shape_string() + " dt_bias " + dt_bias.view.shape_string());
  std::vector<float> A = widen(A_log.view), dt = widen(dt_bias.view);
  for (float& v : A) v = -std::exp(v);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    float* at = a.data() + t * H;
    float* bt = b.data() + t * H;
    for (int64_t h = 0; h < H; ++h) {
      at[h] = A[h] * softplus(at[h] + dt[h]);
      bt[h] = beta_scale * sigmoid(bt[h]);
    }
  }
}

void gated_delta_rule(const Buf& q, const Buf& k, const Buf& v, const Buf& g, const Buf& beta,
                      const DeltaShape& s, DeltaForm form, Buf& out) {
  const int64_t T = q.rows(), Hk = s.n_k_heads, Hv = s.n_v_heads, dk = s.k_dim, dv = s.v_dim;
  LG_CHECK(Hk > 0 && Hv > 0 && Hv % Hk == 0 && dk > 0 && dv > 0, "gated_delta_rule shape");
  LG_CHECK(q.cols() == Hk * dk && k.rows() == T && k.cols() == Hk * dk && v.rows() == T &&
               v.cols() == Hv * dv && g.rows() == T && g.cols() == Hv && beta.rows() == T &&
               beta.cols() == Hv && out.rows() == T && out.cols() == Hv * dv,
           "gated_delta_rule: q " + shape_of(q) + " v " + shape_of(v) + " g " + shape_of(g) +
               " out " + shape_of(out));
  const int64_t r = Hv / Hk;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t h = 0; h < Hv; ++h) {
    const int64_t kh = h / r;
    const HeadIO io{q.data() + kh * dk,   k.data() + kh * dk, v.data() + h * dv,
                    g.data() + h,         beta.data() + h,    out.data() + h * dv,
                    Hk * dk,              Hv * dv,            Hv};
    if (form == DeltaForm::Step) {
      delta_step(io, T, dk, dv);
    } else {
      delta_chunked(io, T, dk, dv);
    }
  }
}

void rms_norm_gated(const Buf& x, const Buf& z, const Weight& w, float eps, Buf& y) {
  const int64_t g = w.view.numel();
  LG_CHECK(g > 0 && x.cols() % g == 0 && z.rows() == x.rows() && z.cols() == x.cols() &&
               y.rows() == x.rows() && y.cols() == x.cols(),
           "rms_norm_gated " + w.view.name + ": x " + shape_of(x) + " z " + shape_of(z));
  const std::vector<float> wf = widen(w.view);
  const int64_t n = x.numel() / g;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x.data() + i * g;
    const float* zi = z.data() + i * g;
    float* yi = y.data() + i * g;
    double ss = 0;
    for (int64_t c = 0; c < g; ++c) ss += static_cast<double>(xi[c]) * xi[c];
    const float var = static_cast<float>(ss / static_cast<double>(g));
    const float r = 1.0f / std::sqrt(var + eps);
    for (int64_t c = 0; c < g; ++c) yi[c] = (wf[c] * (xi[c] * r)) * silu_f32(zi[c]);
  }
}

void mul_sigmoid(const Buf& gate, Buf& x) {
  LG_CHECK(gate.rows() == x.rows() && gate.cols() == x.cols(),
           "mul_sigmoid: gate " + shape_of(gate) + " x " + shape_of(x));
  const int64_t n = x.numel();
  const float* gp = gate.data();
  float* xp = x.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) xp[i] *= sigmoid(gp[i]);
}

void gather_rows(const Buf& x, std::span<const int32_t> rows, Buf& out) {
  const int64_t n = static_cast<int64_t>(rows.size()), C = x.cols();
  LG_CHECK(out.rows() == n && out.cols() == C, "gather_rows: x " + shape_of(x) + " out " +
                                                   shape_of(out));
  for (int32_t r : rows) LG_CHECK(r >= 0 && r < x.rows(), "gather_rows: row out of range");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) std::copy_n(x.data() + rows[i] * C, C, out.data() + i * C);
}

void add_rows_scaled(const Buf& x, std::span<const int32_t> rows, std::span<const float> scale,
                     Buf& y) {
  const int64_t n = static_cast<int64_t>(rows.size()), C = y.cols();
  LG_CHECK(x.rows() == n && x.cols() == C && scale.size() == rows.size(),
           "add_rows_scaled: x " + shape_of(x) + " y " + shape_of(y));
  for (int32_t r : rows) LG_CHECK(r >= 0 && r < y.rows(), "add_rows_scaled: row out of range");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x.data() + i * C;
    float* yi = y.data() + rows[i] * C;
    const float s = scale[i];
    for (int64_t c = 0; c < C; ++c) yi[c] += s * xi[c];
  }
}

}  // namespace lossgap::cpu
