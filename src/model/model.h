// A causal language model loaded from a Hugging Face checkpoint directory, as the scorer sees it.
// Architecture modules (model/arch/) implement it; the registry picks one by config model_type.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace lossgap {

struct ModelConfig;  // model/config.h

// Per target token: what DESIGN.md's scoring policy records (natural log, fp32 log-softmax over
// all lm_head rows).
struct TokenScore {
  float logprob = 0;       // log p(true token)
  float entropy = 0;       // -sum p log p of the predictive distribution
  int32_t rank = 0;        // 1 + number of ids with a strictly larger logit than the true token
  int32_t top1_id = 0;     // argmax id (lowest id on ties)
  float top1_logprob = 0;  // its log-probability
};

// One token to score at one position of a window (Model::score_queries).
struct TokenQuery {
  size_t position = 0;  // 1 <= position <= n: the token is predicted from the logits at position - 1
  int32_t id = 0;       // the token scored there (any id in [0, V), not necessarily ids[position])
};

struct ModelInfo {
  std::string model_type;
  std::vector<std::string> layer_kinds;        // one per layer, e.g. "sliding_attention"
  int64_t n_parameters = 0;                    // stored elements (tied tensors counted once)
  std::map<std::string, int64_t> bytes_by_dtype;
};

class Model {
 public:
  virtual ~Model() = default;

  // Loads and strictly checks dir (config.json, *.safetensors): throws InputError naming the
  // file, the field or tensor, expected and actual.
  static std::unique_ptr<Model> load(const std::filesystem::path& dir);

  virtual const ModelConfig& config() const = 0;
  virtual ModelInfo info() const = 0;

  // Scores one window: ids[0..n) at positions 0..n-1, zero initial state, nothing carried
  // between calls. Returns n - first_target records; record j is for target ids[first_target + j],
  // predicted from the logits at position first_target + j - 1. Requires 1 <= first_target <= n.
  virtual std::vector<TokenScore> score(std::span<const int32_t> ids, size_t first_target) const = 0;

  // Scores any tokens at any positions of one window (ids at positions 0..n-1, zero initial
  // state): record i is the TokenScore of token queries[i].id predicted from the logits at
  // queries[i].position - 1, i.e. what score() gives for the window ids[0..position) + {id}.
  // Position n (the token after the window) is allowed. Exact, because the logits at p - 1 see
  // only ids[0..p): alternatives to the next token after a shared prefix need no extra forward
  // pass. Throws InputError for an id outside [0, V); requires 1 <= position <= n. The default
  // makes one score() call per query; a model overrides it with one forward pass.
  virtual std::vector<TokenScore> score_queries(std::span<const int32_t> ids,
                                                std::span<const TokenQuery> queries) const;
};

// Threads for all CPU work (matrix products and our own loops). 0 = all cores.
void set_num_threads(int n);

}  // namespace lossgap
