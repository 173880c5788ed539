// Added tokens (tokenizer.json "added_tokens"): found in the text before normalization
// (normalized=false) or in the normalized pieces (normalized=true), leftmost-longest like
// tokenizers' Aho-Corasick matcher, with the single_word / lstrip / rstrip rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lossgap::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// One match: [begin, end) in the searched text (widened by lstrip/rstrip) and the token.
struct AddedMatch {
  size_t begin, end;
  int32_t id;
};

class AddedMatcher {
 public:
  AddedMatcher() = default;
  explicit AddedMatcher(std::vector<AddedToken> tokens);
  bool empty() const { return tokens_.empty(); }
  // The matches in `s` (valid UTF-8), in order, non-overlapping, after HF's filtering.
  void find(std::string_view s, std::vector<AddedMatch>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
    int32_t token = -1;                                   // index into tokens_
  };
  int32_t child(int32_t node, unsigned char c) const;
  std::vector<AddedToken> tokens_;
  std::vector<Node> trie_;
  bool first_byte_[256] = {};
};

}  // namespace lossgap::tok
