// Paired category statistics and filtered losses (compare.h): one pass per category over its
// member bits collects per-document sums, then one shared cluster bootstrap.
#include "stats/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"

namespace lossgap {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
double ratio(double num, double den) { return den > 0 ? num / den : kNaN; }
}  // namespace

std::vector<uint32_t> token_new_bytes(const Records& r) {
  std::vector<uint32_t> out(r.n_tokens(), 0);
  for (size_t d = 0; d < r.n_docs(); ++d) {
    uint32_t covered_to = 0;
    for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) {
      const uint32_t from = std::max(r.byte_begin[i], covered_to);
      out[i] = r.byte_end[i] > from ? r.byte_end[i] - from : 0;
      covered_to = std::max(covered_to, r.byte_end[i]);
    }
  }
  return out;
}

std::vector<CategoryRow> compare_categories(const Records& r, size_t model_a, size_t model_b,
                                            std::span<const Category> cats,
                                            const BootstrapOptions& opt) {
  LG_CHECK(model_a < r.n_models() && model_b < r.n_models(), "model index out of range");
  const size_t C = cats.size(), G = r.n_docs(), N = r.n_tokens();
  for (const auto& c : cats) LG_CHECK(c.members.size() == N, "category '" + c.name + "' has another size");
  const std::vector<uint32_t> nb = token_new_bytes(r);
  const float* A = r.nll[model_a].data();
  const float* B = r.nll[model_b].data();
  double total_delta = 0;
  for (size_t i = 0; i < N; ++i)
    if (std::isfinite(A[i]) && std::isfinite(B[i])) total_delta += static_cast<double>(A[i]) - B[i];

  std::vector<CategoryRow> rows(C);
  std::vector<RatioSums> stats(2 * C);  // [C, 2]: (mean Δ, win rate) per category
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t cc = 0; cc < static_cast<int64_t>(C); ++cc) {
    const auto c = static_cast<size_t>(cc);
    RatioSums& sd = stats[2 * c];
    RatioSums& sw = stats[2 * c + 1];
    sd.num.assign(G, 0);
    sd.den.assign(G, 0);
    sw.num.assign(G, 0);
    CategoryRow& row = rows[c];
    row.name = cats[c].name;
    double sum_a = 0, sum_b = 0, sum_d = 0, wins = 0;
    for (size_t g = 0; g < G; ++g) {
      double n = 0, s = 0, w = 0;
      cats[c].members.for_each(r.doc_begin[g], r.doc_begin[g + 1], [&](size_t i) {
        if (!std::isfinite(A[i]) || !std::isfinite(B[i])) return;
        const double a = A[i], b = B[i];
        n += 1;
        s += a - b;
        w += b < a ? 1.0 : 0.0;
        sum_a += a;
        sum_b += b;
        row.bytes += nb[i];
      });
      sd.num[g] = s;
      sd.den[g] = n;
      sw.num[g] = w;
      row.tokens += static_cast<uint64_t>(n);
      row.documents += n > 0 ? 1 : 0;
      sum_d += s;
      wins += w;
    }
    sw.den = sd.den;
    const auto n = static_cast<double>(row.tokens);
    row.nll_a = ratio(sum_a, n);
    row.nll_b = ratio(sum_b, n);
    row.delta = ratio(sum_d, n);
    row.win_rate = ratio(wins, n);
    row.share = total_delta != 0 ? sum_d / total_delta : kNaN;
    const double bits = static_cast<double>(row.bytes) * std::numbers::ln2;
    row.bpb_a = ratio(sum_a, bits);
    row.bpb_b = ratio(sum_b, bits);
  }
  const std::vector<Interval> ci = cluster_bootstrap(stats, G, opt);
  for (size_t c = 0; c < C; ++c) {
    rows[c].delta_ci = ci[2 * c];
    rows[c].win_ci = ci[2 * c + 1];
  }
  return rows;
}

std::vector<LossRow> filtered_losses(const Records& r, std::span<const Category> filters,
                                     const BootstrapOptions& opt) {
  const size_t M = r.n_models(), F = filters.size(), G = r.n_docs(), N = r.n_tokens();
  for (const auto& f : filters) LG_CHECK(f.members.size() == N, "filter '" + f.name + "' has another size");
  const std::vector<uint32_t> nb = token_new_bytes(r);
  std::vector<LossRow> rows(M * F);
  std::vector<RatioSums> stats(M * F);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t kk = 0; kk < static_cast<int64_t>(M * F); ++kk) {
    const auto k = static_cast<size_t>(kk);
    const size_t m = k / F, f = k % F;
    const float* L = r.nll[m].data();
    RatioSums& s = stats[k];
    s.num.assign(G, 0);
    s.den.assign(G, 0);
    uint64_t bytes = 0;
    double total = 0;
    for (size_t g = 0; g < G; ++g) {
      filters[f].members.for_each(r.doc_begin[g], r.doc_begin[g + 1], [&](size_t i) {
        if (!std::isfinite(L[i])) return;
        s.num[g] += L[i];
        s.den[g] += 1;
        bytes += nb[i];
      });
      total += s.num[g];
      rows[k].tokens += static_cast<uint64_t>(s.den[g]);
    }
    rows[k].model = r.model[m];
    rows[k].filter = filters[f].name;
    rows[k].mean_nll = ratio(total, static_cast<double>(rows[k].tokens));
    rows[k].bpb = ratio(total, static_cast<double>(bytes) * std::numbers::ln2);
  }
  const std::vector<Interval> ci = cluster_bootstrap(stats, G, opt);
  for (size_t k = 0; k < M * F; ++k) rows[k].ci = ci[k];
  return rows;
}

}  // namespace lossgap
