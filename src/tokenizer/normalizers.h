// The `normalizer` stage of tokenizer.json: NFC, NFD, NFKC, NFKD, Lowercase, Strip,
// StripAccents, Replace, Prepend and Sequence, applied piece by piece with HF's alignment
// rules. Other normalizer types are rejected at load time with an InputError.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/pieces.h"

namespace lossgap::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites every piece of `pl` in place (pieces keep their order; none are added).
  virtual void apply(PieceList& pl) const = 0;
};

// Builds the normalizer described by `j` (a tokenizer.json "normalizer" object).
// `where` names the file and field for errors. Returns nullptr for JSON null.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, const std::string& where);

}  // namespace lossgap::tok
