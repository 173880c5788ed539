// Reading a run store into the columnar Records the taggers and statistics use, for a chosen
// set of models (the first is the baseline A). Models whose runs share one token stream (same
// tokenizer, or identical token spans in every document) are paired token by token;
// otherwise every model's tokens are moved onto words of the text and the records are words
// (docs/compare.md "Pairing levels"). Not the analysis itself (analysis.h) and not writing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "store/store.h"
#include "tags/record.h"

namespace lossgap {

enum class PairLevel { Token, Word };
const char* pair_level_name(PairLevel l);  // "token", "word"

struct LoadOptions {
  // Models to compare, by store name, in order; empty = every run of the store in creation order.
  std::vector<std::string> models;
  // The baseline A by name (moved to the front); empty = the first of `models`.
  std::string baseline;
};

struct LoadedRun {
  std::filesystem::path store;
  std::vector<StoredRun> runs;  // [M] baseline first, the order of Records::model
  PairLevel level = PairLevel::Token;
  std::string level_note;       // why this level was chosen, for every output
  // Token level: the baseline's tokens of every document scored by all models.
  // Word level: the words of those documents (tags/words.h split_words); a word's span runs
  // from the end of the previous word (the document start for the first) to its own end
  // (the last word: to the end of the text), so whitespace is charged to the next word;
  // its "token id" interns the word's own bytes; its NLL under a model is the sum of the NLLs
  // of the model's tokens whose first byte lies in that span (NaN if one of them was not scored).
  Records records;
  std::vector<std::string> doc_extra;  // [D] the corpus's other JSON keys (span labels live here)
  uint64_t documents_in_store = 0;     // documents of the store
  uint64_t documents_excluded = 0;     // documents not scored by every selected model
  std::vector<std::string> warnings;   // e.g. models scored with different policies
};

// Reads `store`. Throws InputError naming the store when it is not a run store, holds no run,
// names an unknown model (listing the known ones), has no document scored by every model, or is
// inconsistent (a score at a position past the document's tokens).
LoadedRun load_run(const std::filesystem::path& store, const LoadOptions& opt);

// position[i] for the n tokens of one document scored under `policy` (Records convention: the
// number of document tokens before i in the window that scored it; 0 for tokens that were only
// context). [n]
std::vector<uint32_t> window_positions(size_t n, const ResolvedPolicy& policy);

}  // namespace lossgap
