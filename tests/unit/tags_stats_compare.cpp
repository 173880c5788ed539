// Tests of the paired statistics: per-category sums against a direct loop, the document-
// clustered bootstrap against closed forms (constant gap per document, one dominating
// document, two documents enumerable by hand, the normal approximation), filtered losses,
// bits per byte with overlapping spans, and the gap regression's columns.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "stats/bootstrap.h"
#include "stats/categories.h"
#include "stats/compare.h"
#include "stats/regression.h"

namespace lossgap {
namespace {

// Documents of the given sizes; each token 2 bytes; NLLs from `fill(doc, token, model)`.
template <class F>
Records make_records(const std::vector<size_t>& sizes, F&& fill) {
  Records r;
  r.model = {"A", "B"};
  r.nll.resize(2);
  for (size_t d = 0; d < sizes.size(); ++d) {
    r.begin_document("doc" + std::to_string(d), d % 2 ? "python" : "books", std::string(2 * sizes[d], 'x'));
    for (size_t k = 0; k < sizes[d]; ++k) {
      r.token.push_back(static_cast<int32_t>((d * 7 + k * 3) % 11));
      r.byte_begin.push_back(static_cast<uint32_t>(2 * k));
      r.byte_end.push_back(static_cast<uint32_t>(2 * k + 2));
      r.position.push_back(static_cast<uint32_t>(k));
      for (size_t m = 0; m < 2; ++m) r.nll[m].push_back(fill(d, k, m));
    }
    r.end_document();
  }
  validate(r, "synthetic records");
  return r;
}

Category all_tokens(const Records& r) {
  TokenMask m(r.n_tokens());
  for (size_t i = 0; i < r.n_tokens(); ++i) m.set(i);
  return {"ALL", m};
}

TEST(Bootstrap, QuantileIsRType7) {
  const std::vector<double> x = {1, 2, 3, 4};
  // h = (n - 1) p = 0.3: x[0] + 0.3 (x[1] - x[0]).
  EXPECT_DOUBLE_EQ(quantile_sorted(x, 0.1), 1.0 + 0.3 * (2.0 - 1.0));
  EXPECT_DOUBLE_EQ(quantile_sorted(x, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(x, 0.0), 1.0);
}

TEST(Bootstrap, RngBelowIsInRangeAndSeeded) {
  Rng a(5), b(5), c(6);
  bool differs = false;
  for (int k = 0; k < 1000; ++k) {
    const uint64_t x = a.below(7);
    EXPECT_LT(x, 7u);
    EXPECT_EQ(x, b.below(7));
    differs = differs || x != c.below(7);
  }
  EXPECT_TRUE(differs);
}

TEST(Compare, ConstantGapEverywhereGivesAPointInterval) {
  const Records r = make_records({5, 17, 3, 40, 9}, [](size_t d, size_t k, size_t m) {
    return static_cast<float>(m == 0 ? 2.5 + 0.1 * static_cast<double>(d + k) : 2.25 + 0.1 * static_cast<double>(d + k));
  });
  const std::vector<Category> cats = {all_tokens(r)};
  const auto rows = compare_categories(r, 0, 1, cats, BootstrapOptions{});
  const double delta = static_cast<double>(r.nll[0][0]) - r.nll[1][0];  // the same for every token
  EXPECT_NEAR(rows[0].delta, delta, 1e-6);
  EXPECT_NEAR(rows[0].delta_ci.lo, delta, 1e-6);
  EXPECT_NEAR(rows[0].delta_ci.hi, delta, 1e-6);
  EXPECT_EQ(rows[0].delta_ci.valid, 1000u);
  EXPECT_DOUBLE_EQ(rows[0].win_rate, 1.0);
  EXPECT_DOUBLE_EQ(rows[0].share, 1.0);
}

// Equal-sized documents with a constant gap c_d each: the mean gap is mean(c_d), and the
// bootstrap distribution of the resampled mean has sd = sd_plugin(c) / sqrt(G), so the 95%
// percentile interval is close to mean ± 1.96 sd for many documents.
TEST(Compare, ConstantGapPerDocumentMatchesTheNormalApproximation) {
  const size_t G = 400;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.05, 0.3);
  std::vector<double> c(G);
  for (auto& v : c) v = normal(rng);
  const Records r = make_records(std::vector<size_t>(G, 20), [&](size_t d, size_t, size_t m) {
    return static_cast<float>(m == 0 ? 4.0 + c[d] : 4.0);
  });
  std::vector<double> cd(G);  // the gaps as stored (float NLLs)
  for (size_t d = 0; d < G; ++d) cd[d] = static_cast<double>(r.nll[0][r.doc_begin[d]]) - r.nll[1][r.doc_begin[d]];
  double mean = 0, var = 0;
  for (double v : cd) mean += v / G;
  for (double v : cd) var += (v - mean) * (v - mean) / G;
  const double sd = std::sqrt(var / G);
  BootstrapOptions opt;
  opt.resamples = 4000;
  const std::vector<Category> cats = {all_tokens(r)};
  const auto rows = compare_categories(r, 0, 1, cats, opt);
  EXPECT_NEAR(rows[0].delta, mean, 1e-9);
  EXPECT_NEAR(rows[0].delta_ci.lo, mean - 1.959964 * sd, 0.1 * sd);
  EXPECT_NEAR(rows[0].delta_ci.hi, mean + 1.959964 * sd, 0.1 * sd);
}

// A category held by one document only: every resample that draws it gives that document's
// mean, the others are undefined; P(drawn) = 1 - (1 - 1/G)^G.
TEST(Compare, SingleClusterCategoryHasAPointIntervalAndFewerValidResamples) {
  const size_t G = 10;
  const Records r = make_records(std::vector<size_t>(G, 30), [](size_t d, size_t k, size_t m) {
    return static_cast<float>(1.0 + 0.01 * static_cast<double>((d * 13 + k * 7 + m * 5) % 17));
  });
  Category only3{"DOC3", TokenMask(r.n_tokens())};
  double sum = 0;
  for (size_t i = r.doc_begin[3]; i < r.doc_begin[4]; ++i) {
    only3.members.set(i);
    sum += static_cast<double>(r.nll[0][i]) - r.nll[1][i];
  }
  const double mean = sum / 30.0;
  BootstrapOptions opt;
  opt.resamples = 5000;
  const std::vector<Category> cats = {only3};
  const auto rows = compare_categories(r, 0, 1, cats, opt);
  EXPECT_EQ(rows[0].documents, 1u);
  EXPECT_NEAR(rows[0].delta_ci.lo, mean, 1e-12);
  EXPECT_NEAR(rows[0].delta_ci.hi, mean, 1e-12);
  const double p = 1.0 - std::pow(1.0 - 1.0 / G, static_cast<double>(G));
  const double se = std::sqrt(p * (1 - p) / opt.resamples);
  EXPECT_NEAR(rows[0].delta_ci.valid / static_cast<double>(opt.resamples), p, 5 * se);
}

// Two documents: a resample is {1,1}, {2,2} (probability 1/4 each) or mixed (1/2), so the
// 2.5% and 97.5% percentiles are the two document means.
TEST(Compare, TwoDocumentsEnumerable) {
  const Records r = make_records({10, 30}, [](size_t d, size_t, size_t m) {
    return static_cast<float>(m == 0 ? (d == 0 ? 3.0 : 2.0) : 2.5);
  });
  const std::vector<Category> cats = {all_tokens(r)};
  const auto rows = compare_categories(r, 0, 1, cats, BootstrapOptions{});
  EXPECT_DOUBLE_EQ(rows[0].delta_ci.lo, -0.5);
  EXPECT_DOUBLE_EQ(rows[0].delta_ci.hi, 0.5);
  EXPECT_DOUBLE_EQ(rows[0].win_ci.lo, 0.0);
  EXPECT_DOUBLE_EQ(rows[0].win_ci.hi, 1.0);
  EXPECT_DOUBLE_EQ(rows[0].delta, (10 * 0.5 + 30 * -0.5) / 40.0);
}

TEST(Compare, SumsMatchADirectLoopAndSeedsReproduce) {
  std::mt19937_64 rng(3);
  std::vector<size_t> sizes(30);
  for (auto& s : sizes) s = 1 + rng() % 50;
  std::uniform_real_distribution<double> u(0.0, 6.0);
  Records r = make_records(sizes, [&](size_t, size_t, size_t) { return static_cast<float>(u(rng)); });
  r.nll[1][4] = std::numeric_limits<float>::quiet_NaN();  // not a target of the pair
  Category odd{"ODD", TokenMask(r.n_tokens())};
  for (size_t i = 1; i < r.n_tokens(); i += 2) odd.members.set(i);
  const std::vector<Category> cats = {all_tokens(r), odd};
  const auto rows = compare_categories(r, 0, 1, cats, BootstrapOptions{});
  double total = 0;
  for (size_t i = 0; i < r.n_tokens(); ++i)
    if (r.is_target(i)) total += static_cast<double>(r.nll[0][i]) - r.nll[1][i];
  for (size_t c = 0; c < cats.size(); ++c) {
    double n = 0, sa = 0, sb = 0, wins = 0, bytes = 0;
    std::vector<bool> doc_seen(r.n_docs(), false);
    for (size_t d = 0; d < r.n_docs(); ++d)
      for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) {
        if (!cats[c].members.test(i) || !r.is_target(i)) continue;
        n += 1;
        sa += r.nll[0][i];
        sb += r.nll[1][i];
        wins += r.nll[1][i] < r.nll[0][i];
        bytes += r.byte_end[i] - r.byte_begin[i];
        doc_seen[d] = true;
      }
    const CategoryRow& row = rows[c];
    EXPECT_EQ(row.tokens, static_cast<uint64_t>(n));
    EXPECT_EQ(row.documents, static_cast<uint64_t>(std::count(doc_seen.begin(), doc_seen.end(), true)));
    EXPECT_NEAR(row.nll_a, sa / n, 1e-12);
    EXPECT_NEAR(row.nll_b, sb / n, 1e-12);
    EXPECT_NEAR(row.delta, (sa - sb) / n, 1e-12);
    EXPECT_NEAR(row.win_rate, wins / n, 1e-12);
    EXPECT_NEAR(row.share, (sa - sb) / total, 1e-9);
    EXPECT_NEAR(row.bpb_a, sa / std::numbers::ln2 / bytes, 1e-12);
    EXPECT_LE(row.delta_ci.lo, row.delta);
    EXPECT_GE(row.delta_ci.hi, row.delta);
  }
  const auto again = compare_categories(r, 0, 1, cats, BootstrapOptions{});
  EXPECT_EQ(again[1].delta_ci.lo, rows[1].delta_ci.lo);
  EXPECT_EQ(again[1].delta_ci.hi, rows[1].delta_ci.hi);
  BootstrapOptions other;
  other.seed = 99;
  const auto reseeded = compare_categories(r, 0, 1, cats, other);
  EXPECT_NE(reseeded[1].delta_ci.lo, rows[1].delta_ci.lo);

  const auto losses = filtered_losses(r, cats, BootstrapOptions{});
  ASSERT_EQ(losses.size(), 4u);
  for (size_t m = 0; m < 2; ++m) {
    double s = 0, n = 0;
    for (size_t i = 0; i < r.n_tokens(); ++i)
      if (std::isfinite(r.nll[m][i])) s += r.nll[m][i], n += 1;
    EXPECT_EQ(losses[m * 2].model, r.model[m]);
    EXPECT_EQ(losses[m * 2].tokens, static_cast<uint64_t>(n));
    EXPECT_NEAR(losses[m * 2].mean_nll, s / n, 1e-12);
  }
}

TEST(Compare, NewBytesCountOverlappingSpansOnce) {
  Records r;
  r.model = {"A"};
  r.nll.resize(1);
  r.begin_document("d", "", "a\xE2\x80\x9C b");  // a “ b : the quote split into two byte pieces
  const std::vector<std::pair<uint32_t, uint32_t>> spans = {{0, 1}, {1, 4}, {1, 4}, {4, 6}};
  for (const auto& [b, e] : spans) {
    r.token.push_back(1);
    r.byte_begin.push_back(b);
    r.byte_end.push_back(e);
    r.position.push_back(static_cast<uint32_t>(r.token.size() - 1));
    r.nll[0].push_back(1.0f);
  }
  r.end_document();
  validate(r, "overlap");
  const auto nb = token_new_bytes(r);
  EXPECT_EQ(nb, (std::vector<uint32_t>{1, 3, 0, 2}));
}

// The regression's rows are the targets and its columns the documented controls: with Δ an
// exact linear function of difficulty and an indicator, the fit recovers it.
TEST(GapRegression, RecoversAnExactLinearGap) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.5, 5.0);
  std::vector<size_t> sizes(25);
  for (auto& s : sizes) s = 5 + rng() % 60;
  std::vector<double> base;
  Records r = make_records(sizes, [&](size_t, size_t, size_t m) {
    if (m == 0) base.push_back(u(rng));
    return static_cast<float>(m == 0 ? base.back() : 0.0);
  });
  Category even{"EVEN", TokenMask(r.n_tokens())};
  for (size_t i = 0; i < r.n_tokens(); i += 2) even.members.set(i);
  // NLL_B = 0.8 NLL_A - 0.1 [even]  =>  Δ = 0.2 a + 0.1 e, difficulty = 0.9 a - 0.05 e,
  // so Δ = (2/9) difficulty + (0.1 + 0.1/9) e.
  for (size_t i = 0; i < r.n_tokens(); ++i)
    r.nll[1][i] = static_cast<float>(0.8 * r.nll[0][i] - (even.members.test(i) ? 0.1 : 0.0) + 0.2);
  const CopyTags copy = tag_copy(r);
  const ContextTags ctx = tag_context(r);
  const std::vector<Category> ind = {even};
  const OlsResult fit = gap_regression(r, 0, 1, RegressionInputs{ind, copy, ctx, nullptr});
  ASSERT_EQ(fit.names.size(), 7u);
  EXPECT_EQ(fit.names[1], "EVEN");
  EXPECT_EQ(fit.names[2], "difficulty");
  EXPECT_EQ(fit.names[6], "log_prev_dist");
  EXPECT_NEAR(fit.coef[2], 2.0 / 9.0, 1e-5);
  EXPECT_NEAR(fit.coef[1], 0.1 + 0.1 / 9.0, 1e-5);
  EXPECT_NEAR(fit.coef[3], 0.0, 1e-5);
  EXPECT_EQ(fit.n_obs, r.n_tokens());
  EXPECT_EQ(fit.n_clusters, r.n_docs());
}

TEST(Categories, StandardListAndBins) {
  const Records r = make_records({12, 40, 7}, [](size_t, size_t k, size_t m) { return static_cast<float>(1 + k % 3 + m); });
  const CopyTags copy = tag_copy(r);
  const DelimTags delim = tag_delim(r);
  const std::vector<FormClass> form = tag_form(r, delim.doc_class);
  const ContextTags ctx = tag_context(r);
  const TagColumns t{copy, delim, form, ctx};
  const auto cats = standard_categories(r, t);
  EXPECT_EQ(cats.front().name, "ALL");
  EXPECT_EQ(cats.front().members.count(), r.n_tokens());
  size_t form_total = 0, copy_bins = 0;
  for (const auto& c : cats) {
    if (c.name.rfind("FORM/", 0) == 0) form_total += c.members.count();
    if (c.name.rfind("COPY-", 0) == 0 && c.name != "COPY-5") copy_bins += c.members.count();
    if (c.name == "NO-COPY") copy_bins += c.members.count();
  }
  EXPECT_EQ(form_total, r.n_tokens());  // form classes partition the tokens
  EXPECT_EQ(copy_bins, r.n_tokens());   // NO-COPY and the copy_len bins too
  size_t pos_total = 0;
  for (const auto& c : position_bins(ctx)) pos_total += c.members.count();
  EXPECT_EQ(pos_total, r.n_tokens());
  size_t dist_total = 0;
  for (const auto& c : copy_distance_bins(copy, 1)) dist_total += c.members.count();
  EXPECT_EQ(dist_total, r.n_tokens() - no_copy_mask(copy).count());
}

}  // namespace
}  // namespace lossgap
