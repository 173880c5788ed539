// Ordinary least squares with an intercept and cluster-robust (CR1, Stata's small-sample
// adjusted) standard errors, streaming over rows so that 10^7 rows need O(k^2) memory.
// Matches R's lm() + sandwich::vcovCL(type = "HC1", cadjust = TRUE). Not a general linear
// model library: no weights, no factors, no formula parsing.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace lossgap {

struct OlsResult {
  std::vector<std::string> names;  // "(Intercept)" then the regressors, [k + 1]
  std::vector<double> coef;        // [k + 1], NaN for aliased regressors
  std::vector<double> se;          // [k + 1] CR1 standard errors, NaN for aliased
  std::vector<bool> aliased;       // [k + 1] a linear combination of earlier columns (dropped)
  std::vector<double> vcov;        // [k + 1, k + 1] CR1 covariance (NaN rows/cols for aliased)
  uint64_t n_obs = 0;              // rows used
  uint64_t n_clusters = 0;         // clusters with at least one row used
  size_t rank = 0;                 // columns kept, intercept included
  double r_squared = 0;
};

// Fills x[0..k) with row `row`'s regressors and y with its response; returns false to leave
// the row out. Called three times per row, concurrently from several threads (it must only read
// shared state), and must give the same answer each time.
using OlsRowFn = std::function<bool(size_t row, double* x, double& y)>;

// Fits y = b0 + x'b by least squares over rows [cluster_begin[0], cluster_begin[G]) where
// rows [cluster_begin[g], cluster_begin[g+1]) form cluster g. Variance:
//   V = c (X'X)^-1 (sum_g u_g u_g') (X'X)^-1,  u_g = sum_{i in g} x_i e_i,
//   c = G/(G-1) * (n-1)/(n-rank).
// Regressors are centred (and scaled) before the normal equations are solved by Cholesky;
// a column whose scaled pivot falls below 1e-10 is aliased and dropped (R's lm() uses a QR
// tolerance of 1e-7 on the same quantity's square root). Rows are processed in fixed blocks,
// in parallel, summed in a fixed order: the result does not depend on threads.
// Throws InputError("regression", ...) when fewer than rank + 1 rows or fewer than 2 clusters
// are left, or a row gives a non-finite value.
OlsResult ols_cluster(std::span<const std::string> names, std::span<const uint64_t> cluster_begin,
                      const OlsRowFn& row);

}  // namespace lossgap
