// Model::load: open the checkpoint, pick the architecture module through the registry, bind its
// tensor plan strictly, build the decoder on the CPU backend. The model keeps the checkpoint
// (its memory maps hold the weights) for its whole life.
#include "model/model.h"

#include <string>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "model/checkpoint.h"
#include "model/registry.h"

namespace lossgap {
namespace {

class LoadedModel final : public Model {
 public:
  explicit LoadedModel(Checkpoint ckpt)
      : ckpt_(std::move(ckpt)),
        module_(arch_module(ckpt_.config())),
        binding_(ckpt_.check_plan(module_.plan(ckpt_.config()))),
        be_(make_cpu_backend()),
        decoder_(module_.build(ckpt_.config(), binding_, *be_)) {}

  const ModelConfig& config() const override { return ckpt_.config(); }

  ModelInfo info() const override {
    ModelInfo i;
    i.model_type = ckpt_.config().model_type;
    i.layer_kinds = ckpt_.config().layer_types;
    i.n_parameters = binding_.n_parameters();
    i.bytes_by_dtype = binding_.bytes_by_dtype();
    return i;
  }

  std::vector<TokenScore> score(std::span<const int32_t> ids, size_t first_target) const override {
    LG_CHECK(first_target >= 1 && first_target <= ids.size(),
             "score: first_target " + std::to_string(first_target) + " outside [1, " +
                 std::to_string(ids.size()) + "]");
    const int64_t V = ckpt_.config().vocab_size;
    for (size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || ids[t] >= V) {
        throw InputError(ckpt_.config().path.string(),
                         "vocab_size: token id " + std::to_string(ids[t]) + " at window index " +
                             std::to_string(t) + " is outside [0, " + std::to_string(V) +
                             ") (tokenizer and model disagree)");
      }
    }
    return decoder_.score(*be_, ids, first_target);
  }

  std::vector<TokenScore> score_queries(std::span<const int32_t> ids,
                                        std::span<const TokenQuery> queries) const override {
    const int64_t V = ckpt_.config().vocab_size;
    const auto check = [&](int32_t id, const std::string& what) {
      if (id < 0 || id >= V)
        throw InputError(ckpt_.config().path.string(),
                         "vocab_size: token id " + std::to_string(id) + " " + what + " is outside [0, " +
                             std::to_string(V) + ") (tokenizer and model disagree)");
    };
    for (size_t t = 0; t < ids.size(); ++t) check(ids[t], "at window index " + std::to_string(t));
    for (const TokenQuery& q : queries) {
      LG_CHECK(q.position >= 1 && q.position <= ids.size(),
               "score_queries: position " + std::to_string(q.position) + " outside [1, " +
                   std::to_string(ids.size()) + "]");
      check(q.id, "queried at position " + std::to_string(q.position));
    }
    return decoder_.score_queries(*be_, ids, queries);
  }

 private:
  Checkpoint ckpt_;
  const ArchModule& module_;
  PlanBinding binding_;
  std::unique_ptr<Backend> be_;
  Decoder decoder_;
};

}  // namespace

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir) {
  return std::make_unique<LoadedModel>(Checkpoint::open(dir));
}

std::vector<TokenScore> Model::score_queries(std::span<const int32_t> ids,
                                             std::span<const TokenQuery> queries) const {
  std::vector<TokenScore> out;
  out.reserve(queries.size());
  std::vector<int32_t> window;
  for (const TokenQuery& q : queries) {
    LG_CHECK(q.position >= 1 && q.position <= ids.size(), "score_queries: position outside [1, n]");
    window.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(q.position));
    window.push_back(q.id);
    out.push_back(score(window, q.position).at(0));
  }
  return out;
}

void set_num_threads(int n) { cpu_set_num_threads(n); }

}  // namespace lossgap
