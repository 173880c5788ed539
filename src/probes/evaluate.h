// Scoring probe instances with a model: each continuation (target and distractors) is appended
// to the prefix, encoded with the model's own tokenizer, and scored in its own forward pass
// (one window: the scoring policy's BOS, then the text). A continuation's log-probability is the
// sum over the tokens covering its bytes, which must start at a token boundary (locate_span).
// Not the generation (generate.h) and not the statistics (summary.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/model.h"
#include "probes/generate.h"
#include "scoring/policy.h"
#include "tokenizer/tokenizer.h"

namespace lossgap::probes {

// Why an instance cannot be scored by a model.
enum class Skip {
  Boundary,  // a continuation does not start at a token boundary, or the prefix tokens differ
             // between continuations
  Length,    // BOS + prefix + continuation exceeds the context
};
const char* skip_name(Skip s);  // "boundary", "length"

// An instance made ready for one model: the token ids of each window and where its
// continuation's tokens begin.
struct PreparedInstance {
  std::vector<std::vector<int32_t>> ids;  // [n_continuations][n_tokens], BOS first if any
  std::vector<size_t> first_target;       // [n_continuations]: index in ids of the first scored token
  int64_t distance = 0;                   // the target's distance in this tokenizer's tokens
};

// Prepares `inst` for a model with `tok` under `policy` (its bos_id and context). Returns the
// reason instead when the instance cannot be scored by it.
struct Prepared {
  std::optional<PreparedInstance> instance;
  std::optional<Skip> skip;
};
Prepared prepare(const ProbeInstance& inst, const Tokenizer& tok, const ResolvedPolicy& policy);

// One continuation's score: the summed natural-log probability of its tokens.
struct ContinuationScore {
  double logprob = 0;
  int32_t n_tokens = 0;
};

struct InstanceScore {
  std::vector<ContinuationScore> continuations;  // [n_continuations]; [0] is the target
  int64_t distance = 0;                          // in this model's tokens
  // The target's log-probability is strictly above every distractor's (a tie is a miss).
  bool correct() const;
};

// Scores every continuation of a prepared instance (one Model::score call each).
InstanceScore score_instance(const Model& model, const PreparedInstance& p);

}  // namespace lossgap::probes
