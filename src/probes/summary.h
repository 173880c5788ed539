// Probe statistics per (task, distance) cell: per model the mean target log-probability and the
// accuracy (target beats every distractor), with percentile bootstrap CIs over instances (an
// instance's value is the mean over its queries, so the queries of one recall text, which share
// their text, are resampled together), and
// the paired difference of each model against the baseline (model 0) with its CI. Resampling
// is over instances (each instance one cluster of stats/bootstrap.h), with the same draws for
// every statistic of a cell, so differences are paired. Works on records: no model here.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "probes/evaluate.h"
#include "probes/generate.h"
#include "stats/bootstrap.h"

namespace lossgap::probes {

struct CellScores {
  Task task = Task::Pronoun;
  int64_t distance = 0;
  std::vector<std::vector<InstanceScore>> by_model;  // [n_models][n_instances], same instances
  int64_t skipped_boundary = 0;                      // instances dropped (any model)
  int64_t skipped_length = 0;
};

// One statistic with its interval (NaN bounds when there are no instances).
struct Estimate {
  double value = 0;
  Interval ci;
};

struct ModelCell {
  Estimate logprob;                 // mean over instances of the target's log-prob (nats)
  Estimate accuracy;                // share of queries whose target beats every distractor
  std::optional<Estimate> delta_logprob;  // this model's minus the baseline's (positive = better
                                          // than the baseline: NLL_baseline - NLL_model)
  std::optional<Estimate> delta_accuracy; // accuracy minus the baseline's
  double mean_distance = 0;         // mean query distance in this model's tokens
  double mean_target_tokens = 0;    // mean tokens of a target
};

struct CellSummary {
  Task task = Task::Pronoun;
  int64_t distance = 0;
  int64_t n = 0;               // instances
  int64_t n_continuations = 0; // target + distractors, per query
  int64_t n_queries = 0;       // queries per instance
  double chance = 0;           // accuracy of a uniform guess: 1 / n_continuations
  int64_t skipped_boundary = 0, skipped_length = 0;
  std::vector<ModelCell> models;  // [n_models]; deltas absent for model 0
};

// The cell's statistics. `opt` sets resamples, seed and level (all cells may share one seed).
CellSummary summarize(const CellScores& cell, const BootstrapOptions& opt);

}  // namespace lossgap::probes
