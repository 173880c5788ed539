// The form tagger (form.h). Character classes from utf8proc's general categories.
#include "tags/form.h"

#include <utf8proc.h>

#include "core/error.h"

namespace lossgap {

const char* form_class_name(FormClass c) {
  switch (c) {
    case FormClass::Empty: return "empty";
    case FormClass::Space: return "space";
    case FormClass::Newline: return "newline";
    case FormClass::Indent: return "indent";
    case FormClass::Digits: return "digits";
    case FormClass::Punct: return "punct";
    case FormClass::Letters: return "letters";
    case FormClass::Ident: return "ident";
    case FormClass::Mixed: return "mixed";
  }
  return "?";
}

FormClass classify_form(std::string_view token, bool line_start, bool code) {
  if (token.empty()) return FormClass::Empty;
  // Leading whitespace (ASCII; byte-level BPE puts it in front of words).
  size_t p = 0;
  size_t last_newline = std::string_view::npos;
  while (p < token.size() && (token[p] == ' ' || token[p] == '\t' || token[p] == '\n' ||
                              token[p] == '\r' || token[p] == '\f' || token[p] == '\v')) {
    if (token[p] == '\n') last_newline = p;
    ++p;
  }
  if (p == token.size()) {
    if (last_newline != std::string_view::npos) {
      const std::string_view after = token.substr(last_newline + 1);
      return after.find_first_of(" \t") == std::string_view::npos ? FormClass::Newline : FormClass::Indent;
    }
    return line_start ? FormClass::Indent : FormClass::Space;
  }
  bool letter = false, digit = false, punct = false, underscore = false, other = false;
  const auto* u = reinterpret_cast<const utf8proc_uint8_t*>(token.data());
  const auto len = static_cast<utf8proc_ssize_t>(token.size());
  for (auto q = static_cast<utf8proc_ssize_t>(p); q < len;) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(u + q, len - q, &cp);
    if (n <= 0) return FormClass::Mixed;
    q += n;
    if (cp == '_') {
      underscore = true;
      continue;
    }
    switch (utf8proc_category(cp)) {
      case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
      case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
      case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        letter = true;
        break;
      case UTF8PROC_CATEGORY_ND:
        digit = true;
        break;
      case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
      case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
      case UTF8PROC_CATEGORY_PO: case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC:
      case UTF8PROC_CATEGORY_SK: case UTF8PROC_CATEGORY_SO:
        punct = true;
        break;
      default:
        other = true;  // inner whitespace, other numbers, controls, unassigned
        break;
    }
  }
  if (code && !punct && !other && (letter || underscore)) return FormClass::Ident;
  punct = punct || underscore;  // outside an identifier '_' is punctuation (Unicode Pc)
  if (other) return FormClass::Mixed;
  if (letter && !digit && !punct) return FormClass::Letters;
  if (digit && !letter && !punct) return FormClass::Digits;
  if (punct && !letter && !digit) return FormClass::Punct;
  return FormClass::Mixed;
}

std::vector<FormClass> tag_form(const Records& r, std::span<const DomainClass> doc_class) {
  LG_CHECK(doc_class.size() == r.n_docs(), "one domain class per document");
  std::vector<FormClass> out(r.n_tokens(), FormClass::Empty);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t dd = 0; dd < static_cast<int64_t>(r.n_docs()); ++dd) {
    const auto d = static_cast<size_t>(dd);
    const std::string_view text = r.doc_text(d);
    const bool code = doc_class[d] == DomainClass::Code;
    for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) {
      const uint32_t b = r.byte_begin[i];
      out[i] = classify_form(r.token_text(d, i), b == 0 || text[b - 1] == '\n', code);
    }
  }
  return out;
}

}  // namespace lossgap
