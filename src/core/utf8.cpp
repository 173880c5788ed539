// UTF-8 helpers (see utf8.h). Validation follows the well-formed byte sequence table of
// The Unicode Standard, ch. 3, table 3-7.
#include "core/utf8.h"

#include <cstdio>

#include "core/error.h"

namespace lossgap {

size_t utf8_valid_seq_len(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  const size_t left = s.size() - pos;
  const unsigned char b0 = p[0];
  const size_t n = utf8_seq_len(b0);
  if (n <= 1 || n > left) return n == 1 ? 1 : 0;
  const unsigned char b1 = p[1];
  // The second byte's range depends on the lead byte (table 3-7).
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 == 0xE0) lo = 0xA0;
  else if (b0 == 0xED) hi = 0x9F;  // no surrogates
  else if (b0 == 0xF0) lo = 0x90;
  else if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  if (b1 < lo || b1 > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if (!utf8_is_continuation(p[i])) return 0;
  return n;
}

std::optional<size_t> utf8_find_invalid(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = utf8_valid_seq_len(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

void utf8_validate(std::string_view s, const std::string& where) {
  if (auto bad = utf8_find_invalid(s)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(s[*bad]));
    throw InputError(where, "invalid UTF-8 at byte " + std::to_string(*bad) + " (" + hex +
                                "); expected well-formed UTF-8 text");
  }
}

char32_t utf8_decode(std::string_view s, size_t& pos) {
  LG_CHECK(pos < s.size(), "utf8_decode past the end");
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  const size_t n = utf8_seq_len(p[0]);
  LG_CHECK(n != 0 && pos + n <= s.size(), "utf8_decode on invalid UTF-8");
  char32_t cp;
  switch (n) {
    case 1: cp = p[0]; break;
    case 2: cp = (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F); break;
    case 3: cp = (char32_t(p[0] & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F); break;
    default:
      cp = (char32_t(p[0] & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
           (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
  pos += n;
  return cp;
}

void utf8_append(std::string& out, char32_t cp) {
  LG_CHECK(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF), "utf8_append of a non-scalar value");
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_encode(char32_t cp) {
  std::string s;
  utf8_append(s, cp);
  return s;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += !utf8_is_continuation(static_cast<unsigned char>(c));
  return n;
}

size_t utf8_char_start(std::string_view s, size_t pos) {
  if (pos >= s.size()) return s.size();
  while (pos > 0 && utf8_is_continuation(static_cast<unsigned char>(s[pos]))) --pos;
  return pos;
}

size_t utf8_char_end(std::string_view s, size_t pos) {
  if (pos >= s.size()) return s.size();
  pos = utf8_char_start(s, pos) + 1;
  while (pos < s.size() && utf8_is_continuation(static_cast<unsigned char>(s[pos]))) ++pos;
  return pos;
}

}  // namespace lossgap
