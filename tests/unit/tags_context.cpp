// Tests of the context tagger: position and frequency buckets, token counts, domains.
#include <gtest/gtest.h>

#include "tags/context.h"

namespace lossgap {
namespace {

TEST(Context, BucketsCountsAndDomains) {
  Records r;
  const std::vector<std::pair<std::string, std::vector<int32_t>>> docs = {
      {"wiki", {3, 3, 5, 3, 9, 3, 5, 3}}, {"", {5}}, {"wiki", {0}}};
  for (size_t d = 0; d < docs.size(); ++d) {
    r.begin_document(std::to_string(d), docs[d].first, "");
    for (size_t k = 0; k < docs[d].second.size(); ++k) {
      r.token.push_back(docs[d].second[k]);
      r.byte_begin.push_back(0);
      r.byte_end.push_back(0);
      r.position.push_back(static_cast<uint32_t>(k));
    }
    r.end_document();
  }
  const ContextTags t = tag_context(r);
  // positions 0..7 -> buckets 0 1 2 2 3 3 3 3
  const std::vector<uint8_t> pos = {0, 1, 2, 2, 3, 3, 3, 3, 0, 0};
  EXPECT_EQ(t.pos_bucket, pos);
  EXPECT_EQ(t.token_count[3], 5u);
  EXPECT_EQ(t.token_count[5], 3u);
  EXPECT_EQ(t.token_count[9], 1u);
  EXPECT_EQ(t.freq_bucket[0], 2);  // count 5 -> [4, 7]
  EXPECT_EQ(t.freq_bucket[2], 1);  // count 3 -> [2, 3]
  EXPECT_EQ(t.freq_bucket[4], 0);  // count 1
  EXPECT_EQ(t.domains, (std::vector<std::string>{"wiki", ""}));
  EXPECT_EQ(t.doc_domain, (std::vector<uint32_t>{0, 1, 0}));
  EXPECT_EQ(pos_bucket_label(0), "0");
  EXPECT_EQ(pos_bucket_label(1), "1");
  EXPECT_EQ(pos_bucket_label(3), "4-7");
  EXPECT_EQ(freq_bucket_label(0), "1");
  EXPECT_EQ(freq_bucket_label(2), "4-7");
}

}  // namespace
}  // namespace lossgap
