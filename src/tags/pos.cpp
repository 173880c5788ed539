// The part-of-speech tagger at inference: model file I/O, the reference greedy decoder, per-token
// tags. The fast decoder lives in pos_fast.cpp, training in pos_train.cpp.
#include "tags/pos.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tags/pos_features.h"

namespace lossgap {

namespace {

constexpr std::string_view kMagic = "lossgap-pos-tagger";
constexpr int kFormatVersion = 1;
constexpr double kWeightScale = 100.0;  // weights are stored as integer hundredths

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

bool unescape(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: return false;
    }
  }
  return true;
}

// Reads "<name> <count>" section headers and the lines of a model file, with line numbers.
class Reader {
 public:
  Reader(std::string path, std::string text) : path_(std::move(path)), text_(std::move(text)) {}

  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t e = text_.find('\n', pos_);
    if (e == std::string::npos) e = text_.size();
    line = std::string_view(text_).substr(pos_, e - pos_);
    pos_ = e + 1;
    ++line_no_;
    return true;
  }
  std::string_view line(const char* expected) {
    std::string_view l;
    if (!next(l)) fail(std::string("unexpected end of file, expected ") + expected);
    return l;
  }
  size_t section(std::string_view name) {
    std::string_view l = line(std::string(name).c_str());
    size_t count = 0;
    if (!l.starts_with(name) || l.size() <= name.size() + 1 || l[name.size()] != ' ' ||
        !parse_size(l.substr(name.size() + 1), count)) {
      fail("expected \"" + std::string(name) + " <count>\", got \"" + std::string(l) + "\"");
    }
    return count;
  }
  static bool parse_size(std::string_view s, size_t& out) {
    if (s.empty()) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || out > (SIZE_MAX - 9) / 10) return false;
      out = out * 10 + static_cast<size_t>(c - '0');
    }
    return true;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(path_ + ":" + std::to_string(line_no_), what);
  }

 private:
  std::string path_;
  std::string text_;
  size_t pos_ = 0;
  size_t line_no_ = 0;
};

}  // namespace

float weight_from_hundredths(long long w) {
  return static_cast<float>(w) / static_cast<float>(kWeightScale);
}

PosClass pos_class_of(std::string_view upos) {
  for (std::string_view t : {"NOUN", "PROPN", "VERB", "ADJ", "ADV"}) {
    if (upos == t) return PosClass::Content;
  }
  for (std::string_view t : {"ADP", "AUX", "CCONJ", "DET", "NUM", "PART", "PRON", "SCONJ"}) {
    if (upos == t) return PosClass::Function;
  }
  return PosClass::Other;
}

const char* pos_class_name(PosClass c) {
  switch (c) {
    case PosClass::Content: return "content";
    case PosClass::Function: return "function";
    case PosClass::Other: return "other";
  }
  return "other";
}

PosTagger PosTagger::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the part-of-speech model file");
  std::stringstream ss;
  ss << in.rdbuf();
  Reader r(path.string(), ss.str());

  std::string_view head = r.line("the header");
  std::string expected_head = std::string(kMagic) + " " + std::to_string(kFormatVersion);
  if (head != expected_head) {
    r.fail("expected the header \"" + expected_head + "\", got \"" +
           std::string(head.substr(0, 60)) + "\"");
  }
  PosTagger t;
  size_t n_tags = r.section("tags");
  if (n_tags == 0 || n_tags > 65535) r.fail("expected 1 to 65535 tags, got " + std::to_string(n_tags));
  for (size_t k = 0; k < n_tags; ++k) {
    std::string_view l = r.line("a tag line \"UPOS<TAB>XPOS\"");
    size_t tab = l.find('\t');
    if (tab == std::string_view::npos || tab == 0 || tab + 1 == l.size() ||
        l.find('\t', tab + 1) != std::string_view::npos) {
      r.fail("expected \"UPOS<TAB>XPOS\", got \"" + std::string(l) + "\"");
    }
    t.tags_.emplace_back(std::string(l.substr(0, tab)), std::string(l.substr(tab + 1)));
  }
  size_t n_dict = r.section("tagdict");
  std::string word;
  for (size_t k = 0; k < n_dict; ++k) {
    std::string_view l = r.line("a tagdict line \"word<TAB>tag\"");
    size_t tab = l.rfind('\t');
    size_t tag = 0;
    if (tab == std::string_view::npos || !unescape(l.substr(0, tab), word) ||
        !Reader::parse_size(l.substr(tab + 1), tag) || tag >= n_tags) {
      r.fail("expected \"word<TAB>tag id < " + std::to_string(n_tags) + "\"");
    }
    t.tagdict_[word] = static_cast<uint16_t>(tag);
  }
  size_t n_lexicon = r.section("lexicon");
  for (size_t k = 0; k < n_lexicon; ++k) {
    std::string_view l = r.line("a lexicon line \"word<TAB>tags\"");
    size_t tab = l.rfind('\t');
    if (tab == std::string_view::npos || tab + 1 == l.size() || !unescape(l.substr(0, tab), word)) {
      r.fail("expected \"word<TAB>tags\"");
    }
    t.lexicon_[word] = std::string(l.substr(tab + 1));
  }
  size_t n_features = r.section("features");
  t.offsets_.push_back(0);
  std::string name;
  for (size_t k = 0; k < n_features; ++k) {
    std::string_view l = r.line("a feature line");
    size_t tab = l.rfind('\t');
    if (tab == std::string_view::npos || !unescape(l.substr(0, tab), name)) {
      r.fail("expected \"feature<TAB>tag:weight ...\"");
    }
    std::string_view rest = l.substr(tab + 1);
    while (!rest.empty()) {
      size_t sp = rest.find(' ');
      std::string_view item = rest.substr(0, sp);
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      size_t colon = item.find(':');
      size_t tag = 0;
      if (colon == std::string_view::npos || !Reader::parse_size(item.substr(0, colon), tag) ||
          tag >= n_tags) {
        r.fail("expected \"tag:weight\" with tag < " + std::to_string(n_tags) + ", got \"" +
               std::string(item) + "\"");
      }
      std::string num(item.substr(colon + 1));
      char* end = nullptr;
      errno = 0;
      long long w = std::strtoll(num.c_str(), &end, 10);
      if (num.empty() || end != num.c_str() + num.size() || errno != 0 ||
          std::llabs(w) > (1ll << 24)) {
        r.fail("expected an integer weight (hundredths) after \"" + std::to_string(tag) +
               ":\", got \"" + num + "\"");
      }
      t.classes_.push_back(static_cast<uint16_t>(tag));
      t.weights_.push_back(weight_from_hundredths(w));
    }
    if (!t.index_.emplace(pos_detail::fnv1a64(name), static_cast<uint32_t>(k)).second) {
      r.fail("feature \"" + name + "\" repeated (or its hash collides with an earlier one)");
    }
    t.feature_names_.push_back(name);
    t.offsets_.push_back(static_cast<uint32_t>(t.classes_.size()));
  }
  std::string_view extra;
  if (r.next(extra) && !extra.empty()) r.fail("expected the end of the file after the features");
  t.finish();
  return t;
}

void PosTagger::save(const std::filesystem::path& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw InputError(path.string(), "cannot open for writing");
  out << kMagic << ' ' << kFormatVersion << '\n';
  out << "tags " << tags_.size() << '\n';
  for (const auto& [u, x] : tags_) out << u << '\t' << x << '\n';
  std::vector<std::pair<std::string, uint16_t>> dict(tagdict_.begin(), tagdict_.end());
  std::sort(dict.begin(), dict.end());
  out << "tagdict " << dict.size() << '\n';
  for (const auto& [w, tag] : dict) out << escape(w) << '\t' << tag << '\n';
  std::vector<std::pair<std::string, std::string>> lex(lexicon_.begin(), lexicon_.end());
  std::sort(lex.begin(), lex.end());
  out << "lexicon " << lex.size() << '\n';
  for (const auto& [w, amb] : lex) out << escape(w) << '\t' << amb << '\n';
  std::vector<uint32_t> order(feature_names_.size());
  for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return feature_names_[a] < feature_names_[b]; });
  out << "features " << order.size() << '\n';
  for (uint32_t k : order) {
    out << escape(feature_names_[k]) << '\t';
    for (uint32_t j = offsets_[k]; j < offsets_[k + 1]; ++j) {
      out << (j > offsets_[k] ? " " : "") << classes_[j] << ':'
          << std::llround(static_cast<double>(weights_[j]) * kWeightScale);
    }
    out << '\n';
  }
  out.flush();
  if (!out) throw InputError(path.string(), "write failed");
}

std::vector<uint16_t> PosTagger::tag_words_reference(std::span<const std::string_view> words) const {
  std::vector<pos_detail::PosWord> pw = pos_detail::prepare_words(words, lexicon_);
  std::vector<uint16_t> out(words.size());
  std::vector<float> scores(tags_.size());
  std::vector<pos_detail::Feature> feats;
  std::string_view prev1 = "-START-", prev2 = "-START2-";
  for (size_t i = 0; i < pw.size(); ++i) {
    uint16_t best = 0;
    if (auto it = tagdict_.find(pw[i].form); it != tagdict_.end()) {
      best = it->second;
    } else {
      pos_detail::extract_features(pw, i, prev1, prev2, feats);
      std::fill(scores.begin(), scores.end(), 0.0f);
      for (const auto& f : feats) {
        auto it2 = index_.find(f.hash);
        if (it2 == index_.end()) continue;
        for (uint32_t j = offsets_[it2->second]; j < offsets_[it2->second + 1]; ++j) {
          scores[classes_[j]] += weights_[j];
        }
      }
      for (uint16_t c = 1; c < scores.size(); ++c) {
        if (scores[c] > scores[best]) best = c;
      }
    }
    out[i] = best;
    prev2 = prev1;
    prev1 = tag_keys_[best];
  }
  return out;
}

std::vector<uint16_t> PosTagger::tag_words(std::span<const std::string> words) const {
  std::vector<std::string_view> views(words.begin(), words.end());
  return tag_words(std::span<const std::string_view>(views));
}

std::vector<PosTagger::TaggedWord> PosTagger::tag_text(std::string_view text) const {
  std::vector<WordSpan> spans = split_words(text);
  std::vector<TaggedWord> out(spans.size());
  std::vector<std::string_view> forms;
  for (auto [first, last] : split_sentences(text, spans)) {
    forms.clear();
    for (size_t k = first; k < last; ++k) {
      forms.push_back(text.substr(spans[k].start, spans[k].end - spans[k].start));
    }
    std::vector<uint16_t> tags = tag_words(std::span<const std::string_view>(forms));
    for (size_t k = first; k < last; ++k) out[k] = {spans[k], tags[k - first]};
  }
  return out;
}

DocumentPos tag_tokens(const PosTagger& tagger, std::string_view text,
                       std::span<const std::pair<uint32_t, uint32_t>> token_spans) {
  DocumentPos doc;
  doc.words = tagger.tag_text(text);
  std::vector<WordSpan> spans;
  spans.reserve(doc.words.size());
  for (const auto& w : doc.words) spans.push_back(w.span);
  std::vector<TokenWord> map = map_tokens_to_words(text, spans, token_spans);
  doc.tokens.resize(map.size());
  for (size_t t = 0; t < map.size(); ++t) {
    TokenPos& tp = doc.tokens[t];
    tp.word = map[t].word;
    tp.word_initial = map[t].word_initial;
    if (tp.word < 0) continue;
    tp.tag = doc.words[static_cast<size_t>(tp.word)].tag;
    tp.upos = tagger.upos(tp.tag);
    tp.xpos = tagger.xpos(tp.tag);
    tp.pos_class = pos_class_of(tp.upos);
  }
  return doc;
}

}  // namespace lossgap
