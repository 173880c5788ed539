// Unit tests of the word splitter (tags/words.h): UD-style splits on hand-made prose, code,
// markup and Unicode; the coverage invariant on random text; sentences; token -> word mapping.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tags/words.h"

namespace lossgap {
namespace {

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (const WordSpan& w : split_words(text)) {
    out.emplace_back(text.substr(w.start, w.end - w.start));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(TagsWords, ContractionsAndPossessives) {
  EXPECT_EQ(words_of("I don't know."), (V{"I", "do", "n't", "know", "."}));
  EXPECT_EQ(words_of("John's car can't go; it won't."),
            (V{"John", "'s", "car", "ca", "n't", "go", ";", "it", "wo", "n't", "."}));
  EXPECT_EQ(words_of("We're gonna win, cannot lose, I'd say you'll see I'm right"),
            (V{"We", "'re", "gon", "na", "win", ",", "can", "not", "lose", ",", "I", "'d", "say",
               "you", "'ll", "see", "I", "'m", "right"}));
  EXPECT_EQ(words_of("don\xE2\x80\x99t"), (V{"do", "n\xE2\x80\x99t"}));  // U+2019
  EXPECT_EQ(words_of("O'Brien's students' books"),
            (V{"O'Brien", "'s", "students", "'", "books"}));
  // Clitics already written apart (WikiText) stay whole.
  EXPECT_EQ(words_of("the city 's mayor n't"), (V{"the", "city", "'s", "mayor", "n't"}));
  EXPECT_EQ(words_of("'hello'"), (V{"'", "hello", "'"}));
}

TEST(TagsWords, NumbersAbbreviationsHyphens) {
  EXPECT_EQ(words_of("It costs $3.50 (1,000 units) at 10:30."),
            (V{"It", "costs", "$", "3.50", "(", "1,000", "units", ")", "at", "10:30", "."}));
  EXPECT_EQ(words_of("The U.S. and e.g. Mr. Smith, J. Doe etc."),
            (V{"The", "U.S.", "and", "e.g.", "Mr.", "Smith", ",", "J.", "Doe", "etc."}));
  EXPECT_EQ(words_of("Al-Zaman's non-stop e-mail"),
            (V{"Al", "-", "Zaman", "'s", "non-stop", "e-mail"}));
  EXPECT_EQ(words_of("Wait... what?! --no"), (V{"Wait", "...", "what", "?", "!", "--", "no"}));
}

TEST(TagsWords, WebTextConventions) {
  EXPECT_EQ(words_of("call 853-7906 by 01/24/2001, pages 3-5"),
            (V{"call", "853-7906", "by", "01/24/2001", ",", "pages", "3-5"}));
  EXPECT_EQ(words_of("I dont know :) see Space.com or notes.doc. ok:D"),
            (V{"I", "do", "nt", "know", ":)", "see", "Space.com", "or", "notes.doc", ".", "ok", ":D"}));
  EXPECT_EQ(words_of("x:Dict"), (V{"x", ":", "Dict"}));
  EXPECT_EQ(words_of("so :-( and <3"), (V{"so", ":-(", "and", "<3"}));
  // Not in code: an emoticon must be followed by whitespace, the end or . , ! ?
  EXPECT_EQ(words_of("for(i<3;) x:(c)"),
            (V{"for", "(", "i", "<", "3", ";", ")", "x", ":", "(", "c", ")"}));
}

TEST(TagsWords, UrlsAndEmails) {
  EXPECT_EQ(words_of("See http://example.com/a?b=1. Then (www.x.org/p_(q)) now"),
            (V{"See", "http://example.com/a?b=1", ".", "Then", "(", "www.x.org/p_(q)", ")",
               "now"}));
  EXPECT_EQ(words_of("mail john.doe+x@example.co.uk!"),
            (V{"mail", "john.doe+x@example.co.uk", "!"}));
  EXPECT_EQ(words_of("a@b is not"), (V{"a", "@", "b", "is", "not"}));
}

TEST(TagsWords, CodeAndMarkup) {
  EXPECT_EQ(words_of("if (x_1 >= 2) { return foo.bar(y); }"),
            (V{"if", "(", "x_1", ">", "=", "2", ")", "{", "return", "foo", ".", "bar", "(", "y",
               ")", ";", "}"}));
  EXPECT_EQ(words_of("<div class=\"a\">Hi</div>"),
            (V{"<", "div", "class", "=", "\"", "a", "\"", ">", "Hi", "<", "/", "div", ">"}));
  EXPECT_EQ(words_of("\\begin{equation} x^2 \\end{equation}"),
            (V{"\\", "begin", "{", "equation", "}", "x", "^", "2", "\\", "end", "{", "equation",
               "}"}));
}

TEST(TagsWords, Unicode) {
  // NBSP and ideographic space separate words; letters with marks stay whole.
  EXPECT_EQ(words_of("Caf\xC3\xA9\xC2\xA0na\xC3\xAFve \xE2\x80\x94 \xE2\x80\x9Cquoted\xE2\x80\x9D"
                     "\xE3\x80\x80\xE6\x9D\xB1\xE4\xBA\xAC"),
            (V{"Caf\xC3\xA9", "na\xC3\xAFve", "\xE2\x80\x94", "\xE2\x80\x9C", "quoted",
               "\xE2\x80\x9D", "\xE6\x9D\xB1\xE4\xBA\xAC"}));
  // Combining accent (e + U+0301) stays inside the word; invalid bytes are words of one byte.
  EXPECT_EQ(words_of("e\xCC\x81t\xC3\xA9 a\xFF\xFE" "b"), (V{"e\xCC\x81t\xC3\xA9", "a", "\xFF", "\xFE", "b"}));
  EXPECT_TRUE(split_words("").empty());
  EXPECT_TRUE(split_words(" \n\t\xE2\x80\xA8 ").empty());
}

// Every non-whitespace byte is in exactly one word; spans ascend, are non-empty, and never
// contain whitespace, on random text drawn from characters that exercise every rule.
TEST(TagsWords, CoverageInvariantOnRandomText) {
  const std::vector<std::string> alphabet = {
      "a", "B", "z", "0", "7", ".", ",", ":", "'", "\xE2\x80\x99", "-", "_", "@", "/", "(",
      ")", "n't", "s", "http://", "www.", " ", "\n", "\t", "\xC2\xA0", "\xC3\xA9", "\xCC\x81",
      "\xE6\x9D\xB1", "\xFF", "\xE2\x80", "!", "?", "\"", "can", "not", "Mr", "e", "non"};
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    size_t n = rng() % 40;
    for (size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    std::vector<WordSpan> ws = split_words(text);
    std::vector<int> owner(text.size(), -1);
    uint32_t prev_end = 0;
    for (size_t k = 0; k < ws.size(); ++k) {
      ASSERT_LT(ws[k].start, ws[k].end) << text;
      ASSERT_GE(ws[k].start, prev_end) << text;
      prev_end = ws[k].end;
      for (uint32_t b = ws[k].start; b < ws[k].end; ++b) owner[b] = static_cast<int>(k);
    }
    // Bytes outside every word must be whitespace: ASCII space/newline/tab or NBSP's bytes.
    for (size_t b = 0; b < text.size(); ++b) {
      if (owner[b] >= 0) continue;
      bool ws_byte = text[b] == ' ' || text[b] == '\n' || text[b] == '\t' ||
                     (text.compare(b, 2, "\xC2\xA0") == 0) ||
                     (b > 0 && text.compare(b - 1, 2, "\xC2\xA0") == 0);
      ASSERT_TRUE(ws_byte) << "byte " << b << " of \"" << text << "\" is in no word";
    }
    for (const WordSpan& w : ws) {
      std::string_view s = std::string_view(text).substr(w.start, w.end - w.start);
      ASSERT_EQ(s.find_first_of(" \n\t"), std::string_view::npos) << text;
      ASSERT_EQ(s.find("\xC2\xA0"), std::string_view::npos) << text;
    }
  }
}

TEST(TagsWords, Sentences) {
  std::string text = "Hi there. How are you?!\n\nNew para\nsame one... Yes";
  std::vector<WordSpan> ws = split_words(text);
  auto ss = split_sentences(text, ws);
  std::vector<V> got;
  for (auto [a, b] : ss) {
    V s;
    for (size_t k = a; k < b; ++k) s.emplace_back(text.substr(ws[k].start, ws[k].end - ws[k].start));
    got.push_back(s);
  }
  EXPECT_EQ(got, (std::vector<V>{{"Hi", "there", "."},
                                 {"How", "are", "you", "?", "!"},
                                 {"New", "para", "same", "one", "..."},
                                 {"Yes"}}));
  EXPECT_TRUE(split_sentences("", {}).empty());
}

TEST(TagsWords, TokensToWords) {
  // GPT-2-style pieces of "I don't like cats.\n\nOK": BOS, "I", " don", "'t", " like", " c",
  // "ats", ".", "\n\n", "OK".
  std::string text = "I don't like cats.\n\nOK";
  std::vector<WordSpan> ws = split_words(text);  // I do n't like cats . OK
  ASSERT_EQ(ws.size(), 7u);
  std::vector<std::pair<uint32_t, uint32_t>> spans = {
      {0, 0}, {0, 1}, {1, 5}, {5, 7}, {7, 12}, {12, 14}, {14, 17}, {17, 18}, {18, 20}, {20, 22}};
  std::vector<TokenWord> tw = map_tokens_to_words(text, ws, spans);
  std::vector<int32_t> word;
  std::vector<bool> initial;
  for (const auto& t : tw) {
    word.push_back(t.word);
    initial.push_back(t.word_initial);
  }
  EXPECT_EQ(word, (std::vector<int32_t>{-1, 0, 1, 2, 3, 4, 4, 5, -1, 6}));
  EXPECT_EQ(initial, (std::vector<bool>{false, true, true, false, true, true, false, true, false,
                                        true}));
  // Two tokens with the same span (a split character): the second continues the word.
  std::string cjk = "\xE6\x9D\xB1x";
  std::vector<WordSpan> cw = split_words(cjk);
  std::vector<std::pair<uint32_t, uint32_t>> split_char = {{0, 3}, {0, 3}, {3, 4}};
  auto t2 = map_tokens_to_words(cjk, cw, split_char);
  EXPECT_TRUE(t2[0].word_initial);
  EXPECT_FALSE(t2[1].word_initial);
  EXPECT_EQ(t2[1].word, 0);
  EXPECT_FALSE(t2[2].word_initial);
}

TEST(TagsWords, TokenSpanOutsideTextThrows) {
  std::string text = "abc";
  std::vector<WordSpan> ws = split_words(text);
  std::vector<std::pair<uint32_t, uint32_t>> bad = {{0, 4}};
  EXPECT_THROW(map_tokens_to_words(text, ws, bad), InputError);
  std::vector<std::pair<uint32_t, uint32_t>> reversed = {{2, 1}};
  EXPECT_THROW(map_tokens_to_words(text, ws, reversed), InputError);
}

}  // namespace
}  // namespace lossgap
