// Importing per-token log-probabilities computed elsewhere (vLLM prompt_logprobs, transformers,
// another lossgap store via `lossgap export`) into a run store as one model's run, so it can be
// compared like a scored model. Formats and rules: docs/compare.md "Import". Not scoring.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "store/store.h"

namespace lossgap {

struct ImportOptions {
  std::filesystem::path records;  // JSONL, one token a line
  std::filesystem::path corpus;   // the documents' texts (as `lossgap score --input`)
  std::filesystem::path out;      // run store, created when missing
  std::string name;               // the model's name in the store (must be new)
  std::string model;              // only rows whose "model" is this (export files with several)
  // Re-tokenizes each text with this checkpoint's tokenizer: the imported run then holds every
  // token (also those the records do not score) and shares its tokens with models scored by
  // `lossgap score` from the same tokenizer. Records must match its tokens.
  std::filesystem::path tokenizer_dir;
  int64_t context = 0;             // the window the engine used; 0 = each document in one window
  int64_t stride = 0;              // 0 = context - 1
  std::optional<int32_t> bos_id;   // the BOS the engine put before every window, if any
};

struct ImportSummary {
  int64_t documents = 0;  // documents imported (those with at least one record)
  int64_t tokens = 0;     // tokens stored
  int64_t targets = 0;    // scored tokens (records)
  int64_t context = 0, stride = 0;
  std::string tokenizer_key;
  ScoreFields fields;  // the optional fields every record gave (the others are stored as NULL)
};

// Reads, checks and writes. Throws InputError naming the records file and line for a malformed
// record (missing or mistyped field, logprob > 0 or not finite, span outside the text, a record
// that does not match the tokenizer's token, two records for one token), a document id not in
// the corpus, several models in the file without `model`, or a name already in the store.
ImportSummary import_records(const ImportOptions& opt);

}  // namespace lossgap
