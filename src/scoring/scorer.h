// Scoring one tokenized document with one model under a resolved policy: runs the planned
// windows through Model::score and gathers one record per target token. Not the planner
// (policy.h), not tokenization (the caller encodes with add_special_tokens = false), not storage.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "model/model.h"
#include "scoring/policy.h"

namespace lossgap {

// One scored target token.
struct TargetRecord {
  uint32_t pos = 0;       // index of the token among the document's tokens (BOS excluded)
  int32_t token_id = 0;
  uint32_t start = 0;     // byte span [start, end) in the document's text
  uint32_t end = 0;
  TokenScore score;
};

struct DocumentScores {
  size_t n_tokens = 0;   // document tokens (BOS excluded)
  size_t n_windows = 0;
  std::vector<TargetRecord> targets;  // ascending pos, each target once
};

// Scores the document ids (with their byte offsets) window by window. `stop`, when given, is
// asked before each window; if it returns true, nullopt is returned and nothing is kept.
// Throws InputError naming config.json when a token id (the BOS included) is outside the
// model's vocabulary (config().vocab_size): the tokenizer does not belong to the model.
std::optional<DocumentScores> score_document(const Model& model, std::span<const int32_t> ids,
                                             std::span<const std::pair<uint32_t, uint32_t>> offsets,
                                             const ResolvedPolicy& policy,
                                             const std::function<bool()>& stop = {});

}  // namespace lossgap
