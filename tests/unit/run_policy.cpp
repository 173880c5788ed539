// Unit tests of the scoring policy: option validation, BOS resolution, and the window planner
// driven through score_document with a fake model whose scores are a function of the window
// it sees, so a target scored twice, skipped, or given the wrong prefix shows.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "core/error.h"
#include "model/config.h"
#include "scoring/policy.h"
#include "scoring/scorer.h"

namespace lossgap {
namespace {

// Scores target t of a window (ids[0..n)) as:
//   rank = t (tokens before the target in the window), top1_id = ids[0] (the window's first
//   token), entropy = sum of ids[0..t), top1_logprob = ids[t - 1], logprob = -t.
class PrefixModel : public Model {
 public:
  explicit PrefixModel(int64_t vocab) { config_.vocab_size = vocab; config_.max_position_embeddings = 4096; }
  const ModelConfig& config() const override { return config_; }
  ModelInfo info() const override { return {}; }
  std::vector<TokenScore> score(std::span<const int32_t> ids, size_t first_target) const override {
    EXPECT_GE(first_target, 1u);
    EXPECT_LE(first_target, ids.size());
    std::vector<TokenScore> out;
    for (size_t t = first_target; t < ids.size(); ++t) {
      TokenScore s;
      s.rank = static_cast<int32_t>(t);
      s.top1_id = ids[0];
      s.entropy = static_cast<float>(std::accumulate(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(t), 0.0));
      s.top1_logprob = static_cast<float>(ids[t - 1]);
      s.logprob = -static_cast<float>(t);
      out.push_back(s);
    }
    ++calls;
    max_len = std::max(max_len, ids.size());
    return out;
  }
  mutable size_t calls = 0;
  mutable size_t max_len = 0;

 private:
  ModelConfig config_;
};

ResolvedPolicy make_policy(int64_t context, int64_t stride, std::optional<int32_t> bos) {
  ScoringPolicy p;
  p.context = context;
  p.stride = stride;
  p.bos = bos ? BosPolicy::Always : BosPolicy::Never;
  return resolve_policy(p, 1 << 20, std::nullopt, bos, std::nullopt);
}

struct Case {
  int64_t context;
  int64_t stride;
  bool bos;
  size_t n;
};

class WindowTest : public ::testing::TestWithParam<Case> {};

TEST_P(WindowTest, EveryTokenScoredOnceWithEnoughPrefix) {
  const Case c = GetParam();
  constexpr int32_t kBos = 1000;
  const ResolvedPolicy policy = make_policy(c.context, c.stride, c.bos ? std::optional<int32_t>(kBos) : std::nullopt);
  // Distinct ids (1 + i) so sums over a window identify the window; byte spans 3i..3i+2.
  std::vector<int32_t> ids(c.n);
  std::vector<std::pair<uint32_t, uint32_t>> offsets(c.n);
  for (size_t i = 0; i < c.n; ++i) {
    ids[i] = static_cast<int32_t>(1 + i);
    offsets[i] = {static_cast<uint32_t>(3 * i), static_cast<uint32_t>(3 * i + 2)};
  }
  PrefixModel model(4096);
  const auto result = score_document(model, ids, offsets, policy);
  ASSERT_TRUE(result.has_value());
  const DocumentScores& ds = *result;
  EXPECT_EQ(ds.n_tokens, c.n);
  EXPECT_EQ(ds.n_windows, model.calls);
  EXPECT_LE(model.max_len, static_cast<size_t>(policy.context));

  // Targets: every position exactly once, ascending (all with BOS; all but the first without).
  const size_t first = c.bos ? 0 : 1;
  const size_t expected_targets = c.n > first ? c.n - first : 0;
  ASSERT_EQ(ds.targets.size(), expected_targets);
  const size_t lead = c.bos ? 1 : 0;
  const int64_t min_prefix = policy.context - policy.stride;
  for (size_t k = 0; k < ds.targets.size(); ++k) {
    const TargetRecord& r = ds.targets[k];
    const size_t pos = first + k;
    ASSERT_EQ(r.pos, pos);
    EXPECT_EQ(r.token_id, ids[pos]);
    EXPECT_EQ(r.start, offsets[pos].first);
    EXPECT_EQ(r.end, offsets[pos].second);
    const size_t t = static_cast<size_t>(r.score.rank);  // index of the target in its window
    ASSERT_GE(t, lead);
    ASSERT_LE(t - lead, pos);
    const size_t begin = pos - (t - lead);  // first document token of the window
    // The window is BOS (if any) then the contiguous document tokens [begin, pos).
    double sum = c.bos ? kBos : 0.0;
    for (size_t i = begin; i < pos; ++i) sum += ids[i];
    EXPECT_EQ(r.score.entropy, static_cast<float>(sum)) << "pos " << pos;
    EXPECT_EQ(r.score.top1_id, c.bos ? kBos : ids[begin]);
    // The token just before the target: BOS when the target opens its window.
    const float previous = t == lead ? static_cast<float>(kBos) : static_cast<float>(ids[pos - 1]);
    EXPECT_EQ(r.score.top1_logprob, previous);
    // Prefix: the whole document prefix when the window starts at the document's start,
    // else at least context - stride tokens (BOS counted).
    if (begin > 0) {
      EXPECT_GE(static_cast<int64_t>(t), min_prefix) << "pos " << pos;
    }
  }
}

std::vector<Case> window_cases() {
  std::vector<Case> cases;
  for (int64_t context : {2, 3, 8, 17}) {
    std::set<int64_t> strides = {0, 1, context / 2, context - 1};
    for (int64_t stride : strides) {
      if (stride < 0 || stride >= context) continue;
      for (bool bos : {false, true}) {
        const size_t c = static_cast<size_t>(context);
        const std::set<size_t> lengths = {0, 1, 2, c - 1, c, c + 1, 2 * c, 3 * c + 5, 100};
        for (size_t n : lengths) {
          cases.push_back({context, stride, bos, n});
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Grid, WindowTest, ::testing::ValuesIn(window_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const Case& c = info.param;
                           return "C" + std::to_string(c.context) + "_S" + std::to_string(c.stride) +
                                  (c.bos ? "_bos" : "_nobos") + "_n" + std::to_string(c.n);
                         });

TEST(Windows, NoOverlapByDefault) {
  // stride 0 = context - 1: consecutive windows share exactly one token (the new window's
  // first, which is never a target without BOS); with BOS they share none.
  const ResolvedPolicy nobos = make_policy(8, 0, std::nullopt);
  EXPECT_EQ(nobos.stride, 7);
  const auto w = plan_windows(22, nobos);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1].begin + 1, w[1].first_target);
  EXPECT_EQ(w[0].end, w[1].first_target);
  const ResolvedPolicy bos = make_policy(8, 0, 5);
  const auto wb = plan_windows(21, bos);
  ASSERT_EQ(wb.size(), 3u);
  EXPECT_EQ(wb[1].begin, wb[1].first_target);
  EXPECT_EQ(wb[0].end, wb[1].begin);
}

TEST(Windows, LastWindowIsFull) {
  // The last window keeps a full context of prefix even when few tokens remain.
  const ResolvedPolicy p = make_policy(10, 4, std::nullopt);
  const auto w = plan_windows(13, p);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].end, 13u);
  EXPECT_EQ(w[1].end - w[1].begin, 10u);
  EXPECT_EQ(w[1].first_target, 10u);
}

TEST(Windows, StopBetweenWindows) {
  const ResolvedPolicy p = make_policy(4, 2, std::nullopt);
  std::vector<int32_t> ids(20, 3);
  std::vector<std::pair<uint32_t, uint32_t>> offsets(20);
  PrefixModel model(16);
  int asked = 0;
  const auto r = score_document(model, ids, offsets, p, [&] { return ++asked == 3; });
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(model.calls, 2u);
}

TEST(Windows, TokenOutsideVocabularyIsAnInputError) {
  const ResolvedPolicy p = make_policy(4, 0, std::nullopt);
  std::vector<int32_t> ids = {1, 2, 99};
  std::vector<std::pair<uint32_t, uint32_t>> offsets(3);
  PrefixModel model(50);
  EXPECT_THROW(score_document(model, ids, offsets, p), InputError);
  const ResolvedPolicy pb = make_policy(4, 0, 77);
  ids = {1, 2, 3};
  EXPECT_THROW(score_document(model, ids, offsets, pb), InputError);
}

TEST(Policy, Validation) {
  ScoringPolicy p;
  p.context = 1;
  EXPECT_THROW(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt), InputError);
  p.context = -3;
  EXPECT_THROW(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt), InputError);
  p.context = 101;
  EXPECT_THROW(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt), InputError);
  p.force_context = true;
  EXPECT_EQ(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt).context, 101);
  p.stride = 101;
  EXPECT_THROW(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt), InputError);
  p.stride = -1;
  EXPECT_THROW(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt), InputError);
  p.stride = 100;
  EXPECT_EQ(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt).stride, 100);
}

TEST(Policy, DefaultContextIsCappedByTheModel) {
  ScoringPolicy p;
  EXPECT_EQ(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt).context, 100);
  EXPECT_EQ(resolve_policy(p, 1 << 20, std::nullopt, std::nullopt, std::nullopt).context, kDefaultContext);
  EXPECT_EQ(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt).stride, 99);
}

TEST(Policy, Bos) {
  ScoringPolicy p;
  p.context = 16;
  // auto: what the post-processor prepends, nothing else.
  EXPECT_EQ(resolve_policy(p, 100, 7, 8, 9).bos_id, std::optional<int32_t>(7));
  EXPECT_EQ(resolve_policy(p, 100, std::nullopt, 8, 9).bos_id, std::nullopt);
  // always: the tokenizer's bos_token, else config.json's bos_token_id, else an error.
  p.bos = BosPolicy::Always;
  EXPECT_EQ(resolve_policy(p, 100, 7, 8, 9).bos_id, std::optional<int32_t>(8));
  EXPECT_EQ(resolve_policy(p, 100, std::nullopt, std::nullopt, 9).bos_id, std::optional<int32_t>(9));
  EXPECT_THROW(resolve_policy(p, 100, std::nullopt, std::nullopt, std::nullopt), InputError);
  // never: none.
  p.bos = BosPolicy::Never;
  EXPECT_EQ(resolve_policy(p, 100, 7, 8, 9).bos_id, std::nullopt);
  EXPECT_EQ(parse_bos_policy("always", "--bos"), BosPolicy::Always);
  EXPECT_THROW(parse_bos_policy("yes", "--bos"), InputError);
}

}  // namespace
}  // namespace lossgap
