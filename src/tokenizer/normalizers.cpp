// Normalizers of tokenizer.json (see normalizers.h). Alignment rules follow tokenizers'
// NormalizedString::transform_range: a replaced character keeps the span of the character it
// replaces, inserted characters share the span of the byte before them, a prepended string
// gets the empty span at the piece's original start.
#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace lossgap::tok {
namespace {

using json = nlohmann::json;

bool all_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// NFC / NFD / NFKC / NFKD through utf8proc.
class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(int options) : options_(options) {}

  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size() + 16);
    for (const Range& r : pl.pieces) {
      b.begin_piece();
      const std::string_view s = pl.view(r);
      if (all_ascii(s)) {
        b.copy(pl, r.begin, r.end);
      } else {
        const std::string full = map(s);
        if (full == s) b.copy(pl, r.begin, r.end);
        else emit_aligned(pl, r, full, b);
      }
      b.end_piece();
    }
    pl = b.take();
  }

 private:
  std::string map(std::string_view s) const {
    utf8proc_uint8_t* dst = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                static_cast<utf8proc_ssize_t>(s.size()), &dst,
                                static_cast<utf8proc_option_t>(options_ | UTF8PROC_STABLE));
    LG_CHECK(n >= 0, "utf8proc_map failed on valid UTF-8");
    std::string out(reinterpret_cast<char*>(dst), static_cast<size_t>(n));
    std::free(dst);
    return out;
  }

  // Normalizes chunk by chunk (a chunk starts at a character of combining class 0 that is not
  // a Hangul medial or final jamo) so that each output character can be given the span of an
  // input character of its chunk: output char i takes input char min(i, n_in - 1), which is what
  // tokenizers' change list gives for decompositions (extra chars inserted after the first)
  // and compositions (the composite keeps the first char's span). If chunking changes the
  // result, the whole piece is one chunk.
  void emit_aligned(const PieceList& pl, const Range& r, const std::string& full,
                    PieceBuilder& b) const {
    const std::string_view s = pl.view(r);
    std::vector<uint32_t> starts;  // chunk starts, byte offsets into s
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t at = pos;
      const char32_t c = utf8_decode(s, pos);
      const bool jamo_vt = (c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2);
      if (at == 0 || (combining_class(c) == 0 && !jamo_vt)) starts.push_back(static_cast<uint32_t>(at));
    }
    starts.push_back(static_cast<uint32_t>(s.size()));
    std::vector<std::string> outs;
    std::string joined;
    for (size_t k = 0; k + 1 < starts.size(); ++k) {
      outs.push_back(map(s.substr(starts[k], starts[k + 1] - starts[k])));
      joined += outs.back();
    }
    if (joined != full) {
      starts = {0, static_cast<uint32_t>(s.size())};
      outs = {full};
    }
    for (size_t k = 0; k + 1 < starts.size(); ++k) {
      std::vector<Span> in_spans;  // span of each input char of the chunk
      for (size_t p = starts[k]; p < starts[k + 1];) {
        in_spans.push_back(pl.align[r.begin + p]);
        p = utf8_char_end(s, p);
      }
      const std::string& o = outs[k];
      size_t i = 0;
      for (size_t p = 0; p < o.size(); ++i) {
        const size_t q = utf8_char_end(o, p);
        b.append(std::string_view(o).substr(p, q - p), in_spans[std::min(i, in_spans.size() - 1)]);
        p = q;
      }
    }
  }

  int options_;
};

class Lowercase : public Normalizer {
 public:
  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size() + 16);
    std::string tmp;
    for (const Range& r : pl.pieces) {
      b.begin_piece();
      const std::string_view s = pl.view(r);
      size_t pos = 0;
      while (pos < s.size()) {
        const size_t at = pos;
        const char32_t c = utf8_decode(s, pos);
        tmp.clear();
        append_lowercase(tmp, c);
        b.append(tmp, pl.align[r.begin + at]);
      }
      b.end_piece();
    }
    pl = b.take();
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size());
    for (const Range& r : pl.pieces) {
      const std::string_view s = pl.view(r);
      size_t lo = 0, hi = s.size();
      if (left_) {
        while (lo < hi) {
          size_t p = lo;
          if (!is_whitespace(utf8_decode(s, p))) break;
          lo = p;
        }
      }
      if (right_) {
        while (hi > lo) {
          size_t st = utf8_char_start(s, hi - 1), p = st;
          if (!is_whitespace(utf8_decode(s, p))) break;
          hi = st;
        }
      }
      b.begin_piece();
      b.copy(pl, r.begin + static_cast<uint32_t>(lo), r.begin + static_cast<uint32_t>(hi));
      b.end_piece();
    }
    pl = b.take();
  }

 private:
  bool left_, right_;
};

class StripAccents : public Normalizer {
 public:
  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size());
    for (const Range& r : pl.pieces) {
      b.begin_piece();
      const std::string_view s = pl.view(r);
      size_t pos = 0;
      while (pos < s.size()) {
        const size_t at = pos;
        if (!is_mark(utf8_decode(s, pos)))
          b.copy(pl, r.begin + static_cast<uint32_t>(at), r.begin + static_cast<uint32_t>(pos));
      }
      b.end_piece();
    }
    pl = b.take();
  }
};

class Replace : public Normalizer {
 public:
  Replace(const std::string& pattern, std::string content, const std::string& where)
      : re_(pattern, where), content_(std::move(content)) {}
  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size() + 16);
    std::vector<std::pair<size_t, size_t>> m;
    for (const Range& r : pl.pieces) {
      m.clear();
      re_.find_all(pl.view(r), m);
      b.begin_piece();
      uint32_t cur = r.begin;
      for (auto [mb, me] : m) {
        if (me == mb) continue;
        const auto ab = r.begin + static_cast<uint32_t>(mb), ae = r.begin + static_cast<uint32_t>(me);
        b.copy(pl, cur, ab);
        // The replacement chars are inserted after the removed match: span of its last byte.
        b.append(content_, pl.align[ae - 1]);
        cur = ae;
      }
      b.copy(pl, cur, r.end);
      b.end_piece();
    }
    pl = b.take();
  }

 private:
  Regex re_;
  std::string content_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string s) : s_(std::move(s)) {}
  void apply(PieceList& pl) const override {
    PieceBuilder b(pl.text.size() + pl.pieces.size() * s_.size());
    for (const Range& r : pl.pieces) {
      b.begin_piece();
      b.append(s_, pl.start_anchor(r));
      b.copy(pl, r.begin, r.end);
      b.end_piece();
    }
    pl = b.take();
  }

 private:
  std::string s_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void apply(PieceList& pl) const override {
    for (const auto& p : parts_) p->apply(pl);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

std::string get_string(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string())
    throw InputError(where, std::string("expected a string field \"") + key + "\"");
  return j[key].get<std::string>();
}

}  // namespace

// Reads {"String": s} or {"Regex": r} into a PCRE2 pattern.
std::string pattern_of(const json& j, const std::string& where) {
  if (j.is_object() && j.contains("String") && j["String"].is_string())
    return Regex::escape(j["String"].get<std::string>());
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string())
    return j["Regex"].get<std::string>();
  throw InputError(where, "expected a pattern {\"String\": ...} or {\"Regex\": ...}, found " +
                              j.dump().substr(0, 200));
}

std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw InputError(where, "expected a normalizer object with a \"type\"");
  const std::string type = j["type"].get<std::string>();
  const std::string w = where + "." + type;
  if (type == "NFC") return std::make_unique<UnicodeForm>(UTF8PROC_COMPOSE);
  if (type == "NFD") return std::make_unique<UnicodeForm>(UTF8PROC_DECOMPOSE);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Strip")
    return std::make_unique<Strip>(j.value("strip_left", true), j.value("strip_right", true));
  if (type == "Prepend") return std::make_unique<Prepend>(get_string(j, "prepend", w));
  if (type == "Replace") {
    if (!j.contains("pattern")) throw InputError(w, "expected a field \"pattern\"");
    return std::make_unique<Replace>(pattern_of(j["pattern"], w + ".pattern"),
                                     get_string(j, "content", w), w + ".pattern");
  }
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array())
      throw InputError(w, "expected an array \"normalizers\"");
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < j["normalizers"].size(); ++i)
      if (auto n = make_normalizer(j["normalizers"][i], w + "[" + std::to_string(i) + "]"))
        parts.push_back(std::move(n));
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw InputError(where, "normalizer type \"" + type +
                              "\" is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, "
                              "Strip, StripAccents, Replace, Prepend, Sequence)");
}

}  // namespace lossgap::tok
