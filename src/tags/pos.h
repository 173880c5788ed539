// The part-of-speech tagger: an averaged perceptron (Collins 2002) with greedy left-to-right
// decoding that gives each word a UD UPOS tag and a PTB XPOS tag (one joint class per pair),
// loaded from the model file shipped under models/pos/; and the per-token tags the comparison
// uses (a token takes the tags of the word holding its first byte, see words.h).
// Training and evaluation on CoNLL-U live in pos_train.h; the word splitter in words.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tags/words.h"

namespace lossgap {

// std::hash over string views, so maps keyed by std::string are searched without a copy.
struct PosStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using PosStringMap = std::unordered_map<std::string, V, PosStringHash, std::equal_to<>>;

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
  // The fast path: features hashed straight from the words into a flat table, no string built
  // per feature; gives exactly the tags of tag_words_reference (tests/unit/tags_pos.cpp).
  std::vector<uint16_t> tag_words(std::span<const std::string_view> words) const;
  std::vector<uint16_t> tag_words(std::span<const std::string> words) const;
  // The plain form of the same decoder (pos_detail::extract_features, one hash-map lookup per
  // feature): the reference the fast path is tested against; training scores the same way.
  std::vector<uint16_t> tag_words_reference(std::span<const std::string_view> words) const;

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
  // Fills tag_keys_ from tags_ and the fast path's tables from the weights (pos_fast.cpp);
  // called again whenever the weights change (training snapshots).
  void finish();

  std::vector<std::pair<std::string, std::string>> tags_;  // [n_tags] (UPOS, XPOS)
  std::vector<std::string> tag_keys_;                      // [n_tags] tag id as text, in features
  PosStringMap<uint16_t> tagdict_;                         // unambiguous frequent word -> tag
  PosStringMap<std::string> lexicon_;                      // norm -> ambiguity class
  // Sparse weights: feature hash -> its rows [offsets_[k], offsets_[k+1]) of classes_/weights_.
  std::unordered_map<uint64_t, uint32_t> index_;
  std::vector<std::string> feature_names_;  // [n_features] for save()
  std::vector<uint32_t> offsets_;           // [n_features + 1]
  std::vector<uint16_t> classes_;           // [n_weights]
  std::vector<float> weights_;              // [n_weights]

  // The fast path's tables (finish()). A feature's weights: a range [begin, end) of `rows_`,
  // or, for a feature with many classes (begin has kDenseBit), the dense row begin & ~kDenseBit
  // of `dense_` (zeros where it has no weight: adding +0 leaves every score bit for bit as is).
  static constexpr uint32_t kDenseBit = 0x80000000u;
  struct Rows {
    uint32_t begin = 0, end = 0;  // end == 0: the feature has no weight
  };
  struct Slot {                   // open addressing, linear probing; end == 0: empty slot
    uint64_t hash = 0;
    Rows rows;
  };
  struct Weight {
    float w;
    uint16_t cls;
  };
  std::vector<Slot> table_;    // [power of two >= 1.6 n_features]
  std::vector<uint64_t> filter_;  // [2^22 bits] bit (hash >> 42) set for every feature of table_
  std::vector<Weight> rows_;   // [n_weights] classes_/weights_ side by side
  std::vector<float> dense_;   // [n_dense, dense_width_] features with kDenseRows (pos_fast.cpp) classes or more
  size_t dense_width_ = 0;     // n_tags rounded up to a multiple of 8
  // Features of the previous tags, by tag state (tag id, then n_tags = "-START-",
  // n_tags + 1 = "-START2-"): rows of "t1 p1", "t2 p2", "t12 p1 p2", and the hash states of
  // "t1w p1 " and "t1a p1 " that the word's norm / ambiguity class completes.
  std::vector<Rows> t1_rows_, t2_rows_, t12_rows_;  // [S], [S], [S * S] (p1 * S + p2)
  std::vector<uint64_t> t1w_state_, t1a_state_;     // [S]
  // tagdict_ and lexicon_ as open-addressing tables over FNV-1a hashes of the keys (kept, so a
  // hit is an exact match).
  template <class V>
  struct WordTable {
    std::vector<std::pair<uint64_t, uint32_t>> slots;  // (hash, entry + 1); 0: empty slot
    std::vector<std::string> keys;                     // [entries]
    std::vector<V> values;                             // [entries]
    void build(const PosStringMap<V>& m);
    const V* find(std::string_view key) const;
  };
  WordTable<uint16_t> tagdict_table_;
  WordTable<std::string> lexicon_table_;
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
