// CPU implementation of the backend ops (see cpu_backend.h). Everything is fp32; reductions that
// decide a log-probability (RMS statistic, log-sum-exp of the scoring head) accumulate in double.
// Matrix products go to OpenBLAS sgemm: multi-threaded from the calling thread, single-threaded
// when called inside our own parallel loops (OpenBLAS's OpenMP build checks omp_in_parallel).
#include "backend/cpu/cpu_backend.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend/cpu/cpu_recurrent.h"
#include "backend/cpu/cpu_ssm.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"

namespace lossgap {
namespace {

using cpu::shape_of;

// Bytes of fp32 weight rows widened at once before one sgemm (bounds the scratch; the widening
// is amortised over all T rows of the activation).
constexpr int64_t kWeightChunkBytes = int64_t{16} << 20;
// Bytes of the [n, Vc] logits block of the scoring head.
constexpr int64_t kLogitsBlockBytes = int64_t{32} << 20;
// Query rows per attention work item.
constexpr int64_t kAttnQueryBlock = 64;

// Rows [row0, row0 + n) of a 2-D weight [R, C] widened to fp32 into out [n, C], in parallel.
void widen_rows(const TensorView& w, int64_t row0, int64_t n, float* out) {
  const int64_t C = w.shape.back();
  if (w.dtype == DType::BF16) {
    const uint16_t* src = static_cast<const uint16_t*>(w.data) + row0 * C;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < n; ++r) {
      const uint16_t* s = src + r * C;
      float* o = out + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) o[c] = std::bit_cast<float>(static_cast<uint32_t>(s[c]) << 16);
    }
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < n; ++r) to_f32(w, (row0 + r) * C, C, out + r * C);
  }
}

// Per-thread growable scratch (the backend is shared by const Model::score calls, so scratch is
// owned by the calling thread, never by the backend).
float* scratch(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  return v.data();
}

// C[T, ldc] (columns [0, n)) = x[T, K] * rows [row0, row0 + n) of w[R, K]^T, fp32 or widened.
void matmul_wt(const float* x, int64_t T, int64_t K, const TensorView& w, int64_t row0, int64_t n,
               float* C, int64_t ldc, std::vector<float>& buf) {
  const float* wp;
  if (w.dtype == DType::F32) {
    wp = static_cast<const float*>(w.data) + row0 * K;
  } else {
    float* s = scratch(buf, n * K);
    widen_rows(w, row0, n, s);
    wp = s;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T), static_cast<int>(n),
              static_cast<int>(K), 1.0f, x, static_cast<int>(K), wp, static_cast<int>(K), 0.0f, C,
              static_cast<int>(ldc));
}

int64_t rows_per_chunk(int64_t row_bytes, int64_t budget, int64_t total) {
  return std::clamp<int64_t>(budget / std::max<int64_t>(row_bytes, 1), 1, std::max<int64_t>(total, 1));
}

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }

  Buf alloc(int64_t rows, int64_t cols) override {
    LG_CHECK(rows >= 0 && cols >= 0, "negative buffer shape");
    const size_t bytes = static_cast<size_t>(rows * cols) * sizeof(float);
    const size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    float* p = static_cast<float*>(std::aligned_alloc(64, rounded));
    if (p == nullptr) throw std::bad_alloc();
    return Buf(std::shared_ptr<float>(p, std::free), rows, cols);
  }

  Buf from_host(const float* data, int64_t rows, int64_t cols) override {
    Buf b = alloc(rows, cols);
    std::memcpy(b.data(), data, static_cast<size_t>(rows * cols) * sizeof(float));
    return b;
  }

  void to_host(const Buf& x, float* out) override {
    std::memcpy(out, x.data(), static_cast<size_t>(x.numel()) * sizeof(float));
  }

  Weight weight(const TensorView& view) override { return Weight{view}; }

  void embed(const Weight& table, std::span<const int32_t> ids, Buf& out) override {
    const TensorView& w = table.view;
    LG_CHECK(w.shape.size() == 2 && out.cols() == w.shape[1] &&
                 out.rows() == static_cast<int64_t>(ids.size()),
             "embed: table " + w.shape_string() + " out " + shape_of(out));
    const int64_t V = w.shape[0], H = w.shape[1];
    for (int32_t id : ids) LG_CHECK(id >= 0 && id < V, "embed: id out of range");
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < static_cast<int64_t>(ids.size()); ++t) {
      to_f32(w, static_cast<int64_t>(ids[t]) * H, H, out.data() + t * H);
    }
  }

  void linear(const Buf& x, const Weight& w, const Weight* bias, Buf& y) override {
    const TensorView& wv = w.view;
    LG_CHECK(wv.shape.size() == 2 && x.cols() == wv.shape[1] && y.rows() == x.rows() &&
                 y.cols() == wv.shape[0] && x.data() != y.data(),
             "linear " + wv.name + ": x " + shape_of(x) + " w " + wv.shape_string() + " y " +
                 shape_of(y));
    const int64_t T = x.rows(), in = wv.shape[1], out = wv.shape[0];
    static thread_local std::vector<float> buf;
    const int64_t chunk = wv.dtype == DType::F32
                              ? out
                              : rows_per_chunk(in * int64_t{sizeof(float)}, kWeightChunkBytes, out);
    for (int64_t r0 = 0; r0 < out; r0 += chunk) {
      const int64_t n = std::min(chunk, out - r0);
      matmul_wt(x.data(), T, in, wv, r0, n, y.data() + r0, out, buf);
    }
    if (bias != nullptr) {
      LG_CHECK(bias->view.numel() == out, "linear bias " + bias->view.name);
      std::vector<float> b(out);
      to_f32(bias->view, 0, out, b.data());
#pragma omp parallel for schedule(static)
      for (int64_t t = 0; t < T; ++t) {
        float* row = y.data() + t * out;
        for (int64_t o = 0; o < out; ++o) row[o] += b[o];
      }
    }
  }

  void rms_norm(const Buf& x, const Weight& w, float eps, NormWeight kind, Buf& y) override {
    const int64_t g = w.view.numel();
    LG_CHECK(g > 0 && x.cols() % g == 0 && y.rows() == x.rows() && y.cols() == x.cols(),
             "rms_norm " + w.view.name + ": x " + shape_of(x) + " w " + w.view.shape_string());
    std::vector<float> wf(g);
    to_f32(w.view, 0, g, wf.data());
    if (kind == NormWeight::OnePlus) {
      for (float& v : wf) v = 1.0f + v;
    }
    const int64_t n_groups = x.numel() / g;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n_groups; ++i) {
      const float* xi = x.data() + i * g;
      float* yi = y.data() + i * g;
      double ss = 0;
      for (int64_t c = 0; c < g; ++c) ss += static_cast<double>(xi[c]) * xi[c];
      const float var = static_cast<float>(ss / static_cast<double>(g));
      const float r = 1.0f / std::sqrt(var + eps);
      for (int64_t c = 0; c < g; ++c) yi[c] = wf[c] * (xi[c] * r);
    }
  }

  void rope(Buf& x, int64_t n_heads, int64_t head_dim, const Buf& cos, const Buf& sin) override {
    const int64_t T = x.rows(), d_rot = cos.cols(), half = d_rot / 2;
    LG_CHECK(x.cols() == n_heads * head_dim && d_rot % 2 == 0 && d_rot <= head_dim &&
                 sin.cols() == d_rot && cos.rows() >= T && sin.rows() >= T,
             "rope: x " + shape_of(x) + " cos " + shape_of(cos));
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
      const float* c = cos.data() + t * d_rot;
      const float* s = sin.data() + t * d_rot;
      for (int64_t h = 0; h < n_heads; ++h) {
        float* q = x.data() + t * x.cols() + h * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float x1 = q[i], x2 = q[i + half];
          q[i] = x1 * c[i] - x2 * s[i];
          q[i + half] = x2 * c[i + half] + x1 * s[i + half];
        }
      }
    }
  }

  void attention(const Buf& q, const Buf& k, const Buf& v, const AttnShape& a, Buf& out) override {
    const int64_t T = q.rows(), Hq = a.n_heads, Hkv = a.n_kv_heads, d = a.head_dim;
    LG_CHECK(Hq > 0 && Hkv > 0 && Hq % Hkv == 0 && d > 0 && a.window >= 0, "attention shape");
    LG_CHECK(q.cols() == Hq * d && k.cols() == Hkv * d && v.cols() == Hkv * d && k.rows() == T &&
                 v.rows() == T && out.rows() == T && out.cols() == Hq * d,
             "attention: q " + shape_of(q) + " k " + shape_of(k) + " out " + shape_of(out));
    const int64_t group = Hq / Hkv;
    const int64_t n_blocks = (T + kAttnQueryBlock - 1) / kAttnQueryBlock;
    const int64_t max_keys =
        a.window > 0 ? std::min(T, a.window + kAttnQueryBlock - 1) : T;
    const int ldq = static_cast<int>(Hq * d), ldk = static_cast<int>(Hkv * d);
#pragma omp parallel
    {
      std::vector<float> S(static_cast<size_t>(kAttnQueryBlock * max_keys));  // [Bq, n_keys]
#pragma omp for schedule(dynamic, 1) collapse(2)
      for (int64_t b = n_blocks - 1; b >= 0; --b) {  // the longest (latest) blocks first
        for (int64_t h = 0; h < Hq; ++h) {
          const int64_t i0 = b * kAttnQueryBlock, i1 = std::min(T, i0 + kAttnQueryBlock);
          const int64_t bq = i1 - i0;
          const int64_t j0 = a.window > 0 ? std::max<int64_t>(0, i0 - a.window + 1) : 0;
          const int64_t nk = i1 - j0;  // keys [j0, i1)
          const int64_t kvh = h / group;
          // S[bq, nk] = scale * q[i0:i1, h] k[j0:i1, kvh]^T
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(bq),
                      static_cast<int>(nk), static_cast<int>(d), a.scale,
                      q.data() + i0 * ldq + h * d, ldq, k.data() + j0 * ldk + kvh * d, ldk, 0.0f,
                      S.data(), static_cast<int>(nk));
          for (int64_t r = 0; r < bq; ++r) {
            const int64_t i = i0 + r;
            const int64_t lo = (a.window > 0 ? std::max<int64_t>(0, i - a.window + 1) : 0) - j0;
            const int64_t hi = i - j0 + 1;  // visible keys: local [lo, hi)
            float* s = S.data() + r * nk;
            float m = -std::numeric_limits<float>::infinity();
            for (int64_t j = lo; j < hi; ++j) m = std::max(m, s[j]);
            float sum = 0;
#pragma omp simd reduction(+ : sum)
            for (int64_t j = lo; j < hi; ++j) {
              s[j] = cpu::exp_f32(s[j] - m);
              sum += s[j];
            }
            const float inv = 1.0f / sum;
            for (int64_t j = 0; j < lo; ++j) s[j] = 0;
#pragma omp simd
            for (int64_t j = lo; j < hi; ++j) s[j] *= inv;
            for (int64_t j = hi; j < nk; ++j) s[j] = 0;
          }
          // out[i0:i1, h] = P[bq, nk] v[j0:i1, kvh]
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(bq),
                      static_cast<int>(d), static_cast<int>(nk), 1.0f, S.data(),
                      static_cast<int>(nk), v.data() + j0 * ldk + kvh * d, ldk, 0.0f,
                      out.data() + i0 * ldq + h * d, ldq);
        }
      }
    }
  }

  void swiglu(const Buf& gate, const Buf& up, Buf& out) override {
    LG_CHECK(gate.rows() == up.rows() && gate.cols() == up.cols() && out.rows() == gate.rows() &&
                 out.cols() == gate.cols(),
             "swiglu: gate " + shape_of(gate) + " up " + shape_of(up));
    const int64_t n = gate.numel();
    const float* g = gate.data();
    const float* u = up.data();
    float* o = out.data();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) o[i] = cpu::silu_f32(g[i]) * u[i];
  }

  void add(const Buf& x, Buf& y) override {
    LG_CHECK(x.rows() == y.rows() && x.cols() == y.cols(),
             "add: x " + shape_of(x) + " y " + shape_of(y));
    const int64_t n = x.numel();
    const float* a = x.data();
    float* b = y.data();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) b[i] += a[i];
  }

  void token_scores(const Buf& x, const Weight& lm_head, std::span<const int32_t> targets,
                    std::span<TokenScore> out) override;

  // Recurrent mixers and MoE: backend/cpu/cpu_recurrent.cpp.
  void gather_cols(const Buf& x, std::span<const ColBlock> blocks, Buf& out) override {
    cpu::gather_cols(x, blocks, out);
  }
  void conv1d_silu(const Buf& x, const Weight& w, Buf& y, const Weight* bias) override {
    cpu::conv1d_silu(x, w, y, bias);
  }
  void l2_norm_heads(Buf& x, int64_t head_dim, float eps, float scale) override {
    cpu::l2_norm_heads(x, head_dim, eps, scale);
  }
  void delta_gates(Buf& a, Buf& b, const Weight& A_log, const Weight& dt_bias,
                   float beta_scale) override {
    cpu::delta_gates(a, b, A_log, dt_bias, beta_scale);
  }
  void gated_delta_rule(const Buf& q, const Buf& k, const Buf& v, const Buf& g, const Buf& beta,
                        const DeltaShape& shape, DeltaForm form, Buf& out) override {
    cpu::gated_delta_rule(q, k, v, g, beta, shape, form, out);
  }
  void rms_norm_gated(const Buf& x, const Buf& z, const Weight& w, float eps, Buf& y) override {
    cpu::rms_norm_gated(x, z, w, eps, y);
  }
  void mul_sigmoid(const Buf& gate, Buf& x) override { cpu::mul_sigmoid(gate, x); }
  void gather_rows(const Buf& x, std::span<const int32_t> rows, Buf& out) override {
    cpu::gather_rows(x, rows, out);
  }
  void add_rows_scaled(const Buf& x, std::span<const int32_t> rows, std::span<const float> scale,
                       Buf& y) override {
    cpu::add_rows_scaled(x, rows, scale, y);
  }

  // Mamba mixers: backend/cpu/cpu_ssm.cpp.
  void scale(Buf& x, float s) override { cpu::scale(x, s); }
  void scale_cols(Buf& x, std::span<const float> s) override { cpu::scale_cols(x, s); }
  void relu2(Buf& x) override { cpu::relu2(x); }
  void ssm_dt(Buf& dt, const Weight* bias, float lo, float hi) override {
    cpu::ssm_dt(dt, bias, lo, hi);
  }
  void ssd_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B, const Buf& C,
                const Weight& D, const SsdShape& shape, SsdForm form, Buf& y) override {
    cpu::ssd_scan(x, dt, A_log, B, C, D, shape, form, y);
  }
  void selective_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B,
                      const Buf& C, const Weight& D, SsdForm form, Buf& y) override {
    cpu::selective_scan(x, dt, A_log, B, C, D, form, y);
  }
  void rms_norm_gate(const Buf& x, const Buf& z, const Weight& w, float eps, int64_t group,
                     GateOrder order, Buf& y) override {
    cpu::rms_norm_gate(x, z, w, eps, group, order, y);
  }
};

// Vocabulary blocks outermost (each weight block is widened once), all positions inside, with an
// online log-sum-exp per position: m = running max, s = sum exp(l - m), e = sum exp(l - m)(l - m).
// Then log Z = m + log s, entropy = log s - e / s. The rank counts ids other than the target whose
// logit is strictly larger than the target's, the target's logit taken from a double-precision
// dot product (equal to the sgemm value up to rounding: ties closer than that are ambiguous).
void CpuBackend::token_scores(const Buf& x, const Weight& lm_head,
                              std::span<const int32_t> targets, std::span<TokenScore> out) {
  const TensorView& w = lm_head.view;
  const int64_t n = x.rows(), H = x.cols();
  LG_CHECK(w.shape.size() == 2 && w.shape[1] == H && static_cast<int64_t>(targets.size()) == n &&
               out.size() == targets.size(),
           "token_scores: x " + shape_of(x) + " lm_head " + w.shape_string());
  const int64_t V = w.shape[0];
  for (int32_t id : targets) LG_CHECK(id >= 0 && id < V, "token_scores: target out of range");
  if (n == 0) return;

  std::vector<float> t_ref(n);  // the target's logit, for the rank
  std::vector<float> t_logit(n);  // the target's logit as the sgemm computed it
  std::vector<float> m(n, -std::numeric_limits<float>::infinity());
  std::vector<double> s(n, 0.0), e(n, 0.0);
  std::vector<int64_t> argmax(n, 0), larger(n, 0);
#pragma omp parallel
  {
    std::vector<float> row(H);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < n; ++t) {
      to_f32(w, static_cast<int64_t>(targets[t]) * H, H, row.data());
      const float* xt = x.data() + t * H;
      double acc = 0;
      for (int64_t c = 0; c < H; ++c) acc += static_cast<double>(xt[c]) * row[c];
      t_ref[t] = static_cast<float>(acc);
    }
  }

  const int64_t vc = std::min(
      rows_per_chunk(n * int64_t{sizeof(float)}, kLogitsBlockBytes, V),
      rows_per_chunk(H * int64_t{sizeof(float)}, kWeightChunkBytes, V));
  std::vector<float> logits(static_cast<size_t>(n * vc));  // [n, vc]
  static thread_local std::vector<float> buf;
  for (int64_t v0 = 0; v0 < V; v0 += vc) {
    const int64_t nv = std::min(vc, V - v0);
    matmul_wt(x.data(), n, H, w, v0, nv, logits.data(), nv, buf);
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < n; ++t) {
      const float* l = logits.data() + t * nv;
      float bm = l[0];
      int64_t bj = 0;
      for (int64_t j = 1; j < nv; ++j) {
        if (l[j] > bm) {
          bm = l[j];
          bj = j;
        }
      }
      if (bm > m[t]) {  // strictly larger: an earlier block keeps ties (lowest id)
        if (s[t] > 0) {
          const double shift = static_cast<double>(m[t]) - bm;  // < 0
          const double f = std::exp(shift);
          e[t] = f * (e[t] + s[t] * shift);
          s[t] = f * s[t];
        }
        m[t] = bm;
        argmax[t] = v0 + bj;
      }
      const float mt = m[t], ref = t_ref[t];
      const int64_t tj = targets[t] - v0;
      double ss = 0, ee = 0;
      int64_t cnt = 0;
#pragma omp simd reduction(+ : ss, ee, cnt)
      for (int64_t j = 0; j < nv; ++j) {
        const float z = l[j] - mt;
        const float p = cpu::exp_f32(z);
        ss += p;
        ee += static_cast<double>(p) * z;
        cnt += (l[j] > ref && j != tj) ? 1 : 0;
      }
      s[t] += ss;
      e[t] += ee;
      larger[t] += cnt;
      if (tj >= 0 && tj < nv) t_logit[t] = l[tj];
    }
  }
  for (int64_t t = 0; t < n; ++t) {
    const double log_s = std::log(s[t]);
    const double log_z = static_cast<double>(m[t]) + log_s;
    TokenScore& r = out[t];
    r.logprob = static_cast<float>(static_cast<double>(t_logit[t]) - log_z);
    r.entropy = static_cast<float>(log_s - e[t] / s[t]);
    r.rank = static_cast<int32_t>(1 + larger[t]);
    r.top1_id = static_cast<int32_t>(argmax[t]);
    r.top1_logprob = static_cast<float>(-log_s);
  }
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

void cpu_set_num_threads(int n) {
  const int threads = n > 0 ? n : omp_get_num_procs();
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

}  // namespace lossgap
