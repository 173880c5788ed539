// Unit tests of the HTML report (src/report/html*): a small run store written here (documents
// holding markup and "</script>", a model name holding markup), analysed, then rendered. Checks
// the page's structure (charts, tables, viewer data), that its numbers are those of the result
// and of an independent recomputation from the stored log-probs, the escaping of every text
// context, that the embedded viewer data gives back each document's text, the top-1 decoding,
// the viewer caps, word-level pairing, probe curves, and that nothing refers to another URL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "analysis/analysis.h"
#include "analysis/load.h"
#include "core/hash.h"
#include "report/html.h"
#include "report/html_charts.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;

const fs::path kTokenizerDir = fs::path(LOSSGAP_FIXTURES_DIR) / "models" / "llama_gqa_llama3";

fs::path temp_path(const std::string& stem) {
  return fs::temp_directory_path() / ("lossgap_html_" + std::to_string(getpid()) + "_" + stem + "_" +
                                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite");
}

void remove_store(const fs::path& p) {
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(p.string() + s);
}

// The identity the store records for the tokenizer files of `dir` (docs/store.md).
std::string tokenizer_identity(const fs::path& dir) {
  std::string key = sha256_file(dir / "tokenizer.json");
  if (fs::exists(dir / "tokenizer_config.json")) key += "+" + sha256_file(dir / "tokenizer_config.json");
  return sha256_bytes(key);
}

const std::vector<std::pair<std::string, std::string>> kDocs = {
    {"doc<1>&\"", "Markup: <b>bold</b> & </script><script>alert(1)</script> then \"quotes\" 'single' <!-- x -->"},
    {"doc2", "The cat sat on the mat. The cat sat on the mat again, and again the cat sat."},
    {"doc3", "Unicode: na\xC3\xAFve caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80 emoji, then </SCRIPT> in capitals."},
    {"doc4", "def f(x):\n    return f(x) + f(x)  # https://example.org/not-a-link\n"},
};

struct Model {
  std::string name;
  bool chars;  // one token per byte (a second tokenizer, forcing word-level pairing)
};

struct Written {
  // [model][doc][pos] the NLL and top-1 id written (NaN / -1 where not scored).
  std::vector<std::vector<std::vector<double>>> nll;
  std::vector<std::vector<std::vector<int32_t>>> top1;
  std::vector<std::vector<std::vector<std::pair<uint32_t, uint32_t>>>> spans;
};

// A store with the given models over kDocs. Models with chars = false use the fixture
// tokenizer (so their top-1 ids decode); chars = true a byte tokenizer with no files.
Written make_store(const fs::path& path, const std::vector<Model>& models, uint64_t seed) {
  const Tokenizer tok = Tokenizer::from_dir(kTokenizerDir);
  RunStore store = RunStore::open(path, true);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.05, 6.0);
  std::uniform_int_distribution<int32_t> id(0, 200);
  Written w;
  for (const Model& m : models) {
    ModelRecord rec;
    rec.name = m.name;
    rec.dir = m.chars ? "/nonexistent/" + m.name : kTokenizerDir.string();
    rec.model_type = "llama";
    rec.config_sha256 = "cfg";
    rec.tokenizer_sha256 = m.chars ? "bytes" : tokenizer_identity(kTokenizerDir);
    rec.weights_sha256 = "w-" + m.name;
    rec.dtype = "F32";
    rec.device = "cpu";
    rec.backend = "cpu";
    rec.n_parameters = 1234567;
    RunHeader h;
    h.tool_version = "test";
    h.git_commit = "test";
    h.policy.context = 64;
    h.policy.stride = 63;
    h.policy.bos = BosPolicy::Never;
    h.corpus_path = "corpus<x>.jsonl";
    h.corpus_kind = "jsonl";
    h.corpus_sha256 = "0123456789abcdef0123456789abcdef";
    h.corpus_documents = static_cast<int64_t>(kDocs.size());
    const StoredRun run = store.start_run(rec, h, false);
    w.nll.emplace_back();
    w.top1.emplace_back();
    w.spans.emplace_back();
    for (const auto& [doc_id, text] : kDocs) {
      Document doc;
      doc.id = doc_id;
      doc.text = text;
      doc.domain = "web";
      doc.extra = "{}";
      doc.origin = "test";
      Encoding e;
      if (m.chars) {
        for (uint32_t i = 0; i < text.size(); ++i) {
          e.ids.push_back(static_cast<unsigned char>(text[i]));
          e.offsets.emplace_back(i, i + 1);
        }
      } else {
        e = tok.encode(text, false);
      }
      DocumentScores s;
      s.n_tokens = e.ids.size();
      s.n_windows = 1;
      std::vector<double> nll(e.ids.size(), NAN);
      std::vector<int32_t> top1(e.ids.size(), -1);
      for (size_t i = 1; i < e.ids.size(); ++i) {
        TargetRecord r;
        r.pos = static_cast<uint32_t>(i);
        r.token_id = e.ids[i];
        r.start = e.offsets[i].first;
        r.end = e.offsets[i].second;
        r.score.logprob = static_cast<float>(-u(rng));
        r.score.top1_id = id(rng);
        r.score.top1_logprob = static_cast<float>(-u(rng) / 4);
        nll[i] = -static_cast<double>(r.score.logprob);
        top1[i] = r.score.top1_id;
        s.targets.push_back(r);
      }
      store.add_scored_document(run, doc, e.ids, e.offsets, s);
      w.nll.back().push_back(nll);
      w.top1.back().push_back(top1);
      w.spans.back().push_back(e.offsets);
    }
    store.commit_batch();
    store.finish_run(run);
  }
  return w;
}

AnalysisResult analyse_store(const fs::path& path) {
  AnalysisOptions opt;
  opt.bootstrap.resamples = 40;
  return analyse(load_run(path, {}), opt);
}

// The JSON of <script id="lossgap-data">, parsed.
nlohmann::json viewer_json(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"lossgap-data\">";
  const size_t b = page.find(open);
  EXPECT_NE(b, std::string::npos);
  const size_t s = b + open.size();
  const size_t e = page.find("</script>", s);
  EXPECT_NE(e, std::string::npos);
  return nlohmann::json::parse(page.substr(s, e - s));
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class HtmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_regular_file(kTokenizerDir / "tokenizer.json")) GTEST_SKIP() << "fixture tokenizer missing at " << kTokenizerDir;
    path_ = temp_path("store");
    remove_store(path_);
  }
  void TearDown() override { remove_store(path_); }
  fs::path path_;
};

TEST_F(HtmlTest, PageHasHeaderChartsTablesAndViewerWithTheResultsNumbers) {
  const Written w = make_store(path_, {{"base<x-evil>", false}, {"other", false}}, 11);
  const AnalysisResult r = analyse_store(path_);
  ASSERT_EQ(r.level, PairLevel::Token);
  const HtmlOptions opt;
  const HtmlStoreData data = read_html_store_data(path_, r, opt);
  EXPECT_TRUE(data.notes.empty()) << data.notes.front();
  const std::string page = render_html(r, data, opt);

  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  // Charts: filtered losses, Δ by category, copy distance, position (frequency too).
  EXPECT_GE(count(page, "<svg "), 4u);
  EXPECT_NE(page.find("Filtered losses per model"), std::string::npos);
  EXPECT_NE(page.find("Δ by category"), std::string::npos);
  EXPECT_NE(page.find("Δ against copy distance"), std::string::npos);
  EXPECT_NE(page.find("Δ against position"), std::string::npos);
  EXPECT_NE(page.find("id=\"doc-view\""), std::string::npos);
  // The header: policy, corpus, level.
  EXPECT_NE(page.find("<td>64</td><td>63</td><td>never</td>"), std::string::npos);
  EXPECT_NE(page.find("corpus&lt;x&gt;.jsonl"), std::string::npos);
  EXPECT_NE(page.find("<span class=\"level\">token</span>"), std::string::npos);
  EXPECT_NE(page.find("1,234,567"), std::string::npos);

  // Mean Δ of ALL recomputed from the written log-probs (stored as float), as the page prints it.
  double sum = 0;
  uint64_t n = 0;
  for (size_t d = 0; d < kDocs.size(); ++d)
    for (size_t i = 0; i < w.nll[0][d].size(); ++i)
      if (std::isfinite(w.nll[0][d][i])) {
        sum += static_cast<double>(static_cast<float>(w.nll[0][d][i])) - static_cast<float>(w.nll[1][d][i]);
        ++n;
      }
  const std::string all_delta = html::fmt("%+.4f", sum / static_cast<double>(n));
  EXPECT_NE(page.find("<td class=\"cat\">ALL</td><td>" + std::to_string(n) + "</td>"), std::string::npos);
  EXPECT_NE(page.find(">" + all_delta + "</td>"), std::string::npos) << all_delta;
  // Every category row with targets appears in the table with the result's Δ and CI.
  const PairResult& p = r.pairs.at(0);
  for (size_t k = 0; k < r.categories.size(); ++k) {
    const CategoryRow& c = p.categories[k];
    if (c.tokens == 0) continue;
    const std::string row = "<td class=\"cat\">" + html::esc(c.name) + "</td><td>" + std::to_string(c.tokens) + "</td>";
    const size_t at = page.find(row);
    ASSERT_NE(at, std::string::npos) << c.name;
    const std::string tail = page.substr(at, page.find("</tr>", at) - at);
    EXPECT_NE(tail.find(html::fmt("%+.4f", c.delta)), std::string::npos) << c.name;
    if (std::isfinite(c.delta_ci.lo)) {
      EXPECT_NE(tail.find("[" + html::fmt("%+.4f", c.delta_ci.lo) + ", " + html::fmt("%+.4f", c.delta_ci.hi) + "]"),
                std::string::npos)
          << c.name;
    }
  }
  // Filtered losses: each model's mean NLL of ALL in the chart's hover text.
  for (const LossRow& l : r.losses)
    EXPECT_NE(page.find(html::esc(l.model) + ", " + l.filter + ": mean NLL " + html::fmt("%.4f", l.mean_nll)),
              std::string::npos)
        << l.model << " " << l.filter;
}

TEST_F(HtmlTest, EveryTextIsEscapedAndScriptCannotBeClosedByDocumentText) {
  make_store(path_, {{"base<x-evil>", false}, {"other", false}}, 12);
  const AnalysisResult r = analyse_store(path_);
  const HtmlOptions opt;
  const std::string page = render_html(r, read_html_store_data(path_, r, opt), opt);
  // Exactly two script elements (the data and the viewer), closed once each.
  EXPECT_EQ(count(lower(page), "<script"), 2u);
  EXPECT_EQ(count(lower(page), "</script"), 2u);
  EXPECT_EQ(page.find("<!-- x"), std::string::npos);
  EXPECT_EQ(page.find("<x-evil>"), std::string::npos);
  EXPECT_NE(page.find("base&lt;x-evil&gt;"), std::string::npos);
  EXPECT_EQ(page.find("doc<1>"), std::string::npos);

  // The viewer data gives back every document's text exactly (units and gaps in order).
  const nlohmann::json j = viewer_json(page);
  ASSERT_EQ(j["docs"].size(), kDocs.size());
  for (const auto& doc : j["docs"]) {
    std::string text;
    size_t g = 0;
    const auto& t = doc["t"];
    const auto& gap = doc["gap"];
    for (size_t i = 0; i <= t.size(); ++i) {
      while (g < gap.size() && gap[g][0].get<size_t>() == i) text += gap[g++][1].get<std::string>();
      if (i < t.size()) text += t[i].get<std::string>();
    }
    bool found = false;
    for (const auto& [id, body] : kDocs)
      if (doc["id"] == id) {
        found = true;
        EXPECT_EQ(text, body) << id;
      }
    EXPECT_TRUE(found) << doc["id"];
    EXPECT_FALSE(doc["cut"].get<bool>());
  }
  // The model name inside the data is the raw name (JSON-escaped, not HTML-escaped).
  EXPECT_EQ(j["models"][0], "base<x-evil>");
}

TEST_F(HtmlTest, NothingRefersToAnotherUrl) {
  make_store(path_, {{"A", false}, {"B", false}}, 13);
  const AnalysisResult r = analyse_store(path_);
  const HtmlOptions opt;
  const std::string page = render_html(r, read_html_store_data(path_, r, opt), opt);
  // No reference leaves the page: links are fragments, no src, no CSS url() or @import.
  const std::regex external(R"((src|href)\s*=\s*(["'](?!#)|[^"'#\s])|url\s*\(|@import)", std::regex::icase);
  std::smatch m;
  EXPECT_FALSE(std::regex_search(page, m, external)) << m.str();
  EXPECT_NE(page.find("href=\"#viewer\""), std::string::npos);
  EXPECT_NE(page.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"), std::string::npos);
  // No URL outside the viewer data (document 4's text holds one, as data split into tokens).
  const std::string open = "id=\"lossgap-data\">";
  const size_t b = page.find(open), e = page.find("</script>", b);
  ASSERT_NE(b, std::string::npos);
  const std::string outside = page.substr(0, b) + page.substr(e);
  EXPECT_EQ(outside.find("http://"), std::string::npos);
  EXPECT_EQ(outside.find("https://"), std::string::npos);
}

TEST_F(HtmlTest, TopOnePredictionsAreReadAndDecoded) {
  const Written w = make_store(path_, {{"A", false}, {"B", false}}, 14);
  const AnalysisResult r = analyse_store(path_);
  const HtmlOptions opt;
  const HtmlStoreData data = read_html_store_data(path_, r, opt);
  const Tokenizer tok = Tokenizer::from_dir(kTokenizerDir);
  ASSERT_EQ(data.top1.size(), r.view.size());
  for (size_t k = 0; k < r.view.size(); ++k) {
    size_t d = 0;
    while (kDocs[d].first != r.view[k].id) ++d;
    for (size_t m = 0; m < 2; ++m) {
      ASSERT_EQ(data.top1[k][m].id.size(), w.top1[m][d].size());
      for (size_t i = 0; i < w.top1[m][d].size(); ++i) {
        EXPECT_EQ(data.top1[k][m].id[i], w.top1[m][d][i]) << k << " " << m << " " << i;
        if (w.top1[m][d][i] >= 0) {
          const int32_t id = w.top1[m][d][i];
          EXPECT_EQ(data.top1_text[m].at(id), tok.decode(std::span<const int32_t>(&id, 1)));
        }
      }
    }
  }
  // In the page: the vocabulary table and the per-unit ids.
  const nlohmann::json j = viewer_json(render_html(r, data, opt));
  const int32_t id0 = data.top1[0][1].id[1];
  EXPECT_EQ(j["docs"][0]["top1"][1][1], id0);
  EXPECT_EQ(j["vocab"][1][std::to_string(id0)], data.top1_text[1].at(id0));
}

TEST_F(HtmlTest, ViewerCapsAreAppliedAndStated) {
  make_store(path_, {{"A", false}, {"B", false}}, 15);
  const AnalysisResult r = analyse_store(path_);
  ASSERT_GE(r.view.size(), 3u);
  HtmlOptions opt;
  opt.max_documents = 2;
  opt.max_tokens = r.view[0].begin.size() + 5;
  const std::vector<size_t> shown = shown_units(r, opt);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0], r.view[0].begin.size());
  EXPECT_EQ(shown[1], 5u);
  const std::string page = render_html(r, read_html_store_data(path_, r, opt), opt);
  const nlohmann::json j = viewer_json(page);
  ASSERT_EQ(j["docs"].size(), 2u);
  EXPECT_EQ(j["docs"][1]["t"].size(), 5u);
  EXPECT_TRUE(j["docs"][1]["cut"].get<bool>());
  EXPECT_EQ(j["docs"][1]["nll"][0].size(), 5u);
  EXPECT_NE(page.find("Showing 2 of " + std::to_string(r.documents) + " documents"), std::string::npos);
  EXPECT_NE(page.find("at most 2 documents"), std::string::npos);
  // The best spans only point into what is shown.
  for (const char* side : {"a", "b"})
    for (const auto& s : j["spans"][0][side]) {
      const size_t d = s[0].get<size_t>();
      ASSERT_LT(d, 2u);
      EXPECT_LE(s[2].get<size_t>(), shown[d]);
    }
}

TEST_F(HtmlTest, BestSpansHoldTheLargestWindowSums) {
  make_store(path_, {{"A", false}, {"B", false}}, 16);
  const AnalysisResult r = analyse_store(path_);
  const HtmlOptions opt;
  const nlohmann::json j = viewer_json(render_html(r, read_html_store_data(path_, r, opt), opt));
  // Recompute the largest and smallest 8-unit window sums directly from the viewed NLLs.
  double best = -INFINITY, worst = INFINITY;
  for (const ViewDocument& v : r.view) {
    const size_t T = v.begin.size(), w = std::min<size_t>(8, T);
    for (size_t s = 0; s + w <= T; ++s) {
      double sum = 0;
      for (size_t i = s; i < s + w; ++i)
        if (std::isfinite(v.nll[0][i]) && std::isfinite(v.nll[1][i])) sum += static_cast<double>(v.nll[0][i]) - v.nll[1][i];
      best = std::max(best, sum);
      worst = std::min(worst, sum);
    }
  }
  ASSERT_GT(j["spans"][0]["b"].size(), 0u);
  ASSERT_GT(j["spans"][0]["a"].size(), 0u);
  EXPECT_NEAR(j["spans"][0]["b"][0][3].get<double>(), best, 1e-3);
  EXPECT_NEAR(j["spans"][0]["a"][0][3].get<double>(), worst, 1e-3);
}

TEST_F(HtmlTest, WordLevelPairingMapsTopOneToEachWordsFirstToken) {
  const Written w = make_store(path_, {{"A", false}, {"bytes", true}}, 17);
  const AnalysisResult r = analyse_store(path_);
  ASSERT_EQ(r.level, PairLevel::Word);
  const HtmlOptions opt;
  const HtmlStoreData data = read_html_store_data(path_, r, opt);
  // The byte model's tokenizer has no files: said in a note, ids shown.
  ASSERT_EQ(data.notes.size(), 1u);
  EXPECT_NE(data.notes[0].find("bytes"), std::string::npos);
  for (size_t k = 0; k < r.view.size(); ++k) {
    size_t d = 0;
    while (kDocs[d].first != r.view[k].id) ++d;
    const ViewDocument& v = r.view[k];
    for (size_t m = 0; m < 2; ++m)
      for (size_t u = 0; u < v.begin.size(); ++u) {
        // The first of the model's tokens that starts inside the word.
        int32_t expect = -1;
        for (size_t i = 0; i < w.spans[m][d].size(); ++i)
          if (w.spans[m][d][i].first >= v.begin[u] && w.spans[m][d][i].first < v.end[u]) {
            expect = w.top1[m][d][i];
            break;
          }
        EXPECT_EQ(data.top1[k][m].id[u], expect) << v.id << " model " << m << " word " << u;
      }
  }
  const std::string page = render_html(r, data, opt);
  EXPECT_NE(page.find("<span class=\"level\">word</span>"), std::string::npos);
  EXPECT_NE(page.find("nats per word"), std::string::npos);
}

TEST_F(HtmlTest, ProbeCurvesAreDrawnFromTheProbeSummary) {
  make_store(path_, {{"A", false}, {"B", false}}, 18);
  {
    // The probe tables as docs/store.md "Probe tables" describes them (the columns read here).
    sql::Db db(path_, false);
    db.exec("CREATE TABLE probe_runs (probe_run_id INTEGER PRIMARY KEY, distance_unit TEXT NOT NULL);"
            "CREATE TABLE probe_models (probe_run_id INTEGER, model_index INTEGER, name TEXT);"
            "CREATE TABLE probe_summary (probe_run_id INTEGER, task TEXT, distance INTEGER, model_index INTEGER,"
            " n INTEGER, n_continuations INTEGER, accuracy REAL, accuracy_lo REAL, accuracy_hi REAL,"
            " logprob REAL, logprob_lo REAL, logprob_hi REAL);"
            "INSERT INTO probe_runs VALUES (1, 'tokens of A');"
            "INSERT INTO probe_models VALUES (1, 0, 'A'), (1, 1, 'B');"
            "INSERT INTO probe_summary VALUES"
            " (1, 'pronoun', 8, 0, 50, 4, 0.62, 0.5, 0.74, -1.5, -1.7, -1.3),"
            " (1, 'pronoun', 8, 1, 50, 4, 0.70, 0.58, 0.82, -1.2, -1.4, -1.0),"
            " (1, 'pronoun', 64, 0, 50, 4, 0.44, 0.3, 0.58, -2.5, -2.8, -2.2),"
            " (1, 'pronoun', 64, 1, 50, 4, 0.52, NULL, NULL, -2.0, NULL, NULL);");
  }
  const AnalysisResult r = analyse_store(path_);
  const HtmlOptions opt;
  const HtmlStoreData data = read_html_store_data(path_, r, opt);
  ASSERT_EQ(data.probes.rows.size(), 4u);
  EXPECT_EQ(data.probes.models, (std::vector<std::string>{"A", "B"}));
  EXPECT_DOUBLE_EQ(data.probes.rows[3].accuracy, 0.52);
  EXPECT_TRUE(std::isnan(data.probes.rows[3].accuracy_lo));
  EXPECT_DOUBLE_EQ(data.probes.rows[0].chance, 0.25);
  const std::string page = render_html(r, data, opt);
  EXPECT_NE(page.find("pronoun: accuracy"), std::string::npos);
  EXPECT_NE(page.find("pronoun: mean target log-probability"), std::string::npos);
  EXPECT_NE(page.find("B, pronoun, distance 8: accuracy 0.700 (95% CI [0.580, 0.820])"), std::string::npos);
  EXPECT_NE(page.find("distance (tokens of A)"), std::string::npos);

  // The probe-only page of `lossgap probe --report`: same curves, the summary table, the note.
  const ProbeCurves probes = read_probe_curves(path_);
  EXPECT_EQ(probes.rows.size(), data.probes.rows.size());
  const std::string probe_page = render_probe_html(probes, path_.string(), "a note for the reader");
  EXPECT_NE(probe_page.find("<title>lossgap probes: A vs B</title>"), std::string::npos);
  EXPECT_NE(probe_page.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(probe_page.find("B, pronoun, distance 8: accuracy 0.700 (95% CI [0.580, 0.820])"), std::string::npos);
  EXPECT_NE(probe_page.find("<td class=\"num\">0.700 [0.580, 0.820]</td>"), std::string::npos);
  EXPECT_NE(probe_page.find("<td class=\"num\">0.520 [–]</td>"), std::string::npos);  // NULL bounds
  EXPECT_NE(probe_page.find("a note for the reader"), std::string::npos);
  EXPECT_EQ(probe_page.find("http://"), std::string::npos);
  EXPECT_EQ(probe_page.find("https://"), std::string::npos);
  EXPECT_EQ(probe_page.find("Document viewer"), std::string::npos);

  // Without probe tables: no probe section, and no probe page.
  remove_store(path_);
  make_store(path_, {{"A", false}, {"B", false}}, 18);
  const AnalysisResult r2 = analyse_store(path_);
  const std::string page2 = render_html(r2, read_html_store_data(path_, r2, opt), opt);
  EXPECT_EQ(page2.find("<h3>Probes</h3>"), std::string::npos);
  EXPECT_THROW(write_probe_html_report(read_probe_curves(path_), path_.string(), "", path_.string() + ".html"),
               InputError);
}

}  // namespace
}  // namespace lossgap
