// The context tagger: where a token sits and how common it is — log2 position bucket in its
// scoring window, log2 bucket of its token id's frequency in the corpus being analysed, and its
// document's domain. Numbers only; the categories built from them live in stats/categories.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tags/record.h"

namespace lossgap {

struct ContextTags {
  // [N] bit_width(position): 0 for position 0, k >= 1 for positions [2^(k-1), 2^k).
  std::vector<uint8_t> pos_bucket;
  // [N] floor(log2(count)) of the token id's count over every token of the records (>= 1).
  std::vector<uint8_t> freq_bucket;
  // [max id + 1] count of each token id over every token of the records (targets and context).
  std::vector<uint32_t> token_count;
  // [D] index into `domains`, the distinct doc_domain values in order of first appearance
  // (an empty domain is kept as "").
  std::vector<uint32_t> doc_domain;
  std::vector<std::string> domains;
};

ContextTags tag_context(const Records& r);

// Labels of the buckets: position bucket 0 -> "0", 1 -> "1", 3 -> "4-7"; frequency bucket
// 0 -> "1", 2 -> "4-7".
std::string pos_bucket_label(uint8_t bucket);
std::string freq_bucket_label(uint8_t bucket);

}  // namespace lossgap
