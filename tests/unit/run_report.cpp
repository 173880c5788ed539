// Unit tests of the report writers (src/report: json, summary, csv) on an analysis of a small
// synthetic run store: the JSON validates against the JSON Schema published in
// docs/report-json.md (read from the file, so the document and the code cannot drift apart),
// the terminal summary fits 100 columns and sorts its rows, the CSV tables are rectangular.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "analysis/analysis.h"
#include "report/csv.h"
#include "report/json.h"
#include "report/summary.h"
#include "store/store.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The ```json block of docs/report-json.md.
json published_schema() {
  std::ifstream in(fs::path(LOSSGAP_SOURCE_DIR) / "docs" / "report-json.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t b = doc.find("```json\n");
  const size_t e = doc.find("```", b + 8);
  EXPECT_NE(b, std::string::npos);
  return json::parse(doc.substr(b + 8, e - b - 8));
}

// A JSON Schema subset validator: type (string or list), const, enum, required, properties,
// items, $ref to #/$defs/NAME. Adds one failure message per violation, with its path.
void check(const json& v, const json& s, const json& root, const std::string& path, std::vector<std::string>& errs) {
  if (s.contains("$ref")) {
    const std::string ref = s["$ref"];
    check(v, root["$defs"][ref.substr(std::string("#/$defs/").size())], root, path, errs);
    return;
  }
  if (s.contains("const") && v != s["const"]) errs.push_back(path + ": expected " + s["const"].dump());
  if (s.contains("enum")) {
    bool ok = false;
    for (const json& e : s["enum"]) ok = ok || v == e;
    if (!ok) errs.push_back(path + ": " + v.dump() + " not in " + s["enum"].dump());
  }
  if (s.contains("type")) {
    const json types = s["type"].is_array() ? s["type"] : json::array({s["type"]});
    bool ok = false;
    for (const json& t : types) {
      const std::string n = t;
      ok = ok || (n == "object" && v.is_object()) || (n == "array" && v.is_array()) ||
           (n == "string" && v.is_string()) || (n == "integer" && v.is_number_integer()) ||
           (n == "number" && v.is_number()) || (n == "boolean" && v.is_boolean()) || (n == "null" && v.is_null());
    }
    if (!ok) {
      errs.push_back(path + ": " + v.dump().substr(0, 60) + " is not " + s["type"].dump());
      return;
    }
  }
  if (s.contains("required") && v.is_object())
    for (const json& k : s["required"])
      if (!v.contains(k.get<std::string>())) errs.push_back(path + ": missing " + k.dump());
  if (s.contains("properties") && v.is_object())
    for (const auto& [k, sub] : s["properties"].items())
      if (v.contains(k)) check(v[k], sub, root, path + "." + k, errs);
  if (s.contains("items") && v.is_array())
    for (size_t i = 0; i < v.size(); ++i) check(v[i], s["items"], root, path + "[" + std::to_string(i) + "]", errs);
}

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = fs::temp_directory_path() / ("lossgap_report_" + std::to_string(getpid()) + ".sqlite");
    for (const char* s : {"", "-wal", "-shm"}) fs::remove(path_.string() + s);
    RunStore store = RunStore::open(path_, true);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0.1, 5.0);
    const std::vector<std::string> texts = {"one two three one two three one two three four",
                                            "if (x) { y = [1, 2]; }\nreturn x;\n", "<p>Hello <b>world</b></p>"};
    for (const std::string name : {"transformer-with-a-long-name", "hybrid", "third"}) {
      ModelRecord m;
      m.name = name;
      m.dir = "/m/" + name;
      m.model_type = "llama";
      m.tokenizer_sha256 = "tok";
      m.dtype = "F32";
      RunHeader h;
      h.policy.context = 64;
      h.policy.stride = 63;
      h.policy.bos = BosPolicy::Never;
      h.corpus_sha256 = "c";
      const StoredRun run = store.start_run(m, h, false);
      for (size_t d = 0; d < texts.size(); ++d) {
        Document doc;
        doc.id = "d" + std::to_string(d);
        doc.text = texts[d];
        doc.domain = d == 1 ? "code" : "web";
        doc.extra = "{}";
        std::vector<int32_t> ids;
        std::vector<std::pair<uint32_t, uint32_t>> spans;
        for (uint32_t i = 0; i < doc.text.size(); ++i) {
          ids.push_back(static_cast<unsigned char>(doc.text[i]));
          spans.emplace_back(i, i + 1);
        }
        DocumentScores s;
        s.n_tokens = ids.size();
        s.n_windows = 1;
        for (uint32_t i = 1; i < ids.size(); ++i) {
          TargetRecord t;
          t.pos = i;
          t.token_id = ids[i];
          t.start = i;
          t.end = i + 1;
          t.score.logprob = static_cast<float>(-u(rng));
          s.targets.push_back(t);
        }
        store.add_scored_document(run, doc, ids, spans, s);
      }
      store.commit_batch();
    }
    AnalysisOptions opt;
    opt.bootstrap.resamples = 50;
    opt.regex_tags.push_back({"digits", "[0-9]", RegexTagSpec::Over::Token});
    result_ = new AnalysisResult(analyse(load_run(path_, {}), opt));
  }
  static void TearDownTestSuite() {
    delete result_;
    for (const char* s : {"", "-wal", "-shm"}) fs::remove(path_.string() + s);
  }
  static fs::path path_;
  static AnalysisResult* result_;
};
fs::path ReportTest::path_;
AnalysisResult* ReportTest::result_ = nullptr;

TEST_F(ReportTest, JsonValidatesAgainstThePublishedSchema) {
  const json schema = published_schema();
  for (bool docs : {false, true}) {
    const json j = json::parse(render_json(*result_, docs));
    std::vector<std::string> errs;
    check(j, schema, schema, "$", errs);
    for (const std::string& e : errs) ADD_FAILURE() << e;
    EXPECT_EQ(j["schema_version"], kReportSchemaVersion);
    EXPECT_EQ(j.contains("documents"), docs);
    ASSERT_EQ(j["pairs"].size(), 2u);
    EXPECT_EQ(j["pairs"][1]["b"], "third");
    EXPECT_EQ(j["categories"].size(), j["pairs"][0]["categories"].size());
  }
  // Rows are the statistics of the result, not recomputed: spot-check one.
  const json j = report_json(*result_, false);
  EXPECT_DOUBLE_EQ(j["pairs"][0]["categories"][0]["delta"].get<double>(), result_->pairs[0].categories[0].delta);
}

TEST_F(ReportTest, SummaryFitsOneHundredColumnsAndSortsByDelta) {
  const std::string s = render_summary(*result_);
  std::istringstream in(s);
  std::string line;
  std::vector<double> deltas;
  bool in_table = false;
  while (std::getline(in, line)) {
    size_t cols = 0;
    for (unsigned char c : line) cols += (c & 0xC0) != 0x80;
    EXPECT_LE(cols, 100u) << line;
    if (line.starts_with("  category")) {
      in_table = true;
      deltas.clear();
      continue;
    }
    if (in_table && line.starts_with("  ") && !line.starts_with("  regression") && !line.starts_with("  ALL")) {
      std::istringstream f(line.substr(24));
      std::string tokens, docs, a, b, delta;
      f >> tokens >> docs >> a >> b >> delta;
      deltas.push_back(std::stod(delta));
    } else if (in_table && line.starts_with("  regression")) {
      in_table = false;
      ASSERT_FALSE(deltas.empty());
      EXPECT_TRUE(std::is_sorted(deltas.rbegin(), deltas.rend())) << s;
    }
  }
  EXPECT_NE(s.find("transformer-with-a-long-name"), std::string::npos);
  EXPECT_NE(s.find("level: token"), std::string::npos);
}

TEST_F(ReportTest, CsvTablesAreRectangular) {
  const auto tables = render_csv(*result_);
  for (const char* name : {"models.csv", "losses.csv", "categories.csv", "copy_distance.csv", "position.csv",
                           "regression.csv"}) {
    ASSERT_TRUE(tables.count(name)) << name;
    std::istringstream in(tables.at(name));
    std::string line;
    std::getline(in, line);
    const auto fields = [](const std::string& l) {
      size_t n = 1;
      bool q = false;
      for (char c : l) {
        if (c == '"') q = !q;
        if (c == ',' && !q) ++n;
      }
      return n;
    };
    const size_t n = fields(line);
    size_t rows = 0;
    while (std::getline(in, line)) {
      EXPECT_EQ(fields(line), n) << name << ": " << line;
      ++rows;
    }
    EXPECT_GT(rows, 0u) << name;
  }
  // categories.csv: one row per category per pair.
  const std::string& c = tables.at("categories.csv");
  EXPECT_EQ(static_cast<size_t>(std::count(c.begin(), c.end(), '\n')), 1 + 2 * result_->categories.size());
}

}  // namespace
}  // namespace lossgap
