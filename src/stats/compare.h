// Paired comparison of two models over token categories (DESIGN.md "Comparison and
// statistics"): per category tokens, documents, mean NLL of each model, mean gap
// Δ = NLL_A − NLL_B with a document-clustered bootstrap CI, win rate P(NLL_B < NLL_A) with CI,
// share of the total gap, bits per byte; and per-model filtered losses (ALL, CONTENT ∩ NO-COPY,
// COPY-5, or any masks). Reads Records and masks only. Not the regression (ols.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "stats/bootstrap.h"
#include "tags/record.h"

namespace lossgap {

// Bytes each token adds to the text: byte_end - max(byte_begin, the largest byte_end of the
// earlier tokens of its document), at least 0. Summing it over a document's tokens gives the
// bytes they cover even when spans overlap (byte-level pieces of one character). [N]
std::vector<uint32_t> token_new_bytes(const Records& r);

struct CategoryRow {
  std::string name;
  uint64_t tokens = 0;     // targets of both models in the category
  uint64_t documents = 0;  // documents holding at least one of them
  uint64_t bytes = 0;      // sum of token_new_bytes over them
  double nll_a = 0, nll_b = 0;  // mean NLL (nats per token)
  double delta = 0;             // mean Δ (nats per token), positive = B better
  Interval delta_ci;
  double win_rate = 0;  // fraction with NLL_B < NLL_A (ties are not wins)
  Interval win_ci;
  double share = 0;  // sum of Δ in the category / sum of Δ over all targets
  double bpb_a = 0, bpb_b = 0;  // sum NLL / ln 2 / bytes (NaN when bytes == 0)
};

// One row per category, in the order given; targets are the tokens where both models have a
// finite NLL. Bootstrap: documents are the clusters; all categories share the draws. A category
// with no target gets zero counts and NaN means.
std::vector<CategoryRow> compare_categories(const Records& r, size_t model_a, size_t model_b,
                                            std::span<const Category> categories,
                                            const BootstrapOptions& opt);

struct LossRow {
  std::string model;
  std::string filter;
  uint64_t tokens = 0;  // tokens of the filter with a finite NLL for this model
  double mean_nll = 0;
  Interval ci;       // document-clustered bootstrap
  double bpb = 0;    // bits per byte over those tokens
};

// Filtered token losses (the study's pretraining diagnostic): for every model and every filter,
// the mean NLL over the filter's tokens that the model scored. Rows are model-major.
std::vector<LossRow> filtered_losses(const Records& r, std::span<const Category> filters,
                                     const BootstrapOptions& opt);

}  // namespace lossgap
