// Tests of the form tagger on hand-made tokens.
#include <gtest/gtest.h>

#include "tags/form.h"

namespace lossgap {
namespace {

TEST(Form, Whitespace) {
  EXPECT_EQ(classify_form("", false, false), FormClass::Empty);
  EXPECT_EQ(classify_form(" ", false, false), FormClass::Space);
  EXPECT_EQ(classify_form("    ", true, true), FormClass::Indent);
  EXPECT_EQ(classify_form("\n\n", false, false), FormClass::Newline);
  EXPECT_EQ(classify_form("\n    ", false, true), FormClass::Indent);
}

TEST(Form, Content) {
  EXPECT_EQ(classify_form(" the", false, false), FormClass::Letters);
  EXPECT_EQ(classify_form("\xC3\xA9t\xC3\xA9", false, false), FormClass::Letters);  // été
  EXPECT_EQ(classify_form(" 2026", false, false), FormClass::Digits);
  EXPECT_EQ(classify_form(").", false, false), FormClass::Punct);
  EXPECT_EQ(classify_form("n't", false, false), FormClass::Mixed);
  EXPECT_EQ(classify_form("x2", false, false), FormClass::Mixed);
  EXPECT_EQ(classify_form("_", false, false), FormClass::Punct);
  EXPECT_EQ(classify_form("\xFF", false, false), FormClass::Mixed);  // invalid UTF-8
}

TEST(Form, IdentifiersInCode) {
  EXPECT_EQ(classify_form(" my_var2", false, true), FormClass::Ident);
  EXPECT_EQ(classify_form("_init", false, true), FormClass::Ident);
  EXPECT_EQ(classify_form(" my_var2", false, false), FormClass::Mixed);
  EXPECT_EQ(classify_form("42", false, true), FormClass::Digits);
  EXPECT_EQ(classify_form("()", false, true), FormClass::Punct);
}

TEST(Form, TagsRecordsWithLineStarts) {
  Records r;
  r.begin_document("d", "python", "if x:\n    y");
  const std::vector<std::pair<uint32_t, uint32_t>> spans = {{0, 2}, {2, 4}, {4, 5}, {5, 6}, {6, 10}, {10, 11}};
  for (const auto& [b, e] : spans) {
    r.token.push_back(0);
    r.byte_begin.push_back(b);
    r.byte_end.push_back(e);
    r.position.push_back(static_cast<uint32_t>(r.token.size() - 1));
  }
  r.end_document();
  const std::vector<DomainClass> cls = {DomainClass::Code};
  const auto f = tag_form(r, cls);
  const std::vector<FormClass> expect = {FormClass::Ident, FormClass::Ident, FormClass::Punct,
                                         FormClass::Newline, FormClass::Indent, FormClass::Ident};
  EXPECT_EQ(f, expect);
}

}  // namespace
}  // namespace lossgap
