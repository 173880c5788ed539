// The MoE routers of model/blocks/moe.cpp (hf-architectures.md §1.11) against plain
// double-precision computations written here: qwen3_next / jamba (softmax over all experts, the k
// most probable, lower id first on ties, renormalised or not), granite (softmax over the k largest
// logits) and nemotron_h (sigmoid scores, choice on score + bias within the best groups found by
// brute force over group and expert subsets, weights from the unbiased scores). Not a forward test
// of the experts (the qwen3_next_moe, jamba_moe, granite_hybrid_moe and nemotron_h_moe parity
// fixtures cover them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
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

// Per token, expert -> weight of a Routing (0 where not chosen).
std::vector<std::vector<double>> dense(const Routing& r, int64_t T) {
  std::vector<std::vector<double>> w(T, std::vector<double>(r.expert_rows.size(), 0.0));
  for (size_t e = 0; e < r.expert_rows.size(); ++e) {
    EXPECT_EQ(r.expert_rows[e].size(), r.expert_weights[e].size());
    for (size_t i = 0; i < r.expert_rows[e].size(); ++i) {
      if (i > 0) {
        EXPECT_LT(r.expert_rows[e][i - 1], r.expert_rows[e][i]) << "rows ascending";
      }
      w[r.expert_rows[e][i]][e] = r.expert_weights[e][i];
    }
  }
  return w;
}

// Every subset of {0..n-1} with m members, as index lists.
std::vector<std::vector<int>> subsets(int n, int m) {
  std::vector<std::vector<int>> out;
  std::vector<int> cur;
  std::function<void(int)> rec = [&](int from) {
    if (static_cast<int>(cur.size()) == m) {
      out.push_back(cur);
      return;
    }
    for (int i = from; i < n; ++i) {
      cur.push_back(i);
      rec(i + 1);
      cur.pop_back();
    }
  };
  rec(0);
  return out;
}

TEST(MoeRouting, GraniteSoftmaxOverTopKLogits) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 3.0f);
  const int64_t T = 29, E = 6;
  std::vector<float> logits(T * E);
  for (float& x : logits) x = d(rng);
  for (int64_t k : {1, 2, 4}) {
    const auto w = dense(route_top_k_softmax(logits, T, E, k), T);
    for (int64_t t = 0; t < T; ++t) {
      // Independent: the best k-subset by summed logits, then a softmax over it in double.
      double best = -1e300;
      std::vector<int> chosen;
      for (const auto& sub : subsets(static_cast<int>(E), static_cast<int>(k))) {
        double sum = 0;
        for (int e : sub) sum += logits[t * E + e];
        if (sum > best) best = sum, chosen = sub;
      }
      double z = 0;
      for (int e : chosen) z += std::exp(double(logits[t * E + e]));
      std::vector<double> want(E, 0.0);
      for (int e : chosen) want[e] = std::exp(double(logits[t * E + e])) / z;
      for (int64_t e = 0; e < E; ++e)
        EXPECT_NEAR(w[t][e], want[e], 1e-6) << "k " << k << " token " << t << " expert " << e;
    }
  }
}

// The nemotron_h router computed by brute force in double: the topk_group groups with the largest
// summed group score (each group's two best s + bias), then the k experts of those groups with the
// largest summed s + bias; weights s / (sum s + 1e-20) (or s) times `scaling`.
std::vector<std::vector<double>> grouped_reference(const std::vector<float>& logits,
                                                   const std::vector<float>& bias, int64_t T,
                                                   int64_t E, int64_t k, int64_t n_group,
                                                   int64_t topk_group, bool normalise,
                                                   double scaling) {
  const int per = static_cast<int>(E / n_group);
  std::vector<std::vector<double>> out(T, std::vector<double>(E, 0.0));
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> s(E), c(E);
    for (int64_t e = 0; e < E; ++e) {
      s[e] = 1.0 / (1.0 + std::exp(-double(logits[t * E + e])));
      c[e] = s[e] + bias[e];
    }
    std::vector<double> gscore(n_group, -1e300);
    for (int64_t g = 0; g < n_group; ++g) {
      for (const auto& pair : subsets(per, 2))
        gscore[g] = std::max(gscore[g], c[g * per + pair[0]] + c[g * per + pair[1]]);
    }
    double best_groups = -1e300;
    std::vector<int> groups;
    for (const auto& sub : subsets(static_cast<int>(n_group), static_cast<int>(topk_group))) {
      double sum = 0;
      for (int g : sub) sum += gscore[g];
      if (sum > best_groups) best_groups = sum, groups = sub;
    }
    std::vector<int> allowed;
    for (int g : groups)
      for (int j = 0; j < per; ++j) allowed.push_back(g * per + j);
    double best = -1e300;
    std::vector<int> chosen;
    for (const auto& sub : subsets(static_cast<int>(allowed.size()), static_cast<int>(k))) {
      double sum = 0;
      for (int i : sub) sum += c[allowed[i]];
      if (sum > best) {
        best = sum;
        chosen.clear();
        for (int i : sub) chosen.push_back(allowed[i]);
      }
    }
    double z = 1e-20;
    for (int e : chosen) z += s[e];
    for (int e : chosen) out[t][e] = (normalise ? s[e] / z : s[e]) * scaling;
  }
  return out;
}

TEST(MoeRouting, NemotronGroupedSigmoidMatchesBruteForce) {
  std::mt19937 rng(8);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::uniform_real_distribution<float> u(0.0f, 0.5f);
  const int64_t T = 41, E = 8;
  std::vector<float> logits(T * E), bias(E);
  for (float& x : logits) x = d(rng);
  for (float& b : bias) b = u(rng);
  struct Case {
    int64_t k, n_group, topk_group;
    bool normalise;
    double scaling;
  };
  for (const Case& c : {Case{2, 2, 1, true, 2.5}, Case{2, 1, 1, true, 1.0}, Case{3, 4, 2, false, 1.5},
                        Case{1, 2, 2, true, 1.0}}) {
    const auto got = dense(route_grouped_sigmoid(logits, bias, T, E, c.k, c.n_group,
                                                 c.topk_group, c.normalise,
                                                 static_cast<float>(c.scaling)),
                           T);
    const auto want = grouped_reference(logits, bias, T, E, c.k, c.n_group, c.topk_group,
                                        c.normalise, c.scaling);
    for (int64_t t = 0; t < T; ++t) {
      int n = 0;
      for (int64_t e = 0; e < E; ++e) {
        EXPECT_NEAR(got[t][e], want[t][e], 1e-6)
            << "k " << c.k << " n_group " << c.n_group << " topk_group " << c.topk_group
            << " token " << t << " expert " << e;
        n += got[t][e] != 0;
      }
      EXPECT_EQ(n, c.k) << "token " << t;
    }
  }
}

// The group limit and the correction bias both change the choice; the bias never the weights.
TEST(MoeRouting, NemotronGroupLimitAndBiasDecideTheChoiceOnly) {
  const int64_t E = 8;
  // Experts 0 and 4 are the two best overall but sit in different groups of 4; group 0 (experts
  // 0..3) has the better two-best sum, so topk_group 1 keeps it and takes 0 and 1.
  const std::vector<float> logits = {3.0f, 2.0f, -3.0f, -3.0f, 2.5f, -4.0f, -4.0f, -4.0f};
  const std::vector<float> zero(E, 0.0f);
  const auto limited = dense(route_grouped_sigmoid(logits, zero, 1, E, 2, 2, 1, true, 1.0f), 1);
  EXPECT_GT(limited[0][0], 0);
  EXPECT_GT(limited[0][1], 0);
  EXPECT_EQ(limited[0][4], 0) << "expert 4's group was not kept";
  const auto open = dense(route_grouped_sigmoid(logits, zero, 1, E, 2, 2, 2, true, 1.0f), 1);
  EXPECT_GT(open[0][4], 0) << "with both groups kept, expert 4 is chosen";
  // A bias on expert 2 makes it win over expert 1; its weight is still from its own sigmoid.
  std::vector<float> bias(E, 0.0f);
  bias[2] = 0.9f;
  const auto biased = dense(route_grouped_sigmoid(logits, bias, 1, E, 2, 2, 1, false, 2.0f), 1);
  EXPECT_EQ(biased[0][1], 0);
  EXPECT_NEAR(biased[0][2], 2.0 / (1.0 + std::exp(3.0)), 1e-7);
  EXPECT_NEAR(biased[0][0], 2.0 / (1.0 + std::exp(-3.0)), 1e-7);
}

}  // namespace
}  // namespace lossgap
