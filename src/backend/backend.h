// The ops of lossgap's forward passes, as one interface every device implements with the same
// names (CPU: backend/cpu/, the fp32 reference; a CUDA backend later). Model code (model/blocks,
// model/arch) calls only these and never sees a device. Not a tensor library: activations are 2-D
// fp32 matrices, weights are checkpoint tensors in their stored dtype, and each op does one
// named step of a forward pass.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/dtype.h"
#include "model/model.h"

namespace lossgap {

// An fp32 activation matrix [rows, cols], row-major and contiguous, in the memory of the backend
// that allocated it. Copies share the memory. Only that backend's ops may read or write data().
class Buf {
 public:
  Buf() = default;
  Buf(std::shared_ptr<float> mem, int64_t rows, int64_t cols)
      : mem_(std::move(mem)), rows_(rows), cols_(cols) {}
  float* data() const { return mem_.get(); }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t numel() const { return rows_ * cols_; }
  // Rows [r0, r0 + n) as a buffer sharing this one's memory.
  Buf row_range(int64_t r0, int64_t n) const {
    return Buf(std::shared_ptr<float>(mem_, mem_.get() + r0 * cols_), n, cols_);
  }

 private:
  std::shared_ptr<float> mem_;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

// A checkpoint tensor prepared for a backend. On the CPU it is the (mmapped) stored tensor
// itself, used in its stored dtype; a device backend keeps its own copy beside the view.
struct Weight {
  TensorView view;
};

// RMSNorm flavours of hf-architectures.md §1.2 in fp32: y = w * r(x) (N-A and N-B coincide in
// fp32) or y = (1 + w) * r(x) (N-C, zero-centred weights).
enum class NormWeight { Scale, OnePlus };

// The shape and masking of one causal self-attention call.
struct AttnShape {
  int64_t n_heads = 0;     // query heads Hq
  int64_t n_kv_heads = 0;  // key/value heads Hkv (Hq % Hkv == 0; head h uses kv head h / (Hq/Hkv))
  int64_t head_dim = 0;    // d
  float scale = 0;         // logits = scale * q.k (d^-1/2 for most families)
  int64_t window = 0;      // sliding window W: key j visible from query i iff 0 <= i-j <= W-1;
                           // 0 = full causal attention
};

// The shape of one gated-delta-rule call (hf-architectures.md §1.10).
struct DeltaShape {
  int64_t n_k_heads = 0;  // Hk (q/k heads)
  int64_t n_v_heads = 0;  // Hv (Hv % Hk == 0; value head h reads q/k head h / (Hv/Hk))
  int64_t k_dim = 0;      // dk
  int64_t v_dim = 0;      // dv
};
// Step: the token-by-token recurrence (the reference). Chunked: the same maths over chunks of
// kDeltaChunk tokens (WY/UT form of the chunked gated delta rule), for long inputs. 32 (not
// transformers' 64): measured fastest on the CPU at olmo_hybrid's head sizes (docs/recurrent.md).
enum class DeltaForm { Step, Chunked };
inline constexpr int64_t kDeltaChunk = 32;

// The shape of one Mamba-2 SSD call (hf-architectures.md §1.8).
struct SsdShape {
  int64_t n_heads = 0;     // nh
  int64_t head_dim = 0;    // P
  int64_t n_groups = 0;    // G (n_heads % G == 0; head h reads B/C group h / (nh / G))
  int64_t state_size = 0;  // N
};
// Step: the recurrence token by token (the reference). Chunked: the SSD block decomposition
// (Dao & Gu 2024, "Transformers are SSMs", §6) over chunks of kSsdChunk tokens.
enum class SsdForm { Step, Chunked };
inline constexpr int64_t kSsdChunk = 64;

// Which comes first in a gated RMSNorm (rms_norm_gate).
enum class GateOrder { GateThenNorm, NormThenGate };

// A block of n consecutive columns starting at col0 (gather_cols).
struct ColBlock {
  int64_t col0 = 0;
  int64_t n = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;  // "cpu"

  // A new buffer [rows, cols]; contents unspecified.
  virtual Buf alloc(int64_t rows, int64_t cols) = 0;
  // A buffer holding host data [rows, cols] (row-major); and the way back, for tests and tables.
  virtual Buf from_host(const float* data, int64_t rows, int64_t cols) = 0;
  virtual void to_host(const Buf& x, float* out) = 0;
  // The backend's form of a checkpoint tensor (the view's memory must outlive the Weight).
  virtual Weight weight(const TensorView& view) = 0;

  // out[t, :] = table[ids[t], :]. table: [V, H]; out: [T, H]. Ids must be in [0, V).
  virtual void embed(const Weight& table, std::span<const int32_t> ids, Buf& out) = 0;

  // y = x w^T (+ bias). x: [T, in]; w: [out, in]; bias: [out] or null; y: [T, out], not x.
  virtual void linear(const Buf& x, const Weight& w, const Weight* bias, Buf& y) = 0;

  // RMSNorm over consecutive groups of w.numel() values of each row (a row of a [T, n*g] buffer is
  // n groups of g: g = cols normalises the whole row, g = head_dim each head as qwen3's q_norm):
  // y = weight(w) * x / sqrt(mean(x^2) + eps), statistic in fp32. y may be x.
  virtual void rms_norm(const Buf& x, const Weight& w, float eps, NormWeight kind, Buf& y) = 0;

  // In place, rotate_half RoPE on the first d_rot = cos.cols() dims of each head of x:
  // x: [T, n_heads * head_dim]; cos, sin: [>= T, d_rot] (row t = position t, attn_factor applied).
  // With halves x1 = x[:d_rot/2], x2 = x[d_rot/2:d_rot]: x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin.
  virtual void rope(Buf& x, int64_t n_heads, int64_t head_dim, const Buf& cos, const Buf& sin) = 0;

  // Causal (optionally sliding-window) attention with GQA and fp32 softmax, positions 0..T-1.
  // q: [T, Hq * d]; k, v: [T, Hkv * d]; out: [T, Hq * d] (heads concatenated head-major).
  virtual void attention(const Buf& q, const Buf& k, const Buf& v, const AttnShape& shape,
                         Buf& out) = 0;

  // out = silu(gate) * up, elementwise. All [T, I]; out may be gate or up.
  virtual void swiglu(const Buf& gate, const Buf& up, Buf& out) = 0;

  // y += x, elementwise; same shape.
  virtual void add(const Buf& x, Buf& y) = 0;

  // --- Recurrent mixers and MoE (backend/cpu/cpu_recurrent.cpp on the CPU; docs/recurrent.md).

  // out = the column blocks of x side by side, in the order given. x: [T, C]; out: [T, sum n].
  virtual void gather_cols(const Buf& x, std::span<const ColBlock> blocks, Buf& out) = 0;

  // Causal depthwise convolution then SiLU (§1.7), zero left padding, optional bias [C]:
  // y[t, c] = silu(b[c] + sum_k w[c, 0, k] x[t - (K-1) + k, c]). x, y: [T, C] (y not x);
  // w: [C, 1, K].
  virtual void conv1d_silu(const Buf& x, const Weight& w, Buf& y,
                           const Weight* bias = nullptr) = 0;

  // In place, per head of head_dim values of each row: x <- scale * x / sqrt(sum(x^2) + eps).
  virtual void l2_norm_heads(Buf& x, int64_t head_dim, float eps, float scale) = 0;

  // In place, the gated-delta-rule gates of §1.10 step 5 (fp32): a[T, Hv] becomes the log decay
  // g = -exp(A_log[h]) * softplus(a + dt_bias[h]) (softplus threshold 20, as torch), and
  // b[T, Hv] becomes beta = beta_scale * sigmoid(b). A_log, dt_bias: [Hv].
  virtual void delta_gates(Buf& a, Buf& b, const Weight& A_log, const Weight& dt_bias,
                           float beta_scale) = 0;

  // The gated delta rule from a zero state, per value head h (state S [dk, dv] in fp32):
  // S <- exp(g_t) S; S <- S + k_t (beta_t (v_t - S^T k_t))^T; out_t = S^T q_t.
  // q, k: [T, Hk * dk] (normalised and scaled by the caller); v, out: [T, Hv * dv];
  // g, beta: [T, Hv]. Both forms compute the same values up to fp32 rounding.
  virtual void gated_delta_rule(const Buf& q, const Buf& k, const Buf& v, const Buf& g,
                                const Buf& beta, const DeltaShape& shape, DeltaForm form,
                                Buf& out) = 0;

  // Gated RMSNorm G1 (norm, then gate) over groups of w.numel() values of each row:
  // y = w * x / sqrt(mean(x^2) + eps) * silu(z). x, z, y: [T, n * g]; y may be x.
  virtual void rms_norm_gated(const Buf& x, const Buf& z, const Weight& w, float eps, Buf& y) = 0;

  // x *= sigmoid(gate), elementwise; same shape (qwen3_next's attention output gate).
  virtual void mul_sigmoid(const Buf& gate, Buf& x) = 0;

  // out[i, :] = x[rows[i], :]. x: [T, C]; out: [rows.size(), C].
  virtual void gather_rows(const Buf& x, std::span<const int32_t> rows, Buf& out) = 0;

  // y[rows[i], :] += scale[i] * x[i, :]. x: [rows.size(), C]; y: [T, C]. Rows may repeat only
  // across calls (within one call each row index appears at most once).
  virtual void add_rows_scaled(const Buf& x, std::span<const int32_t> rows,
                               std::span<const float> scale, Buf& y) = 0;

  // --- Mamba mixers (backend/cpu/cpu_ssm.cpp on the CPU; docs/ssm.md).

  // x *= s, elementwise.
  virtual void scale(Buf& x, float s) = 0;
  // x[t, c] *= s[c]. s: x.cols() values (falcon_h1's mup_vector).
  virtual void scale_cols(Buf& x, std::span<const float> s) = 0;
  // x = relu(x)^2, elementwise (nemotron_h's MLP).
  virtual void relu2(Buf& x) = 0;

  // In place, the step sizes of a selective SSM (fp32): dt[t, c] = clamp(softplus(dt[t, c] +
  // bias[c]), lo, hi) with torch's softplus (threshold 20). bias: [C] or null; hi may be inf.
  virtual void ssm_dt(Buf& dt, const Weight* bias, float lo, float hi) = 0;

  // The Mamba-2 SSD recurrence (§1.8 step 6) from a zero state, per head h of group
  // g = h / (n_heads / n_groups), state S [head_dim, state_size] in fp32:
  // S <- exp(dt_t A_h) S + dt_t x_t B_t^T;  y_t = S C_t + D_h x_t, with A_h = -exp(A_log[h]).
  // x, y: [T, n_heads * head_dim]; dt: [T, n_heads] (after ssm_dt); B, C: [T, n_groups *
  // state_size]; A_log, D: [n_heads]. Step and Chunked give the same values up to fp32 rounding.
  virtual void ssd_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B,
                        const Buf& C, const Weight& D, const SsdShape& shape, SsdForm form,
                        Buf& y) = 0;

  // The Mamba-1 selective scan (§1.9 step 6) from a zero state, per channel c (state [N]):
  // S[n] <- exp(dt_c A[c, n]) S[n] + dt_c B_t[n] x_c;  y_c = sum_n S[n] C_t[n] + D[c] x_c,
  // A = -exp(A_log). x, dt, y: [T, C]; B, C: [T, N]; A_log: [C, N]; D: [C]. Step: token by
  // token (the reference); Chunked: the decays of kSsdChunk tokens at once, then the scan over
  // the chunk (docs/ssm.md). Both give the same values up to fp32 rounding.
  virtual void selective_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B,
                              const Buf& Cm, const Weight& D, SsdForm form, Buf& y) = 0;

  // Gated RMSNorm of the Mamba-2 mixers over groups of `group` consecutive values of each row,
  // statistic in fp32, w: [x.cols()] (G2: group = cols; G3/G4: group = cols / n_groups):
  // GateThenNorm: v = x * silu(z); y = w * v / sqrt(mean_group(v^2) + eps).
  // NormThenGate: y = w * x / sqrt(mean_group(x^2) + eps) * silu(z). x, z, y: [T, C]; y may be x.
  virtual void rms_norm_gate(const Buf& x, const Buf& z, const Weight& w, float eps,
                             int64_t group, GateOrder order, Buf& y) = 0;

  // The scoring head: logits = x lm_head^T over all V rows, then for row t the log-softmax
  // statistics of target id targets[t] (DESIGN.md scoring policy). x: [n, H]; lm_head: [V, H];
  // targets, out: n entries; ids in [0, V). Never materialises [n, V] logits at once.
  virtual void token_scores(const Buf& x, const Weight& lm_head, std::span<const int32_t> targets,
                            std::span<TokenScore> out) = 0;
};

}  // namespace lossgap
