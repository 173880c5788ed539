// UTF-8 validation, decoding and encoding helpers shared by the tokenizer, corpus reader and
// taggers. Strict RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
// Not a Unicode library: normalisation and character classes live in utf8proc / PCRE2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lossgap {

// Number of bytes of the sequence that a lead byte announces (1..4), or 0 if `lead` cannot
// start a well-formed sequence (a continuation byte, 0xC0, 0xC1 or 0xF5..0xFF).
inline size_t utf8_seq_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

inline bool utf8_is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the well-formed sequence starting at s[pos], or 0 if the bytes there are not one
// (truncated, overlong, surrogate, above U+10FFFF). Requires pos < s.size().
size_t utf8_valid_seq_len(std::string_view s, size_t pos);

// Byte offset of the first byte that is not part of a well-formed UTF-8 sequence, or nullopt
// if the whole of `s` is valid UTF-8.
std::optional<size_t> utf8_find_invalid(std::string_view s);

// Throws InputError(where, "invalid UTF-8 at byte N (0xXX)") unless `s` is valid UTF-8.
void utf8_validate(std::string_view s, const std::string& where);

// Decodes the code point at s[pos] and advances pos past it. Requires valid UTF-8 at pos
// (check with utf8_validate first); checked with LG_CHECK.
char32_t utf8_decode(std::string_view s, size_t& pos);

// Appends the UTF-8 encoding of `cp` (must be a scalar value: <= U+10FFFF, not a surrogate).
void utf8_append(std::string& out, char32_t cp);
std::string utf8_encode(char32_t cp);

// Number of code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

// The start of the character holding byte `pos` of valid UTF-8 text (pos itself if it is a lead
// byte); and the end of that character. pos <= s.size(); at s.size() both return s.size().
size_t utf8_char_start(std::string_view s, size_t pos);
size_t utf8_char_end(std::string_view s, size_t pos);

}  // namespace lossgap
