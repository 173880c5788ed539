// What the CPU benchmarks share: medians of repeated timings, the same-run cblas_sgemm rate that
// every figure is reported against, peak resident memory, and comma lists on the command line.
// Header-only for the bench/*.cpp executables. Not a benchmark framework.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <cblas.h>
#include <sys/resource.h>

namespace lossgap::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median wall seconds of `runs` calls of f, after one warm-up call.
template <class F>
double median_seconds(int runs, F&& f) {
  using Clock = std::chrono::steady_clock;
  f();
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return median(t);
}

// cblas_sgemm FLOP/s for C[M, N] = A[M, K] B[N, K]^T (the layout of our linear layers).
inline double sgemm_flops(int M, int N, int K, int runs) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> A(size_t(M) * K), B(size_t(N) * K), C(size_t(M) * N);
  for (float& x : A) x = d(rng);
  for (float& x : B) x = d(rng);
  const double s = median_seconds(runs, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A.data(), K, B.data(), K,
                0.0f, C.data(), N);
  });
  return 2.0 * M * N * K / s;
}

inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

// "a,b,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

}  // namespace lossgap::bench
