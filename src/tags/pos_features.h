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
#include <vector>

#include "tags/pos.h"

namespace lossgap::pos_detail {

inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// FNV-1a 64: h continued over the bytes of s.
inline uint64_t fnv_update(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// The feature templates, in the order extract_features emits them (the decoder adds their
// weights in that order).
enum Template : uint8_t {
  kBias, kWord, kForm, kSuffix1, kSuffix2, kSuffix3, kSuffix4, kPrefix1, kPrefix2, kPrefix3,
  kShape, kTag1, kTag2, kTag12, kTag1Word, kWordM1, kSuffix3M1, kWordM2, kWordP1, kSuffix3P1,
  kWordP2, kShapeP1, kShapeM1, kWordM1Word, kWordWordP1, kAmb, kAmbP1, kAmbP2, kTag1Amb,
  kAmbAmbP1, kNumTemplates
};

// The FNV-1a state after a feature name's template and its space ("w "): a feature's hash is
// this state continued over its part a (then " " and b for a pair).
uint64_t template_state(uint8_t tmpl);

// The norm (lowercased, each decimal digit -> '0') and shape ("Xx", "d,d": runs of one
// character class collapsed) of a word as written, appended to `norm` and `shape`.
void normalize_word(std::string_view form, std::string& norm, std::string& shape);

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
using Lexicon = PosStringMap<std::string>;

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
