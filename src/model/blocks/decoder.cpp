// The decoder forward pass and scoring; see decoder.h.
#include "model/blocks/decoder.h"

#include "core/error.h"

namespace lossgap {

std::vector<TokenScore> Decoder::score(Backend& be, std::span<const int32_t> ids,
                                       size_t first_target) const {
  const int64_t T = static_cast<int64_t>(ids.size()), H = embed_tokens.view.shape[1];
  LG_CHECK(first_target >= 1 && static_cast<int64_t>(first_target) <= T, "first_target");
  std::vector<TokenScore> out(T - first_target);
  if (out.empty()) return out;
  ForwardContext ctx(be, T);
  Buf h = be.alloc(T, H);  // [T, H] the residual stream
  be.embed(embed_tokens, ids, h);
  if (embedding_multiplier != 1) be.scale(h, embedding_multiplier);
  for (const DecoderLayer& layer : layers) layer.forward(ctx, h);
  // Only positions first_target-1 .. T-2 predict a target.
  const int64_t n = static_cast<int64_t>(out.size());
  Buf last = h.row_range(static_cast<int64_t>(first_target) - 1, n);  // [n, H]
  Buf normed = be.alloc(n, H);                                         // [n, H]
  final_norm(be, last, normed);
  if (logits_multiplier != 1) be.scale(normed, logits_multiplier);
  be.token_scores(normed, lm_head, ids.subspan(first_target), out);
  return out;
}

}  // namespace lossgap
