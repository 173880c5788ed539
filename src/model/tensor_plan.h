// TensorPlan: the tensors an architecture module expects in a checkpoint (name, shape, allowed
// dtypes, optional or tied), and the result of matching a plan against the files. The matching
// itself is Checkpoint::check_plan (checkpoint.h). Not a loader and not a weight container:
// bound tensors are views into the memory-mapped files.
//
// Example (an untied llama-style embedding and head):
//   TensorPlan plan;
//   plan.require("model.embed_tokens.weight", {cfg.vocab_size, cfg.hidden_size});
//   if (cfg.tie_word_embeddings)
//     plan.tied("lm_head.weight", "model.embed_tokens.weight");
//   else
//     plan.require("lm_head.weight", {cfg.vocab_size, cfg.hidden_size});
//   plan.require("model.norm.weight", {cfg.hidden_size});
//   PlanBinding w = ckpt.check_plan(plan);          // throws InputError on any mismatch
//   const TensorView& head = w.get("lm_head.weight"); // the embedding's view when tied
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace lossgap {

// A set of storage dtypes, as a bit mask.
class DTypeSet {
 public:
  constexpr DTypeSet() = default;
  constexpr DTypeSet(std::initializer_list<DType> ts) {
    for (DType t : ts) bits_ |= bit(t);
  }
  static constexpr DTypeSet all() { return {DType::F32, DType::F16, DType::BF16}; }
  constexpr bool contains(DType t) const { return (bits_ & bit(t)) != 0; }
  std::string to_string() const;  // "F32|F16|BF16"

 private:
  static constexpr unsigned bit(DType t) { return 1u << static_cast<unsigned>(t); }
  unsigned bits_ = 0;
};

struct TensorSpec {
  enum class Kind {
    Required,  // must be present with this shape and an allowed dtype
    Optional,  // may be absent; if present, checked like Required
    Tied,      // the model uses `tied_to`'s data; if the name is present in the files it is
               // shape/dtype-checked and then ignored (transformers ties over it)
  };
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order
  DTypeSet dtypes = DTypeSet::all();
  Kind kind = Kind::Required;
  std::string tied_to;  // Kind::Tied only: a Required/Optional tensor of the same plan
};

class TensorPlan {
 public:
  // Each adds one spec; a name may appear once per plan (LG_CHECK). Return *this to chain.
  TensorPlan& require(std::string name, std::vector<int64_t> shape,
                      DTypeSet dtypes = DTypeSet::all());
  TensorPlan& optional(std::string name, std::vector<int64_t> shape,
                       DTypeSet dtypes = DTypeSet::all());
  // `name` is an alias of `source` (declared before or after; same shape required).
  TensorPlan& tied(std::string name, std::string source);
  // Tensors in the files that match `pattern` ('*' matches any run of characters, '.' is
  // literal) are ignored, as transformers ignores them (e.g. "mtp.*", rotary inv_freq
  // buffers); `why` is shown by inspect. Planned names are never ignored.
  TensorPlan& ignore(std::string pattern, std::string why);

  const std::vector<TensorSpec>& specs() const { return specs_; }
  const TensorSpec* find(std::string_view name) const;  // nullptr if not planned
  // The `why` of the first ignore pattern matching `name`, or nullopt.
  std::optional<std::string> ignored_because(std::string_view name) const;

 private:
  std::vector<TensorSpec> specs_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::pair<std::string, std::string>> ignores_;  // (pattern, why)
};

// True if `name` matches `pattern` where '*' matches any (possibly empty) run of characters.
bool glob_match(std::string_view pattern, std::string_view name);

// One mismatch between a plan and the files (what check_plan reports).
struct PlanProblem {
  enum class Kind { Missing, Unused, WrongShape, WrongDType };
  Kind kind;
  std::string tensor;
  std::filesystem::path file;  // the file holding the tensor (the checkpoint dir when Missing)
  std::string expected;        // e.g. "[4096, 11008]" or "F32|BF16"; "" for Unused
  std::string actual;          // e.g. "[4096, 11000]"; for Unused its shape and dtype
  std::string detail() const;   // "tensor '<t>': <what>, expected X, got Y"
  std::string message() const;  // "<file>: " + detail()
};

// "[4096, 11008]" for a planned shape.
std::string plan_shape_string(const std::vector<int64_t>& shape);

// The planned tensors found in the files: name -> view into the mapped data (tied names map to
// their source's view). Valid as long as the Checkpoint that produced it lives.
class PlanBinding {
 public:
  // The view of a planned tensor. Throws InternalError if `name` is not in the plan or is an
  // absent Optional (check has() first for those).
  const TensorView& get(std::string_view name) const;
  bool has(std::string_view name) const;  // present (or tied to a present tensor)

  // Stored elements and bytes of the distinct tensors the model uses (tied counted once).
  int64_t n_parameters() const { return n_parameters_; }
  const std::map<std::string, int64_t>& bytes_by_dtype() const { return bytes_by_dtype_; }
  // Tensors present in the files that the model does not use: (name, reason).
  const std::vector<std::pair<std::string, std::string>>& ignored() const { return ignored_; }

 private:
  friend class Checkpoint;
  std::map<std::string, TensorView, std::less<>> views_;
  int64_t n_parameters_ = 0;
  std::map<std::string, int64_t> bytes_by_dtype_;
  std::vector<std::pair<std::string, std::string>> ignored_;
};

}  // namespace lossgap
