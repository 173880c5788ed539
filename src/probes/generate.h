// Synthetic probes (issue 7; after Li & Merrill 2026, "Categories", and Zoology's multi-query
// associative recall): English texts in which one ability alone decides a continuation, at a
// controlled antecedent distance. The text is built first, from the filler and word lists of
// probe_data.h; only the amount of filler depends on a tokenizer (the distance is counted in
// that tokenizer's tokens). Definitions: docs/probes.md.
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

// One scored place of a probe text: the text before `at` is its prefix, and the continuations
// are what a model chooses between there. Continuation 0 is the target (what the antecedent
// decides); the text holds it at `at`. The others are its distractors (well formed, same kind,
// wrong here), each scored as prefix + distractor.
struct ProbeQuery {
  uint32_t at = 0;                         // byte offset of the target in the text
  std::vector<std::string> continuations;  // [1 + n_distractors]; [0] is the target
  ByteSpan antecedent;                     // the bytes of the text that decide the target
  int64_t measured_distance = 0;           // target's first token minus the antecedent's last token,
                                           // in the measuring tokenizer's tokens
};

// One probe: a text with one scored query (several for recall, as in Zoology's MQAR: the queries
// follow one another, each after the previous query's answer). The text ends with the last
// query's target.
struct ProbeInstance {
  Task task = Task::Pronoun;
  int64_t distance = 0;   // requested distance, in tokens of the measuring tokenizer
  uint64_t index = 0;     // instance number within (task, distance)
  std::string text;
  std::vector<ProbeQuery> queries;  // in text order
  ByteSpan filler;        // the bytes of text taken from the filler (empty when none)
  int64_t filler_words = 0;

  // The text before query q's target.
  std::string prefix(size_t q) const { return text.substr(0, queries.at(q).at); }
  // The least measured distance over the queries: >= distance unless the text without filler
  // already puts a query farther.
  int64_t measured_distance() const;
};

// The tokens of a scored span of an encoding, and the token holding its antecedent's last byte.
struct SpanTokens {
  size_t first = 0;            // index of the span's first token
  size_t n_tokens = 0;         // tokens covering the span
  size_t antecedent_last = 0;  // index of the token holding the antecedent's last byte
  int64_t distance() const { return static_cast<int64_t>(first) - static_cast<int64_t>(antecedent_last); }
};

// Locates the byte span `span` in an encoding (without special tokens) of a text: a token must
// start exactly at span.start and one must end exactly at span.end. nullopt when a token straddles
// either end (the tokenizer merges the span's first or last bytes with their neighbours): such
// an instance cannot be scored as "the span's tokens" and is skipped and counted by the caller.
// The antecedent must end before span.start. Requires offsets in text order (Tokenizer::encode).
std::optional<SpanTokens> locate_span(const Encoding& enc, ByteSpan span, ByteSpan antecedent);

// Builds probe instances. Deterministic: the same (seed, task, distance, index) and the same
// measuring tokenizer always give the same instance, whatever else is generated.
class Generator {
 public:
  // `measure`: the tokenizer whose tokens count the distance (the baseline model's); it must
  // outlive the generator.
  Generator(const Tokenizer& measure, uint64_t seed);

  // Instance `index` of `task` at `distance` tokens (>= 1): the least filler (in whole words)
  // that puts every query's target at least `distance` tokens after its antecedent's last token.
  // nullopt when the measuring tokenizer cannot place a target at token boundaries (locate_span).
  std::optional<ProbeInstance> make(Task task, int64_t distance, uint64_t index) const;

  // Recall (MQAR): key-value pairs in the list, and how many of them are queried.
  static constexpr size_t kRecallPairs = 4;
  static constexpr size_t kRecallQueries = 2;

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
