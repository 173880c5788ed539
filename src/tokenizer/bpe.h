// The BPE model of tokenizer.json: merges by rank (HF's priority-queue order: lowest rank,
// then leftmost), ignore_merges, byte_fallback, unk_token with fuse_unk,
// continuing_subword_prefix / end_of_word_suffix, and a bounded word cache.
// Not Unigram / WordPiece / WordLevel (rejected at load with an InputError).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lossgap::tok {

struct BpeToken {
  int32_t id;
  uint32_t len;  // bytes of the word this token covers (0 for none)
};

class Bpe {
 public:
  // Reads the "model" object; `where` names the file for errors.
  Bpe(const nlohmann::json& model, const std::string& where);

  // Appends the tokens of one pre-tokenized word (non-empty, valid UTF-8). Thread-safe.
  void encode_word(std::string_view word, std::vector<BpeToken>& out) const;

  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }

 private:
  void merge_word(std::string_view word, std::vector<BpeToken>& out) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, std::pair<uint32_t, int32_t>> merges_;  // (a,b) -> (rank, new id)
  std::optional<std::string> unk_token_;
  std::optional<std::string> prefix_, suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  int32_t byte_ids_[256];  // <0xXX> ids when byte_fallback, else -1

  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<BpeToken>> cache_;
};

}  // namespace lossgap::tok
