// The context tagger (context.h).
#include "tags/context.h"

#include <algorithm>
#include <bit>
#include <unordered_map>

namespace lossgap {

ContextTags tag_context(const Records& r) {
  const size_t N = r.n_tokens(), D = r.n_docs();
  ContextTags t;
  t.pos_bucket.resize(N);
  t.freq_bucket.resize(N);
  int32_t max_id = -1;
  for (int32_t id : r.token) max_id = std::max(max_id, id);
  t.token_count.assign(static_cast<size_t>(max_id + 1), 0);
  for (int32_t id : r.token) ++t.token_count[static_cast<size_t>(id)];
  for (size_t i = 0; i < N; ++i) {
    t.pos_bucket[i] = static_cast<uint8_t>(std::bit_width(r.position[i]));
    t.freq_bucket[i] = static_cast<uint8_t>(std::bit_width(t.token_count[static_cast<size_t>(r.token[i])]) - 1);
  }
  std::unordered_map<std::string, uint32_t> index;
  t.doc_domain.resize(D);
  for (size_t d = 0; d < D; ++d) {
    auto [it, fresh] = index.emplace(r.doc_domain[d], static_cast<uint32_t>(t.domains.size()));
    if (fresh) t.domains.push_back(r.doc_domain[d]);
    t.doc_domain[d] = it->second;
  }
  return t;
}

namespace {
std::string range_label(uint64_t lo, uint64_t hi) {
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}
}  // namespace

std::string pos_bucket_label(uint8_t b) {
  if (b == 0) return "0";
  return range_label(uint64_t{1} << (b - 1), (uint64_t{1} << b) - 1);
}

std::string freq_bucket_label(uint8_t b) { return range_label(uint64_t{1} << b, (uint64_t{2} << b) - 1); }

}  // namespace lossgap
