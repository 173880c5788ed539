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
  if (residual == ResidualTemplate::PreNorm) {
    Buf normed = be.alloc(T, H);  // [T, H]
    mixer_norm(be, h, normed);
    mixer->forward(ctx, normed, branch);
    be.add(branch, h);
    ffn_norm(be, h, normed);
    ffn->forward(ctx, normed, branch);
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
