// Tests of user tags: regular expressions over token text and over document text, and span
// labels, on a hand-made document.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tags/user.h"

namespace lossgap {
namespace {

// "def foo(bar):" as tokens "def" " foo" "(" "bar" "):"
Records sample() {
  Records r;
  r.begin_document("d", "python", "def foo(bar):");
  const std::vector<std::pair<uint32_t, uint32_t>> spans = {{0, 3}, {3, 7}, {7, 8}, {8, 11}, {11, 13}};
  for (const auto& [b, e] : spans) {
    r.token.push_back(0);
    r.byte_begin.push_back(b);
    r.byte_end.push_back(e);
    r.position.push_back(static_cast<uint32_t>(r.token.size() - 1));
  }
  r.end_document();
  return r;
}

std::string members(const TokenMask& m) {
  std::string s;
  for (size_t i = 0; i < m.size(); ++i) s += m.test(i) ? '1' : '0';
  return s;
}

TEST(UserTags, RegexOverTokenText) {
  const Records r = sample();
  EXPECT_EQ(members(tag_regex(r, {"word", "^\\s*\\w+$", RegexTagSpec::Over::Token})), "11010");
  EXPECT_EQ(members(tag_regex(r, {"paren", "[()]", RegexTagSpec::Over::Token})), "00101");
}

TEST(UserTags, RegexOverDocumentTextSeesContext) {
  const Records r = sample();
  // The function name: a word after "def ", found with lookbehind; overlaps token " foo".
  EXPECT_EQ(members(tag_regex(r, {"fname", "(?<=def )\\w+", RegexTagSpec::Over::Text})), "01000");
  // A match across tokens tags every token it overlaps.
  EXPECT_EQ(members(tag_regex(r, {"call", "foo\\(b", RegexTagSpec::Over::Text})), "01110");
  // An empty match tags the token holding its position.
  EXPECT_EQ(members(tag_regex(r, {"before_paren", "(?=\\()", RegexTagSpec::Over::Text})), "00100");
}

TEST(UserTags, EmptyMatchesStepOverMultibyteCharacters) {
  Records r;
  r.begin_document("d", "", "\xC3\xA9t\xC3\xA9 x");  // été x
  const std::vector<std::pair<uint32_t, uint32_t>> spans = {{0, 5}, {5, 7}};
  for (const auto& [b, e] : spans) {
    r.token.push_back(0);
    r.byte_begin.push_back(b);
    r.byte_end.push_back(e);
    r.position.push_back(static_cast<uint32_t>(r.token.size() - 1));
  }
  r.end_document();
  // An empty match before every letter: after the one at byte 0 the scan must resume at the
  // next character (byte 2), not inside the two-byte é, to go on and reach the x.
  EXPECT_EQ(members(tag_regex(r, {"before_letter", "(?=\\p{L})", RegexTagSpec::Over::Text})), "11");
}

TEST(UserTags, BadPatternIsAnInputError) {
  const Records r = sample();
  try {
    tag_regex(r, {"broken", "(unclosed", RegexTagSpec::Over::Token});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "tag 'broken'");
    EXPECT_NE(std::string(e.what()).find("offset"), std::string::npos);
  }
}

TEST(UserTags, SpanLabels) {
  const Records r = sample();
  const std::vector<std::vector<SpanLabel>> spans = {{{4, 7, "name"}, {8, 10, "arg"}, {12, 13, "name"}}};
  const auto cats = tag_span_labels(r, spans);
  ASSERT_EQ(cats.size(), 2u);
  EXPECT_EQ(cats[0].name, "name");
  EXPECT_EQ(members(cats[0].members), "01001");
  EXPECT_EQ(cats[1].name, "arg");
  EXPECT_EQ(members(cats[1].members), "00010");
  const std::vector<std::vector<SpanLabel>> bad = {{{5, 50, "x"}}};
  EXPECT_THROW(tag_span_labels(r, bad), InputError);
}

}  // namespace
}  // namespace lossgap
