// Standard categories (categories.h).
#include "stats/categories.h"

#include <algorithm>
#include <bit>
#include <string>

namespace lossgap {
namespace {

template <class Pred>
TokenMask mask_of(size_t n, Pred&& p) {
  TokenMask m(n);
  for (size_t i = 0; i < n; ++i)
    if (p(i)) m.set(i);
  return m;
}

std::string bin_label(uint32_t b) {  // log2 bin b >= 1 holds [2^(b-1), 2^b)
  const uint64_t lo = uint64_t{1} << (b - 1), hi = (uint64_t{1} << b) - 1;
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

}  // namespace

std::vector<Category> standard_categories(const Records& r, const TagColumns& t) {
  const size_t N = r.n_tokens();
  std::vector<Category> out;
  out.push_back({"ALL", mask_of(N, [](size_t) { return true; })});
  const TokenMask no_copy = no_copy_mask(t.copy);
  if (t.content) out.push_back({"CONTENT", *t.content});
  if (t.function) out.push_back({"FUNCTION", *t.function});
  if (t.content) {
    TokenMask m = *t.content;
    m &= no_copy;
    out.push_back({"CONTENT∩NO-COPY", std::move(m)});
  }
  out.push_back({"NO-COPY", no_copy});
  for (uint32_t b = 1; b <= 6; ++b) {
    const uint32_t lo = 1u << (b - 1), hi = b == 6 ? 255 : (1u << b) - 1;
    const std::string name = b == 6 ? "COPY-32+" : "COPY-" + bin_label(b);
    out.push_back({name, mask_of(N, [&](size_t i) { return t.copy.copy_len[i] >= lo && t.copy.copy_len[i] <= hi; })});
  }
  out.push_back({"COPY-5", copy_at_least_mask(t.copy, 5)});
  // Per-token domain class, from the document.
  std::vector<DomainClass> cls(N);
  for (size_t d = 0; d < r.n_docs(); ++d)
    std::fill(cls.begin() + static_cast<std::ptrdiff_t>(r.doc_begin[d]),
              cls.begin() + static_cast<std::ptrdiff_t>(r.doc_begin[d + 1]), t.delim.doc_class[d]);
  out.push_back({"DELIM-OPEN", mask_of(N, [&](size_t i) { return t.delim.side[i] == DelimSide::Open; })});
  out.push_back({"DELIM-CLOSE", mask_of(N, [&](size_t i) { return t.delim.side[i] == DelimSide::Close; })});
  for (DomainClass c : {DomainClass::Prose, DomainClass::Code, DomainClass::Markup})
    for (DelimSide s : {DelimSide::Open, DelimSide::Close})
      out.push_back({std::string(s == DelimSide::Open ? "DELIM-OPEN/" : "DELIM-CLOSE/") + domain_class_name(c),
                     mask_of(N, [&](size_t i) { return t.delim.side[i] == s && cls[i] == c; })});
  for (int f = 0; f < kFormClasses; ++f)
    out.push_back({std::string("FORM/") + form_class_name(static_cast<FormClass>(f)),
                   mask_of(N, [&](size_t i) { return t.form[i] == static_cast<FormClass>(f); })});
  for (size_t k = 0; k < t.context.domains.size(); ++k) {
    TokenMask m(N);
    for (size_t d = 0; d < r.n_docs(); ++d)
      if (t.context.doc_domain[d] == k)
        for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) m.set(i);
    out.push_back({"DOMAIN/" + (t.context.domains[k].empty() ? std::string("(none)") : t.context.domains[k]), std::move(m)});
  }
  return out;
}

std::vector<Category> loss_filters(const Records& r, const TagColumns& t) {
  const size_t N = r.n_tokens();
  std::vector<Category> out;
  out.push_back({"ALL", mask_of(N, [](size_t) { return true; })});
  if (t.content) {
    TokenMask m = *t.content;
    m &= no_copy_mask(t.copy);
    out.push_back({"CONTENT∩NO-COPY", std::move(m)});
  }
  out.push_back({"COPY-5", copy_at_least_mask(t.copy, 5)});
  return out;
}

std::vector<Category> copy_distance_bins(const CopyTags& copy, uint32_t min_len) {
  const size_t N = copy.copy_len.size();
  uint32_t max_bin = 0;
  for (size_t i = 0; i < N; ++i)
    if (copy.copy_len[i] >= min_len && copy.copy_len[i] > 0)
      max_bin = std::max<uint32_t>(max_bin, static_cast<uint32_t>(std::bit_width(copy.copy_dist[i])));
  std::vector<Category> out;
  for (uint32_t b = 1; b <= max_bin; ++b)
    out.push_back({"DIST " + bin_label(b), TokenMask(N)});
  for (size_t i = 0; i < N; ++i)
    if (copy.copy_len[i] >= min_len && copy.copy_len[i] > 0)
      out[static_cast<size_t>(std::bit_width(copy.copy_dist[i])) - 1].members.set(i);
  return out;
}

std::vector<Category> position_bins(const ContextTags& context) {
  const size_t N = context.pos_bucket.size();
  uint8_t max_b = 0;
  for (uint8_t b : context.pos_bucket) max_b = std::max(max_b, b);
  std::vector<Category> out;
  for (uint32_t b = 0; b <= max_b; ++b) out.push_back({"POS " + pos_bucket_label(static_cast<uint8_t>(b)), TokenMask(N)});
  for (size_t i = 0; i < N; ++i) out[context.pos_bucket[i]].members.set(i);
  return out;
}

}  // namespace lossgap
