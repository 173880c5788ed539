// The architecture modules' tensor plans for the config.json files of real released checkpoints
// in ../shared/data/configs (llama, qwen3, olmo2, olmo3): each plan builds, and where the
// checkpoint's model.safetensors.index.json is there, the planned tensor names are exactly the
// index's names and the planned element count matches the index's total_size (2 or 4 bytes per
// element). Skipped when the shared data folder is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "model/registry.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;

fs::path configs_dir() { return fs::path(LOSSGAP_SHARED_DIR) / "data" / "configs"; }

TEST(RealConfigPlans, PlansMatchReleasedCheckpoints) {
  if (!fs::is_directory(configs_dir())) GTEST_SKIP() << configs_dir() << " is absent";
  const std::vector<std::string> families = {"llama", "qwen3", "olmo2", "olmo3"};
  int planned = 0, checked_against_index = 0;
  for (const auto& entry : fs::directory_iterator(configs_dir())) {
    const fs::path cfg_path = entry.path() / "config.json";
    if (!fs::exists(cfg_path)) continue;
    std::ifstream in(cfg_path);
    // Some configs of other families are not strict JSON (e.g. Infinity): not ours to read.
    const nlohmann::json raw = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!raw.is_object()) continue;
    const std::string type = raw.value("model_type", "");
    if (std::find(families.begin(), families.end(), type) == families.end()) continue;
    const ModelConfig cfg = load_config(cfg_path);
    const TensorPlan plan = arch_module(cfg).plan(cfg);
    ++planned;
    std::set<std::string> names;
    int64_t numel = 0;
    for (const TensorSpec& s : plan.specs()) {
      if (s.kind == TensorSpec::Kind::Tied) continue;
      names.insert(s.name);
      int64_t n = 1;
      for (int64_t d : s.shape) n *= d;
      numel += n;
    }
    const fs::path index_path = entry.path() / "model.safetensors.index.json";
    if (!fs::exists(index_path)) continue;
    std::ifstream idx(index_path);
    const nlohmann::json index = nlohmann::json::parse(idx);
    std::set<std::string> in_files;
    for (const auto& [name, file] : index.at("weight_map").items()) in_files.insert(name);
    EXPECT_EQ(names, in_files) << entry.path().filename();
    const int64_t total = index.at("metadata").at("total_size").get<int64_t>();
    EXPECT_TRUE(total == 2 * numel || total == 4 * numel)
        << entry.path().filename() << ": total_size " << total << " for " << numel << " elements";
    ++checked_against_index;
  }
  EXPECT_GT(planned, 0) << "no llama/qwen3/olmo2/olmo3 config under " << configs_dir();
  RecordProperty("planned", planned);
  RecordProperty("checked_against_index", checked_against_index);
}

}  // namespace
}  // namespace lossgap
