// Tests of the copy tagger: hand-made sequences, and the linear-time tagger against a direct
// O(n^2) implementation of the definition on random sequences over small alphabets (many
// repeats, long repeats past kCopyMaxN, windows that overlap or restart).
#include <gtest/gtest.h>

#include <random>

#include "tags/copy.h"

namespace lossgap {
namespace {

struct Brute {
  uint32_t len = 0, dist = 0, prev_dist = 0, type_count = 0;
};

// The definition, written the obvious way: for each n, every earlier end j in the window.
Brute brute(const std::vector<int32_t>& ids, size_t vb, size_t i) {
  Brute b;
  for (size_t j = vb; j < i; ++j)
    if (ids[j] == ids[i]) {
      ++b.type_count;
      b.prev_dist = static_cast<uint32_t>(i - j);
    }
  for (size_t n = 1; n <= kCopyMaxN && n <= i - vb; ++n) {
    size_t best = SIZE_MAX;
    for (size_t j = vb + n - 1; j < i; ++j) {
      bool eq = true;
      for (size_t k = 0; k < n; ++k) eq = eq && ids[i - k] == ids[j - k];
      if (eq) best = j;
    }
    if (best == SIZE_MAX) break;
    b.len = static_cast<uint32_t>(n);
    b.dist = static_cast<uint32_t>(i - best);
  }
  return b;
}

CopyTags run(const std::vector<int32_t>& ids, const std::vector<uint32_t>& pos) {
  CopyTags t;
  t.copy_len.assign(ids.size(), 0);
  t.copy_dist.assign(ids.size(), 0);
  t.prev_dist.assign(ids.size(), 0);
  t.type_count.assign(ids.size(), 0);
  tag_copy_document(ids, pos, t, 0);
  return t;
}

void expect_matches_brute(const std::vector<int32_t>& ids, const std::vector<uint32_t>& pos,
                          int trial, const char* what) {
  const CopyTags t = run(ids, pos);
  for (size_t i = 0; i < ids.size(); ++i) {
    const Brute b = brute(ids, i - pos[i], i);
    ASSERT_EQ(t.copy_len[i], b.len) << "trial " << trial << ", " << what << ", token " << i;
    ASSERT_EQ(t.copy_dist[i], b.dist) << "trial " << trial << ", " << what << ", token " << i;
    ASSERT_EQ(t.prev_dist[i], b.prev_dist) << "trial " << trial << ", " << what << ", token " << i;
    ASSERT_EQ(t.type_count[i], b.type_count) << "trial " << trial << ", " << what << ", token " << i;
  }
}

std::vector<uint32_t> one_window(size_t n) {
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
  return p;
}

// The scoring policy's windows: context c, each later window keeps c - stride tokens of prefix.
std::vector<uint32_t> strided(size_t n, size_t context, size_t stride) {
  std::vector<uint32_t> p(n);
  size_t first = 0, target = 0;
  while (target < n) {
    const size_t end = std::min(n, first + context);
    for (; target < end; ++target) p[target] = static_cast<uint32_t>(target - first);
    first += stride;
  }
  return p;
}

TEST(CopyTagger, HandMadeSequence) {
  // a b c a b c d a b
  const std::vector<int32_t> ids = {1, 2, 3, 1, 2, 3, 4, 1, 2};
  const CopyTags t = run(ids, one_window(ids.size()));
  const std::vector<uint8_t> len = {0, 0, 0, 1, 2, 3, 0, 1, 2};
  const std::vector<uint32_t> dist = {0, 0, 0, 3, 3, 3, 0, 4, 4};
  const std::vector<uint32_t> count = {0, 0, 0, 1, 1, 1, 0, 2, 2};
  EXPECT_EQ(t.copy_len, len);
  EXPECT_EQ(t.copy_dist, dist);
  EXPECT_EQ(t.type_count, count);
  EXPECT_EQ(t.prev_dist[7], 4u);
}

TEST(CopyTagger, OverlappingRepeatAndSaturation) {
  // A run of one token: the n-gram ending at i repeats, overlapping itself, one token back.
  std::vector<int32_t> ids(50, 7);
  const CopyTags t = run(ids, one_window(ids.size()));
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_EQ(t.copy_len[i], std::min<size_t>(i, kCopyMaxN)) << i;
    EXPECT_EQ(t.copy_dist[i], 1u) << i;
  }
}

TEST(CopyTagger, WindowHidesEarlierTokens) {
  // Token 3 repeats token 0, but its window starts at token 2.
  const std::vector<int32_t> ids = {5, 6, 8, 5, 6};
  const std::vector<uint32_t> pos = {0, 1, 0, 1, 2};
  const CopyTags t = run(ids, pos);
  EXPECT_EQ(t.copy_len[3], 0);
  EXPECT_EQ(t.copy_len[4], 0);
}

TEST(CopyTagger, Masks) {
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5, 9, 1, 2, 3, 4, 5, 6};
  const CopyTags t = run(ids, one_window(ids.size()));
  const TokenMask none = no_copy_mask(t), c5 = copy_at_least_mask(t, 5);
  EXPECT_EQ(none.count(), 7u);  // the first six tokens and the final 6
  EXPECT_TRUE(c5.test(10));     // completes 1 2 3 4 5
  EXPECT_EQ(c5.count(), 1u);
}

TEST(CopyTagger, MatchesBruteForceOnRandomSequences) {
  std::mt19937_64 rng(20260611);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 50 + rng() % 400;
    const int alphabet = 2 + static_cast<int>(rng() % 5);
    std::vector<int32_t> ids(n);
    for (auto& x : ids) x = static_cast<int32_t>(rng() % alphabet);
    // Plant long repeats (beyond kCopyMaxN) copied from earlier in the sequence.
    for (int k = 0; k < 3; ++k) {
      const size_t len = 10 + rng() % 60, from = rng() % (n / 2), to = from + 1 + rng() % (n / 2);
      for (size_t q = 0; q < len && to + q < n; ++q) ids[to + q] = ids[from + q];
    }
    expect_matches_brute(ids, one_window(n), trial, "one window");
    expect_matches_brute(ids, strided(n, 64, 32), trial, "context 64 stride 32");
    expect_matches_brute(ids, strided(n, 40, 40), trial, "context 40 stride 40");
    expect_matches_brute(ids, strided(n, 33, 7), trial, "context 33 stride 7");
  }
}

TEST(Records, ValidateNamesTheBadToken) {
  Records r;
  r.model = {"A"};
  r.nll.resize(1);
  r.begin_document("doc7", "", "abc");
  for (uint32_t k = 0; k < 3; ++k) {
    r.token.push_back(1);
    r.byte_begin.push_back(k);
    r.byte_end.push_back(k + 1);
    r.position.push_back(k);
    r.nll[0].push_back(1.0f);
  }
  r.end_document();
  EXPECT_NO_THROW(validate(r, "records"));
  r.position[1] = 2;  // more tokens before it than the document has
  try {
    validate(r, "records");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("document doc7 token 1"), std::string::npos) << e.what();
  }
  r.position[1] = 1;
  r.byte_end[2] = 4;  // past the text
  EXPECT_THROW(validate(r, "records"), InputError);
}

TEST(CopyTagger, WholeRecordsInParallelEqualPerDocument) {
  std::mt19937_64 rng(7);
  Records r;
  for (int d = 0; d < 20; ++d) {
    r.begin_document(std::to_string(d), "", "");
    const size_t n = 1 + rng() % 300;
    for (size_t i = 0; i < n; ++i) {
      r.token.push_back(static_cast<int32_t>(rng() % 4));
      r.byte_begin.push_back(0);
      r.byte_end.push_back(0);
      r.position.push_back(static_cast<uint32_t>(i % 100));
    }
    r.end_document();
  }
  validate(r, "test records");
  const CopyTags all = tag_copy(r);
  for (size_t d = 0; d < r.n_docs(); ++d) {
    const size_t b = r.doc_begin[d], e = r.doc_begin[d + 1];
    const std::vector<int32_t> ids(r.token.begin() + b, r.token.begin() + e);
    const std::vector<uint32_t> pos(r.position.begin() + b, r.position.begin() + e);
    const CopyTags one = run(ids, pos);
    for (size_t i = b; i < e; ++i) {
      ASSERT_EQ(all.copy_len[i], one.copy_len[i - b]);
      ASSERT_EQ(all.copy_dist[i], one.copy_dist[i - b]);
    }
  }
}

}  // namespace
}  // namespace lossgap
