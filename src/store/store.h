// The run store: one SQLite database holding documents, their tokens per tokenizer, and per
// model the scoring run's header and the per-token scores (schema: docs/store.md). Written per
// batch of documents in transactions (WAL mode), so a crash or Ctrl-C loses at most the batch
// in flight, and a run can be resumed. Not the scoring itself (scoring/) and not analysis.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "corpus/corpus.h"
#include "scoring/scorer.h"

namespace lossgap {

// 2: the optional score columns (entropy, rank, top1_id, top1_logprob) are nullable and
// runs.score_fields says which a run has; a version-1 store is migrated on open (docs/store.md).
inline constexpr int kStoreSchemaVersion = 2;

// The per-token fields besides the log-probability that a run has for every target: all of
// them for `lossgap score`, those every record gave for an import. Stored as runs.score_fields.
struct ScoreFields {
  bool entropy = true;
  bool rank = true;
  bool top1 = true;  // top1_id and top1_logprob
  bool all() const { return entropy && rank && top1; }
  bool operator==(const ScoreFields&) const = default;
};
std::string score_fields_text(const ScoreFields& f);  // "entropy rank top1", "" for none
// For reports: "log-prob, entropy, rank, top-1", or "log-prob; not available: entropy, rank".
std::string score_fields_note(const ScoreFields& f);

// A TokenScore field holding its "not available" value is stored as NULL: an import that lacks
// it for that token. Real scores never hold these values.
struct MissingScore {
  static constexpr float entropy = std::numeric_limits<float>::quiet_NaN();
  static constexpr int32_t rank = 0;
  static constexpr int32_t top1_id = -1;  // then top1_logprob is not stored either
  static constexpr float top1_logprob = std::numeric_limits<float>::quiet_NaN();
};

// A model's identity as the store records it.
struct ModelRecord {
  std::string name;              // unique in a store; what export --model selects
  std::string dir;               // the checkpoint directory, as given
  std::string model_type;
  std::string config_sha256;     // of config.json
  std::string tokenizer_sha256;  // of tokenizer.json (+ tokenizer_config.json): the tokens' key
  std::string weights_sha256;    // of the weights index or safetensors headers
  std::string dtype;             // stored dtypes, e.g. "BF16" or "BF16,F32"
  std::string device;            // "cpu"
  std::string backend;           // "cpu-fp32"
  int64_t n_parameters = 0;
};

// The header of one scoring run: everything that changes a number, and where it came from.
struct RunHeader {
  std::string tool_version;
  std::string git_commit;
  ResolvedPolicy policy;
  std::string corpus_path;
  std::string corpus_kind;
  std::string corpus_sha256;
  int64_t corpus_documents = 0;
  ScoreFields fields;  // the optional fields every target of the run has
};

// The run of one model, as stored.
struct StoredRun {
  int64_t run_id = 0;
  int64_t model_id = 0;
  int64_t tokenizer_id = 0;
  ModelRecord model;
  RunHeader header;
  std::string created, updated, finished;  // ISO 8601 UTC; finished "" while incomplete
  int64_t sessions = 0;                   // score invocations that wrote to it
  int64_t documents_done = 0;
};

// One exported row (export's columns); an optional field is nullopt where the run lacks it.
struct ScoreRow {
  std::string doc;
  std::string model;
  int64_t pos = 0;
  int64_t token_id = 0;
  int64_t start = 0;
  int64_t end = 0;
  double logprob = 0;
  std::optional<double> entropy;
  std::optional<int64_t> rank;
  std::optional<int64_t> top1_id;
  std::optional<double> top1_logprob;
};

class RunStore {
 public:
  // Opens an existing store (create = false) or creates one when missing (create = true);
  // WAL mode. A store of schema version 1 is migrated to the current version first (in one
  // transaction; it needs write access). Throws InputError naming the file if it is not a
  // lossgap store (application_id), was written by a newer schema, cannot be opened, or is of
  // version 1 and cannot be written.
  static RunStore open(const std::filesystem::path& path, bool create);
  ~RunStore();
  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;

  const std::filesystem::path& path() const;

  // The run of the model called `name`, if the store has one.
  std::optional<StoredRun> find_run(const std::string& name);
  std::vector<StoredRun> runs();  // every run, in creation order

  // Starts the run of `model` or, with resume, continues the store's run of that name.
  // Throws InputError naming the store when a run of that name exists and resume is false, or
  // when resuming and the model identity (config, tokenizer, weights hashes, model_type, dtype,
  // device, backend), the policy (context, stride, BOS) or the corpus hash differ: the message
  // names the first field that differs with the stored and the new value.
  StoredRun start_run(const ModelRecord& model, const RunHeader& header, bool resume);

  // Ids of the documents this model has complete scores for.
  std::unordered_set<std::string> completed_documents(int64_t model_id);

  // Throws InputError(doc.origin, ...) if the store already holds a document with this id and
  // a different text (another corpus was scored into this store under the same ids).
  void check_document(const Document& doc);

  // A batch: documents written together, atomically, by commit_batch().
  void add_scored_document(const StoredRun& run, const Document& doc, std::span<const int32_t> ids,
                           std::span<const std::pair<uint32_t, uint32_t>> offsets,
                           const DocumentScores& scores);
  size_t pending_documents() const;
  void commit_batch();   // writes every pending document in one transaction
  void discard_batch();  // drops pending documents (nothing was written)

  // Marks the run complete (records the time).
  void finish_run(const StoredRun& run);

  // Every score row, ordered by model (creation order), document (first-stored order), pos;
  // only `model` if given (InputError naming the store and listing the models if unknown).
  void for_each_score(const std::optional<std::string>& model, const std::function<void(const ScoreRow&)>& f);

 private:
  struct Impl;
  explicit RunStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The current time as ISO 8601 UTC ("2026-11-26T10:00:00Z").
std::string utc_now();

}  // namespace lossgap
