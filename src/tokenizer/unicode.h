// Character classes with the meaning Rust's `char` methods give them in HF tokenizers
// (is_whitespace, is_numeric, is_punctuation, is_alphanumeric), from utf8proc's tables.
// Not a normaliser (see normalizers.h).
#pragma once

#include <string>

namespace lossgap::tok {

bool is_whitespace(char32_t c);   // Unicode White_Space
bool is_numeric(char32_t c);      // Nd, Nl, No
bool is_punctuation(char32_t c);  // ASCII punctuation or a P* category
bool is_alphanumeric(char32_t c); // letters (and letter-like marks/numbers) or numerics
bool is_mark(char32_t c);  // Mn, Mc, Me (combining marks)
int combining_class(char32_t c);
// Rust's char::to_lowercase (full mapping: U+0130 gives two characters).
void append_lowercase(std::string& out, char32_t c);

}  // namespace lossgap::tok
