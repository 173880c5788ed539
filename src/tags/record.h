// The per-token records that taggers and statistics read: a columnar (structure-of-arrays)
// table of documents, their tokens and each model's NLL, plus TokenMask, a bit set over tokens.
// Sized for ~10^7 tokens x a few models (about 24 bytes per token for two models, plus text).
// Not the run store (store/ reads and writes SQLite) and not a model interface: these are plain
// values, filled by whoever scored or imported the tokens.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace lossgap {

// Documents in order; each document's tokens are contiguous and in text order.
//
// Scoring convention (DESIGN.md "Scoring policy"): a document's token sequence holds every token
// of the document text as the tokenizer produced it, but not a BOS/EOS the scorer adds to each
// window. A token is a *target* when every model has a finite NLL for it; tokens that were only
// context (e.g. the first token of a document scored without BOS) carry NaN.
// `position[i]` is the number of document tokens before token i in the window that scored it
// (0 = the window's first document token; a BOS in front of it is not counted), so the tokens
// visible to token i are exactly tokens [i - position[i], i) of its document.
struct Records {
  // Documents [D].
  std::vector<std::string> doc_id;
  std::vector<std::string> doc_domain;  // "" when the corpus gave none
  std::vector<uint64_t> doc_begin;      // [D + 1]: document d holds tokens [doc_begin[d], doc_begin[d+1])
  std::string text;                     // every document's UTF-8 text, concatenated
  std::vector<uint64_t> text_begin;     // [D + 1]: document d's text is text[text_begin[d], text_begin[d+1])

  // Tokens [N].
  std::vector<int32_t> token;        // token id (>= 0)
  std::vector<uint32_t> byte_begin;  // byte span [byte_begin, byte_end) in the document's text
  std::vector<uint32_t> byte_end;
  std::vector<uint32_t> position;    // see above

  // Models [M]: nll[m][i] = -log p(token i) in nats under model m, NaN where not scored.
  std::vector<std::string> model;
  std::vector<std::vector<float>> nll;  // [M][N]

  size_t n_docs() const { return doc_id.size(); }
  size_t n_tokens() const { return token.size(); }
  size_t n_models() const { return model.size(); }

  std::string_view doc_text(size_t d) const {
    return std::string_view(text).substr(text_begin[d], text_begin[d + 1] - text_begin[d]);
  }
  // The bytes of token i (of document d); empty for an empty span.
  std::string_view token_text(size_t d, size_t i) const {
    return doc_text(d).substr(byte_begin[i], byte_end[i] - byte_begin[i]);
  }
  bool is_target(size_t i) const {
    for (const auto& m : nll)
      if (!std::isfinite(m[i])) return false;
    return true;
  }
  // Appends an empty document (tokens are then pushed to the token columns and closed with
  // end_document). Convenience for importers and tests.
  void begin_document(std::string id, std::string domain, std::string_view doc_text) {
    if (doc_begin.empty()) doc_begin.push_back(0);
    if (text_begin.empty()) text_begin.push_back(0);
    doc_id.push_back(std::move(id));
    doc_domain.push_back(std::move(domain));
    text.append(doc_text);
    text_begin.push_back(text.size());
  }
  void end_document() { doc_begin.push_back(token.size()); }
};

// Throws InputError(where, ...) unless the columns are consistent: equal lengths, offsets
// monotone, spans inside their document's text, spans not going backwards, token ids >= 0,
// position[i] <= i - doc_begin[d], NLLs non-negative or NaN.
inline void validate(const Records& r, const std::string& where) {
  const size_t D = r.doc_id.size(), N = r.token.size();
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw InputError(where, what);
  };
  need(r.doc_domain.size() == D, "doc_domain has " + std::to_string(r.doc_domain.size()) +
                                     " entries, expected " + std::to_string(D));
  need(r.doc_begin.size() == D + 1 && r.text_begin.size() == D + 1,
       "doc_begin/text_begin must have n_docs + 1 = " + std::to_string(D + 1) + " entries");
  need(r.doc_begin.front() == 0 && r.doc_begin.back() == N, "doc_begin must run from 0 to n_tokens");
  need(r.text_begin.front() == 0 && r.text_begin.back() == r.text.size(),
       "text_begin must run from 0 to text.size()");
  need(r.byte_begin.size() == N && r.byte_end.size() == N && r.position.size() == N,
       "token columns have different lengths");
  need(r.nll.size() == r.model.size(), "nll has " + std::to_string(r.nll.size()) +
                                           " models, model names " + std::to_string(r.model.size()));
  for (size_t m = 0; m < r.nll.size(); ++m)
    need(r.nll[m].size() == N, "nll of model '" + r.model[m] + "' has " +
                                   std::to_string(r.nll[m].size()) + " tokens, expected " +
                                   std::to_string(N));
  for (size_t d = 0; d < D; ++d) {
    need(r.doc_begin[d] <= r.doc_begin[d + 1] && r.text_begin[d] <= r.text_begin[d + 1],
         "document offsets decrease at document " + r.doc_id[d]);
    const uint64_t len = r.text_begin[d + 1] - r.text_begin[d];
    uint32_t prev_begin = 0;
    for (uint64_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) {
      auto at = [&] { return "document " + r.doc_id[d] + " token " + std::to_string(i - r.doc_begin[d]); };
      if (r.token[i] < 0) need(false, at() + ": token id " + std::to_string(r.token[i]) + " is negative");
      if (!(r.byte_begin[i] <= r.byte_end[i] && r.byte_end[i] <= len))
        need(false, at() + ": span [" + std::to_string(r.byte_begin[i]) + ", " + std::to_string(r.byte_end[i]) +
                        ") is not inside the text of " + std::to_string(len) + " bytes");
      if (r.byte_end[i] > r.byte_begin[i]) {
        if (r.byte_begin[i] < prev_begin) need(false, at() + ": span starts before the previous token's span");
        prev_begin = r.byte_begin[i];
      }
      if (r.position[i] > i - r.doc_begin[d])
        need(false, at() + ": position " + std::to_string(r.position[i]) + " exceeds the tokens before it (" +
                        std::to_string(i - r.doc_begin[d]) + ")");
      for (size_t m = 0; m < r.nll.size(); ++m)
        if (r.nll[m][i] < 0)
          need(false, at() + ": NLL of model '" + r.model[m] + "' is negative (" + std::to_string(r.nll[m][i]) + ")");
    }
  }
}

// A set of token indices [0, n) as bits: 10^7 tokens take 1.25 MB.
class TokenMask {
 public:
  TokenMask() = default;
  explicit TokenMask(size_t n) : n_(n), words_((n + 63) / 64, 0) {}
  size_t size() const { return n_; }
  bool test(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1u; }
  void set(size_t i) { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  size_t count() const {
    size_t c = 0;
    for (uint64_t w : words_) c += static_cast<size_t>(std::popcount(w));
    return c;
  }
  TokenMask& operator&=(const TokenMask& o) {
    LG_CHECK(o.n_ == n_, "mask sizes differ");
    for (size_t k = 0; k < words_.size(); ++k) words_[k] &= o.words_[k];
    return *this;
  }
  TokenMask& operator|=(const TokenMask& o) {
    LG_CHECK(o.n_ == n_, "mask sizes differ");
    for (size_t k = 0; k < words_.size(); ++k) words_[k] |= o.words_[k];
    return *this;
  }
  // Calls f(i) for every member i in [begin, end), in increasing order.
  template <class F>
  void for_each(size_t begin, size_t end, F&& f) const {
    if (begin >= end) return;
    size_t k = begin >> 6;
    uint64_t w = words_[k] & (~uint64_t{0} << (begin & 63));
    const size_t last = (end - 1) >> 6;
    for (;;) {
      if (k == last && ((end & 63) != 0)) w &= (uint64_t{1} << (end & 63)) - 1;
      while (w) {
        f((k << 6) + static_cast<size_t>(std::countr_zero(w)));
        w &= w - 1;
      }
      if (++k > last) break;
      w = words_[k];
    }
  }

 private:
  size_t n_ = 0;
  std::vector<uint64_t> words_;
};

// A named token category: the unit of every per-category statistic.
struct Category {
  std::string name;
  TokenMask members;
};

}  // namespace lossgap
