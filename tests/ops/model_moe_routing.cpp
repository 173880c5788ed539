// The MoE router of model/blocks/moe.cpp (qwen3_next, hf-architectures.md §1.11) against a plain
// double-precision computation written here: softmax over all experts, the k most probable
// (lower id first on ties), renormalised over those k or not. Not a forward test of the experts
// (the qwen3_next_moe parity fixture covers them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "model/blocks/moe.h"

namespace lossgap {
namespace {

TEST(MoeRouting, TopKMatchesDoubleSoftmax) {
  std::mt19937 rng(21);
  std::normal_distribution<float> d(0.0f, 2.0f);
  const int64_t T = 37, E = 8;
  std::vector<float> logits(T * E);
  for (float& x : logits) x = d(rng);
  logits[5 * E + 2] = logits[5 * E + 6];  // a tie: expert 2 is preferred to expert 6
  for (int64_t k : {1, 2, 3}) {
    for (bool renorm : {true, false}) {
      const Routing r = route_top_k(logits, T, E, k, renorm);
      std::vector<int64_t> seen(T, 0);
      for (int64_t e = 0; e < E; ++e) {
        ASSERT_EQ(r.expert_rows[e].size(), r.expert_weights[e].size());
        for (size_t i = 0; i < r.expert_rows[e].size(); ++i) {
          const int32_t t = r.expert_rows[e][i];
          if (i > 0) {
            EXPECT_LT(r.expert_rows[e][i - 1], t) << "rows ascending";
          }
          ++seen[t];
          // Independent: probabilities in double, rank of e among the experts of token t.
          std::vector<double> p(E);
          double m = -1e300, z = 0;
          for (int64_t j = 0; j < E; ++j) m = std::max(m, double(logits[t * E + j]));
          for (int64_t j = 0; j < E; ++j) z += p[j] = std::exp(double(logits[t * E + j]) - m);
          for (double& x : p) x /= z;
          int64_t better = 0;
          for (int64_t j = 0; j < E; ++j) better += p[j] > p[e] || (p[j] == p[e] && j < e);
          EXPECT_LT(better, k) << "token " << t << " expert " << e;
          std::vector<double> sorted = p;
          std::sort(sorted.rbegin(), sorted.rend());
          double top = 0;
          for (int64_t j = 0; j < k; ++j) top += sorted[j];
          const double want = renorm ? p[e] / top : p[e];
          EXPECT_NEAR(r.expert_weights[e][i], want, 1e-6) << "token " << t << " expert " << e;
        }
      }
      for (int64_t t = 0; t < T; ++t) EXPECT_EQ(seen[t], k) << "token " << t;
    }
  }
  const Routing tie = route_top_k(logits, T, E, 1, true);
  const bool two = std::count(tie.expert_rows[2].begin(), tie.expert_rows[2].end(), 5) > 0;
  const bool six = std::count(tie.expert_rows[6].begin(), tie.expert_rows[6].end(), 5) > 0;
  EXPECT_FALSE(six && !two) << "a tie must keep the lower expert id";
}

}  // namespace
}  // namespace lossgap
