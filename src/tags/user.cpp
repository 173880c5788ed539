// User tags (user.h): PCRE2 (JIT when available) for regular expressions; byte-coverage prefix
// sums per document to move matches and labelled spans onto tokens.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tags/user.h"

#include <pcre2.h>

#include <memory>
#include <unordered_map>

#include "core/error.h"
#include "core/utf8.h"

namespace lossgap {
namespace {

struct Code {
  pcre2_code* re = nullptr;
  ~Code() { pcre2_code_free(re); }
};
struct MatchData {
  pcre2_match_data* md;
  explicit MatchData(const pcre2_code* re) : md(pcre2_match_data_create_from_pattern(re, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
};

// Marks in `hit` every token of document d whose span overlaps a covered byte, or holds a
// point; `covered` and `point` are per byte of the document text.
void mark_tokens(const Records& r, size_t d, const std::vector<uint8_t>& covered,
                 const std::vector<uint8_t>& point, std::vector<uint8_t>& hit) {
  const size_t len = covered.size();
  std::vector<uint32_t> cov(len + 1, 0), pts(len + 1, 0);  // prefix sums
  for (size_t k = 0; k < len; ++k) {
    cov[k + 1] = cov[k] + covered[k];
    pts[k + 1] = pts[k] + point[k];
  }
  for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) {
    const uint32_t b = r.byte_begin[i], e = r.byte_end[i];
    if (e > b && (cov[e] > cov[b] || pts[e] > pts[b])) hit[i] = 1;
  }
}

TokenMask to_mask(const std::vector<uint8_t>& hit) {
  TokenMask m(hit.size());
  for (size_t i = 0; i < hit.size(); ++i)
    if (hit[i]) m.set(i);
  return m;
}

}  // namespace

TokenMask tag_regex(const Records& r, const RegexTagSpec& spec) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  Code code;
  code.re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(spec.pattern.data()), spec.pattern.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_off, nullptr);
  if (!code.re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw InputError("tag '" + spec.name + "'", "regex error at offset " + std::to_string(err_off) +
                                                    ": " + reinterpret_cast<const char*>(msg) +
                                                    " (pattern " + spec.pattern + ")");
  }
  pcre2_jit_compile(code.re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if it fails
  std::vector<uint8_t> hit(r.n_tokens(), 0);
  const auto D = static_cast<int64_t>(r.n_docs());
  std::string failure;  // the first matching error (an exception cannot leave the parallel loop)
#pragma omp parallel
  {
    MatchData md(code.re);
#pragma omp for schedule(dynamic, 4)
    for (int64_t dd = 0; dd < D; ++dd) {
      const auto d = static_cast<size_t>(dd);
      const std::string_view text = r.doc_text(d);
      bool failed = false;
      auto match = [&](std::string_view s, size_t start) {
        const int rc = pcre2_match(code.re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), start, 0,
                                   md.md, nullptr);
        if (rc >= 0) return true;
        if (rc != PCRE2_ERROR_NOMATCH && !failed) {
          failed = true;
          PCRE2_UCHAR msg[256];
          pcre2_get_error_message(rc, msg, sizeof msg);
#pragma omp critical(lossgap_user_regex_failure)
          if (failure.empty())
            failure = "matching failed in document " + r.doc_id[d] + ": " + reinterpret_cast<const char*>(msg);
        }
        return false;
      };
      if (spec.over == RegexTagSpec::Over::Token) {
        for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1] && !failed; ++i)
          if (match(r.token_text(d, i), 0)) hit[i] = 1;
        continue;
      }
      std::vector<uint8_t> covered(text.size(), 0), point(text.size(), 0);
      size_t start = 0;
      while (start <= text.size() && match(text, start)) {
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.md);
        const size_t s = ov[0], e = ov[1];
        if (e > s) {
          for (size_t k = s; k < e; ++k) covered[k] = 1;
          start = e;
        } else {  // an empty match: step past the character it sits on
          if (s < text.size()) point[s] = 1;
          const size_t len = s < text.size() ? utf8_seq_len(static_cast<unsigned char>(text[s])) : 1;
          start = s + (len == 0 ? 1 : len);
        }
      }
      mark_tokens(r, d, covered, point, hit);
    }
  }
  if (!failure.empty()) throw InputError("tag '" + spec.name + "'", failure);
  return to_mask(hit);
}

std::vector<Category> tag_span_labels(const Records& r,
                                      const std::vector<std::vector<SpanLabel>>& spans_by_doc) {
  if (spans_by_doc.size() != r.n_docs())
    throw InputError("span labels", "given for " + std::to_string(spans_by_doc.size()) +
                                        " documents, the records have " + std::to_string(r.n_docs()));
  std::vector<Category> out;
  std::unordered_map<std::string, size_t> index;
  std::vector<std::vector<uint8_t>> hits;
  for (size_t d = 0; d < r.n_docs(); ++d) {
    const size_t len = r.doc_text(d).size();
    std::unordered_map<size_t, std::vector<uint8_t>> covered;  // label index -> bytes
    for (size_t k = 0; k < spans_by_doc[d].size(); ++k) {
      const SpanLabel& s = spans_by_doc[d][k];
      if (!(s.begin < s.end) || s.end > len)
        throw InputError("document " + r.doc_id[d] + " span label " + std::to_string(k),
                         "span [" + std::to_string(s.begin) + ", " + std::to_string(s.end) +
                             ") must be non-empty and inside the text of " + std::to_string(len) + " bytes");
      auto [it, fresh] = index.emplace(s.label, out.size());
      if (fresh) {
        out.push_back(Category{s.label, TokenMask()});
        hits.emplace_back(r.n_tokens(), 0);
      }
      auto& c = covered[it->second];
      if (c.empty()) c.assign(len, 0);
      for (uint32_t b = s.begin; b < s.end; ++b) c[b] = 1;
    }
    const std::vector<uint8_t> no_points(len, 0);
    for (auto& [label, c] : covered) mark_tokens(r, d, c, no_points, hits[label]);
  }
  for (size_t k = 0; k < out.size(); ++k) out[k].members = to_mask(hits[k]);
  return out;
}

}  // namespace lossgap
