// Tests of the OLS + CR1 clustered-error fit: against R (lm + sandwich::vcovCL, HC1) on the
// fixture written by tools/make_stats_fixture.R, and against closed forms (aliased columns,
// exact fits, thread-independence).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "stats/ols.h"

namespace lossgap {
namespace {

const char* kRegen = "regenerate with: Rscript tools/make_stats_fixture.R";

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<double>> cols;
};

Table read_csv(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path << "; " << kRegen;
  Table t;
  std::string line;
  std::getline(in, line);
  std::stringstream hs(line);
  for (std::string f; std::getline(hs, f, ',');) t.header.push_back(f);
  t.cols.resize(t.header.size());
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    size_t c = 0;
    for (std::string f; std::getline(ls, f, ','); ++c) t.cols[c].push_back(std::stod(f));
  }
  return t;
}

TEST(Ols, MatchesRSandwichVcovCL) {
  const std::string dir = std::string(LOSSGAP_FIXTURES_DIR) + "/stats/";
  const Table t = read_csv(dir + "ols_data.csv");
  std::ifstream jin(dir + "ols_expected.json");
  ASSERT_TRUE(jin) << kRegen;
  const auto expected = nlohmann::json::parse(jin);
  ASSERT_EQ(t.header[0], "doc");
  ASSERT_EQ(t.header[1], "y");
  const size_t n = t.cols[0].size();
  std::vector<uint64_t> cb = {0};  // rows are grouped by doc in the file
  for (size_t i = 1; i < n; ++i)
    if (t.cols[0][i] != t.cols[0][i - 1]) cb.push_back(i);
  cb.push_back(n);
  const std::vector<std::string> names(t.header.begin() + 2, t.header.end());
  const OlsResult fit = ols_cluster(names, cb, [&](size_t i, double* x, double& y) {
    y = t.cols[1][i];
    for (size_t j = 0; j < names.size(); ++j) x[j] = t.cols[2 + j][i];
    return true;
  });
  EXPECT_EQ(fit.n_obs, expected["n_obs"].get<uint64_t>());
  EXPECT_EQ(fit.n_clusters, expected["n_clusters"].get<uint64_t>());
  const auto coef = expected["coef"].get<std::vector<double>>();
  const auto se = expected["se"].get<std::vector<double>>();
  const auto rnames = expected["names"].get<std::vector<std::string>>();
  ASSERT_EQ(fit.coef.size(), coef.size());
  for (size_t j = 0; j < coef.size(); ++j) {
    EXPECT_EQ(fit.names[j], rnames[j]);
    EXPECT_NEAR(fit.coef[j], coef[j], 1e-8 * std::abs(coef[j])) << fit.names[j] << "; " << kRegen;
    EXPECT_NEAR(fit.se[j], se[j], 1e-8 * std::abs(se[j])) << fit.names[j] << "; " << kRegen;
  }
  EXPECT_NEAR(fit.r_squared, expected["r_squared"].get<double>(), 1e-8 * expected["r_squared"].get<double>());
}

// y depends on x exactly in every cluster: coefficients exact, residuals and SEs zero.
TEST(Ols, ExactFitHasZeroErrors) {
  const size_t n = 300;
  std::vector<uint64_t> cb;
  for (size_t i = 0; i <= n; i += 30) cb.push_back(i);
  const std::vector<std::string> names = {"a", "b"};
  const OlsResult fit = ols_cluster(names, cb, [&](size_t i, double* x, double& y) {
    x[0] = static_cast<double>(i % 7);
    x[1] = std::log1p(static_cast<double>(i));
    y = 2.0 - 0.5 * x[0] + 3.0 * x[1];
    return true;
  });
  EXPECT_NEAR(fit.coef[0], 2.0, 1e-10);
  EXPECT_NEAR(fit.coef[1], -0.5, 1e-12);
  EXPECT_NEAR(fit.coef[2], 3.0, 1e-11);
  for (double s : fit.se) EXPECT_LT(s, 1e-9);
}

// A duplicated regressor is aliased (dropped, NaN) and the rest equals the fit without it;
// skipped rows do not count.
TEST(Ols, AliasedColumnIsDroppedAndSkippedRowsIgnored) {
  const size_t n = 500;
  std::vector<uint64_t> cb;
  for (size_t i = 0; i <= n; i += 25) cb.push_back(i);
  auto val = [](size_t i) { return std::sin(0.37 * static_cast<double>(i)) + 0.01 * static_cast<double>(i % 11); };
  auto resp = [&](size_t i) { return 1.0 + 0.3 * val(i) + std::cos(1.3 * static_cast<double>(i)); };
  const std::vector<std::string> two = {"v", "v_again"}, one = {"v"};
  const OlsResult a = ols_cluster(two, cb, [&](size_t i, double* x, double& y) {
    if (i % 10 == 3) return false;
    x[0] = val(i);
    x[1] = 2.0 * val(i);
    y = resp(i);
    return true;
  });
  const OlsResult b = ols_cluster(one, cb, [&](size_t i, double* x, double& y) {
    if (i % 10 == 3) return false;
    x[0] = val(i);
    y = resp(i);
    return true;
  });
  EXPECT_TRUE(a.aliased[2]);
  EXPECT_TRUE(std::isnan(a.coef[2]));
  EXPECT_EQ(a.rank, 2u);
  EXPECT_EQ(a.n_obs, 450u);
  for (size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(a.coef[j], b.coef[j], 1e-12);
    EXPECT_NEAR(a.se[j], b.se[j], 1e-12);
  }
}

TEST(Ols, NonFiniteRowIsAnInputError) {
  std::vector<uint64_t> cb;
  for (uint64_t i = 0; i <= 200000; i += 100) cb.push_back(i);  // several blocks, in parallel
  const std::vector<std::string> names = {"x"};
  EXPECT_THROW(ols_cluster(names, cb,
                           [](size_t i, double* x, double& y) {
                             x[0] = i == 123457 ? std::log(0.0) : static_cast<double>(i % 13);
                             y = std::sin(static_cast<double>(i));
                             return true;
                           }),
               InputError);
}

TEST(Ols, RejectsTooFewClusters) {
  const std::vector<uint64_t> cb = {0, 50};
  const std::vector<std::string> names = {"x"};
  EXPECT_THROW(ols_cluster(names, cb,
                           [](size_t i, double* x, double& y) {
                             x[0] = static_cast<double>(i);
                             y = std::sin(static_cast<double>(i));
                             return true;
                           }),
               InputError);
}

}  // namespace
}  // namespace lossgap
