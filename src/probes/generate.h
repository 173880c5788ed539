// Synthetic probes (issue 7; after Li & Merrill 2026, "Categories"): English texts in which one
// ability alone decides a continuation, at a controlled antecedent distance. The text is built
// first, from the filler and word lists of probe_data.h; only the amount of filler depends on a
// tokenizer (the distance is counted in that tokenizer's tokens). Definitions: docs/probes.md.
// Not the scoring (evaluate.h) and not the statistics (summary.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lossgap::probes {

enum class Task { Pronoun, Entity, ClosureBracket, ClosureHtml, ClosureLatex, Recall, Copy };

// "pronoun", "entity", "closure-bracket", "closure-html", "closure-latex", "recall", "copy".
const char* task_name(Task t);
// Throws InputError(where, ...) listing the task names for anything else.
Task parse_task(std::string_view s, const std::string& where);
// Every task, in the order above.
std::vector<Task> all_tasks();

// A byte range [start, end) of a probe text.
struct ByteSpan {
  uint32_t start = 0;
  uint32_t end = 0;
};

// One probe: a prefix and the continuations a model is asked to choose between. Each
// continuation c is scored as the text prefix + c; continuation 0 is the target (what the
// antecedent decides), the others are its distractors (well formed, same kind, wrong here).
struct ProbeInstance {
  Task task = Task::Pronoun;
  int64_t distance = 0;   // requested distance, in tokens of the measuring tokenizer
  uint64_t index = 0;     // instance number within (task, distance)
  std::string prefix;
  std::vector<std::string> continuations;  // [1 + n_distractors]; [0] is the target
  ByteSpan antecedent;    // the bytes of prefix that decide the target
  ByteSpan filler;        // the bytes of prefix taken from the filler (empty when none)
  int64_t filler_words = 0;
  int64_t measured_distance = 0;  // the distance in the measuring tokenizer's tokens (>= distance
                                  // unless the text without filler is already longer)
};

// Where the scored continuation sits among the tokens of prefix + continuation.
struct SpanTokens {
  size_t first = 0;            // index of the first token of the continuation
  size_t n_tokens = 0;         // tokens covering the continuation (all after `first`)
  size_t antecedent_last = 0;  // index of the token holding the antecedent's last byte
  int64_t distance() const { return static_cast<int64_t>(first) - static_cast<int64_t>(antecedent_last); }
};

// Locates the continuation [prefix_bytes, enc's text end) in an encoding of prefix + continuation
// (without special tokens). nullopt when no token starts exactly at prefix_bytes or one straddles
// it (the tokenizer merges the continuation's first bytes into the prefix): such an instance
// cannot be scored as "the continuation's tokens" and is skipped and counted by the caller.
// Requires offsets in text order (as Tokenizer::encode gives).
std::optional<SpanTokens> locate_span(const Encoding& enc, size_t prefix_bytes, size_t text_bytes,
                                      ByteSpan antecedent);

// Builds probe instances. Deterministic: the same (seed, task, distance, index) and the same
// measuring tokenizer always give the same instance, whatever else is generated.
class Generator {
 public:
  // `measure`: the tokenizer whose tokens count the distance (the baseline model's); it must
  // outlive the generator.
  Generator(const Tokenizer& measure, uint64_t seed);

  // Instance `index` of `task` at `distance` tokens (>= 1): the least filler (in whole words)
  // that puts the target at least `distance` tokens after the antecedent's last token. nullopt
  // when the measuring tokenizer cannot place the target at a token boundary (see locate_span).
  std::optional<ProbeInstance> make(Task task, int64_t distance, uint64_t index) const;

  // The tokens the non-filler text of a task's instances takes at most, beyond the distance:
  // a distance d fits a context of C tokens (BOS included) when d + kProbeOverheadTokens <= C.
  static constexpr int64_t kProbeOverheadTokens = 128;

 private:
  const Tokenizer& tok_;
  uint64_t seed_;
};

// Words of the filler (lowercased letters only) that name a probed pattern: a word of any word
// list (plural "s"/"es" forms included), a gendered pronoun, or a template word of the tasks.
// Returns the offending words found in `text` (empty = clean). The shipped filler is clean
// (tested); the generator checks every instance's filler with it.
std::vector<std::string> probed_words_in(std::string_view text);

// Characters that open or close a structure (brackets, braces, angle brackets, backslash):
// the filler holds none of them. Returns the first such byte offset in text, if any.
std::optional<size_t> structural_char_in(std::string_view text);

}  // namespace lossgap::probes
