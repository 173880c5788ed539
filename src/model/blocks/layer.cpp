// Decoder layer wiring and the forward context; see layer.h.
#include "model/blocks/layer.h"

#include "model/blocks/rope.h"

namespace lossgap {

bool same_rope(const RopeParams& a, const RopeParams& b) {
  return a.rope_type == b.rope_type && a.rope_theta == b.rope_theta &&
         a.partial_rotary_factor == b.partial_rotary_factor && a.factor == b.factor &&
         a.original_max_position_embeddings == b.original_max_position_embeddings &&
         a.low_freq_factor == b.low_freq_factor && a.high_freq_factor == b.high_freq_factor &&
         a.beta_fast == b.beta_fast && a.beta_slow == b.beta_slow && a.truncate == b.truncate &&
         a.attention_factor == b.attention_factor;
}

ForwardContext::RopeBufs ForwardContext::rope(const RopeParams& p, int64_t head_dim) {
  for (const Entry& e : rope_) {
    if (e.head_dim == head_dim && same_rope(e.params, p)) return e.bufs;
  }
  const RopeTable t = rope_table(p, head_dim, n_pos_);
  rope_.push_back(Entry{p, head_dim,
                        RopeBufs{be_.from_host(t.cos.data(), n_pos_, t.d_rot),
                                 be_.from_host(t.sin.data(), n_pos_, t.d_rot)}});
  return rope_.back().bufs;
}

void DecoderLayer::forward(ForwardContext& ctx, Buf& h) const {
  Backend& be = ctx.backend();
  const int64_t T = h.rows(), H = h.cols();
  Buf branch = be.alloc(T, H);  // [T, H] a residual branch's output
  if (residual == ResidualTemplate::SingleMixer) {
    Buf normed = be.alloc(T, H);  // [T, H]
    mixer_norm(be, h, normed);
    mixer->forward(ctx, normed, branch);
    be.add(branch, h);
  } else if (residual == ResidualTemplate::ParallelHybrid) {
    Buf normed = be.alloc(T, H);  // [T, H]
    Buf branch2 = be.alloc(T, H);  // [T, H] the attention branch
    mixer_norm(be, h, normed);
    mixer->forward(ctx, normed, branch);
    if (mixer_scale != 1) be.scale(branch, mixer_scale);
    if (mixer2_in_scale != 1) be.scale(normed, mixer2_in_scale);
    mixer2->forward(ctx, normed, branch2);
    if (mixer2_scale != 1) be.scale(branch2, mixer2_scale);
    be.add(branch2, branch);
    be.add(branch, h);
    ffn_norm(be, h, normed);
    ffn->forward(ctx, normed, branch);
    be.add(branch, h);
  } else if (residual == ResidualTemplate::PreNorm ||
             residual == ResidualTemplate::ScaledResidual) {
    const bool scaled = residual == ResidualTemplate::ScaledResidual && mixer_scale != 1;
    Buf normed = be.alloc(T, H);  // [T, H]
    mixer_norm(be, h, normed);
    mixer->forward(ctx, normed, branch);
    if (scaled) be.scale(branch, mixer_scale);
    be.add(branch, h);
    ffn_norm(be, h, normed);
    ffn->forward(ctx, normed, branch);
    if (scaled) be.scale(branch, mixer_scale);
    be.add(branch, h);
  } else {
    mixer->forward(ctx, h, branch);
    mixer_norm(be, branch, branch);
    be.add(branch, h);
    ffn->forward(ctx, h, branch);
    ffn_norm(be, branch, branch);
    be.add(branch, h);
  }
}

}  // namespace lossgap
