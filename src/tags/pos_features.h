// Features of the part-of-speech perceptron, shared by training (pos_train.cpp) and tagging
// (pos.cpp) so that both see exactly the same ones. Internal to src/tags; not a public API.
//
// The classic set (Collins 2002; Ratnaparkhi 1996; Honnibal's "A good POS tagger in about 200
// lines of Python"): the word, its case-folded suffixes and prefixes, its shape, the previous
// and next words, and the tags of the two previous words.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lossgap::pos_detail {

// A word prepared once per sentence.
struct PosWord {
  std::string form;   // as written
  std::string norm;   // lowercased, each decimal digit -> '0'
  std::string shape;  // "Xx", "x", "X.X.", "d,d" (runs of one character class collapsed)
  std::string suffix[4];  // last 1..4 characters of norm (shorter words: the whole word)
  std::string prefix[3];  // first 1..3 characters of norm
  std::string_view ambiguity;  // the word's tags in training (Lexicon), "?" when not listed
};

// Ambiguity classes: norm -> the ids of the tags a frequent training word had ("40|87").
// The class of the next words is the greedy decoder's look-ahead.
using Lexicon = std::unordered_map<std::string, std::string>;

std::vector<PosWord> prepare_words(std::span<const std::string_view> forms, const Lexicon& lexicon);

// One feature: its name is template + ' ' + a (+ ' ' + b), hashed with FNV-1a 64.
struct Feature {
  uint64_t hash;
  uint8_t tmpl;
  bool pair;  // has a second part b
  std::string_view a;
  std::string_view b;
};

// The features of word i given the keys of the previous two tags ("-START-" at the start).
// Views point into `words` and the tag keys.
void extract_features(const std::vector<PosWord>& words, size_t i, std::string_view prev1,
                      std::string_view prev2, std::vector<Feature>& out);

// The feature's name as stored in model files.
std::string feature_name(const Feature& f);

// FNV-1a 64 of a whole string: equals Feature::hash for feature_name(f).
uint64_t fnv1a64(std::string_view s);

}  // namespace lossgap::pos_detail
