// Probe statistics (see summary.h): every statistic is a mean over instances (of per-instance
// means over queries), so each is a ratio statistic of stats/bootstrap.h with one cluster per
// instance and denominator 1.
#include "probes/summary.h"

#include "core/error.h"

namespace lossgap::probes {

CellSummary summarize(const CellScores& cell, const BootstrapOptions& opt) {
  CellSummary out;
  out.task = cell.task;
  out.distance = cell.distance;
  out.skipped_boundary = cell.skipped_boundary;
  out.skipped_length = cell.skipped_length;
  const size_t n_models = cell.by_model.size();
  LG_CHECK(n_models >= 1, "a probe cell without models");
  const size_t n = cell.by_model[0].size();
  for (const auto& m : cell.by_model) LG_CHECK(m.size() == n, "models scored different probe instances");
  out.n = static_cast<int64_t>(n);
  out.n_continuations = n ? static_cast<int64_t>(cell.by_model[0][0].queries.at(0).continuations.size()) : 0;
  out.n_queries = n ? static_cast<int64_t>(cell.by_model[0][0].queries.size()) : 0;
  out.chance = out.n_continuations ? 1.0 / static_cast<double>(out.n_continuations) : 0;

  // Per-instance values: [model][instance].
  std::vector<std::vector<double>> lp(n_models, std::vector<double>(n)), acc = lp;
  out.models.resize(n_models);
  for (size_t m = 0; m < n_models; ++m) {
    double dist = 0, tokens = 0;
    for (size_t i = 0; i < n; ++i) {
      const InstanceScore& s = cell.by_model[m][i];
      lp[m][i] = s.target_logprob();
      acc[m][i] = s.accuracy();
      dist += s.distance();
      tokens += s.target_tokens();
    }
    out.models[m].mean_distance = n ? dist / static_cast<double>(n) : 0;
    out.models[m].mean_target_tokens = n ? tokens / static_cast<double>(n) : 0;
  }

  // Statistics in order: per model lp, acc; then per model m >= 1: dlp, dacc.
  std::vector<RatioSums> stats;
  const auto add = [&](const std::vector<double>& v) {
    RatioSums r;
    r.num = v;
    r.den.assign(n, 1.0);
    stats.push_back(std::move(r));
  };
  for (size_t m = 0; m < n_models; ++m) {
    add(lp[m]);
    add(acc[m]);
  }
  for (size_t m = 1; m < n_models; ++m) {
    std::vector<double> d(n), da(n);
    for (size_t i = 0; i < n; ++i) {
      d[i] = lp[m][i] - lp[0][i];
      da[i] = acc[m][i] - acc[0][i];
    }
    add(d);
    add(da);
  }
  const std::vector<Interval> ci = cluster_bootstrap(stats, n, opt);
  const auto estimate = [&](size_t k) {
    double sum = 0;
    for (double v : stats[k].num) sum += v;
    Estimate e;
    e.value = n ? sum / static_cast<double>(n) : 0;
    e.ci = ci[k];
    return e;
  };
  for (size_t m = 0; m < n_models; ++m) {
    out.models[m].logprob = estimate(2 * m);
    out.models[m].accuracy = estimate(2 * m + 1);
    if (m >= 1) {
      out.models[m].delta_logprob = estimate(2 * n_models + 2 * (m - 1));
      out.models[m].delta_accuracy = estimate(2 * n_models + 2 * (m - 1) + 1);
    }
  }
  return out;
}

}  // namespace lossgap::probes
