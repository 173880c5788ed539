// OLS with CR1 cluster-robust errors (ols.h). Three passes over the rows:
//   1. means of y and x;  2. centred cross-products X~'X~, X~'y~;  3. residuals and per-cluster
//   scores u_g = sum x_i e_i (with the intercept column).
// With centred regressors the bread of the design Z = [1, X~] is block diagonal
// ([[n, 0], [0, X~'X~]]); the result is mapped back to the uncentred coefficients by
// b = A g, V_b = A V_g A', A = [[1, -mean'], [0, I]].
#include "stats/ols.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.h"

namespace lossgap {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kAliasTol = 1e-10;
constexpr uint64_t kBlockRows = 1 << 16;

// Clusters grouped into blocks of about kBlockRows rows: [cluster index ranges).
std::vector<size_t> make_blocks(std::span<const uint64_t> cb) {
  std::vector<size_t> blocks = {0};
  const size_t G = cb.size() - 1;
  for (size_t g = 0; g < G; ++g)
    if (cb[g + 1] - cb[blocks.back()] >= kBlockRows) blocks.push_back(g + 1);
  if (blocks.back() != G) blocks.push_back(G);
  return blocks;
}

// Inverse of the symmetric positive definite m x m matrix a (row-major) by Cholesky.
std::vector<double> spd_inverse(const std::vector<double>& a, size_t m) {
  std::vector<double> L(m * m, 0.0);
  for (size_t j = 0; j < m; ++j) {
    double d = a[j * m + j];
    for (size_t k = 0; k < j; ++k) d -= L[j * m + k] * L[j * m + k];
    LG_CHECK(d > 0, "matrix not positive definite after alias removal");
    L[j * m + j] = std::sqrt(d);
    for (size_t i = j + 1; i < m; ++i) {
      double s = a[i * m + j];
      for (size_t k = 0; k < j; ++k) s -= L[i * m + k] * L[j * m + k];
      L[i * m + j] = s / L[j * m + j];
    }
  }
  // inv = L^-T L^-1: solve column by column.
  std::vector<double> inv(m * m, 0.0), col(m);
  for (size_t c = 0; c < m; ++c) {
    for (size_t i = 0; i < m; ++i) {  // L y = e_c
      double s = i == c ? 1.0 : 0.0;
      for (size_t k = 0; k < i; ++k) s -= L[i * m + k] * col[k];
      col[i] = s / L[i * m + i];
    }
    for (size_t ii = m; ii-- > 0;) {  // L' x = y
      double s = col[ii];
      for (size_t k = ii + 1; k < m; ++k) s -= L[k * m + ii] * col[k];
      col[ii] = s / L[ii * m + ii];
    }
    for (size_t i = 0; i < m; ++i) inv[i * m + c] = col[i];
  }
  return inv;
}

}  // namespace

OlsResult ols_cluster(std::span<const std::string> names, std::span<const uint64_t> cb,
                      const OlsRowFn& row) {
  LG_CHECK(!cb.empty(), "cluster offsets need at least one entry");
  const size_t k = names.size(), K = k + 1;
  const std::vector<size_t> blocks = make_blocks(cb);
  const size_t nb = blocks.size() - 1;
  // The first row with a non-finite value, reported after the parallel loop (an exception
  // cannot leave it).
  uint64_t bad_row = UINT64_MAX;

  // Pass 1: counts and sums per block.
  std::vector<double> sums(nb * (K + 1), 0.0);  // [nb, 1 + k + 1]: n, sum x, sum y
  std::vector<uint64_t> clusters_used(nb, 0);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t bb = 0; bb < static_cast<int64_t>(nb); ++bb) {
    double* s = &sums[static_cast<size_t>(bb) * (K + 1)];
    std::vector<double> x(k);
    for (size_t g = blocks[bb]; g < blocks[bb + 1]; ++g) {
      bool used = false;
      for (uint64_t i = cb[g]; i < cb[g + 1]; ++i) {
        double y = 0;
        if (!row(i, x.data(), y)) continue;
        used = true;
        s[0] += 1;
        bool finite = std::isfinite(y);
        for (size_t j = 0; j < k; ++j) {
          finite = finite && std::isfinite(x[j]);
          s[1 + j] += x[j];
        }
        if (!finite) {
#pragma omp critical(lossgap_ols_bad_row)
          bad_row = std::min<uint64_t>(bad_row, i);
        }
        s[K] += y;
      }
      clusters_used[bb] += used ? 1 : 0;
    }
  }
  if (bad_row != UINT64_MAX)
    throw InputError("regression", "row " + std::to_string(bad_row) + " has a non-finite value");
  std::vector<double> tot(K + 1, 0.0);
  uint64_t n_clusters = 0;
  for (size_t b = 0; b < nb; ++b) {
    for (size_t j = 0; j <= K; ++j) tot[j] += sums[b * (K + 1) + j];
    n_clusters += clusters_used[b];
  }
  const double n = tot[0];
  if (n < 1) throw InputError("regression", "no rows to fit");
  std::vector<double> mean(k);
  for (size_t j = 0; j < k; ++j) mean[j] = tot[1 + j] / n;
  const double ybar = tot[K] / n;

  // Pass 2: centred cross-products per block.
  std::vector<double> xtx_b(nb * k * k, 0.0), xty_b(nb * k, 0.0);
  std::vector<double> yy_b(nb, 0.0);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t bb = 0; bb < static_cast<int64_t>(nb); ++bb) {
    const auto b = static_cast<size_t>(bb);
    double* xtx = &xtx_b[b * k * k];
    double* xty = &xty_b[b * k];
    std::vector<double> x(k);
    for (uint64_t i = cb[blocks[b]]; i < cb[blocks[b + 1]]; ++i) {
      double y = 0;
      if (!row(i, x.data(), y)) continue;
      for (size_t j = 0; j < k; ++j) x[j] -= mean[j];
      y -= ybar;
      yy_b[b] += y * y;
      for (size_t j = 0; j < k; ++j) {
        const double xj = x[j];
        xty[j] += xj * y;
        double* rowp = xtx + j * k;
        for (size_t l = j; l < k; ++l) rowp[l] += xj * x[l];
      }
    }
  }
  std::vector<double> xtx(k * k, 0.0), xty(k, 0.0);
  double yy = 0;
  for (size_t b = 0; b < nb; ++b) {
    for (size_t q = 0; q < k * k; ++q) xtx[q] += xtx_b[b * k * k + q];
    for (size_t j = 0; j < k; ++j) xty[j] += xty_b[b * k + j];
    yy += yy_b[b];
  }
  for (size_t j = 0; j < k; ++j)
    for (size_t l = 0; l < j; ++l) xtx[j * k + l] = xtx[l * k + j];

  // Aliased columns: sequential Cholesky of the correlation-scaled matrix; a pivot below
  // kAliasTol means the column is (numerically) a combination of the kept earlier ones.
  std::vector<double> scale(k, 0.0);
  for (size_t j = 0; j < k; ++j) scale[j] = xtx[j * k + j] > 0 ? 1.0 / std::sqrt(xtx[j * k + j]) : 0.0;
  std::vector<size_t> keep;
  {
    std::vector<double> L(k * k, 0.0);
    for (size_t j = 0; j < k; ++j) {
      if (scale[j] == 0) continue;  // constant column: aliased with the intercept
      double d = 1.0;
      for (size_t kk : keep) d -= L[j * k + kk] * L[j * k + kk];
      if (d < kAliasTol) continue;
      const double ljj = std::sqrt(d);
      L[j * k + j] = ljj;
      for (size_t i = j + 1; i < k; ++i) {
        double s = xtx[i * k + j] * scale[i] * scale[j];
        for (size_t kk : keep) s -= L[i * k + kk] * L[j * k + kk];
        L[i * k + j] = s / ljj;
      }
      keep.push_back(j);
    }
  }
  const size_t m = keep.size();
  const size_t rank = m + 1;
  if (n <= static_cast<double>(rank)) throw InputError("regression", "fewer rows than coefficients");
  if (n_clusters < 2) throw InputError("regression", "clustered errors need at least 2 clusters, got " + std::to_string(n_clusters));

  // Solve the kept system in scaled coordinates: (S X~'X~ S) h = S X~'y, g = S h.
  std::vector<double> a(m * m);
  for (size_t p = 0; p < m; ++p)
    for (size_t q = 0; q < m; ++q) a[p * m + q] = xtx[keep[p] * k + keep[q]] * scale[keep[p]] * scale[keep[q]];
  const std::vector<double> ainv = spd_inverse(a, m);  // (S X~'X~ S)^-1
  std::vector<double> gam(m, 0.0);                     // slopes of the kept columns
  for (size_t p = 0; p < m; ++p) {
    double s = 0;
    for (size_t q = 0; q < m; ++q) s += ainv[p * m + q] * xty[keep[q]] * scale[keep[q]];
    gam[p] = s * scale[keep[p]];
  }

  // Pass 3: residuals and per-cluster scores in the centred design [1, X~_kept].
  const size_t mk = m + 1;
  std::vector<double> meat_b(nb * mk * mk, 0.0), rss_b(nb, 0.0);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t bb = 0; bb < static_cast<int64_t>(nb); ++bb) {
    const auto b = static_cast<size_t>(bb);
    double* meat = &meat_b[b * mk * mk];
    std::vector<double> x(k), u(mk);
    for (size_t g = blocks[b]; g < blocks[b + 1]; ++g) {
      std::fill(u.begin(), u.end(), 0.0);
      for (uint64_t i = cb[g]; i < cb[g + 1]; ++i) {
        double y = 0;
        if (!row(i, x.data(), y)) continue;
        double e = y - ybar;
        for (size_t p = 0; p < m; ++p) e -= gam[p] * (x[keep[p]] - mean[keep[p]]);
        rss_b[b] += e * e;
        u[0] += e;
        for (size_t p = 0; p < m; ++p) u[1 + p] += (x[keep[p]] - mean[keep[p]]) * e;
      }
      for (size_t p = 0; p < mk; ++p)
        for (size_t q = 0; q < mk; ++q) meat[p * mk + q] += u[p] * u[q];
    }
  }
  std::vector<double> meat(mk * mk, 0.0);
  double rss = 0;
  for (size_t b = 0; b < nb; ++b) {
    for (size_t q = 0; q < mk * mk; ++q) meat[q] += meat_b[b * mk * mk + q];
    rss += rss_b[b];
  }

  // Bread of [1, X~_kept]: diag(1/n, S ainv S).
  std::vector<double> bread(mk * mk, 0.0);
  bread[0] = 1.0 / n;
  for (size_t p = 0; p < m; ++p)
    for (size_t q = 0; q < m; ++q)
      bread[(1 + p) * mk + 1 + q] = ainv[p * m + q] * scale[keep[p]] * scale[keep[q]];
  const double Gd = static_cast<double>(n_clusters);
  const double c = Gd / (Gd - 1.0) * (n - 1.0) / (n - static_cast<double>(rank));
  auto matmul = [&](const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> z(mk * mk, 0.0);
    for (size_t i = 0; i < mk; ++i)
      for (size_t l = 0; l < mk; ++l)
        for (size_t j = 0; j < mk; ++j) z[i * mk + j] += x[i * mk + l] * y[l * mk + j];
    return z;
  };
  std::vector<double> vg = matmul(matmul(bread, meat), bread);
  for (double& v : vg) v *= c;
  // Back to the uncentred intercept: A = [[1, -mean_kept'], [0, I]].
  std::vector<double> A(mk * mk, 0.0);
  for (size_t p = 0; p < mk; ++p) A[p * mk + p] = 1.0;
  for (size_t p = 0; p < m; ++p) A[1 + p] = -mean[keep[p]];
  std::vector<double> At(mk * mk);
  for (size_t i = 0; i < mk; ++i)
    for (size_t j = 0; j < mk; ++j) At[i * mk + j] = A[j * mk + i];
  const std::vector<double> vb = matmul(matmul(A, vg), At);

  OlsResult res;
  res.names.push_back("(Intercept)");
  res.names.insert(res.names.end(), names.begin(), names.end());
  res.coef.assign(K, kNaN);
  res.se.assign(K, kNaN);
  res.aliased.assign(K, true);
  res.vcov.assign(K * K, kNaN);
  std::vector<size_t> col(mk);  // kept position -> output column
  col[0] = 0;
  for (size_t p = 0; p < m; ++p) col[1 + p] = 1 + keep[p];
  double b0 = ybar;
  for (size_t p = 0; p < m; ++p) b0 -= gam[p] * mean[keep[p]];
  res.coef[0] = b0;
  for (size_t p = 0; p < m; ++p) res.coef[1 + keep[p]] = gam[p];
  for (size_t p = 0; p < mk; ++p) {
    res.aliased[col[p]] = false;
    for (size_t q = 0; q < mk; ++q) res.vcov[col[p] * K + col[q]] = vb[p * mk + q];
    res.se[col[p]] = std::sqrt(vb[p * mk + p]);
  }
  res.n_obs = static_cast<uint64_t>(n);
  res.n_clusters = n_clusters;
  res.rank = rank;
  res.r_squared = yy > 0 ? 1.0 - rss / yy : kNaN;
  return res;
}

}  // namespace lossgap
