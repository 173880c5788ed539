// Words of raw text for the part-of-speech tagger: UTF-8 text -> words with byte spans, split
// the way Universal Dependencies English (EWT, GUM) tokenizes (punctuation apart, "don't" ->
// "do" "n't", "John's" -> "John" "'s"), plus rough sentence breaks, plus the token -> word map
// the comparison uses. Not a model tokenizer, and no sentence parser: it only has to be close
// enough to UD for tagging, and total on any input (code, markup, invalid UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace lossgap {

// A word's byte span [start, end) in the text it came from.
struct WordSpan {
  uint32_t start = 0;
  uint32_t end = 0;
};

// Splits text into words, in text order, spans non-empty and disjoint. Every byte that is not
// whitespace (Unicode White_Space) belongs to exactly one word; whitespace belongs to none.
// Rules, in order (docs/pos-tagger.md has the details):
//   - URLs (scheme:// or www.) and e-mail addresses are one word (trailing punctuation split off);
//   - letters, marks, digits and '_' form words, joined across '.' ',' ':' '-' '/' between
//     digits (3.14, 1,000, 10:30, 853-7906, 01/24/2001), apostrophes between letters
//     (O'Brien), hyphens after a known prefix (non-stop, e-mail; other hyphens are their own
//     word, as in EWT), a period before a domain or file ending (Space.com, notes.doc),
//     letter-period abbreviations (U.S., e.g.) and a list of abbreviations with a period (Mr.);
//   - contractions split as in UD: n't 's 're 've 'll 'd 'm (also with U+2019), and
//     cannot -> can not, gonna -> gon na, wanna -> wan na, gotta -> got ta, dont -> do nt;
//   - emoticons (":)", ":-D", "<3", ...) after whitespace or a letter, and followed by
//     whitespace, the end or . , ! ?, are one word;
//   - punctuation and symbols: a run of one repeated character is one word ("...", "--"),
//     anything else is one word per character; bytes of invalid UTF-8 are one word each.
// Texts of 4 GiB or more are not supported (spans are 32-bit): throws InputError.
std::vector<WordSpan> split_words(std::string_view text);

// Sentence ranges [first, last) over the words of split_words(text): a sentence ends after a run of
// words made of '.', '!' or '?' (or U+2026), and before a word preceded by a blank line.
// Rough on purpose; the tagger only uses it to restart its left context.
std::vector<std::pair<size_t, size_t>> split_sentences(std::string_view text,
                                                       std::span<const WordSpan> words);

// The word a model token belongs to. A token belongs to the word holding its first byte that
// is not whitespace (so " the" in byte-level BPE belongs to "the"); a token whose span is empty
// (BOS/EOS) or only whitespace belongs to no word (word = -1). A token is its word's
// word-initial piece when that first byte is the word's first byte and no earlier token (in the
// order given) belongs to the word; other tokens of the word are continuations (" don" "'t" of
// "don't": "'t" continues the word "n't"; two byte-level tokens of one split character at a
// word start: the second continues).
struct TokenWord {
  int32_t word = -1;          // index into the words, or -1
  bool word_initial = false;  // false when word == -1
};

// Maps token byte spans [start, end) of `text` to `words` (from split_words(text)).
// Throws InputError when a span lies outside the text or has end < start.
std::vector<TokenWord> map_tokens_to_words(
    std::string_view text, std::span<const WordSpan> words,
    std::span<const std::pair<uint32_t, uint32_t>> token_spans);

}  // namespace lossgap
