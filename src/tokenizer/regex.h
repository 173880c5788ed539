// A compiled PCRE2 pattern (UTF + UCP, JIT when available) for pre-tokenizer splits and the
// Replace normalizer. Stands in for the Oniguruma regexes of HF tokenizers. Not a general
// regex API: it only enumerates non-overlapping matches left to right.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

struct pcre2_real_code_8;

namespace lossgap::tok {

class Regex {
 public:
  // Throws InputError(where, ...) when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the [begin, end) byte ranges of the successive non-overlapping matches in `s`
  // (valid UTF-8). After an empty match the search resumes one character further.
  void find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const;

  // A pattern that matches `literal` verbatim.
  static std::string escape(std::string_view literal);

 private:
  pcre2_real_code_8* code_ = nullptr;
  std::string where_;
};

// The PCRE2 pattern of a tokenizer.json pattern object {"String": literal} or {"Regex": re}.
// Throws InputError(where, ...) for anything else.
std::string pattern_of(const nlohmann::json& j, const std::string& where);

}  // namespace lossgap::tok
