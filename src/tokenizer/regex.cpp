// PCRE2 wrapper (see regex.h). Match data and the JIT stack are per thread, shared by all
// patterns, so encode() stays const and thread-safe.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "core/error.h"

namespace lossgap::tok {
namespace {

struct Scratch {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mc = nullptr;
  pcre2_jit_stack* js = nullptr;
  Scratch() {
    md = pcre2_match_data_create(16, nullptr);
    mc = pcre2_match_context_create(nullptr);
    js = pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr);
    LG_CHECK(md && mc && js, "PCRE2 allocation failed");
    pcre2_jit_stack_assign(mc, nullptr, js);
  }
  ~Scratch() {
    pcre2_jit_stack_free(js);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

Regex::Regex(const std::string& pattern, const std::string& where) : where_(where) {
  int err = 0;
  PCRE2_SIZE off = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
  if (!code_) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    throw InputError(where, "regex /" + pattern + "/ does not compile at offset " +
                                std::to_string(off) + ": " + reinterpret_cast<char*>(buf));
  }
  pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if unavailable
}

Regex::~Regex() { pcre2_code_free(code_); }

void Regex::find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const {
  Scratch& sc = scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t pos = 0;
  while (pos <= s.size()) {
    const int rc = pcre2_match(code_, subject, s.size(), pos, PCRE2_NO_UTF_CHECK, sc.md, sc.mc);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(rc, buf, sizeof buf);
      throw InputError(where_, std::string("regex match failed: ") +
                                   reinterpret_cast<char*>(buf));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(sc.md);
    const size_t b = ov[0], e = ov[1];
    out.emplace_back(b, e);
    if (e > b) {
      pos = e;
    } else {  // empty match: step over one character
      if (e >= s.size()) break;
      pos = e + 1;
      while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
}

std::string Regex::escape(std::string_view literal) {
  std::string p;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) p += '\\';
    p += c;
  }
  return p;
}

}  // namespace lossgap::tok
