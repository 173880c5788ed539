// Scoring probe instances with a model. A query's continuation's log-probability is the sum over
// the tokens covering its bytes in the model's encoding of prefix + continuation, which must
// start and end at token boundaries (locate_span). The whole probe text (every query's target in
// place) is one window: one forward pass scores every target token and, from the same logits,
// the first token of every distractor (Model::score_queries; exact, as the prefix is shared);
// only a distractor of two or more tokens costs a pass of its own (prefix + distractor).
// score_instance_reference is the plain form (one pass per continuation) the fast one is tested
// against. Not the generation (generate.h) and not the statistics (summary.h).
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
  Boundary,  // a continuation does not start and end at token boundaries, or its prefix's (or
             // the target's) tokens differ from those of the whole text
  Length,    // BOS + the text (or a prefix + distractor) exceeds the context
};
const char* skip_name(Skip s);  // "boundary", "length"

// One query made ready for a model.
struct PreparedQuery {
  size_t first = 0;     // index in ids of the target's first token (>= 1)
  size_t n_target = 0;  // target tokens: ids[first, first + n_target)
  std::vector<std::vector<int32_t>> distractors;  // [n_continuations - 1][its tokens after the prefix]
  int64_t distance = 0;                           // the target's distance in this tokenizer's tokens
};

// An instance made ready for one model: the window and its queries.
struct PreparedInstance {
  std::vector<int32_t> ids;  // [n_tokens]: BOS if any, then the text's tokens
  std::vector<PreparedQuery> queries;
  // The tokens of the longest window this instance needs (the text, or a prefix + distractor).
  size_t longest_window() const;
};

// Prepares `inst` for a model with `tok` under `policy` (its bos_id and context). Returns the
// reason instead when the instance cannot be scored by it.
struct Prepared {
  std::optional<PreparedInstance> instance;
  std::optional<Skip> skip;
  size_t tokens = 0;  // the longest window it needs (BOS included); set unless skipped for Boundary
};
Prepared prepare(const ProbeInstance& inst, const Tokenizer& tok, const ResolvedPolicy& policy);

// One continuation's score: the summed natural-log probability of its tokens.
struct ContinuationScore {
  double logprob = 0;
  int32_t n_tokens = 0;
};

struct QueryScore {
  std::vector<ContinuationScore> continuations;  // [n_continuations]; [0] is the target
  int64_t distance = 0;                          // in this model's tokens
  // The target's log-probability is strictly above every distractor's (a tie is a miss).
  bool correct() const;
};

// A model's scores of one instance. The instance is the unit of the statistics: its values are
// means over its queries (one query for every task but recall).
struct InstanceScore {
  std::vector<QueryScore> queries;  // [n_queries], as the instance's queries
  double target_logprob() const;    // mean over queries of the target's log-prob
  double accuracy() const;          // share of queries answered correctly
  double distance() const;          // mean query distance
  double target_tokens() const;     // mean tokens of the targets
};

// Scores every continuation of every query of a prepared instance: one score_queries pass over
// the text, plus one score pass per distractor of two or more tokens.
InstanceScore score_instance(const Model& model, const PreparedInstance& p);

// The same scores the plain way: one Model::score pass per continuation of each query (prefix +
// continuation). The reference score_instance is tested against, and its cost baseline.
InstanceScore score_instance_reference(const Model& model, const PreparedInstance& p);

}  // namespace lossgap::probes
