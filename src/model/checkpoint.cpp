// Checkpoint opening, strict plan matching and identity hashes (see checkpoint.h).
#include "model/checkpoint.h"

#include <fstream>
#include <set>

#include "core/error.h"
#include "core/hash.h"

namespace lossgap {

Checkpoint::Checkpoint(std::filesystem::path dir, ModelConfig config, SafetensorsSet weights)
    : dir_(std::move(dir)), config_(std::move(config)), weights_(std::move(weights)) {}

Checkpoint Checkpoint::open(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw InputError(dir.string(), "not a directory (expected a Hugging Face checkpoint directory)");
  ModelConfig config = load_config_dir(dir);
  SafetensorsSet weights = SafetensorsSet::open_dir(dir);
  return Checkpoint(dir, std::move(config), std::move(weights));
}

namespace {

std::string view_desc(const TensorView& v) { return v.shape_string() + " " + dtype_name(v.dtype); }

// The Required/Optional spec a Tied spec stands for (an invariant of the plan, not user data).
const TensorSpec& tied_source(const TensorPlan& plan, const TensorSpec& s) {
  const TensorSpec* src = plan.find(s.tied_to);
  LG_CHECK(src != nullptr, "TensorPlan: '" + s.name + "' is tied to unplanned '" + s.tied_to + "'");
  LG_CHECK(src->kind != TensorSpec::Kind::Tied, "TensorPlan: '" + s.name + "' is tied to a tied tensor");
  return *src;
}

}  // namespace

std::vector<PlanProblem> Checkpoint::plan_problems(const TensorPlan& plan) const {
  std::vector<PlanProblem> out;
  auto check_present = [&](const std::string& name, const std::vector<int64_t>& shape, DTypeSet dtypes,
                           const TensorView& v) {
    const std::filesystem::path& file = weights_.file_of(name);
    if (v.shape != shape)
      out.push_back({PlanProblem::Kind::WrongShape, name, file, plan_shape_string(shape), v.shape_string()});
    if (!dtypes.contains(v.dtype))
      out.push_back({PlanProblem::Kind::WrongDType, name, file, dtypes.to_string(), dtype_name(v.dtype)});
  };
  for (const TensorSpec& s : plan.specs()) {
    const TensorView* v = weights_.find(s.name);
    switch (s.kind) {
      case TensorSpec::Kind::Required:
        if (!v) {
          out.push_back({PlanProblem::Kind::Missing, s.name, dir_,
                         plan_shape_string(s.shape) + " " + s.dtypes.to_string(), ""});
          break;
        }
        check_present(s.name, s.shape, s.dtypes, *v);
        break;
      case TensorSpec::Kind::Optional:
        if (v) check_present(s.name, s.shape, s.dtypes, *v);
        break;
      case TensorSpec::Kind::Tied: {
        const TensorSpec& src = tied_source(plan, s);
        if (v) check_present(s.name, src.shape, src.dtypes, *v);
        break;
      }
    }
  }
  for (const std::string& name : weights_.names()) {
    if (plan.find(name) || plan.ignored_because(name)) continue;
    out.push_back({PlanProblem::Kind::Unused, name, weights_.file_of(name), "", view_desc(*weights_.find(name))});
  }
  return out;
}

PlanBinding Checkpoint::check_plan(const TensorPlan& plan) const {
  const std::vector<PlanProblem> problems = plan_problems(plan);
  if (!problems.empty()) {
    std::string what = problems[0].detail();
    const size_t shown = std::min<size_t>(problems.size(), 5);
    for (size_t i = 1; i < shown; ++i) what += "; " + problems[i].message();
    if (problems.size() > 1)
      what += " (" + std::to_string(problems.size()) + " problems in all; `lossgap inspect` lists them)";
    throw InputError(problems[0].file.string(), what);
  }
  PlanBinding b;
  std::set<const void*> counted;
  for (const TensorSpec& s : plan.specs()) {
    const TensorView* v = weights_.find(s.name);
    if (s.kind == TensorSpec::Kind::Tied) {
      const TensorView* src = weights_.find(tied_source(plan, s).name);
      if (v) b.ignored_.emplace_back(s.name, "tied to '" + s.tied_to + "' (transformers ties over the stored copy)");
      if (src) {
        TensorView alias = *src;
        alias.name = s.name;
        b.views_[s.name] = std::move(alias);
      }
      continue;
    }
    if (!v) continue;  // an absent Optional
    b.views_[s.name] = *v;
    if (counted.insert(v->data).second || v->nbytes() == 0) {
      b.n_parameters_ += v->numel();
      b.bytes_by_dtype_[dtype_name(v->dtype)] += static_cast<int64_t>(v->nbytes());
    }
  }
  for (const std::string& name : weights_.names()) {
    if (plan.find(name)) continue;
    if (auto why = plan.ignored_because(name)) b.ignored_.emplace_back(name, *why);
  }
  return b;
}

ModelIdentity Checkpoint::identity() const { return model_identity(dir_); }

namespace {

// SHA-256 of the 8 + N header bytes of a safetensors file (N bounded by the format's limit).
std::string hash_safetensors_header(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the file for reading");
  std::string head(8, '\0');
  if (!in.read(head.data(), 8))
    throw InputError(path.string(), "too short for the 8-byte header length of a safetensors file");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(head[static_cast<size_t>(i)]);
  if (n > 100'000'000) throw InputError(path.string(), "header length " + std::to_string(n) + " exceeds the format's limit");
  std::string header(static_cast<size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n)))
    throw InputError(path.string(), "header length " + std::to_string(n) + " runs past the end of the file");
  Sha256 h;
  h.update(head);
  h.update(header);
  return h.hex_digest();
}

}  // namespace

ModelIdentity model_identity(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  ModelIdentity id;
  id.config = sha256_file(dir / "config.json");
  if (fs::exists(dir / "tokenizer.json", ec)) id.tokenizer = sha256_file(dir / "tokenizer.json");
  if (fs::exists(dir / "model.safetensors", ec))
    id.weights = hash_safetensors_header(dir / "model.safetensors");
  else if (fs::exists(dir / "model.safetensors.index.json", ec))
    id.weights = sha256_file(dir / "model.safetensors.index.json");
  return id;
}

}  // namespace lossgap
