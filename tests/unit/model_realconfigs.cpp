// Real-config tensor plans: for every released config.json in ../shared/data/configs/*/, the tensor
// plan lossgap builds must name exactly the tensors of the released checkpoint, with their shapes.
// The expected names and shapes are not ours: tests/fixtures/realconfigs/expected.json was made by
// tools/make_realconfig_fixtures.py, which builds each config with transformers 5.17 on the meta
// device and maps its state_dict back to the checkpoint layout with transformers'
// revert_weight_conversion (5.17 fuses MoE experts at load; the files keep one tensor per expert,
// which is what is compared here). Where the folder also has model.safetensors.index.json, its
// weight_map names are the expected names (and must agree with the fixture's). Not a loading test:
// no weights are read. Skips when ../shared is absent.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "model/config.h"
#include "model/registry.h"
#include "model/tensor_plan.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Shape = std::vector<int64_t>;

const fs::path kConfigs = fs::path(LOSSGAP_SHARED_DIR) / "data" / "configs";
const fs::path kFixture = fs::path(LOSSGAP_FIXTURES_DIR) / "realconfigs" / "expected.json";
constexpr const char* kRegenerate =
    "regenerate: python3 tools/make_realconfig_fixtures.py --configs ../shared/data/configs "
    "--out tests/fixtures/realconfigs/expected.json (transformers 5.17)";

const json& fixture() {
  static const json j = [] {
    std::ifstream in(kFixture);
    return json::parse(in);
  }();
  return j;
}

std::string show(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// The fixture's tensors with `.experts.{e}.` expanded to every expert index.
std::map<std::string, Shape> expected_tensors(const json& entry) {
  std::map<std::string, Shape> out;
  const json& n_experts = entry.at("n_experts");
  for (const auto& [name, shape] : entry.at("tensors").items()) {
    const Shape s = shape.get<Shape>();
    if (!n_experts.contains(name)) {
      out[name] = s;
      continue;
    }
    const size_t at = name.find("{e}");
    const int64_t n = n_experts.at(name).get<int64_t>();
    for (int64_t e = 0; e < n; ++e)
      out[name.substr(0, at) + std::to_string(e) + name.substr(at + 3)] = s;
  }
  return out;
}

std::vector<std::string> config_dirs() {
  std::vector<std::string> out;
  if (!fs::exists(kConfigs)) return out;
  for (const auto& d : fs::directory_iterator(kConfigs))
    if (fs::exists(d.path() / "config.json")) out.push_back(d.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class RealConfig : public testing::TestWithParam<std::string> {};

TEST_P(RealConfig, PlanNamesTheCheckpointTensors) {
  const fs::path dir = kConfigs / GetParam();
  ASSERT_TRUE(fixture().at("configs").contains(GetParam()))
      << GetParam() << " has no entry in " << kFixture << "; " << kRegenerate;
  const json& entry = fixture().at("configs").at(GetParam());
  ASSERT_EQ(sha256_file(dir / "config.json"), entry.at("config_sha256").get<std::string>())
      << dir / "config.json" << " changed since the fixture was made; " << kRegenerate;

  std::map<std::string, Shape> want = expected_tensors(entry);
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    // The released index is the authority on names; the fixture gives the shapes.
    std::ifstream in(index);
    const json weight_map = json::parse(in).at("weight_map");
    std::set<std::string> from_index, from_fixture;
    for (const auto& [name, file] : weight_map.items()) from_index.insert(name);
    for (const auto& [name, shape] : want) from_fixture.insert(name);
    // transformers keeps a tied lm_head in its state_dict; the index may not list it.
    if (entry.at("tied_word_embeddings").get<bool>()) from_fixture.erase("lm_head.weight");
    ASSERT_EQ(from_index, from_fixture) << "the index and transformers disagree on the names";
  }

  const ModelConfig cfg = load_config(dir / "config.json");
  const TensorPlan plan = arch_module(cfg).plan(cfg);
  auto planned_shape = [&](const TensorSpec& t) -> Shape {
    if (t.kind != TensorSpec::Kind::Tied) return t.shape;
    const TensorSpec* src = plan.find(t.tied_to);
    return src ? src->shape : Shape{};
  };
  int n_checked = 0, n_ignored = 0;
  for (const auto& [name, shape] : want) {
    const TensorSpec* t = plan.find(name);
    if (!t) {
      EXPECT_TRUE(plan.ignored_because(name).has_value())
          << name << " " << show(shape) << " is in the checkpoint but neither planned nor ignored";
      n_ignored += plan.ignored_because(name).has_value();
      continue;
    }
    EXPECT_EQ(planned_shape(*t), shape) << name << ": planned " << show(planned_shape(*t))
                                        << ", checkpoint " << show(shape);
    ++n_checked;
  }
  for (const TensorSpec& t : plan.specs()) {
    if (t.kind != TensorSpec::Kind::Required) continue;
    EXPECT_TRUE(want.count(t.name)) << t.name << " " << show(t.shape)
                                    << " is required by the plan but not in the checkpoint";
  }
  EXPECT_GT(n_checked, 0);
  RecordProperty("tensors_checked", n_checked);
  RecordProperty("tensors_ignored", n_ignored);
}

INSTANTIATE_TEST_SUITE_P(SharedConfigs, RealConfig, testing::ValuesIn(config_dirs()),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           for (char& c : s) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return s;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RealConfig);

TEST(RealConfigs, SharedFolderPresent) {
  if (!fs::exists(kConfigs)) GTEST_SKIP() << "no " << kConfigs << " (../shared absent)";
  EXPECT_FALSE(config_dirs().empty());
  // Every fixture entry still has its config (a removed folder means a stale fixture).
  for (const auto& [name, entry] : fixture().at("configs").items())
    EXPECT_TRUE(fs::exists(kConfigs / name / "config.json")) << name << "; " << kRegenerate;
  EXPECT_TRUE(fixture().at("errors").empty()) << fixture().at("errors").dump();
}

}  // namespace
}  // namespace lossgap
