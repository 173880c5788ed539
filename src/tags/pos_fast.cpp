// The fast decoder of the part-of-speech tagger (PosTagger::tag_words) and the tables it reads
// (PosTagger::finish). It computes exactly what tag_words_reference computes — the same features,
// hashed to the same FNV-1a values, each class's score summed over them in the same order — but
// without building a string per feature: hashes continue from precomputed template states over
// views of one buffer per sentence; a bit filter answers most absent features; the others are
// looked up in a flat open-addressing table whose slots for the next word are prefetched while
// the current word is scored; frequent features have dense rows added 8 classes at a time; the
// features of the previous tags, the tag dictionary and the lexicon come from tables made at
// load. Not training (pos_train.cpp) and not the model file (pos.cpp).
#include <utf8proc.h>

#include <algorithm>
#include <array>

#include "core/error.h"
#include "tags/pos.h"
#include "tags/pos_features.h"

namespace lossgap {

namespace {

using namespace pos_detail;

// Features with this many classes or more get a dense row (about 2,900 of the shipped model's
// 161,000: the bias, the previous tags, common suffixes and shapes, which most words hit).
constexpr uint32_t kDenseRows = 16;

// The bit filter in front of the feature table: 512 KB, so most features a model lacks (a rare
// word's, a pair's) are known absent from a cache-resident bit instead of a table probe.
constexpr uint64_t kFilterBits = uint64_t{1} << 22;
uint64_t filter_bit(uint64_t h) { return h >> 42; }
size_t slot_of(uint64_t h, size_t mask) { return (h ^ (h >> 32)) & mask; }

// The templates of the previous tags alone: their rows come from tables made at load.
bool is_tag_template(uint8_t t) { return t == kTag1 || t == kTag2 || t == kTag12; }

const std::array<uint64_t, kNumTemplates>& template_states() {
  static const std::array<uint64_t, kNumTemplates> states = [] {
    std::array<uint64_t, kNumTemplates> s{};
    for (uint8_t t = 0; t < kNumTemplates; ++t) s[t] = template_state(t);
    return s;
  }();
  return states;
}

uint64_t pair_hash(uint64_t state, std::string_view a, std::string_view b) {
  return fnv_update(fnv_update(fnv_update(state, a), " "), b);
}

// A word of the sentence being tagged: views into the caller's forms and the scratch buffers.
struct Word {
  std::string_view form, norm, shape, amb;
  std::array<std::string_view, 4> suffix;  // last 1..4 characters of norm
  std::array<std::string_view, 3> prefix;  // first 1..3 characters of norm
};

// Per-thread buffers, reused from sentence to sentence.
struct Scratch {
  std::string norm, shape;               // every word's norm / shape, concatenated
  std::vector<uint32_t> norm_at, shape_at;  // [n + 1] offsets into them
  std::vector<uint32_t> char_at;          // code point starts of one norm
  std::vector<Word> words;                // [n]
  std::vector<int32_t> dict;              // [n] the word's tag in the tag dictionary, or -1
  std::vector<float> scores;              // [dense_width_] per class, padding after n_tags
};

// Suffixes and prefixes by code points (pos_features.cpp chars(): an invalid byte is one).
void affixes(Word& w, std::vector<uint32_t>& char_at) {
  const std::string_view s = w.norm;
  bool ascii = true;
  for (unsigned char c : s) ascii = ascii && c < 0x80;
  if (ascii) {
    for (size_t n = 1; n <= 4; ++n) {
      const size_t take = std::min(n, s.size());
      w.suffix[n - 1] = s.substr(s.size() - take);
      if (n <= 3) w.prefix[n - 1] = s.substr(0, take);
    }
    return;
  }
  char_at.clear();
  for (size_t i = 0; i < s.size();) {
    char_at.push_back(static_cast<uint32_t>(i));
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    i += n > 0 ? static_cast<size_t>(n) : 1;
  }
  const size_t count = char_at.size();
  for (size_t n = 1; n <= 4; ++n) {
    const size_t take = std::min(n, count);
    w.suffix[n - 1] = take == 0 ? s.substr(s.size()) : s.substr(char_at[count - take]);
    if (n <= 3) w.prefix[n - 1] = s.substr(0, take < count ? char_at[take] : s.size());
  }
}

}  // namespace

template <class V>
void PosTagger::WordTable<V>::build(const PosStringMap<V>& m) {
  size_t cap = 16;
  while (cap < 2 * m.size()) cap *= 2;
  slots.assign(cap, {0, 0});
  keys.clear();
  values.clear();
  for (const auto& [k, v] : m) {
    const uint64_t h = fnv1a64(k);
    size_t i = h & (cap - 1);
    while (slots[i].second != 0) i = (i + 1) & (cap - 1);
    keys.push_back(k);
    values.push_back(v);
    slots[i] = {h, static_cast<uint32_t>(keys.size())};
  }
}

template <class V>
const V* PosTagger::WordTable<V>::find(std::string_view key) const {
  const uint64_t h = fnv1a64(key);
  const size_t mask = slots.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const auto [hash, entry] = slots[i];
    if (entry == 0) return nullptr;
    if (hash == h && keys[entry - 1] == key) return &values[entry - 1];
  }
}

void PosTagger::finish() {
  tag_keys_.clear();
  for (size_t k = 0; k < tags_.size(); ++k) tag_keys_.push_back(std::to_string(k));
  tagdict_table_.build(tagdict_);
  lexicon_table_.build(lexicon_);

  LG_CHECK(classes_.size() < kDenseBit, "weights fit 31-bit offsets");
  rows_.resize(classes_.size());
  for (size_t j = 0; j < classes_.size(); ++j) rows_[j] = {weights_[j], classes_[j]};
  dense_width_ = (tags_.size() + 7) / 8 * 8;
  dense_.clear();
  size_t cap = 16;
  while (cap * 5 < index_.size() * 8) cap *= 2;  // load factor <= 0.625
  table_.assign(cap, Slot{});
  filter_.assign(kFilterBits / 64, 0);
  for (const auto& [hash, k] : index_) {
    const uint32_t b = offsets_[k], e = offsets_[k + 1];
    if (b == e) continue;  // no weight: as if absent
    Rows rows{b, e};
    bool distinct = e - b >= kDenseRows;  // a dense row holds one weight per class
    if (distinct) {
      std::vector<bool> seen(tags_.size(), false);
      for (uint32_t j = b; j < e && distinct; ++j) {
        distinct = !seen[classes_[j]];
        seen[classes_[j]] = true;
      }
    }
    if (distinct) {
      rows.begin = kDenseBit | static_cast<uint32_t>(dense_.size() / dense_width_);
      dense_.resize(dense_.size() + dense_width_, 0.0f);
      float* d = &dense_[dense_.size() - dense_width_];
      for (uint32_t j = b; j < e; ++j) d[classes_[j]] = weights_[j];
    }
    size_t i = slot_of(hash, cap - 1);
    while (table_[i].rows.end != 0) i = (i + 1) & (cap - 1);
    table_[i] = {hash, rows};
    filter_[filter_bit(hash) >> 6] |= uint64_t{1} << (filter_bit(hash) & 63);
  }

  auto lookup = [&](uint64_t h) -> Rows {
    for (size_t i = slot_of(h, cap - 1);; i = (i + 1) & (cap - 1)) {
      if (table_[i].rows.end == 0) return {};
      if (table_[i].hash == h) return table_[i].rows;
    }
  };
  const size_t n = tags_.size(), S = n + 2;
  auto key = [&](size_t state) -> std::string_view {
    return state < n ? std::string_view(tag_keys_[state]) : state == n ? "-START-" : "-START2-";
  };
  const auto& P = template_states();
  t1_rows_.assign(S, {});
  t2_rows_.assign(S, {});
  t12_rows_.assign(S * S, {});
  t1w_state_.assign(S, 0);
  t1a_state_.assign(S, 0);
  for (size_t a = 0; a < S; ++a) {
    t1_rows_[a] = lookup(fnv_update(P[kTag1], key(a)));
    t2_rows_[a] = lookup(fnv_update(P[kTag2], key(a)));
    for (size_t b = 0; b < S; ++b) t12_rows_[a * S + b] = lookup(pair_hash(P[kTag12], key(a), key(b)));
    t1w_state_[a] = fnv_update(fnv_update(P[kTag1Word], key(a)), " ");
    t1a_state_[a] = fnv_update(fnv_update(P[kTag1Amb], key(a)), " ");
  }
}

std::vector<uint16_t> PosTagger::tag_words(std::span<const std::string_view> forms) const {
  thread_local Scratch sc;
  const size_t n = forms.size();
  std::vector<uint16_t> out(n);
  if (n == 0) return out;
  LG_CHECK(!tags_.empty(), "a loaded tagger has tags");

  // Words: norm, shape, affixes, ambiguity class, tag dictionary entry.
  sc.norm.clear();
  sc.shape.clear();
  sc.norm_at.assign(1, 0);
  sc.shape_at.assign(1, 0);
  for (std::string_view f : forms) {
    normalize_word(f, sc.norm, sc.shape);
    sc.norm_at.push_back(static_cast<uint32_t>(sc.norm.size()));
    sc.shape_at.push_back(static_cast<uint32_t>(sc.shape.size()));
  }
  sc.words.resize(n);
  sc.dict.resize(n);
  for (size_t k = 0; k < n; ++k) {
    Word& w = sc.words[k];
    w.form = forms[k];
    w.norm = std::string_view(sc.norm).substr(sc.norm_at[k], sc.norm_at[k + 1] - sc.norm_at[k]);
    w.shape = std::string_view(sc.shape).substr(sc.shape_at[k], sc.shape_at[k + 1] - sc.shape_at[k]);
    const std::string* amb = lexicon_table_.find(w.norm);
    w.amb = amb ? std::string_view(*amb) : std::string_view("?");
    affixes(w, sc.char_at);
    const uint16_t* tag = tagdict_table_.find(w.form);
    sc.dict[k] = tag ? *tag : -1;
  }

  const std::vector<Word>& W = sc.words;
  const auto& P = template_states();
  const size_t mask = table_.size() - 1;
  auto maybe = [&](uint64_t h) {
    const uint64_t b = filter_bit(h);
    return (filter_[b >> 6] >> (b & 63)) & 1;
  };
  auto lookup = [&](uint64_t h) -> Rows {
    if (!maybe(h)) return {};
    for (size_t i = slot_of(h, mask);; i = (i + 1) & mask) {
      const Slot& s = table_[i];
      if (s.rows.end == 0) return {};
      if (s.hash == h) return s.rows;
    }
  };
  auto word = [&](ptrdiff_t k) -> std::string_view {
    if (k < 0) return k == -1 ? "-START-" : "-START2-";
    if (k >= static_cast<ptrdiff_t>(n)) return k == static_cast<ptrdiff_t>(n) ? "-END-" : "-END2-";
    return W[static_cast<size_t>(k)].norm;
  };
  auto amb = [&](size_t k) -> std::string_view { return k < n ? W[k].amb : std::string_view("-END-"); };
  // The hashes of word i's features that do not depend on the previous tags (pos_features.cpp
  // extract_features), their table slots prefetched: done one tagged word ahead.
  using Hashes = std::array<uint64_t, kNumTemplates>;
  auto static_features = [&](size_t i, Hashes& h) {
    const Word& w = W[i];
    const auto at = static_cast<ptrdiff_t>(i);
    h[kBias] = P[kBias];
    h[kWord] = fnv_update(P[kWord], w.norm);
    h[kForm] = fnv_update(P[kForm], w.form);
    for (uint8_t k = 0; k < 4; ++k) h[kSuffix1 + k] = fnv_update(P[kSuffix1 + k], w.suffix[k]);
    for (uint8_t k = 0; k < 3; ++k) h[kPrefix1 + k] = fnv_update(P[kPrefix1 + k], w.prefix[k]);
    h[kShape] = fnv_update(P[kShape], w.shape);
    h[kWordM1] = fnv_update(P[kWordM1], word(at - 1));
    h[kSuffix3M1] = fnv_update(P[kSuffix3M1], i >= 1 ? W[i - 1].suffix[2] : word(at - 1));
    h[kWordM2] = fnv_update(P[kWordM2], word(at - 2));
    h[kWordP1] = fnv_update(P[kWordP1], word(at + 1));
    h[kSuffix3P1] = fnv_update(P[kSuffix3P1], i + 1 < n ? W[i + 1].suffix[2] : word(at + 1));
    h[kWordP2] = fnv_update(P[kWordP2], word(at + 2));
    h[kShapeP1] = fnv_update(P[kShapeP1], i + 1 < n ? W[i + 1].shape : word(at + 1));
    h[kShapeM1] = fnv_update(P[kShapeM1], i >= 1 ? W[i - 1].shape : word(at - 1));
    h[kWordM1Word] = pair_hash(P[kWordM1Word], word(at - 1), w.norm);
    h[kWordWordP1] = pair_hash(P[kWordWordP1], w.norm, word(at + 1));
    h[kAmb] = fnv_update(P[kAmb], w.amb);
    h[kAmbP1] = fnv_update(P[kAmbP1], amb(i + 1));
    h[kAmbP2] = fnv_update(P[kAmbP2], amb(i + 2));
    h[kAmbAmbP1] = pair_hash(P[kAmbAmbP1], w.amb, amb(i + 1));
    for (uint8_t t = 0; t < kNumTemplates; ++t)
      if (!is_tag_template(t) && maybe(h[t])) __builtin_prefetch(&table_[slot_of(h[t], mask)]);
  };
  auto next_untagged = [&](size_t k) {
    while (k < n && sc.dict[k] >= 0) ++k;
    return k;
  };

  const size_t n_tags = tags_.size(), S = n_tags + 2;
  sc.scores.resize(dense_width_);
  float* scores = sc.scores.data();
  size_t p1 = n_tags, p2 = n_tags + 1;  // "-START-", "-START2-"
  std::array<Hashes, 2> H{};
  int cur = 0;  // H[cur]: the static hashes of the next word the perceptron tags
  std::array<Rows, kNumTemplates> rows{};
  if (const size_t first = next_untagged(0); first < n) static_features(first, H[cur]);
  for (size_t i = 0; i < n; ++i) {
    const Word& w = W[i];
    uint16_t best = 0;
    if (sc.dict[i] >= 0) {
      best = static_cast<uint16_t>(sc.dict[i]);
    } else {
      if (const size_t after = next_untagged(i + 1); after < n) static_features(after, H[cur ^ 1]);
      Hashes& h = H[cur];
      cur ^= 1;
      h[kTag1Word] = fnv_update(t1w_state_[p1], w.norm);
      h[kTag1Amb] = fnv_update(t1a_state_[p1], w.amb);
      for (uint8_t t = 0; t < kNumTemplates; ++t)
        if (!is_tag_template(t)) rows[t] = lookup(h[t]);
      if (w.form == w.norm) rows[kForm] = {};
      rows[kTag1] = t1_rows_[p1];
      rows[kTag2] = t2_rows_[p2];
      rows[kTag12] = t12_rows_[p1 * S + p2];
      // Weights added feature by feature in template order, as the reference does: each class's
      // score is the same sum in the same order. A run of dense rows is added 8 classes at a
      // time, the block's scores kept in registers across the run.
      std::fill(scores, scores + dense_width_, 0.0f);
      for (size_t t = 0; t < kNumTemplates;) {
        if (!(rows[t].begin & kDenseBit)) {
          for (uint32_t j = rows[t].begin; j < rows[t].end; ++j) scores[rows_[j].cls] += rows_[j].w;
          ++t;
          continue;
        }
        std::array<const float*, kNumTemplates> run;
        size_t k = 0;
        for (; t < kNumTemplates && (rows[t].begin & kDenseBit); ++t)
          run[k++] = &dense_[(rows[t].begin & ~kDenseBit) * dense_width_];
        for (size_t c = 0; c < dense_width_; c += 8) {
          float acc[8];
          for (size_t j = 0; j < 8; ++j) acc[j] = scores[c + j];
          for (size_t q = 0; q < k; ++q)
            for (size_t j = 0; j < 8; ++j) acc[j] += run[q][c + j];
          for (size_t j = 0; j < 8; ++j) scores[c + j] = acc[j];
        }
      }
      for (uint16_t c = 1; c < n_tags; ++c)
        if (scores[c] > scores[best]) best = c;
    }
    out[i] = best;
    p2 = p1;
    p1 = best;
  }
  return out;
}

}  // namespace lossgap
