// Document-clustered bootstrap of ratio statistics (sum of a numerator over sum of a denominator,
// e.g. a mean over tokens), computed from per-cluster sums so one resample costs O(clusters),
// not O(tokens). Percentile intervals. Also the seeded random generator it draws with.
// Not a general resampling library: one scheme (resample clusters with replacement, same draws
// for every statistic), one interval (percentile, R's quantile type 7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lossgap {

// xoshiro256** (Blackman & Vigna), seeded through splitmix64: the same stream on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  // Uniform on [0, n), n >= 1, without modulo bias (Lemire's multiply-and-reject).
  uint64_t below(uint64_t n);

 private:
  uint64_t s_[4];
};

struct BootstrapOptions {
  uint32_t resamples = 1000;
  uint64_t seed = 20260611;
  double level = 0.95;  // the interval is the [(1-level)/2, (1+level)/2] percentile range
};

// One ratio statistic: cluster g contributes num[g] / den[g] (den >= 0); the statistic is
// sum(num) / sum(den).
struct RatioSums {
  std::vector<double> num;  // [G]
  std::vector<double> den;  // [G]
};

struct Interval {
  double lo = 0, hi = 0;
  // Resamples in which the statistic was defined (sum of den > 0); the interval uses these.
  uint32_t valid = 0;
};

// Percentile bootstrap intervals of every statistic: each resample draws G clusters uniformly
// with replacement (resample r uses Rng(mix(seed, r)), so results do not depend on threads),
// and all statistics share the draws. An interval with valid == 0 is NaN.
std::vector<Interval> cluster_bootstrap(std::span<const RatioSums> stats, size_t n_clusters,
                                        const BootstrapOptions& opt);

// The p-quantile of sorted values by linear interpolation (R's type 7): x[h] with
// h = (n-1)p interpolated. Requires a non-empty, sorted input.
double quantile_sorted(std::span<const double> sorted, double p);

}  // namespace lossgap
