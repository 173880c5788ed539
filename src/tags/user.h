// User tags: categories the user defines — PCRE2 regular expressions over each token's text or
// over the document text around it, and labelled byte spans given per document (the input
// JSONL's span labels). Each gives a TokenMask. Not the built-in taggers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tags/record.h"

namespace lossgap {

struct RegexTagSpec {
  std::string name;
  std::string pattern;  // PCRE2 syntax, UTF and Unicode properties on
  // Token: the token is tagged when the pattern matches somewhere in the token's own bytes
  // (anchor with ^...$ for the whole token). Text: the pattern runs over the whole document
  // text (so lookbehind/lookahead see the context) and a token is tagged when its span overlaps
  // a match (for an empty match: when the match position lies in the token's span).
  enum class Over { Token, Text } over = Over::Token;
};

// Throws InputError("tag '<name>'", "regex error at offset K: ...") for a pattern PCRE2 rejects.
TokenMask tag_regex(const Records& r, const RegexTagSpec& spec);

// A labelled byte span [begin, end) of one document's text.
struct SpanLabel {
  uint32_t begin = 0;
  uint32_t end = 0;
  std::string label;
};

// One category per distinct label (named by the label, in order of first appearance): the
// tokens whose spans overlap one of its spans. spans_by_doc[d] are document d's spans. Throws
// InputError("document <id> span label <k>", ...) for an empty span or one past the text.
std::vector<Category> tag_span_labels(const Records& r,
                                      const std::vector<std::vector<SpanLabel>>& spans_by_doc);

}  // namespace lossgap
