// The probe tables of a run store: one probe run per `lossgap probe` invocation (continued by
// `--resume`), its models, every instance with its queries and continuations, every score, and
// the per-cell summary. Each instance is committed with its scores, so an interrupted run loses
// at most the instance in flight. They live in
// the same SQLite file as the corpus runs (store/store.h), created on first use (schema:
// docs/probes.md "Store"). Not the generation or the statistics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probes/evaluate.h"
#include "probes/generate.h"
#include "probes/summary.h"

namespace lossgap::probes {

// What a probe run records about itself: everything that changes a number.
struct ProbeRunHeader {
  std::string tool_version;
  std::string git_commit;
  uint64_t seed = 0;
  int64_t n = 0;                      // instances per cell requested
  std::vector<std::string> tasks;
  std::vector<int64_t> distances;
  int64_t context = 0;                // tokens per window, BOS included (the smallest of the models')
  std::string bos_policy;
  std::string distance_unit;          // "tokens of <first model>"
  uint32_t resamples = 0;
  double level = 0;
};

struct ProbeModelRecord {
  std::string name;
  std::string dir;
  std::string model_type;
  std::string config_sha256;
  std::string tokenizer_sha256;
  std::string weights_sha256;
  std::optional<int64_t> bos_id;
};

class ProbeStore {
 public:
  // Opens (creating when missing) the run store at `path` as store/store.h does, then creates
  // the probe tables if absent. Throws InputError naming the file if it is not a lossgap store.
  static ProbeStore open(const std::filesystem::path& path);
  ~ProbeStore();
  ProbeStore(ProbeStore&&) noexcept;
  ProbeStore& operator=(ProbeStore&&) noexcept;

  // Starts a probe run; returns its id.
  int64_t start_run(const ProbeRunHeader& header, const std::vector<ProbeModelRecord>& models);
  // The latest unfinished probe run, to be continued: it must have been made with the same
  // header (tool version and commit, seed, n, tasks, distances, context, BOS policy, distance
  // unit, resamples, level) and the same models (names, directories, identity hashes, BOS).
  // Throws InputError("--resume", ...) naming the first difference, or when there is none.
  int64_t resume_run(const ProbeRunHeader& header, const std::vector<ProbeModelRecord>& models);

  // Writes one instance, its queries and continuations, and every model's scores of it
  // ([model], aligned with the instance's queries), in one transaction.
  void add_instance(int64_t run_id, const ProbeInstance& inst, const std::vector<InstanceScore>& scores);

  // The instances of a cell stored by an earlier, interrupted invocation, by index: their text
  // and every model's scores.
  struct StoredInstance {
    std::string text;
    std::vector<InstanceScore> scores;  // [n_models]
  };
  std::map<uint64_t, StoredInstance> load_cell(int64_t run_id, Task task, int64_t distance, size_t n_models);

  // Writes (or rewrites, on resume) a cell's summary rows.
  void put_summary(int64_t run_id, const CellSummary& summary);
  // Marks the run complete.
  void finish_run(int64_t run_id);

 private:
  struct Impl;
  explicit ProbeStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lossgap::probes
