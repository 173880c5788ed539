// TensorPlan building, glob matching and PlanBinding lookups (see tensor_plan.h). The match
// against the files is in checkpoint.cpp.
#include "model/tensor_plan.h"

#include "core/error.h"

namespace lossgap {

std::string DTypeSet::to_string() const {
  std::string s;
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    if (!contains(t)) continue;
    if (!s.empty()) s += '|';
    s += dtype_name(t);
  }
  return s.empty() ? "(none)" : s;
}

std::string plan_shape_string(const std::vector<int64_t>& shape) {
  TensorView v;
  v.shape = shape;
  return v.shape_string();
}

TensorPlan& TensorPlan::require(std::string name, std::vector<int64_t> shape, DTypeSet dtypes) {
  LG_CHECK(!index_.count(name), "TensorPlan: tensor planned twice: " + name);
  index_[name] = specs_.size();
  specs_.push_back({std::move(name), std::move(shape), dtypes, TensorSpec::Kind::Required, ""});
  return *this;
}

TensorPlan& TensorPlan::optional(std::string name, std::vector<int64_t> shape, DTypeSet dtypes) {
  LG_CHECK(!index_.count(name), "TensorPlan: tensor planned twice: " + name);
  index_[name] = specs_.size();
  specs_.push_back({std::move(name), std::move(shape), dtypes, TensorSpec::Kind::Optional, ""});
  return *this;
}

TensorPlan& TensorPlan::tied(std::string name, std::string source) {
  LG_CHECK(!index_.count(name), "TensorPlan: tensor planned twice: " + name);
  LG_CHECK(name != source, "TensorPlan: tensor tied to itself: " + name);
  index_[name] = specs_.size();
  specs_.push_back({std::move(name), {}, DTypeSet::all(), TensorSpec::Kind::Tied, std::move(source)});
  return *this;
}

TensorPlan& TensorPlan::ignore(std::string pattern, std::string why) {
  ignores_.emplace_back(std::move(pattern), std::move(why));
  return *this;
}

const TensorSpec* TensorPlan::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &specs_[it->second];
}

std::optional<std::string> TensorPlan::ignored_because(std::string_view name) const {
  if (find(name)) return std::nullopt;
  for (const auto& [pattern, why] : ignores_)
    if (glob_match(pattern, name)) return why;
  return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative wildcard matching with one backtrack point (linear in practice).
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string PlanProblem::detail() const {
  const std::string t = "tensor '" + tensor + "': ";
  switch (kind) {
    case Kind::Missing: return t + "missing from the checkpoint (expected " + expected + ")";
    case Kind::Unused:
      return t + actual + " is in the file but the architecture does not use it (an unused tensor means "
                          "the config and the weights disagree)";
    case Kind::WrongShape: return t + "wrong shape: expected " + expected + ", got " + actual;
    case Kind::WrongDType: return t + "unsupported dtype: expected " + expected + ", got " + actual;
  }
  fail_check("kind", __FILE__, __LINE__, "PlanProblem: unknown kind");
}

std::string PlanProblem::message() const { return file.string() + ": " + detail(); }

const TensorView& PlanBinding::get(std::string_view name) const {
  auto it = views_.find(name);
  LG_CHECK(it != views_.end(), "PlanBinding::get: tensor not planned or absent: " + std::string(name));
  return it->second;
}

bool PlanBinding::has(std::string_view name) const { return views_.find(name) != views_.end(); }

}  // namespace lossgap
