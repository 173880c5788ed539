// Checkpoint: a Hugging Face checkpoint directory opened for reading — config.json parsed
// strictly (config.h) and the safetensors weights memory-mapped (io/safetensors.h) — plus the
// strict match of an architecture's TensorPlan against the files, and the identity hashes the
// run store records. Not an architecture: modules in model/arch/ build the plan.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/tensor_plan.h"

namespace lossgap {

// SHA-256 (hex) identity of a model directory. `weights` hashes model.safetensors.index.json
// when the checkpoint is sharded, else the 8 + N header bytes of model.safetensors (names,
// dtypes, shapes, offsets; not the data: hashing GBs of weights on every run is too slow).
// `tokenizer` is "" when dir has no tokenizer.json.
struct ModelIdentity {
  std::string config;
  std::string tokenizer;
  std::string weights;
};

class Checkpoint {
 public:
  // Reads dir/config.json (load_config) and maps the weights (SafetensorsSet::open_dir).
  // Throws InputError naming the file (and key or tensor) for anything missing or malformed.
  static Checkpoint open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const SafetensorsSet& weights() const { return weights_; }

  // Every mismatch between `plan` and the files: planned tensor missing (a Required one, or a
  // Tied one's source), tensor in the files that is neither planned nor ignored, wrong shape,
  // dtype not allowed by the spec. Empty when the plan fits.
  std::vector<PlanProblem> plan_problems(const TensorPlan& plan) const;

  // Binds `plan` to the files. Throws InputError when plan_problems is not empty: where = the
  // file of the first problem, what = the first problems' messages (tensor, expected, actual)
  // and how many there are in all.
  PlanBinding check_plan(const TensorPlan& plan) const;

  ModelIdentity identity() const;

  Checkpoint(Checkpoint&&) noexcept = default;
  Checkpoint& operator=(Checkpoint&&) noexcept = default;

 private:
  Checkpoint(std::filesystem::path dir, ModelConfig config, SafetensorsSet weights);
  std::filesystem::path dir_;
  ModelConfig config_;
  SafetensorsSet weights_;
};

// The identity of `dir` from its files alone (no config validation); same fields as above,
// `weights` "" when dir has neither model.safetensors nor an index. Throws InputError naming a
// file that cannot be read (config.json included).
ModelIdentity model_identity(const std::filesystem::path& dir);

}  // namespace lossgap
