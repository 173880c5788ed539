// A decoder-only language model as lossgap runs it: token embedding, a list of decoder layers
// (each built from shared blocks for its layer kind), final RMSNorm, and the scoring head over
// all lm_head rows. Shared by every architecture module; knows no family and no device.
#pragma once

#include <span>
#include <vector>

#include "model/blocks/layer.h"
#include "model/model.h"

namespace lossgap {

struct Decoder {
  Weight embed_tokens;  // [V, H]
  std::vector<DecoderLayer> layers;
  RmsNorm final_norm;   // [H]
  Weight lm_head;       // [V, H] (the embedding when tied)
  // falcon_h1 / granitemoehybrid: embeddings times embedding_multiplier; logits times
  // logits_multiplier (falcon_h1's lm_head_multiplier, granite's 1 / logits_scaling), applied to
  // the final-normed states (the head is linear).
  float embedding_multiplier = 1;
  float logits_multiplier = 1;

  // Model::score's contract: records for targets ids[first_target..n), each predicted from the
  // logits at the previous position. Ids must be in [0, V) and 1 <= first_target <= n (checked
  // by the caller).
  std::vector<TokenScore> score(Backend& be, std::span<const int32_t> ids, size_t first_target) const;

  // Model::score_queries's contract, in one forward pass over ids (ids and query ids in
  // [0, V), 1 <= position <= n, checked by the caller).
  std::vector<TokenScore> score_queries(Backend& be, std::span<const int32_t> ids,
                                        std::span<const TokenQuery> queries) const;

 private:
  // The residual stream after the last layer: [T, H].
  Buf forward(Backend& be, std::span<const int32_t> ids) const;
  // Scores targets from final-layer states x [n, H] (final norm, multiplier, scoring head).
  void head_scores(Backend& be, const Buf& x, std::span<const int32_t> targets, std::span<TokenScore> out) const;
};

}  // namespace lossgap
