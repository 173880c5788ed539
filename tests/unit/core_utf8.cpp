// Tests of core/utf8.h against an independent oracle: the set of the UTF-8 encodings of every
// Unicode scalar value, built from the bit layout of RFC 3629 section 3, and a greedy matcher
// over that set. No expected value is typed by hand.
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_set>

#include "core/error.h"

namespace lossgap {
namespace {

// RFC 3629 section 3, written independently of utf8_append.
std::string rfc_encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

const std::unordered_set<std::string>& all_encodings() {
  static const auto* set = [] {
    auto* s = new std::unordered_set<std::string>();
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp)
      if (cp < 0xD800 || cp > 0xDFFF) s->insert(rfc_encode(cp));
    return s;
  }();
  return *set;
}

// The first invalid byte by greedy matching against the set of all encodings.
std::optional<size_t> oracle_find_invalid(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 0;
    for (size_t n = 1; n <= 4 && i + n <= s.size(); ++n)
      if (all_encodings().count(s.substr(i, n))) {
        len = n;
        break;
      }
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

TEST(Utf8, EveryScalarRoundTrips) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string e = utf8_encode(cp);
    ASSERT_EQ(e, rfc_encode(cp)) << "cp " << cp;
    ASSERT_FALSE(utf8_find_invalid(e).has_value()) << "cp " << cp;
    size_t pos = 0;
    ASSERT_EQ(utf8_decode(e, pos), cp);
    ASSERT_EQ(pos, e.size());
    ASSERT_EQ(utf8_length(e), 1u);
  }
}

TEST(Utf8, SurrogatesAndOutOfRangeAreRejected) {
  // Encode the forbidden values with the same bit layout; each must be invalid at byte 0.
  for (uint32_t cp : {0xD800u, 0xDBFFu, 0xDC00u, 0xDFFFu, 0x110000u, 0x13FFFFu}) {
    const std::string e = rfc_encode(cp);
    EXPECT_EQ(utf8_find_invalid(e), std::optional<size_t>(0)) << "cp " << cp;
    EXPECT_EQ(oracle_find_invalid(e), std::optional<size_t>(0));
  }
  std::string out;
  EXPECT_THROW(utf8_append(out, 0xD800), InternalError);
}

TEST(Utf8, OverlongFormsAreRejected) {
  // Overlong encodings: a code point encoded with more bytes than it needs.
  for (uint32_t cp : {0x0u, 0x2Fu, 0x7Fu, 0x7FFu, 0xFFFFu}) {
    std::string e;
    const uint32_t n = cp < 0x80 ? 2 : cp < 0x800 ? 3 : 4;
    const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    e += char(lead[n] | (cp >> (6 * (n - 1))));
    for (uint32_t k = n - 1; k-- > 0;) e += char(0x80 | ((cp >> (6 * k)) & 0x3F));
    EXPECT_EQ(utf8_find_invalid(e), std::optional<size_t>(0)) << "cp " << cp;
    EXPECT_EQ(oracle_find_invalid(e), std::optional<size_t>(0));
  }
}

TEST(Utf8, RandomBytesAgreeWithOracle) {
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    const int n = int(rng() % 24);
    for (int k = 0; k < n; ++k) {
      // Mix ASCII, valid multi-byte characters and arbitrary bytes.
      switch (rng() % 4) {
        case 0: s += char('a' + rng() % 26); break;
        case 1: {
          uint32_t cp = rng() % 0x110000;
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;
          s += rfc_encode(cp);
          break;
        }
        case 2: s += char(0x80 + rng() % 0x80); break;
        default: s += char(rng() % 256);
      }
    }
    ASSERT_EQ(utf8_find_invalid(s), oracle_find_invalid(s)) << "iteration " << iter;
  }
}

TEST(Utf8, ValidateThrowsNamingTheOffset) {
  const std::string s = "ab" + rfc_encode(0xE9) + "\xFF" + "c";
  try {
    utf8_validate(s, "input.txt");
    FAIL() << "no throw";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "input.txt");
    EXPECT_NE(e.detail().find("byte " + std::to_string(s.find('\xFF'))), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(utf8_validate("plain ascii", "x"));
}

TEST(Utf8, CharBoundaries) {
  const std::string s = "a" + rfc_encode(0x20AC) + rfc_encode(0x1F600) + "b";
  // Every byte maps to the character that holds it; walk characters with utf8_decode.
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    utf8_decode(s, pos);
    for (size_t b = start; b < pos; ++b) {
      EXPECT_EQ(utf8_char_start(s, b), start);
      EXPECT_EQ(utf8_char_end(s, b), pos);
    }
  }
  EXPECT_EQ(utf8_char_start(s, s.size()), s.size());
  EXPECT_EQ(utf8_char_end(s, s.size()), s.size());
  EXPECT_EQ(utf8_length(s), 4u);
}

}  // namespace
}  // namespace lossgap
