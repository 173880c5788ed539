// Added-token matching (see added_tokens.h), after tokenizers' AddedVocabulary::find_matches.
#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "core/utf8.h"
#include "tokenizer/unicode.h"

namespace lossgap::tok {
namespace {

char32_t last_char(std::string_view s) {
  size_t p = utf8_char_start(s, s.size() - 1);
  return utf8_decode(s, p);
}

char32_t first_char(std::string_view s) {
  size_t p = 0;
  return utf8_decode(s, p);
}

// Word characters for single_word (tokenizers uses char::is_alphanumeric and '_').
bool is_word_char(char32_t c) { return c == '_' || is_alphanumeric(c); }

}  // namespace

AddedMatcher::AddedMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  trie_.emplace_back();
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const std::string& c = tokens_[t].content;
    if (c.empty()) continue;
    first_byte_[static_cast<unsigned char>(c[0])] = true;
    int32_t node = 0;
    for (unsigned char ch : c) {
      int32_t nx = child(node, ch);
      if (nx < 0) {
        nx = static_cast<int32_t>(trie_.size());
        auto& v = trie_[static_cast<size_t>(node)].next;
        v.insert(std::lower_bound(v.begin(), v.end(), std::make_pair(ch, int32_t{-1})),
                 std::make_pair(ch, nx));
        trie_.emplace_back();
      }
      node = nx;
    }
    // A duplicate content keeps the later token, as a map keyed by content would.
    trie_[static_cast<size_t>(node)].token = static_cast<int32_t>(t);
  }
}

int32_t AddedMatcher::child(int32_t node, unsigned char c) const {
  const auto& v = trie_[static_cast<size_t>(node)].next;
  auto it = std::lower_bound(v.begin(), v.end(), std::make_pair(c, int32_t{-1}));
  return it != v.end() && it->first == c ? it->second : -1;
}

void AddedMatcher::find(std::string_view s, std::vector<AddedMatch>& out) const {
  if (tokens_.empty()) return;
  size_t start_offset = 0;  // end of the previous accepted match
  size_t i = 0;
  while (i < s.size()) {
    if (!first_byte_[static_cast<unsigned char>(s[i])]) {
      ++i;
      continue;
    }
    // Longest token starting at i.
    int32_t node = 0, best = -1;
    size_t best_end = 0;
    for (size_t j = i; j < s.size(); ++j) {
      node = child(node, static_cast<unsigned char>(s[j]));
      if (node < 0) break;
      if (trie_[static_cast<size_t>(node)].token >= 0) {
        best = trie_[static_cast<size_t>(node)].token;
        best_end = j + 1;
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    const AddedToken& t = tokens_[static_cast<size_t>(best)];
    size_t b = i, e = best_end;
    i = best_end;  // the automaton moves past this match even if it is discarded below
    if (t.single_word) {
      const bool start_ok = b == 0 || !is_word_char(last_char(s.substr(0, b)));
      const bool stop_ok = e == s.size() || !is_word_char(first_char(s.substr(e)));
      if (!start_ok || !stop_ok) continue;
    }
    if (t.lstrip) {
      size_t nb = b;
      while (nb > 0) {
        const size_t cs = utf8_char_start(s, nb - 1);
        size_t p = cs;
        if (!is_whitespace(utf8_decode(s, p))) break;
        nb = cs;
      }
      b = std::max(nb, start_offset);
    }
    if (t.rstrip) {
      while (e < s.size()) {
        size_t p = e;
        if (!is_whitespace(utf8_decode(s, p))) break;
        e = p;
      }
    }
    out.push_back({b, e, t.id});
    start_offset = e;
  }
}

}  // namespace lossgap::tok
