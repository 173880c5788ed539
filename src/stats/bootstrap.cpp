// Cluster bootstrap (bootstrap.h). Per resample: cluster weights w[g] = times drawn, then two
// dot products per statistic. Resamples run in parallel; each owns its generator.
#include "stats/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace lossgap {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

__extension__ typedef unsigned __int128 u128;  // GCC/Clang; -Wpedantic-clean

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  LG_CHECK(n >= 1, "empty range");
  u128 m = static_cast<u128>(next()) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<u128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double quantile_sorted(std::span<const double> x, double p) {
  LG_CHECK(!x.empty(), "quantile of nothing");
  const double h = static_cast<double>(x.size() - 1) * p;
  const auto lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= x.size()) return x.back();
  return x[lo] + (h - static_cast<double>(lo)) * (x[lo + 1] - x[lo]);
}

std::vector<Interval> cluster_bootstrap(std::span<const RatioSums> stats, size_t G,
                                        const BootstrapOptions& opt) {
  for (const auto& s : stats) LG_CHECK(s.num.size() == G && s.den.size() == G, "per-cluster sums");
  const size_t S = stats.size(), R = opt.resamples;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Interval> out(S, Interval{nan, nan, 0});
  if (G == 0 || R == 0 || S == 0) return out;
  std::vector<double> value(S * R, nan);  // [S, R]
#pragma omp parallel
  {
    std::vector<double> w(G);  // [G] times each cluster is drawn
#pragma omp for schedule(dynamic, 8)
    for (int64_t rr = 0; rr < static_cast<int64_t>(R); ++rr) {
      const auto r = static_cast<size_t>(rr);
      uint64_t seed_state = opt.seed ^ (0xd1b54a32d192ed03ULL * (r + 1));
      Rng rng(splitmix64(seed_state));
      std::fill(w.begin(), w.end(), 0.0);
      for (size_t k = 0; k < G; ++k) w[rng.below(G)] += 1.0;
      for (size_t s = 0; s < S; ++s) {
        const double* num = stats[s].num.data();
        const double* den = stats[s].den.data();
        double sn = 0, sd = 0;
        for (size_t g = 0; g < G; ++g) {
          sn += w[g] * num[g];
          sd += w[g] * den[g];
        }
        if (sd > 0) value[s * R + r] = sn / sd;
      }
    }
  }
  const double alpha = (1.0 - opt.level) / 2.0;
  for (size_t s = 0; s < S; ++s) {
    std::vector<double> v;
    v.reserve(R);
    for (size_t r = 0; r < R; ++r)
      if (!std::isnan(value[s * R + r])) v.push_back(value[s * R + r]);
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    out[s] = Interval{quantile_sorted(v, alpha), quantile_sorted(v, 1.0 - alpha), static_cast<uint32_t>(v.size())};
  }
  return out;
}

}  // namespace lossgap
