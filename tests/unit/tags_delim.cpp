// Tests of the delimiter tagger on hand-made texts: brackets, straight and curly quotes with
// apostrophes, HTML/XML tags (void and self-closing ones excluded), LaTeX environments, domain
// classes, and the move from text bytes to token spans.
#include <gtest/gtest.h>

#include "tags/delim.h"

namespace lossgap {
namespace {

// "o" / "c" per event, with the byte it starts at: "o0 c5 ...".
std::string events(std::string_view text, DomainClass cls) {
  std::string s;
  for (const auto& e : find_delimiters(text, cls)) {
    if (!s.empty()) s += ' ';
    s += e.open ? 'o' : 'c';
    s += std::to_string(e.byte);
    s += delim_kind_name(e.kind);
  }
  return s;
}

TEST(Delim, Brackets) {
  EXPECT_EQ(events("f(a[1]) {x}", DomainClass::Code), "o1paren o3bracket c5bracket c6paren o8brace c10brace");
}

TEST(Delim, StraightQuotesByContext) {
  EXPECT_EQ(events("He said \"hi,\" then left.", DomainClass::Prose), "o8quote c12quote");
  EXPECT_EQ(events("print(\"\")", DomainClass::Code), "o5paren o6quote c7quote c8paren");
  EXPECT_EQ(events("x = 'a' + f'{y}'", DomainClass::Code), "o4quote c6quote o11quote o12brace c14brace c15quote");
}

TEST(Delim, ApostrophesAreNotQuotes) {
  EXPECT_EQ(events("don't stop", DomainClass::Prose), "");
  EXPECT_EQ(events("the students' books", DomainClass::Prose), "");
  EXPECT_EQ(events("'the students' books'", DomainClass::Prose), "o0quote c13quote");
  EXPECT_EQ(events("Boulter 's role , it 'll do", DomainClass::Prose), "");  // tokenized text
  EXPECT_EQ(events("x = 'll'", DomainClass::Code), "o4quote c7quote");
}

TEST(Delim, CurlyQuotes) {
  // “ at 0 (3 bytes), ’ apostrophe in It’s at 5, ” at 9; ‘ at 13, ’ closing at 18.
  const std::string t = "\xE2\x80\x9CIt\xE2\x80\x99s\xE2\x80\x9D \xE2\x80\x98no\xE2\x80\x99";
  EXPECT_EQ(events(t, DomainClass::Prose), "o0quote c9quote o13quote c18quote");
}

TEST(Delim, TagsInMarkupOnly) {
  const std::string t = "<p>a<br/><img src=\"x\"><b>c</b></p><!-- <i> -->";
  EXPECT_EQ(events(t, DomainClass::Markup), "o0tag o18quote c20quote o22tag c26tag c30tag");
  EXPECT_EQ(events("if a<b and c</d:", DomainClass::Code), "");
}

TEST(Delim, LatexEnvironments) {
  EXPECT_EQ(events("\\begin{itemize}\\item {x}\\end{itemize}", DomainClass::Markup),
            "o0env o21brace c23brace c24env");
  EXPECT_EQ(events("a \\{ b \\}", DomainClass::Markup), "");  // escaped braces are literal
  EXPECT_EQ(events("``quoted'' and f'(x)", DomainClass::Markup), "o0quote c8quote o17paren c19paren");
  EXPECT_EQ(events("$\\mathcal{F}' = g(x)''$", DomainClass::Markup), "o9brace c11brace o17paren c19paren");
}

TEST(Delim, DomainClasses) {
  EXPECT_EQ(domain_class_from_name("Python"), DomainClass::Code);
  EXPECT_EQ(domain_class_from_name("html"), DomainClass::Markup);
  EXPECT_EQ(domain_class_from_name("books"), DomainClass::Prose);
  EXPECT_FALSE(domain_class_from_name("").has_value());
  EXPECT_EQ(detect_domain_class("<html><body><p>Hello</p></body></html>"), DomainClass::Markup);
  EXPECT_EQ(detect_domain_class("def f(x):\n    return x + 1\n\nimport os\nprint(f(2))\n"), DomainClass::Code);
  EXPECT_EQ(detect_domain_class("It was a dark and stormy night. The rain fell in torrents.\n"), DomainClass::Prose);
  EXPECT_EQ(domain_class("", "def f():\n    return 1\n"), DomainClass::Code);
  EXPECT_EQ(domain_class("news", "def f():\n    return 1\n"), DomainClass::Prose);
}

TEST(Delim, TokensTakeTheDelimitersStartingInTheirSpan) {
  Records r;
  const std::string text = "f(x)+(";
  r.begin_document("d", "python", text);
  // tokens: "f(" "x" ")+(" ; the last holds a close and an open.
  const std::vector<std::pair<uint32_t, uint32_t>> spans = {{0, 2}, {2, 3}, {3, 6}};
  for (const auto& [b, e] : spans) {
    r.token.push_back(0);
    r.byte_begin.push_back(b);
    r.byte_end.push_back(e);
    r.position.push_back(static_cast<uint32_t>(r.token.size() - 1));
  }
  r.end_document();
  const DelimTags t = tag_delim(r);
  EXPECT_EQ(t.doc_class[0], DomainClass::Code);
  EXPECT_EQ(t.side[0], DelimSide::Open);
  EXPECT_EQ(t.kind[0], DelimKind::Paren);
  EXPECT_EQ(t.side[1], DelimSide::None);
  EXPECT_EQ(t.side[2], DelimSide::Both);
}

}  // namespace
}  // namespace lossgap
