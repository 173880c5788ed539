// Pre-tokenizers of tokenizer.json (see pretokenizers.h). The split behaviours follow
// tokenizers' NormalizedString::split; empty pieces are dropped as PreTokenizedString does.
#include "tokenizer/pretokenizers.h"

#include <algorithm>
#include <array>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace lossgap::tok {
namespace {

using json = nlohmann::json;
using Matches = std::vector<std::pair<size_t, size_t>>;
using MatchFn = std::function<void(std::string_view, Matches&)>;

struct Event {
  uint32_t b, e;
  bool match;
};

// Cuts every piece at the matches `find` reports, with HF's behaviour rules.
void split_pieces(PieceList& pl, SplitBehavior bh, bool invert, const MatchFn& find) {
  std::vector<Range> out;
  out.reserve(pl.pieces.size() * 2);
  Matches m;
  std::vector<Event> ev, merged;
  for (const Range& r : pl.pieces) {
    m.clear();
    find(pl.view(r), m);
    ev.clear();
    uint32_t prev = r.begin;
    for (auto [mb, me] : m) {
      const auto b = r.begin + static_cast<uint32_t>(mb), e = r.begin + static_cast<uint32_t>(me);
      if (b > prev) ev.push_back({prev, b, invert});
      ev.push_back({b, e, !invert});
      prev = e;
    }
    if (prev < r.end) ev.push_back({prev, r.end, invert});
    merged.clear();
    switch (bh) {
      case SplitBehavior::Removed:
        for (const Event& x : ev)
          if (!x.match) merged.push_back(x);
        break;
      case SplitBehavior::Isolated:
        merged = ev;
        break;
      case SplitBehavior::Contiguous: {
        bool prev_match = false;
        for (const Event& x : ev) {
          if (x.match == prev_match && !merged.empty()) merged.back().e = x.e;
          else merged.push_back(x);
          prev_match = x.match;
        }
        break;
      }
      case SplitBehavior::MergedWithPrevious: {
        bool prev_match = false;
        for (const Event& x : ev) {
          if (x.match && !prev_match && !merged.empty()) merged.back().e = x.e;
          else merged.push_back(x);
          prev_match = x.match;
        }
        break;
      }
      case SplitBehavior::MergedWithNext: {
        bool prev_match = false;
        for (size_t i = ev.size(); i-- > 0;) {
          const Event& x = ev[i];
          if (x.match && !prev_match && !merged.empty()) merged.back().b = x.b;
          else merged.push_back(x);
          prev_match = x.match;
        }
        std::reverse(merged.begin(), merged.end());
        break;
      }
    }
    for (const Event& x : merged)
      if (x.e > x.b) out.push_back({x.b, x.e});
  }
  pl.pieces = std::move(out);
}

MatchFn regex_matcher(std::shared_ptr<Regex> re) {
  return [re](std::string_view s, Matches& m) { re->find_all(s, m); };
}

// Every character for which `pred` holds is one match.
MatchFn char_matcher(bool (*pred)(char32_t)) {
  return [pred](std::string_view s, Matches& m) {
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t at = pos;
      const unsigned char c0 = static_cast<unsigned char>(s[pos]);
      const char32_t c = c0 < 0x80 ? (++pos, c0) : utf8_decode(s, pos);
      if (pred(c)) m.emplace_back(at, pos);
    }
  };
}

SplitBehavior behavior_of(const json& j, const std::string& where) {
  const std::string s = j.is_string() ? j.get<std::string>() : "";
  // tokenizers accepts both spellings (serialised PascalCase, Python API lowercase).
  if (s == "Removed" || s == "removed") return SplitBehavior::Removed;
  if (s == "Isolated" || s == "isolated") return SplitBehavior::Isolated;
  if (s == "MergedWithPrevious" || s == "merged_with_previous") return SplitBehavior::MergedWithPrevious;
  if (s == "MergedWithNext" || s == "merged_with_next") return SplitBehavior::MergedWithNext;
  if (s == "Contiguous" || s == "contiguous") return SplitBehavior::Contiguous;
  throw InputError(where, "expected a split behavior (Removed, Isolated, MergedWithPrevious, "
                          "MergedWithNext, Contiguous), found " + j.dump());
}

class Split : public PreTokenizer {
 public:
  Split(const std::string& pattern, SplitBehavior bh, bool invert, const std::string& where)
      : find_(regex_matcher(std::make_shared<Regex>(pattern, where))), bh_(bh), invert_(invert) {}
  Split(MatchFn find, SplitBehavior bh, bool invert) : find_(std::move(find)), bh_(bh), invert_(invert) {}
  void apply(PieceList& pl) const override { split_pieces(pl, bh_, invert_, find_); }

 private:
  MatchFn find_;
  SplitBehavior bh_;
  bool invert_;
};

const std::array<std::string, 256>& byte_table() {
  static const std::array<std::string, 256> t = [] {
    std::array<std::string, 256> a;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      a[b] = utf8_encode(static_cast<char32_t>(printable ? b : 256 + n++));
    }
    return a;
  }();
  return t;
}

constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) split_ = std::make_unique<Split>(kGpt2Pattern, SplitBehavior::Isolated, false, where);
  }
  void apply(PieceList& pl) const override {
    if (add_prefix_space_) {
      PieceBuilder b(pl.text.size() + pl.pieces.size());
      for (const Range& r : pl.pieces) {
        b.begin_piece();
        if (pl.text[r.begin] != ' ') b.append(" ", pl.start_anchor(r));
        b.copy(pl, r.begin, r.end);
        b.end_piece();
      }
      pl = b.take();
    }
    if (split_) split_->apply(pl);
    const auto& t = byte_table();
    PieceBuilder b(pl.text.size() * 2);
    for (const Range& r : pl.pieces) {
      b.begin_piece();
      for (uint32_t i = r.begin; i < r.end; ++i)
        b.append(t[static_cast<unsigned char>(pl.text[i])], pl.align[i]);
      b.end_piece();
    }
    pl = b.take();
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Split> split_;
};

enum class PrependScheme { Always, First, Never };

class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : rep_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size() * 2);
    for (const Range& r : pl.pieces) {
      b.begin_piece();
      // Replacement of ' ' comes first, then the prepend check on the replaced text.
      const bool starts_with_space_or_rep =
          pl.text[r.begin] == ' ' || pl.view(r).substr(0, rep_.size()) == rep_;
      bool prepend = false;
      if (!starts_with_space_or_rep) {
        if (scheme_ == PrependScheme::Always) prepend = true;
        if (scheme_ == PrependScheme::First) prepend = pl.align[r.begin].first == 0;
      }
      if (prepend) b.append(rep_, pl.start_anchor(r));
      for (uint32_t i = r.begin; i < r.end; ++i) {
        if (pl.text[i] == ' ') b.append(rep_, pl.align[i]);
        else b.copy(pl, i, i + 1);
      }
      b.end_piece();
    }
    pl = b.take();
    if (split_) {
      split_pieces(pl, SplitBehavior::MergedWithNext, false, [this](std::string_view s, Matches& m) {
        for (size_t p = s.find(rep_); p != std::string_view::npos; p = s.find(rep_, p + rep_.size()))
          m.emplace_back(p, p + rep_.size());
      });
    }
  }

 private:
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void apply(PieceList& pl) const override {
    for (const auto& p : parts_) p->apply(pl);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};


// Rust regex classes: \w = [\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}], \s = White_Space.
constexpr const char* kWhitespacePattern =
    R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}\p{White_Space}]+)";

bool get_bool(const json& j, const char* key, bool dflt, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  if (!j[key].is_boolean()) throw InputError(where, std::string("expected a boolean \"") + key + "\"");
  return j[key].get<bool>();
}

}  // namespace

const std::string& byte_level_char(unsigned char b) { return byte_table()[b]; }

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where,
                                                 bool* byte_level) {
  if (j.is_null()) return nullptr;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw InputError(where, "expected a pre_tokenizer object with a \"type\"");
  const std::string type = j["type"].get<std::string>();
  const std::string w = where + "." + type;
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array())
      throw InputError(w, "expected an array \"pretokenizers\"");
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < j["pretokenizers"].size(); ++i)
      if (auto p = make_pre_tokenizer(j["pretokenizers"][i], w + "[" + std::to_string(i) + "]", byte_level))
        parts.push_back(std::move(p));
    return std::make_unique<Sequence>(std::move(parts));
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    return std::make_unique<ByteLevel>(get_bool(j, "add_prefix_space", true, w),
                                       get_bool(j, "use_regex", true, w), w);
  }
  if (type == "Split") {
    if (!j.contains("pattern")) throw InputError(w, "expected a field \"pattern\"");
    return std::make_unique<Split>(pattern_of(j["pattern"], w + ".pattern"),
                                   behavior_of(j.value("behavior", json()), w + ".behavior"),
                                   get_bool(j, "invert", false, w), w + ".pattern");
  }
  if (type == "Metaspace") {
    std::string rep = "\xE2\x96\x81";
    if (j.contains("replacement")) {
      if (!j["replacement"].is_string()) throw InputError(w, "expected a string \"replacement\"");
      rep = j["replacement"].get<std::string>();
    }
    PrependScheme scheme = PrependScheme::Always;
    if (j.contains("prepend_scheme")) {
      const std::string s = j["prepend_scheme"].is_string() ? j["prepend_scheme"].get<std::string>() : "";
      if (s == "always") scheme = PrependScheme::Always;
      else if (s == "first") scheme = PrependScheme::First;
      else if (s == "never") scheme = PrependScheme::Never;
      else throw InputError(w + ".prepend_scheme", "expected always, first or never, found " + j["prepend_scheme"].dump());
    } else if (j.contains("add_prefix_space")) {  // older files
      scheme = get_bool(j, "add_prefix_space", true, w) ? PrependScheme::Always : PrependScheme::Never;
    }
    return std::make_unique<Metaspace>(rep, scheme, get_bool(j, "split", true, w));
  }
  if (type == "Digits") {
    const bool individual = get_bool(j, "individual_digits", false, w);
    return std::make_unique<Split>(char_matcher(is_numeric),
                                   individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false);
  }
  if (type == "Punctuation") {
    const SplitBehavior bh = j.contains("behavior") ? behavior_of(j["behavior"], w + ".behavior")
                                                    : SplitBehavior::Isolated;
    return std::make_unique<Split>(char_matcher(is_punctuation), bh, false);
  }
  if (type == "Whitespace")
    return std::make_unique<Split>(kWhitespacePattern, SplitBehavior::Removed, true, w);
  if (type == "WhitespaceSplit")
    return std::make_unique<Split>(char_matcher(is_whitespace), SplitBehavior::Removed, false);
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    parts.push_back(std::make_unique<Split>(char_matcher(is_whitespace), SplitBehavior::Removed, false));
    parts.push_back(std::make_unique<Split>(char_matcher(is_punctuation), SplitBehavior::Isolated, false));
    return std::make_unique<Sequence>(std::move(parts));
  }
  if (type == "CharDelimiterSplit") {
    if (!j.contains("delimiter") || !j["delimiter"].is_string())
      throw InputError(w, "expected a string \"delimiter\"");
    return std::make_unique<Split>(Regex::escape(j["delimiter"].get<std::string>()),
                                   SplitBehavior::Removed, false, w);
  }
  throw InputError(where, "pre_tokenizer type \"" + type +
                              "\" is not supported (supported: Split, ByteLevel, Metaspace, Digits, "
                              "Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, "
                              "CharDelimiterSplit, Sequence)");
}

}  // namespace lossgap::tok
