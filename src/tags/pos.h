// The part-of-speech tagger: an averaged perceptron (Collins 2002) with greedy left-to-right
// decoding that gives each word a UD UPOS tag and a PTB XPOS tag (one joint class per pair),
// loaded from the model file shipped under models/pos/; and the per-token tags the comparison
// uses (a token takes the tags of the word holding its first byte, see words.h).
// Training and evaluation on CoNLL-U live in pos_train.h; the word splitter in words.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tags/words.h"

namespace lossgap {

// DESIGN.md's coarse classes of UPOS tags.
enum class PosClass : uint8_t {
  Content,   // NOUN PROPN VERB ADJ ADV
  Function,  // ADP AUX CCONJ DET NUM PART PRON SCONJ
  Other,     // INTJ PUNCT SYM X, and tokens of no word
};
PosClass pos_class_of(std::string_view upos);
const char* pos_class_name(PosClass c);  // "content", "function", "other"

// Immutable once loaded: the const members may be called from several threads at once.
class PosTagger {
 public:
  // Reads a model file written by save() (format: docs/pos-tagger.md). Throws InputError
  // naming the file and line for a missing file, another format version, or a malformed line.
  static PosTagger load(const std::filesystem::path& path);
  // Writes the model as text. Throws InputError when the file cannot be written.
  void save(const std::filesystem::path& path) const;

  // The tag set: tag ids are 0 .. n_tags()-1, each one (UPOS, XPOS) pair seen in training.
  size_t n_tags() const { return tags_.size(); }
  std::string_view upos(uint16_t tag) const { return tags_[tag].first; }
  std::string_view xpos(uint16_t tag) const { return tags_[tag].second; }

  // Tags one sentence given as words (UD syntactic words: "do" "n't"), one tag id per word.
  std::vector<uint16_t> tag_words(std::span<const std::string_view> words) const;
  std::vector<uint16_t> tag_words(std::span<const std::string> words) const;

  // Splits text into words and rough sentences (words.h) and tags them, in text order.
  struct TaggedWord {
    WordSpan span;
    uint16_t tag = 0;
  };
  std::vector<TaggedWord> tag_text(std::string_view text) const;

  // Sizes, for reports: features kept and non-zero weights.
  size_t n_features() const { return index_.size(); }
  size_t n_weights() const { return classes_.size(); }

 private:
  friend struct PosTaggerBuilder;  // pos_train.cpp builds taggers from trained weights
  PosTagger() = default;
  void finish();  // fills tag_keys_ from tags_

  std::vector<std::pair<std::string, std::string>> tags_;  // [n_tags] (UPOS, XPOS)
  std::vector<std::string> tag_keys_;                      // [n_tags] tag id as text, in features
  std::unordered_map<std::string, uint16_t> tagdict_;      // unambiguous frequent word -> tag
  std::unordered_map<std::string, std::string> lexicon_;   // norm -> ambiguity class
  // Sparse weights: feature hash -> its rows [offsets_[k], offsets_[k+1]) of classes_/weights_.
  std::unordered_map<uint64_t, uint32_t> index_;
  std::vector<std::string> feature_names_;  // [n_features] for save()
  std::vector<uint32_t> offsets_;           // [n_features + 1]
  std::vector<uint16_t> classes_;           // [n_weights]
  std::vector<float> weights_;              // [n_weights]
};

// A weight as model files store it (an integer number of hundredths) and as training rounds it,
// so a tagger in memory tags exactly as the one read back from its file.
float weight_from_hundredths(long long w);

// A model token's part of speech in a document.
struct TokenPos {
  int32_t word = -1;            // index into DocumentPos::words, -1 when the token has no word
  uint16_t tag = 0;             // the word's tag id (meaningless when word == -1)
  std::string_view upos;        // "" when word == -1; views into the tagger's tag set
  std::string_view xpos;        // "" when word == -1
  PosClass pos_class = PosClass::Other;
  bool word_initial = false;    // the first token of its word (see map_tokens_to_words)
};

struct DocumentPos {
  std::vector<PosTagger::TaggedWord> words;
  std::vector<TokenPos> tokens;  // one per token span given
};

// Tags the words of `text` and gives each token (byte span [start, end) into `text`, as in
// Encoding::offsets) the tags of its word: the word holding its first non-whitespace byte; a
// token that is empty or all whitespace has no word and is `other`. The views in the result
// live as long as `tagger`. Throws InputError for a span outside the text.
DocumentPos tag_tokens(const PosTagger& tagger, std::string_view text,
                       std::span<const std::pair<uint32_t, uint32_t>> token_spans);

}  // namespace lossgap
