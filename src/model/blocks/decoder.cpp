// The decoder forward pass and scoring; see decoder.h.
#include "model/blocks/decoder.h"

#include "core/error.h"

namespace lossgap {

Buf Decoder::forward(Backend& be, std::span<const int32_t> ids) const {
  const int64_t T = static_cast<int64_t>(ids.size()), H = embed_tokens.view.shape[1];
  ForwardContext ctx(be, T);
  Buf h = be.alloc(T, H);  // [T, H] the residual stream
  be.embed(embed_tokens, ids, h);
  if (embedding_multiplier != 1) be.scale(h, embedding_multiplier);
  for (const DecoderLayer& layer : layers) layer.forward(ctx, h);
  return h;
}

void Decoder::head_scores(Backend& be, const Buf& x, std::span<const int32_t> targets,
                          std::span<TokenScore> out) const {
  Buf normed = be.alloc(x.rows(), x.cols());  // [n, H]
  final_norm(be, x, normed);
  if (logits_multiplier != 1) be.scale(normed, logits_multiplier);
  be.token_scores(normed, lm_head, targets, out);
}

std::vector<TokenScore> Decoder::score(Backend& be, std::span<const int32_t> ids,
                                       size_t first_target) const {
  const int64_t T = static_cast<int64_t>(ids.size());
  LG_CHECK(first_target >= 1 && static_cast<int64_t>(first_target) <= T, "first_target");
  std::vector<TokenScore> out(T - first_target);
  if (out.empty()) return out;
  const Buf h = forward(be, ids);  // [T, H]
  // Only positions first_target-1 .. T-2 predict a target.
  const int64_t n = static_cast<int64_t>(out.size());
  head_scores(be, h.row_range(static_cast<int64_t>(first_target) - 1, n), ids.subspan(first_target), out);
  return out;
}

std::vector<TokenScore> Decoder::score_queries(Backend& be, std::span<const int32_t> ids,
                                               std::span<const TokenQuery> queries) const {
  std::vector<TokenScore> out(queries.size());
  if (out.empty()) return out;
  const Buf h = forward(be, ids);  // [T, H]
  std::vector<int32_t> rows, targets;
  for (const TokenQuery& q : queries) {
    LG_CHECK(q.position >= 1 && q.position <= ids.size(), "score_queries: position");
    rows.push_back(static_cast<int32_t>(q.position - 1));
    targets.push_back(q.id);
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  Buf x = be.alloc(n, h.cols());  // [n, H] the states that predict each query's token
  be.gather_rows(h, rows, x);
  head_scores(be, x, targets, out);
  return out;
}

}  // namespace lossgap
