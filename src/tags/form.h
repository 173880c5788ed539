// The form tagger: what a token looks like — whitespace (space, newline, indentation), digits,
// punctuation, letters, identifier pieces (in code), or a mix. One class per token, from its
// bytes and the byte before it. Not a word splitter (words.h) and not a part of speech.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tags/delim.h"
#include "tags/record.h"

namespace lossgap {

enum class FormClass : uint8_t {
  Empty,    // empty span (BOS/EOS)
  Space,    // spaces/tabs only, inside a line
  Newline,  // whitespace holding a line break, with nothing after the last one
  Indent,   // spaces/tabs at the start of a line (or after the token's own line break)
  Digits,   // optional leading whitespace, then decimal digits only
  Punct,    // optional leading whitespace, then punctuation and symbols only
  Letters,  // optional leading whitespace, then letters (and combining marks) only
  Ident,    // code only: optional leading whitespace, then [letters digits _] with a letter or _
  Mixed,    // anything else (letters with punctuation, digits with letters in prose, bad UTF-8)
};
inline constexpr int kFormClasses = 9;
const char* form_class_name(FormClass c);  // "empty", "space", "newline", "indent", ...

// Classifies one token's bytes. `line_start`: the token's first byte starts a line (it is the
// document's first byte or follows '\n'). `code`: the document is read as code.
FormClass classify_form(std::string_view token, bool line_start, bool code);

// Per token [N]; doc_class [D] (DelimTags::doc_class) says which documents are code.
std::vector<FormClass> tag_form(const Records& r, std::span<const DomainClass> doc_class);

}  // namespace lossgap
