// The `decoder` stage of tokenizer.json: ByteLevel, Metaspace, Replace, ByteFallback, Fuse,
// Strip, BPEDecoder and Sequence, turning token strings back into text as tokenizers'
// decode_chain does. Other types are rejected at load time with an InputError.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lossgap::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the list of token strings (decode_chain); the caller concatenates the result.
  virtual void chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, const std::string& where);

// Replaces each ill-formed UTF-8 sequence with U+FFFD (String::from_utf8_lossy).
std::string utf8_lossy(const std::string& bytes);

}  // namespace lossgap::tok
