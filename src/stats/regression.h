// The study's "Analysis II": OLS of the per-token gap Δ = NLL_A − NLL_B on category indicators
// with the controls of DESIGN.md, standard errors clustered by document (ols.h). Controls, in
// this column order after the indicators:
//   difficulty      (NLL_A + NLL_B) / 2
//   log_freq        ln(count of the token id in the records)         (ContextTags::token_count)
//   log_pos         ln(1 + position)
//   continuation    1 for a word-continuation piece (only when the mask is given)
//   local_reuse     ln(1 + earlier occurrences of the token id in the visible window)
//   log_prev_dist   ln(distance to the previous occurrence of the token id in the window), 0 when
//                   there is none (then local_reuse is 0 too)
// Rows: the targets of both models. Not the per-category means (compare.h).
#pragma once

#include <span>

#include "stats/ols.h"
#include "tags/context.h"
#include "tags/copy.h"
#include "tags/record.h"

namespace lossgap {

struct RegressionInputs {
  std::span<const Category> indicators;     // one 0/1 column each, named by the category
  const CopyTags& copy;
  const ContextTags& context;
  const TokenMask* continuation = nullptr;  // word-continuation pieces (pos tagger), optional
};

OlsResult gap_regression(const Records& r, size_t model_a, size_t model_b, const RegressionInputs& in);

}  // namespace lossgap
