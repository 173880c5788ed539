// The delimiter tagger: opening and closing delimiters (parentheses, brackets, braces, quotes,
// HTML/XML tags, LaTeX \begin/\end), found in each document's text by a small context-aware
// scanner and moved onto tokens by byte span; and the domain class (prose, code, markup) each
// document is read as. Heuristic by nature (quotes, tags in code): docs/taggers.md states every
// rule. Not a parser: nothing is matched or balanced.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tags/record.h"

namespace lossgap {

enum class DomainClass : uint8_t { Prose, Code, Markup };
const char* domain_class_name(DomainClass c);  // "prose", "code", "markup"

// The class of a known domain name (case-insensitive: "python" -> code, "html"/"latex" ->
// markup, "books"/"wiki"/"news" -> prose; the full list is in docs/taggers.md), or nullopt for
// an empty or unknown name.
std::optional<DomainClass> domain_class_from_name(std::string_view domain);

// Guesses the class from the text: markup when tags / LaTeX commands are dense (at least one
// per 200 bytes), code when at least 30% of the non-blank lines look like code, else prose.
DomainClass detect_domain_class(std::string_view text);

// domain_class_from_name(domain), or detect_domain_class(text) when that gives nothing.
DomainClass domain_class(std::string_view domain, std::string_view text);

enum class DelimKind : uint8_t { Paren, Bracket, Brace, Quote, Tag, Env };
const char* delim_kind_name(DelimKind k);  // "paren", "bracket", "brace", "quote", "tag", "env"

// One delimiter in a text: the byte it starts at ('<' of a tag, '\' of \begin, the first byte
// of a curly quote), its kind and whether it opens or closes.
struct DelimEvent {
  uint32_t byte = 0;
  DelimKind kind = DelimKind::Paren;
  bool open = false;
};

// Every delimiter of `text`, in byte order, read as class `cls` (HTML/XML tags are looked for
// in markup only; the rest everywhere). Total on any bytes (invalid UTF-8 is skipped).
std::vector<DelimEvent> find_delimiters(std::string_view text, DomainClass cls);

// Per-token delimiter side: a token holds a delimiter when the delimiter's starting byte lies in
// the token's span (the first token whose span contains it, when spans overlap).
enum class DelimSide : uint8_t {
  None = 0,
  Open = 1,   // holds one or more opening delimiters and no closing one
  Close = 2,  // holds one or more closing delimiters and no opening one
  Both = 3,   // holds both (e.g. "()", ")(")
};

struct DelimTags {
  std::vector<DelimSide> side;        // [N]
  std::vector<DelimKind> kind;        // [N] kind of the token's first delimiter (Paren if None)
  std::vector<DomainClass> doc_class; // [D] from the document's domain name, else detected
};

DelimTags tag_delim(const Records& r);

}  // namespace lossgap
