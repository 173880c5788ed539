// The `pre_tokenizer` stage of tokenizer.json: Split, ByteLevel, Metaspace, Digits,
// Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit and Sequence,
// each cutting (and for ByteLevel / Metaspace, rewriting) the pieces of a PieceList as HF
// tokenizers does. Other types are rejected at load time with an InputError.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/pieces.h"

namespace lossgap::tok {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void apply(PieceList& pl) const = 0;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// GPT-2's bytes_to_unicode(): the printable character standing for each byte, as UTF-8.
const std::string& byte_level_char(unsigned char b);

// Builds the pre-tokenizer described by `j` (nullptr for JSON null). Sets *byte_level when a
// ByteLevel pre-tokenizer is part of it.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, const std::string& where,
                                                 bool* byte_level);

}  // namespace lossgap::tok
