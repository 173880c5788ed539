// Feature extraction of the part-of-speech perceptron (see pos_features.h).
#include "tags/pos_features.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstddef>

namespace lossgap::pos_detail {
namespace {

// Template names, short because every feature name starting with one is stored in the model.
constexpr std::array<std::string_view, 30> kTemplates = {
    "b",     // bias
    "w",     // norm of word i
    "f",     // form of word i, when it differs from its norm
    "s1", "s2", "s3", "s4",  // suffixes of word i
    "p1", "p2", "p3",        // prefixes of word i
    "sh",    // shape of word i
    "t1",    // tag i-1
    "t2",    // tag i-2
    "t12",   // tags i-1, i-2
    "t1w",   // tag i-1, word i
    "w-1",   // word i-1
    "s3-1",  // suffix 3 of word i-1
    "w-2",   // word i-2
    "w+1",   // word i+1
    "s3+1",  // suffix 3 of word i+1
    "w+2",   // word i+2
    "sh+1",  // shape of word i+1
    "sh-1",  // shape of word i-1
    "w-1w",  // words i-1, i
    "ww+1",  // words i, i+1
    "a",     // ambiguity class of word i
    "a+1",   // ambiguity class of word i+1
    "a+2",   // ambiguity class of word i+2
    "t1a",   // tag i-1, ambiguity class of word i
    "aa+1",  // ambiguity classes of words i, i+1
};
static_assert(kTemplates.size() == kNumTemplates, "one name per Template");

// Code points of s (valid UTF-8 assumed; an invalid byte counts as one character).
std::vector<std::string_view> chars(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    size_t len = n > 0 ? static_cast<size_t>(n) : 1;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

char shape_class(std::string_view ch) {
  utf8proc_int32_t cp = -1;
  utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(ch.data()),
                   static_cast<utf8proc_ssize_t>(ch.size()), &cp);
  if (cp < 0) return '?';
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
      return 'X';
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return 'x';
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return 'd';
    default:
      return cp < 0x80 ? static_cast<char>(cp) : '*';
  }
}

}  // namespace

uint64_t fnv1a64(std::string_view s) { return fnv_update(kFnvOffset, s); }

uint64_t template_state(uint8_t tmpl) { return fnv_update(fnv_update(kFnvOffset, kTemplates[tmpl]), " "); }

void normalize_word(std::string_view form, std::string& norm, std::string& shape) {
  const size_t shape0 = shape.size();
  auto add_shape = [&](char sc) {
    if (shape.size() == shape0 || shape.back() != sc) shape.push_back(sc);
  };
  bool ascii = true;
  for (unsigned char c : form) ascii = ascii && c < 0x80;
  if (ascii) {
    // ASCII: utf8proc's categories are Lu for A-Z, Ll for a-z, Nd for 0-9, none of the letter
    // or mark classes for any other byte, so shape_class and tolower reduce to these.
    for (unsigned char c : form) {
      if (c >= 'A' && c <= 'Z') {
        add_shape('X');
        norm.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if (c >= 'a' && c <= 'z') {
        add_shape('x');
        norm.push_back(static_cast<char>(c));
      } else if (c >= '0' && c <= '9') {
        add_shape('d');
        norm.push_back('0');
      } else {
        add_shape(static_cast<char>(c));
        norm.push_back(static_cast<char>(c));
      }
    }
    return;
  }
  for (std::string_view ch : chars(form)) {
    char sc = shape_class(ch);
    add_shape(sc);
    if (sc == 'd' && ch.size() == 1) {
      norm.push_back('0');
      continue;
    }
    utf8proc_int32_t cp = -1;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(ch.data()),
                     static_cast<utf8proc_ssize_t>(ch.size()), &cp);
    if (cp < 0) {
      norm.append(ch);
      continue;
    }
    utf8proc_uint8_t buf[4];
    auto n = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    norm.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
  }
}

std::vector<PosWord> prepare_words(std::span<const std::string_view> forms, const Lexicon& lexicon) {
  std::vector<PosWord> out(forms.size());
  for (size_t k = 0; k < forms.size(); ++k) {
    PosWord& w = out[k];
    w.form = forms[k];
    normalize_word(w.form, w.norm, w.shape);
    auto it = lexicon.find(w.norm);
    w.ambiguity = it == lexicon.end() ? std::string_view("?") : std::string_view(it->second);
    std::vector<std::string_view> ns = chars(w.norm);
    for (size_t n = 1; n <= 4; ++n) {
      size_t take = std::min(n, ns.size());
      for (size_t c = ns.size() - take; c < ns.size(); ++c) w.suffix[n - 1].append(ns[c]);
      if (n <= 3) {
        for (size_t c = 0; c < take; ++c) w.prefix[n - 1].append(ns[c]);
      }
    }
  }
  return out;
}

void extract_features(const std::vector<PosWord>& words, size_t i, std::string_view prev1,
                      std::string_view prev2, std::vector<Feature>& out) {
  out.clear();
  auto add = [&](uint8_t tmpl, std::string_view a, std::string_view b = {}, bool two = false) {
    uint64_t h = fnv_update(kFnvOffset, kTemplates[tmpl]);
    h = fnv_update(h, " ");
    h = fnv_update(h, a);
    if (two) {
      h = fnv_update(h, " ");
      h = fnv_update(h, b);
    }
    out.push_back({h, tmpl, two, a, two ? b : std::string_view{}});
  };
  auto word = [&](ptrdiff_t k) -> std::string_view {
    if (k < 0) return k == -1 ? "-START-" : "-START2-";
    if (k >= static_cast<ptrdiff_t>(words.size())) {
      return k == static_cast<ptrdiff_t>(words.size()) ? "-END-" : "-END2-";
    }
    return words[static_cast<size_t>(k)].norm;
  };
  auto at = static_cast<ptrdiff_t>(i);
  const PosWord& w = words[i];
  add(0, "");
  add(1, w.norm);
  if (w.form != w.norm) add(2, w.form);
  for (uint8_t n = 0; n < 4; ++n) add(static_cast<uint8_t>(3 + n), w.suffix[n]);
  for (uint8_t n = 0; n < 3; ++n) add(static_cast<uint8_t>(7 + n), w.prefix[n]);
  add(10, w.shape);
  add(11, prev1);
  add(12, prev2);
  add(13, prev1, prev2, true);
  add(14, prev1, w.norm, true);
  add(15, word(at - 1));
  add(16, i >= 1 ? std::string_view(words[i - 1].suffix[2]) : word(at - 1));
  add(17, word(at - 2));
  add(18, word(at + 1));
  add(19, i + 1 < words.size() ? std::string_view(words[i + 1].suffix[2]) : word(at + 1));
  add(20, word(at + 2));
  add(21, i + 1 < words.size() ? std::string_view(words[i + 1].shape) : word(at + 1));
  add(22, i >= 1 ? std::string_view(words[i - 1].shape) : word(at - 1));
  add(23, word(at - 1), w.norm, true);
  add(24, w.norm, word(at + 1), true);
  auto amb = [&](size_t k) -> std::string_view {
    return k < words.size() ? words[k].ambiguity : std::string_view("-END-");
  };
  add(25, w.ambiguity);
  add(26, amb(i + 1));
  add(27, amb(i + 2));
  add(28, prev1, w.ambiguity, true);
  add(29, w.ambiguity, amb(i + 1), true);
}

std::string feature_name(const Feature& f) {
  std::string s(kTemplates[f.tmpl]);
  s += ' ';
  s += f.a;
  if (f.pair) {
    s += ' ';
    s += f.b;
  }
  return s;
}

}  // namespace lossgap::pos_detail
