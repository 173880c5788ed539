// A decoder layer as a list of parts every architecture shares: a token mixer (attention today;
// Gated DeltaNet and Mamba mixers of issue 4 implement the same interface), a feed-forward part
// (SwiGLU today; MoE later), their two RMSNorms, and the residual template that wires them
// (hf-architectures.md §1.12). Plus the per-forward context the parts read. Not an architecture:
// modules in model/arch/ choose the parts per layer kind.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/blocks/norm.h"
#include "model/config.h"

namespace lossgap {

// What one forward pass over a window gives every block: the backend, the window length
// (positions 0..n_pos-1), and RoPE cos/sin buffers computed once per distinct RoPE setting.
class ForwardContext {
 public:
  ForwardContext(Backend& be, int64_t n_pos) : be_(be), n_pos_(n_pos) {}
  Backend& backend() const { return be_; }
  int64_t n_pos() const { return n_pos_; }

  struct RopeBufs {
    Buf cos;  // [n_pos, d_rot]
    Buf sin;  // [n_pos, d_rot]
  };
  // The tables of (p, head_dim) for this window, made on first use and then shared.
  RopeBufs rope(const RopeParams& p, int64_t head_dim);

 private:
  struct Entry {
    RopeParams params;
    int64_t head_dim;
    RopeBufs bufs;
  };
  Backend& be_;
  int64_t n_pos_;
  std::vector<Entry> rope_;
};

// A token mixer: out[T, H] from x[T, H] (causal over the window).
class Mixer {
 public:
  virtual ~Mixer() = default;
  virtual void forward(ForwardContext& ctx, const Buf& x, Buf& out) const = 0;
};

// A position-wise feed-forward part: out[T, H] from x[T, H].
class FeedForward {
 public:
  virtual ~FeedForward() = default;
  virtual void forward(ForwardContext& ctx, const Buf& x, Buf& out) const = 0;
};

// Residual templates: PreNorm (P): h += mixer(norm1(h)); h += ffn(norm2(h)).
// PostNorm (Olmo's O): h += norm1(mixer(h)); h += norm2(ffn(h)) — no input norm.
// SingleMixer (S: mamba, mamba2, nemotron_h): h += mixer(norm1(h)) — no feed-forward part.
// ParallelHybrid (F: falcon_h1): n = norm1(h); h += mixer(n) * mixer_scale +
//   mixer2(n * mixer2_in_scale) * mixer2_scale; h += ffn(norm2(h)).
// ScaledResidual (G: granitemoehybrid): as PreNorm with both branches times mixer_scale.
enum class ResidualTemplate { PreNorm, PostNorm, SingleMixer, ParallelHybrid, ScaledResidual };

struct DecoderLayer {
  std::string kind;  // the layer_types entry, e.g. "sliding_attention"
  ResidualTemplate residual = ResidualTemplate::PreNorm;
  RmsNorm mixer_norm;  // P: input_layernorm; O: post_attention_layernorm
  RmsNorm ffn_norm;    // P: post_attention_layernorm; O: post_feedforward_layernorm
  std::unique_ptr<Mixer> mixer;
  std::unique_ptr<FeedForward> ffn;  // null for SingleMixer
  std::unique_ptr<Mixer> mixer2;     // ParallelHybrid: the attention beside the Mamba mixer
  float mixer_scale = 1;             // F: ssm_out_multiplier; G: residual_multiplier
  float mixer2_in_scale = 1;         // F: attention_in_multiplier
  float mixer2_scale = 1;            // F: attention_out_multiplier

  // h[T, H] += the layer's two residual branches, in place.
  void forward(ForwardContext& ctx, Buf& h) const;
};

// True when two RopeParams give the same tables (every field equal).
bool same_rope(const RopeParams& a, const RopeParams& b);

}  // namespace lossgap
