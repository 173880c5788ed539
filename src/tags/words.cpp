// Splitting UTF-8 text into UD-English-like words with byte spans (see words.h for the rules).
// Works on decoded code points (utf8proc for categories and lowercase); never throws on text.
#include "tags/words.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>

#include "core/error.h"

namespace lossgap {
namespace {

enum class Cls : uint8_t { Space, Alnum, Other };

constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// One decoded character: its byte offset and length in the text.
struct Char {
  uint32_t pos;
  uint32_t len;
  uint32_t cp;  // kInvalid for a byte that is not valid UTF-8
  Cls cls;
  bool letter;
  bool digit;
};

bool is_white_space(uint32_t cp, utf8proc_category_t cat) {
  if ((cp >= 9 && cp <= 13) || cp == 0x85) return true;
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

std::vector<Char> decode(std::string_view text) {
  std::vector<Char> out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    Char c{static_cast<uint32_t>(i), 1, kInvalid, Cls::Other, false, false};
    if (n > 0 && cp >= 0) {
      c.len = static_cast<uint32_t>(n);
      c.cp = static_cast<uint32_t>(cp);
      auto cat = utf8proc_category(cp);
      c.letter = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
      c.digit = cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO;
      bool mark = cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
      if (is_white_space(c.cp, cat)) {
        c.cls = Cls::Space;
      } else if (c.letter || c.digit || mark || cp == '_') {
        c.cls = Cls::Alnum;
      }
    }
    out.push_back(c);
    i += c.len;
  }
  return out;
}

bool is_apostrophe(uint32_t cp) { return cp == '\'' || cp == 0x2019; }

// Lowercased text of chars [a, b), apostrophes folded to '\''.
std::string lower(const std::vector<Char>& cs, size_t a, size_t b) {
  std::string s;
  for (size_t k = a; k < b; ++k) {
    uint32_t cp = cs[k].cp;
    if (cp == kInvalid) continue;
    if (is_apostrophe(cp)) cp = '\'';
    utf8proc_uint8_t buf[4];
    auto n = utf8proc_encode_char(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)), buf);
    s.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
  }
  return s;
}

bool in_list(std::string_view w, std::span<const std::string_view> list) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

// Prefixes EWT and GUM keep attached with a hyphen ("non-stop", "e-mail"): the frequent ones
// of their training splits. Any other hyphen is a word of its own, as in EWT ("Al - Zaman").
constexpr std::array<std::string_view, 23> kHyphenPrefixes = {
    "e",    "non",   "pre",     "anti",  "re",    "mid",  "post", "co",
    "pro",  "multi", "ex",      "sub",   "semi",  "over", "cross", "counter",
    "inter", "intra", "micro",  "mini",  "neo",   "pan",  "un"};

// Abbreviations that keep their period (the frequent ones of EWT and GUM train).
constexpr std::array<std::string_view, 34> kAbbreviations = {
    "mr",  "mrs", "ms",  "dr",   "prof", "st",  "jr",   "sr",  "vs",  "etc", "inc", "ltd",
    "corp", "jan", "feb", "mar",  "apr",  "jun", "jul",  "aug", "sep", "sept", "oct", "nov",
    "dec", "mt",  "ft",  "ave",  "gen",  "gov", "sen",  "rev", "lt",  "al"};

constexpr std::array<std::string_view, 6> kClitics = {"s", "re", "ve", "ll", "d", "m"};

// Contractions written without the apostrophe, split as EWT does ("dont" -> "do" "nt").
constexpr std::array<std::string_view, 16> kBareNt = {
    "dont",   "didnt",  "doesnt", "isnt",    "wasnt",  "arent",  "werent", "cant",
    "wont",   "couldnt", "wouldnt", "shouldnt", "havent", "hasnt", "hadnt",  "aint"};

// Domain and file-name endings that keep a period inside a word ("Space.com", "notes.doc").
constexpr std::array<std::string_view, 18> kDotSuffixes = {
    "com", "org", "net", "edu", "gov", "uk",  "de",  "io",  "doc",
    "docx", "xls", "xlsx", "pdf", "txt", "htm", "html", "jpg", "png"};

// Emoticons, one word each (when not followed by a letter or digit).
constexpr std::array<std::string_view, 14> kEmoticons = {
    ":-)", ":-(", ";-)", ":-D", ":-P", ":)", ":(", ";)", ":D", ":P", ":p", ":/", "=)", "<3"};

class Splitter {
 public:
  explicit Splitter(std::string_view text) : text_(text), cs_(decode(text)) {}

  std::vector<WordSpan> run() {
    size_t i = 0;
    while (i < cs_.size()) {
      if (cs_[i].cls == Cls::Space) {
        ++i;
        continue;
      }
      size_t b = i;
      while (b < cs_.size() && cs_[b].cls != Cls::Space) ++b;
      chunk(i, b);
      i = b;
    }
    return std::move(words_);
  }

 private:
  uint32_t cp(size_t k, size_t b) const { return k < b ? cs_[k].cp : 0; }
  bool letter(size_t k, size_t b) const { return k < b && cs_[k].letter; }
  bool digit(size_t k, size_t b) const { return k < b && cs_[k].digit; }
  uint32_t byte_end(size_t k) const {
    return k < cs_.size() ? cs_[k].pos : static_cast<uint32_t>(text_.size());
  }

  void emit(size_t a, size_t b) {
    if (a < b) words_.push_back({cs_[a].pos, byte_end(b)});
  }

  // Splits the non-space chars [a, b).
  void chunk(size_t a, size_t b) {
    size_t i = a;
    while (i < b) {
      size_t j = url_or_email(i, b);
      if (j > i) {
        emit(i, j);
        i = j;
        continue;
      }
      if (cs_[i].cls == Cls::Alnum) {
        i = alnum_word(i, b);
        continue;
      }
      if (size_t k = emoticon(i, b); k > i) {
        emit(i, k);
        i = k;
        continue;
      }
      // A clitic written apart ("John 's", WikiText style) stays one word.
      if (is_apostrophe(cs_[i].cp)) {
        size_t k = i + 1;
        while (letter(k, b)) ++k;
        if (k > i + 1 && (k == b || cs_[k].cls != Cls::Alnum) &&
            in_list(lower(cs_, i + 1, k), kClitics)) {
          emit(i, k);
          i = k;
          continue;
        }
      }
      size_t k = i + 1;
      if (cs_[i].cp != kInvalid) {
        while (k < b && cs_[k].cp == cs_[i].cp) ++k;
      }
      emit(i, k);
      i = k;
    }
  }

  // End of an emoticon starting at i (i when there is none). It must follow whitespace or a
  // letter and be followed by whitespace, the end, or . , ! ? — so code such as "i<3)",
  // "i<3;)" or ":(c)" is left alone.
  size_t emoticon(size_t i, size_t b) const {
    if (i > 0 && cs_[i - 1].cls != Cls::Space && !cs_[i - 1].letter) return i;
    for (std::string_view e : kEmoticons) {
      size_t n = e.size();  // emoticons are ASCII: one char per byte
      if (i + n > b) continue;
      bool match = true;
      for (size_t k = 0; k < n && match; ++k) {
        match = cs_[i + k].cp == static_cast<unsigned char>(e[k]);
      }
      if (!match) continue;
      uint32_t next = cp(i + n, b);
      if (i + n == b || next == '.' || next == ',' || next == '!' || next == '?') return i + n;
    }
    return i;
  }

  // End of a URL or e-mail address starting at i (i when there is none).
  size_t url_or_email(size_t i, size_t b) const {
    if (!letter(i, b)) return i;
    std::string head = lower(cs_, i, std::min(b, i + 12));
    size_t end = i;
    if (head.starts_with("www.") && letter(i + 4, b)) {
      end = b;
    } else {
      size_t k = i;
      while (k < b && k < i + 64 &&
             (cs_[k].cls == Cls::Alnum || cp(k, b) == '+' || cp(k, b) == '-' || cp(k, b) == '.')) {
        ++k;
      }
      if (k + 3 < b && cp(k, b) == ':' && cp(k + 1, b) == '/' && cp(k + 2, b) == '/') {
        end = b;
      } else if (cp(k, b) == '@' && k > i) {
        size_t d = k + 1;
        bool dot = false;
        while (d < b && d < k + 256 &&
               (cs_[d].cls == Cls::Alnum || cp(d, b) == '-' || cp(d, b) == '.')) {
          dot = dot || (cp(d, b) == '.' && d > k + 1);
          ++d;
        }
        while (d > k + 1 && (cp(d - 1, b) == '.' || cp(d - 1, b) == '-')) --d;
        if (dot && cs_[d - 1].cls == Cls::Alnum) return d;
        return i;
      } else {
        return i;
      }
    }
    // Trailing punctuation belongs to the sentence, except a ')' closing one in the URL.
    int open = 0;
    for (size_t k = i; k < end; ++k) open += cp(k, b) == '(' ? 1 : cp(k, b) == ')' ? -1 : 0;
    while (end > i + 1) {
      uint32_t c = cs_[end - 1].cp;
      if (c == ')' && open < 0) {
        ++open;
      } else if (!(c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
                   c == '"' || c == ']' || c == '}' || c == '>' || c == '*' ||
                   is_apostrophe(c) || c == 0x201D)) {
        break;
      }
      --end;
    }
    return end;
  }

  // Emits the word(s) of the letters-and-digits run at i; returns where it ended.
  size_t alnum_word(size_t i, size_t b) {
    // Letter-period abbreviations: U.S., e.g., i.e.
    if (letter(i, b) && cp(i + 1, b) == '.' && letter(i + 2, b) && cp(i + 3, b) == '.') {
      size_t k = i;
      while (letter(k, b) && cp(k + 1, b) == '.') k += 2;
      if (k >= b || cs_[k].cls != Cls::Alnum) {
        emit(i, k);
        return k;
      }
    }
    size_t j = i;
    for (;;) {
      while (j < b && cs_[j].cls == Cls::Alnum) ++j;
      if (j >= b || j + 1 >= b) break;
      uint32_t c = cs_[j].cp;
      bool join = false;
      if ((c == '.' || c == ',' || c == ':' || c == '-' || c == '/') && digit(j - 1, b) &&
          digit(j + 1, b)) {
        join = true;  // 3.14 1,000 10:30 853-7906 01/24/2001
      } else if (c == '.' && cs_[j - 1].cls == Cls::Alnum && letter(j + 1, b) &&
                 dot_suffix(j + 1, b)) {
        join = true;
      } else if (is_apostrophe(c) && letter(j - 1, b) && letter(j + 1, b)) {
        join = true;
      } else if ((c == '-' || c == 0x2010) && letter(j + 1, b) &&
                 in_list(lower(cs_, i, j), kHyphenPrefixes)) {
        join = true;
      }
      if (!join) break;
      ++j;
    }
    // An abbreviation (or a one-letter initial) keeps its period.
    if (cp(j, b) == '.') {
      bool initial = j == i + 1 && cs_[i].cp < 0x80 && cs_[i].cp >= 'A' && cs_[i].cp <= 'Z';
      if (initial || in_list(lower(cs_, i, j), kAbbreviations)) {
        emit(i, j + 1);
        return j + 1;
      }
    }
    split_contractions(i, j);
    return j;
  }

  // Whether the letters at k form a domain or file-name ending (then not followed by a letter).
  bool dot_suffix(size_t k, size_t b) const {
    size_t e = k;
    while (e < b && cs_[e].cls == Cls::Alnum) ++e;
    return in_list(lower(cs_, k, e), kDotSuffixes);
  }

  // Emits [a, b) as one word or as UD's parts of a contraction.
  void split_contractions(size_t a, size_t b) {
    std::string w = lower(cs_, a, b);
    if (w == "cannot" || w == "gonna" || w == "wanna" || w == "gotta") {
      size_t cut = a + 3;  // can|not, gon|na, wan|na, got|ta
      emit(a, cut);
      emit(cut, b);
      return;
    }
    size_t n = b - a;
    if (in_list(w, kBareNt)) {
      emit(a, b - 2);
      emit(b - 2, b);
      return;
    }
    if (n > 3 && w.ends_with("n't")) {
      emit(a, b - 3);
      emit(b - 3, b);
      return;
    }
    // The last apostrophe, if what follows it is a clitic.
    for (size_t k = b; k-- > a + 1;) {
      if (!is_apostrophe(cs_[k].cp)) continue;
      if (in_list(lower(cs_, k + 1, b), kClitics)) {
        split_contractions(a, k);
        emit(k, b);
        return;
      }
      break;
    }
    emit(a, b);
  }

  std::string_view text_;
  std::vector<Char> cs_;
  std::vector<WordSpan> words_;
};

}  // namespace

std::vector<WordSpan> split_words(std::string_view text) {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    throw InputError("text", "at most 4 GiB per document expected, got " +
                                 std::to_string(text.size()) + " bytes");
  }
  return Splitter(text).run();
}

std::vector<std::pair<size_t, size_t>> split_sentences(std::string_view text,
                                                       std::span<const WordSpan> words) {
  auto terminal = [&](size_t k) {
    std::string_view w = text.substr(words[k].start, words[k].end - words[k].start);
    for (size_t p = 0; p < w.size();) {
      if (w[p] == '.' || w[p] == '!' || w[p] == '?') {
        ++p;
      } else if (w.substr(p).starts_with("\xE2\x80\xA6")) {  // U+2026 HORIZONTAL ELLIPSIS
        p += 3;
      } else {
        return false;
      }
    }
    return !w.empty();
  };
  std::vector<std::pair<size_t, size_t>> out;
  size_t first = 0;
  for (size_t k = 0; k < words.size(); ++k) {
    if (k > first) {
      // A blank line between the previous word and this one starts a sentence.
      int newlines = 0;
      for (uint32_t p = words[k - 1].end; p < words[k].start; ++p) newlines += text[p] == '\n';
      if (newlines >= 2) {
        out.emplace_back(first, k);
        first = k;
      }
    }
    // A run of terminal words ("?" "!") ends the sentence at its last word.
    if (terminal(k) && (k + 1 == words.size() || !terminal(k + 1))) {
      out.emplace_back(first, k + 1);
      first = k + 1;
    }
  }
  if (first < words.size()) out.emplace_back(first, words.size());
  return out;
}

std::vector<TokenWord> map_tokens_to_words(
    std::string_view text, std::span<const WordSpan> words,
    std::span<const std::pair<uint32_t, uint32_t>> token_spans) {
  std::vector<TokenWord> out(token_spans.size());
  std::vector<bool> seen(words.size(), false);
  for (size_t t = 0; t < token_spans.size(); ++t) {
    auto [s, e] = token_spans[t];
    if (e < s || e > text.size()) {
      throw InputError("token " + std::to_string(t),
                       "byte span [" + std::to_string(s) + ", " + std::to_string(e) +
                           ") expected inside the text of " + std::to_string(text.size()) +
                           " bytes with start <= end");
    }
    // The first byte of the token that a word holds; whitespace bytes are held by none.
    auto it = std::upper_bound(words.begin(), words.end(), s,
                               [](uint32_t pos, const WordSpan& w) { return pos < w.end; });
    if (it == words.end() || it->start >= e) continue;
    auto w = static_cast<size_t>(it - words.begin());
    out[t].word = static_cast<int32_t>(w);
    out[t].word_initial = s <= it->start && !seen[w];
    seen[w] = true;
  }
  return out;
}

}  // namespace lossgap
