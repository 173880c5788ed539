// A Hugging Face tokenizer.json tokenizer, id for id with transformers' AutoTokenizer.
// This header is the contract the rest of lossgap uses; the pipeline stages live beside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lossgap {

// Token ids and each token's byte span [start, end) in the original UTF-8 text.
// Tokens inserted by the post-processor (BOS/EOS) have the empty span [0, 0) (HF's convention).
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
};

class Tokenizer {
 public:
  // Reads dir/tokenizer.json and, when present, dir/tokenizer_config.json.
  // Throws InputError naming the file and field for anything it cannot honour.
  static Tokenizer from_dir(const std::filesystem::path& dir);
  static Tokenizer from_files(const std::filesystem::path& tokenizer_json,
                              const std::optional<std::filesystem::path>& tokenizer_config);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // What `tokenizer(text)["input_ids"]` gives in transformers 5.17 (add_special_tokens=True),
  // or with add_special_tokens=false the ids without post-processor tokens.
  // Throws InputError on invalid UTF-8 (naming the byte offset).
  Encoding encode(std::string_view text, bool add_special_tokens = true) const;

  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The token the post-processor puts before the text, if any (with the transformers
  // add_bos_token / add_eos_token rules applied), and likewise after it.
  std::optional<int32_t> prepended_bos() const;
  std::optional<int32_t> appended_eos() const;
  // The checkpoint's BOS token (tokenizer_config.json bos_token), whether or not it is added.
  std::optional<int32_t> bos_token_id() const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;  // the vocabulary string ("" if out of range)
  size_t vocab_size() const;                  // highest id + 1, added tokens included

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lossgap
