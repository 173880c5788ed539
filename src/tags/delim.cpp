// The delimiter tagger (delim.h): domain classes, the delimiter scanner, and the move from text
// bytes to tokens. Character classes come from utf8proc; invalid UTF-8 bytes count as symbols.
#include "tags/delim.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace lossgap {
namespace {

constexpr char32_t kNone = 0xFFFFFFFF;  // "no character" (before the start / after the end)

// The code point at text[p] and its byte length; an invalid byte reads as U+FFFD of length 1.
std::pair<char32_t, size_t> cp_at(std::string_view s, size_t p) {
  if (p >= s.size()) return {kNone, 0};
  const auto* u = reinterpret_cast<const utf8proc_uint8_t*>(s.data() + p);
  utf8proc_int32_t cp = 0;
  const auto n = utf8proc_iterate(u, static_cast<utf8proc_ssize_t>(std::min<size_t>(4, s.size() - p)), &cp);
  if (n <= 0) return {0xFFFD, 1};
  return {static_cast<char32_t>(cp), static_cast<size_t>(n)};
}

// The code point ending just before byte p (kNone at the start).
char32_t cp_before(std::string_view s, size_t p) {
  if (p == 0) return kNone;
  size_t q = p - 1;
  for (int k = 0; k < 3 && q > 0 && (static_cast<unsigned char>(s[q]) & 0xC0) == 0x80; ++k) --q;
  const auto [cp, n] = cp_at(s, q);
  return q + n == p ? cp : 0xFFFD;
}

bool is_space(char32_t c) {
  if (c == kNone) return false;
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_alnum(char32_t c) {
  if (c == kNone) return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool in(char32_t c, std::string_view set) {
  return c != kNone && c < 0x80 && set.find(static_cast<char>(c)) != std::string_view::npos;
}

bool starts_with_at(std::string_view s, size_t p, std::string_view w) {
  return s.size() >= p + w.size() && s.compare(p, w.size(), w) == 0;
}

bool ascii_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

bool is_void_element(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kVoid = {
      "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"};
  const std::string n = lower(name);
  return std::find(kVoid.begin(), kVoid.end(), n) != kVoid.end();
}

// A contraction suffix starts at text[p] ('s 't 'd 'm 're 've 'll, then no letter): the quote
// before it is an apostrophe even after a space, as in tokenized text ("John 's").
bool is_contraction(std::string_view text, size_t p) {
  for (std::string_view suf : {"s", "t", "d", "m", "re", "ve", "ll"}) {
    if (text.size() < p + suf.size()) continue;
    bool eq = true;
    for (size_t k = 0; k < suf.size(); ++k)
      eq = eq && std::tolower(static_cast<unsigned char>(text[p + k])) == suf[k];
    if (eq && !is_alnum(cp_at(text, p + suf.size()).first)) return true;
  }
  return false;
}

// Straight-quote direction from the characters around it (see docs/taggers.md): +1 open,
// -1 close, 0 undecided (then the open/closed state decides).
int flank(char32_t prev, char32_t next) {
  const bool left = (prev == kNone || is_space(prev) || in(prev, "([{<=:,;")) && next != kNone &&
                    !is_space(next);
  const bool right = prev != kNone && !is_space(prev) && !in(prev, "([{<") &&
                     (next == kNone || is_space(next) || in(next, ")]}>.,;:!?\"'"));
  if (left && !right) return 1;
  if (right && !left) return -1;
  return 0;
}

}  // namespace

const char* domain_class_name(DomainClass c) {
  switch (c) {
    case DomainClass::Prose: return "prose";
    case DomainClass::Code: return "code";
    case DomainClass::Markup: return "markup";
  }
  return "?";
}

const char* delim_kind_name(DelimKind k) {
  switch (k) {
    case DelimKind::Paren: return "paren";
    case DelimKind::Bracket: return "bracket";
    case DelimKind::Brace: return "brace";
    case DelimKind::Quote: return "quote";
    case DelimKind::Tag: return "tag";
    case DelimKind::Env: return "env";
  }
  return "?";
}

std::optional<DomainClass> domain_class_from_name(std::string_view domain) {
  static constexpr std::array<std::string_view, 33> kCode = {
      "code", "python", "py", "javascript", "js", "typescript", "ts", "java", "c", "cpp", "c++",
      "csharp", "c#", "go", "rust", "ruby", "php", "shell", "bash", "sh", "sql", "kotlin", "swift",
      "scala", "r", "julia", "lua", "perl", "haskell", "css", "json", "yaml", "github"};
  static constexpr std::array<std::string_view, 10> kMarkup = {
      "markup", "html", "htm", "xhtml", "xml", "svg", "latex", "tex", "arxiv", "markdown"};
  static constexpr std::array<std::string_view, 16> kProse = {
      "prose", "news", "article", "articles", "wiki", "wikipedia", "books", "book", "pg19",
      "pg-19", "science", "web", "fiction", "legal", "email", "dialogue"};
  const std::string d = lower(domain);
  if (std::find(kCode.begin(), kCode.end(), d) != kCode.end()) return DomainClass::Code;
  if (std::find(kMarkup.begin(), kMarkup.end(), d) != kMarkup.end()) return DomainClass::Markup;
  if (std::find(kProse.begin(), kProse.end(), d) != kProse.end()) return DomainClass::Prose;
  return std::nullopt;
}

DomainClass detect_domain_class(std::string_view text) {
  size_t markup = 0;
  for (size_t p = 0; p + 1 < text.size(); ++p) {
    if (text[p] == '<' && (ascii_alpha(text[p + 1]) || text[p + 1] == '/' || text[p + 1] == '!')) ++markup;
    if (text[p] == '\\' && ascii_alpha(text[p + 1])) ++markup;
  }
  if (!text.empty() && markup * 200 >= text.size()) return DomainClass::Markup;
  size_t lines = 0, code_lines = 0;
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(b, e - b);
    b = e + 1;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    ++lines;
    const size_t last = line.find_last_not_of(" \t\r");
    const char end = line[last];
    const std::string_view body = line.substr(first);
    const bool indented = first >= 4 || (first >= 1 && line[0] == '\t');
    const bool code = end == ';' || end == '{' || end == '}' || (end == ':' && indented) ||
                      body.starts_with("def ") || body.starts_with("import ") ||
                      body.starts_with("from ") || body.starts_with("return") ||
                      body.starts_with("#include") || body.starts_with("class ") ||
                      body.find("==") != std::string_view::npos || body.find("()") != std::string_view::npos ||
                      body.find("->") != std::string_view::npos || body.find("=>") != std::string_view::npos ||
                      (indented && body.find(" = ") != std::string_view::npos);
    if (code) ++code_lines;
  }
  if (lines > 0 && code_lines * 10 >= lines * 3) return DomainClass::Code;
  return DomainClass::Prose;
}

DomainClass domain_class(std::string_view domain, std::string_view text) {
  if (auto c = domain_class_from_name(domain)) return *c;
  return detect_domain_class(text);
}

std::vector<DelimEvent> find_delimiters(std::string_view text, DomainClass cls) {
  std::vector<DelimEvent> ev;
  auto emit = [&](size_t p, DelimKind k, bool open) {
    ev.push_back(DelimEvent{static_cast<uint32_t>(p), k, open});
  };
  bool dq_open = false, dq_triple = false, sq_open = false, curly_single_open = false;
  size_t p = 0;
  while (p < text.size()) {
    const char c = text[p];
    // Quote state ends at a line break in code (unless inside a triple-quoted string) and at a
    // blank line elsewhere.
    if (c == '\n') {
      const bool blank = p + 1 < text.size() && text[p + 1] == '\n';
      if (cls == DomainClass::Code ? !dq_triple : blank) dq_open = sq_open = curly_single_open = false;
      ++p;
      continue;
    }
    switch (c) {
      case '(': emit(p, DelimKind::Paren, true); ++p; continue;
      case ')': emit(p, DelimKind::Paren, false); ++p; continue;
      case '[': emit(p, DelimKind::Bracket, true); ++p; continue;
      case ']': emit(p, DelimKind::Bracket, false); ++p; continue;
      case '{': emit(p, DelimKind::Brace, true); ++p; continue;
      case '}': emit(p, DelimKind::Brace, false); ++p; continue;
      default: break;
    }
    if (c == '\\') {
      const bool begin = starts_with_at(text, p, "\\begin{"), end = starts_with_at(text, p, "\\end{");
      if (begin || end) {  // \begin{name} / \end{name}: one event; the name's braces are not counted
        emit(p, DelimKind::Env, begin);
        const size_t close = text.find('}', p);
        p = close == std::string_view::npos ? text.size() : close + 1;
      } else {
        p += (p + 1 < text.size() && text[p + 1] != '\n') ? 2 : 1;  // an escaped character
      }
      continue;
    }
    if (c == '<' && cls == DomainClass::Markup) {
      if (starts_with_at(text, p, "<!--")) {
        const size_t e = text.find("-->", p + 4);
        p = e == std::string_view::npos ? text.size() : e + 3;
        continue;
      }
      if (p + 2 < text.size() && text[p + 1] == '/' && ascii_alpha(text[p + 2])) {
        emit(p, DelimKind::Tag, false);
        const size_t e = text.find('>', p);
        p = e == std::string_view::npos ? text.size() : e + 1;
        continue;
      }
      if (p + 1 < text.size() && ascii_alpha(text[p + 1])) {
        size_t q = p + 1;
        while (q < text.size() && (std::isalnum(static_cast<unsigned char>(text[q])) || text[q] == '-' || text[q] == ':')) ++q;
        const size_t e = text.find('>', q);
        const bool self_closing = e != std::string_view::npos && e > q && text[e - 1] == '/';
        if (!self_closing && !is_void_element(text.substr(p + 1, q - p - 1))) emit(p, DelimKind::Tag, true);
        p = q;  // attributes are scanned (their quotes are delimiters too)
        continue;
      }
    }
    if (c == '"') {
      size_t run = 1;
      while (run < 3 && p + run < text.size() && text[p + run] == '"') ++run;
      if (run == 2) run = 1;  // "" is an empty string: two quotes, decided one by one
      const int f = flank(cp_before(text, p), cp_at(text, p + run).first);
      const bool open = f > 0 || (f == 0 && !dq_open);
      emit(p, DelimKind::Quote, open);
      dq_open = open;
      dq_triple = open && run == 3;
      p += run;
      continue;
    }
    if (cls == DomainClass::Markup && c == '\'' && in(cp_before(text, p), "})]")) {
      while (p < text.size() && text[p] == '\'') ++p;  // primes in LaTeX math: \mathcal{F}', f(x)''
      continue;
    }
    if (cls == DomainClass::Markup && (starts_with_at(text, p, "``") || starts_with_at(text, p, "''"))) {
      emit(p, DelimKind::Quote, c == '`');  // LaTeX ``double quotes''
      p += 2;
      continue;
    }
    if (c == '\'') {
      const char32_t prev = cp_before(text, p), nxt = cp_at(text, p + 1).first;
      if (is_alnum(prev) && is_alnum(nxt)) { ++p; continue; }  // an apostrophe (don't)
      if (cls != DomainClass::Code && is_contraction(text, p + 1)) { ++p; continue; }  // John 's
      if (cls != DomainClass::Code && is_alnum(prev)) {        // students' : close or apostrophe
        if (sq_open) {
          emit(p, DelimKind::Quote, false);
          sq_open = false;
        }
        ++p;
        continue;
      }
      const int f = flank(prev, nxt);
      const bool open = f > 0 || (f == 0 && !sq_open);
      emit(p, DelimKind::Quote, open);
      sq_open = open;
      ++p;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      const auto [cp, n] = cp_at(text, p);
      switch (cp) {
        case U'\u201C': case U'\u201E': case U'\u00AB': case U'\u2039':  // “ „ « ‹
          emit(p, DelimKind::Quote, true);
          break;
        case U'\u201D': case U'\u00BB': case U'\u203A':  // ” » ›
          emit(p, DelimKind::Quote, false);
          break;
        case U'\u2018':  // ‘
          emit(p, DelimKind::Quote, true);
          curly_single_open = true;
          break;
        case U'\u2019': {  // ’ : apostrophe between letters, else closes an open ‘
          const bool apostrophe = is_alnum(cp_before(text, p)) && is_alnum(cp_at(text, p + n).first);
          if (!apostrophe && curly_single_open) {
            emit(p, DelimKind::Quote, false);
            curly_single_open = false;
          }
          break;
        }
        default: break;
      }
      p += n;
      continue;
    }
    ++p;
  }
  return ev;
}

DelimTags tag_delim(const Records& r) {
  const size_t N = r.n_tokens(), D = r.n_docs();
  DelimTags t;
  t.side.assign(N, DelimSide::None);
  t.kind.assign(N, DelimKind::Paren);
  t.doc_class.assign(D, DomainClass::Prose);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t dd = 0; dd < static_cast<int64_t>(D); ++dd) {
    const auto d = static_cast<size_t>(dd);
    const std::string_view text = r.doc_text(d);
    const DomainClass cls = domain_class(r.doc_domain[d], text);
    t.doc_class[d] = cls;
    const std::vector<DelimEvent> ev = find_delimiters(text, cls);
    size_t i = r.doc_begin[d];
    const size_t e = r.doc_begin[d + 1];
    for (const DelimEvent& x : ev) {
      while (i < e && (r.byte_end[i] <= x.byte || r.byte_end[i] == r.byte_begin[i])) ++i;
      if (i == e) break;
      if (r.byte_begin[i] > x.byte) continue;  // the byte lies in no token's span
      const auto bit = static_cast<uint8_t>(x.open ? DelimSide::Open : DelimSide::Close);
      if (t.side[i] == DelimSide::None) t.kind[i] = x.kind;
      t.side[i] = static_cast<DelimSide>(static_cast<uint8_t>(t.side[i]) | bit);
    }
  }
  return t;
}

}  // namespace lossgap
