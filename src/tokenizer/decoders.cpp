// Decoders of tokenizer.json (see decoders.h).
#include "tokenizer/decoders.h"

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/pretokenizers.h"
#include "tokenizer/regex.h"

namespace lossgap::tok {
namespace {

using json = nlohmann::json;

class ByteLevelDec : public Decoder {
 public:
  ByteLevelDec() {
    for (int b = 0; b < 256; ++b) {
      std::string c = byte_level_char(static_cast<unsigned char>(b));
      size_t p = 0;
      inv_[utf8_decode(c, p)] = static_cast<unsigned char>(b);
    }
  }
  void chain(std::vector<std::string>& toks) const override {
    std::string bytes;
    for (const std::string& t : toks) {
      std::string mine;
      bool ok = true;
      for (size_t p = 0; p < t.size() && ok;) {
        auto it = inv_.find(utf8_decode(t, p));
        if (it == inv_.end()) ok = false;
        else mine.push_back(static_cast<char>(it->second));
      }
      bytes += ok ? mine : t;
    }
    toks = {utf8_lossy(bytes)};
  }

 private:
  std::unordered_map<char32_t, unsigned char> inv_;
};

class MetaspaceDec : public Decoder {
 public:
  MetaspaceDec(std::string rep, bool strip_first) : rep_(std::move(rep)), strip_first_(strip_first) {}
  void chain(std::vector<std::string>& toks) const override {
    for (size_t i = 0; i < toks.size(); ++i) {
      std::string out;
      const std::string& t = toks[i];
      for (size_t p = 0; p < t.size();) {
        if (t.compare(p, rep_.size(), rep_) == 0) {
          if (!(i == 0 && strip_first_)) out += ' ';
          p += rep_.size();
        } else {
          out += t[p++];
        }
      }
      toks[i] = out;
    }
  }

 private:
  std::string rep_;
  bool strip_first_;
};

class ReplaceDec : public Decoder {
 public:
  ReplaceDec(const std::string& pattern, std::string content, const std::string& where)
      : re_(pattern, where), content_(std::move(content)) {}
  void chain(std::vector<std::string>& toks) const override {
    std::vector<std::pair<size_t, size_t>> m;
    for (std::string& t : toks) {
      m.clear();
      re_.find_all(t, m);
      std::string out;
      size_t cur = 0;
      for (auto [b, e] : m) {
        out.append(t, cur, b - cur);
        out += content_;
        cur = e;
      }
      out.append(t, cur, std::string::npos);
      t = out;
    }
  }

 private:
  Regex re_;
  std::string content_;
};

// <0xXX> tokens become bytes; a run of them that is not valid UTF-8 becomes one U+FFFD per
// token, as tokenizers' ByteFallback does.
class ByteFallbackDec : public Decoder {
 public:
  void chain(std::vector<std::string>& toks) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t n_pending = 0;
    auto flush = [&] {
      if (n_pending == 0) return;
      if (utf8_find_invalid(pending)) {
        for (size_t k = 0; k < n_pending; ++k) out.push_back("\xEF\xBF\xBD");
      } else {
        out.push_back(pending);
      }
      pending.clear();
      n_pending = 0;
    };
    for (const std::string& t : toks) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        char* end = nullptr;
        const long v = std::strtol(t.substr(3, 2).c_str(), &end, 16);
        if (end && *end == '\0') byte = static_cast<int>(v);
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
        ++n_pending;
      } else {
        flush();
        out.push_back(t);
      }
    }
    flush();
    toks = std::move(out);
  }
};

class FuseDec : public Decoder {
 public:
  void chain(std::vector<std::string>& toks) const override {
    std::string all;
    for (const auto& t : toks) all += t;
    toks = {all};
  }
};

class StripDec : public Decoder {
 public:
  StripDec(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void chain(std::vector<std::string>& toks) const override {
    for (std::string& t : toks) {
      size_t b = 0, e = t.size();
      for (size_t k = 0; k < start_ && t.compare(b, content_.size(), content_) == 0 && b < e; ++k)
        b += content_.size();
      for (size_t k = 0; k < stop_ && e >= b + content_.size() &&
                         t.compare(e - content_.size(), content_.size(), content_) == 0; ++k)
        e -= content_.size();
      t = t.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class BpeDec : public Decoder {
 public:
  explicit BpeDec(std::string suffix) : suffix_(std::move(suffix)) {}
  void chain(std::vector<std::string>& toks) const override {
    for (size_t i = 0; i < toks.size(); ++i) {
      std::string& t = toks[i];
      const std::string rep = i + 1 == toks.size() ? "" : " ";
      std::string out;
      for (size_t p = t.find(suffix_), cur = 0;; p = t.find(suffix_, cur)) {
        if (p == std::string::npos || suffix_.empty()) {
          out.append(t, cur, std::string::npos);
          break;
        }
        out.append(t, cur, p - cur);
        out += rep;
        cur = p + suffix_.size();
      }
      t = out;
    }
  }

 private:
  std::string suffix_;
};

class SequenceDec : public Decoder {
 public:
  explicit SequenceDec(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void chain(std::vector<std::string>& toks) const override {
    for (const auto& p : parts_) p->chain(toks);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t n = utf8_valid_seq_len(bytes, i);
    if (n > 0) {
      out.append(bytes, i, n);
      i += n;
      continue;
    }
    // Maximal subpart of an ill-formed sequence: the lead plus continuation bytes that could
    // still have been valid, replaced by one U+FFFD.
    const size_t want = utf8_seq_len(static_cast<unsigned char>(bytes[i]));
    size_t j = i + 1;
    if (want > 1) {
      while (j < bytes.size() && j < i + want && utf8_is_continuation(static_cast<unsigned char>(bytes[j]))) {
        // Stop where the prefix could no longer start a valid sequence.
        std::string probe = bytes.substr(i, j + 1 - i);
        probe.append(want - probe.size(), '\x80');
        if (utf8_valid_seq_len(probe, 0) == 0) break;
        ++j;
      }
    }
    out += "\xEF\xBF\xBD";
    i = j;
  }
  return out;
}

std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw InputError(where, "expected a decoder object with a \"type\"");
  const std::string type = j["type"].get<std::string>();
  const std::string w = where + "." + type;
  if (type == "ByteLevel") return std::make_unique<ByteLevelDec>();
  if (type == "Metaspace") {
    const std::string rep = j.value("replacement", std::string("\xE2\x96\x81"));
    bool strip = true;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string())
      strip = j["prepend_scheme"].get<std::string>() != "never";
    else if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean())
      strip = j["add_prefix_space"].get<bool>();
    return std::make_unique<MetaspaceDec>(rep, strip);
  }
  if (type == "Replace") {
    if (!j.contains("pattern") || !j.contains("content") || !j["content"].is_string())
      throw InputError(w, "expected \"pattern\" and a string \"content\"");
    return std::make_unique<ReplaceDec>(pattern_of(j["pattern"], w + ".pattern"),
                                        j["content"].get<std::string>(), w);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDec>();
  if (type == "Fuse") return std::make_unique<FuseDec>();
  if (type == "Strip")
    return std::make_unique<StripDec>(j.value("content", std::string(" ")), j.value("start", size_t{0}),
                                      j.value("stop", size_t{0}));
  if (type == "BPEDecoder") return std::make_unique<BpeDec>(j.value("suffix", std::string("</w>")));
  if (type == "Sequence") {
    if (!j.contains("decoders") || !j["decoders"].is_array())
      throw InputError(w, "expected an array \"decoders\"");
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < j["decoders"].size(); ++i)
      if (auto d = make_decoder(j["decoders"][i], w + "[" + std::to_string(i) + "]")) parts.push_back(std::move(d));
    return std::make_unique<SequenceDec>(std::move(parts));
  }
  throw InputError(where, "decoder type \"" + type +
                              "\" is not supported (supported: ByteLevel, Metaspace, Replace, "
                              "ByteFallback, Fuse, Strip, BPEDecoder, Sequence)");
}

}  // namespace lossgap::tok
