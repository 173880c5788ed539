// Cluster bootstrap (bootstrap.h). Per resample: cluster weights w[g] = times drawn, then two
// dot products per statistic. Blocks of resamples run in parallel; each resample owns its
// generator.
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
  // Resamples go in blocks of kB, clusters in tiles of kT: the weights of one tile for one
  // block ([kT, kB] doubles, 256 KB) stay in cache while every statistic streams over the tile,
  // so the per-cluster sums are read R / kB times instead of R times. Sums run over clusters in
  // increasing order, as a plain loop would.
  constexpr size_t kB = 16, kT = 2048;
  std::vector<double> value(S * R, nan);  // [S, R]
  const size_t n_blocks = (R + kB - 1) / kB;
#pragma omp parallel
  {
    std::vector<double> w(G * kB);               // [G, kB] times cluster g is drawn in resample b
    std::vector<double> an(S * kB), ad(S * kB);  // [S, kB] resampled numerator / denominator
#pragma omp for schedule(dynamic, 1)
    for (int64_t bb = 0; bb < static_cast<int64_t>(n_blocks); ++bb) {
      const size_t r0 = static_cast<size_t>(bb) * kB, nb = std::min(kB, R - r0);
      std::fill(w.begin(), w.end(), 0.0);
      for (size_t b = 0; b < nb; ++b) {
        uint64_t seed_state = opt.seed ^ (0xd1b54a32d192ed03ULL * (r0 + b + 1));
        Rng rng(splitmix64(seed_state));
        for (size_t k = 0; k < G; ++k) w[rng.below(G) * kB + b] += 1.0;
      }
      std::fill(an.begin(), an.end(), 0.0);
      std::fill(ad.begin(), ad.end(), 0.0);
      for (size_t g0 = 0; g0 < G; g0 += kT) {
        const size_t g1 = std::min(G, g0 + kT);
        for (size_t s = 0; s < S; ++s) {
          const double* num = stats[s].num.data();
          const double* den = stats[s].den.data();
          double sn[kB] = {}, sd[kB] = {};
          for (size_t b = 0; b < kB; ++b) {
            sn[b] = an[s * kB + b];
            sd[b] = ad[s * kB + b];
          }
          for (size_t g = g0; g < g1; ++g) {
            const double n = num[g], d = den[g];
            if (n == 0 && d == 0) continue;  // the cluster holds nothing of this statistic
            const double* wg = &w[g * kB];
            for (size_t b = 0; b < kB; ++b) {
              sn[b] += wg[b] * n;
              sd[b] += wg[b] * d;
            }
          }
          for (size_t b = 0; b < kB; ++b) {
            an[s * kB + b] = sn[b];
            ad[s * kB + b] = sd[b];
          }
        }
      }
      for (size_t s = 0; s < S; ++s)
        for (size_t b = 0; b < nb; ++b)
          if (ad[s * kB + b] > 0) value[s * R + r0 + b] = an[s * kB + b] / ad[s * kB + b];
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
