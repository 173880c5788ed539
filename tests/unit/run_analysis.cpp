// Unit tests of the comparison glue (src/analysis): run store -> Records at token and word level,
// the analysis result against independent recomputations from the values written into the store
// (mean Δ of ALL, counts adding up over partitions, word-level NLL conservation), the --where
// language, and import.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/analysis.h"
#include "analysis/import.h"
#include "analysis/load.h"
#include "analysis/token_tags.h"
#include "core/error.h"
#include "report/csv.h"
#include "report/json.h"
#include "report/summary.h"
#include "store/store.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;

fs::path temp_path(const std::string& stem, const std::string& ext) {
  return fs::temp_directory_path() / ("lossgap_analysis_" + std::to_string(getpid()) + "_" + stem + "_" +
                                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + ext);
}

void remove_store(const fs::path& p) {
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(p.string() + s);
}

ModelRecord model_record(const std::string& name, const std::string& tokenizer) {
  ModelRecord m;
  m.name = name;
  m.dir = "/models/" + name;
  m.model_type = "llama";
  m.config_sha256 = "cfg-" + name;
  m.tokenizer_sha256 = tokenizer;
  m.weights_sha256 = "w-" + name;
  m.dtype = "F32";
  m.device = "cpu";
  m.backend = "cpu";
  m.n_parameters = 10;
  return m;
}

RunHeader run_header(int64_t context) {
  RunHeader h;
  h.tool_version = "test";
  h.git_commit = "test";
  h.policy.context = context;
  h.policy.stride = context - 1;
  h.policy.bos = BosPolicy::Never;
  h.corpus_path = "corpus.jsonl";
  h.corpus_kind = "jsonl";
  h.corpus_sha256 = "sha";
  h.corpus_documents = 3;
  return h;
}

// Documents of whitespace-separated words; tokenizer "words" gives one token per word (" w"
// with its leading space), tokenizer "chars" one token per byte.
const std::vector<std::pair<std::string, std::string>> kDocs = {
    {"the cat sat on the mat and the cat sat on the mat again", "books"},
    {"def f(x):\n    return f(x) + f(x)\n", "python"},
    {"a b c a b c a b c d e f g", "books"},
};

struct Tok {
  std::vector<int32_t> ids;
  std::vector<std::pair<uint32_t, uint32_t>> spans;
};

Tok tokenize(const std::string& text, bool chars) {
  Tok t;
  if (chars) {
    for (uint32_t i = 0; i < text.size(); ++i) {
      t.ids.push_back(static_cast<unsigned char>(text[i]));
      t.spans.emplace_back(i, i + 1);
    }
    return t;
  }
  uint32_t i = 0;
  while (i < text.size()) {
    uint32_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    while (j < text.size() && text[j] != ' ') ++j;
    std::hash<std::string> h;
    t.ids.push_back(static_cast<int32_t>(h(text.substr(i, j - i)) % 100000));
    t.spans.emplace_back(i, j);
    i = j;
  }
  return t;
}

// Writes a store with the given models; returns per model, per document, per token the NLL
// written (NaN for the unscored first token).
std::vector<std::vector<std::vector<double>>> make_store(const fs::path& path,
                                                         const std::vector<std::pair<std::string, bool>>& models,
                                                         uint64_t seed) {
  RunStore store = RunStore::open(path, true);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.05, 6.0);
  std::vector<std::vector<std::vector<double>>> nll;
  for (const auto& [name, chars] : models) {
    const StoredRun run = store.start_run(model_record(name, chars ? "chars" : "words"), run_header(1000), false);
    nll.emplace_back();
    for (size_t d = 0; d < kDocs.size(); ++d) {
      Document doc;
      doc.id = "doc" + std::to_string(d);
      doc.text = kDocs[d].first;
      doc.domain = kDocs[d].second;
      doc.extra = d == 0 ? R"({"spans":[{"start":4,"end":7,"label":"animal"}]})" : "{}";
      doc.origin = "test";
      const Tok t = tokenize(doc.text, chars);
      DocumentScores s;
      s.n_tokens = t.ids.size();
      s.n_windows = 1;
      std::vector<double> v(t.ids.size(), NAN);
      for (size_t i = 1; i < t.ids.size(); ++i) {
        TargetRecord r;
        r.pos = static_cast<uint32_t>(i);
        r.token_id = t.ids[i];
        r.start = t.spans[i].first;
        r.end = t.spans[i].second;
        r.score.logprob = static_cast<float>(-u(rng));
        r.score.entropy = 0.5f + static_cast<float>(i % 7);
        r.score.rank = static_cast<int32_t>(1 + i % 5);
        r.score.top1_id = t.ids[i - 1];
        r.score.top1_logprob = -0.25f;
        v[i] = -static_cast<double>(r.score.logprob);
        s.targets.push_back(r);
      }
      store.add_scored_document(run, doc, t.ids, t.spans, s);
      nll.back().push_back(v);
    }
    store.commit_batch();
    store.finish_run(run);
  }
  return nll;
}

class AnalysisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_path("store", ".sqlite");
    remove_store(path_);
  }
  void TearDown() override { remove_store(path_); }
  fs::path path_;
};

const CategoryRow& find_row(const AnalysisResult& r, const PairResult& p, const std::string& name) {
  for (size_t k = 0; k < r.categories.size(); ++k)
    if (r.categories[k].name == name) return p.categories[k];
  ADD_FAILURE() << "no category " << name;
  return p.categories.front();
}

TEST_F(AnalysisTest, TokenLevelDeltaOfAllIsTheMeanPerTokenDifference) {
  const auto nll = make_store(path_, {{"A", false}, {"B", false}, {"C", false}}, 7);
  LoadedRun run = load_run(path_, {});
  EXPECT_EQ(run.level, PairLevel::Token);
  ASSERT_EQ(run.records.n_models(), 3u);
  EXPECT_EQ(run.records.n_docs(), 3u);
  AnalysisOptions opt;
  opt.bootstrap.resamples = 50;
  const AnalysisResult res = analyse(std::move(run), opt);
  ASSERT_EQ(res.pairs.size(), 2u);
  for (size_t b = 1; b < 3; ++b) {
    double sum = 0;
    uint64_t n = 0;
    for (size_t d = 0; d < kDocs.size(); ++d)
      for (size_t i = 0; i < nll[0][d].size(); ++i)
        if (std::isfinite(nll[0][d][i])) {
          // Stored as float, so recompute from the float values the store holds.
          sum += static_cast<double>(static_cast<float>(nll[0][d][i])) - static_cast<float>(nll[b][d][i]);
          ++n;
        }
    const CategoryRow& all = find_row(res, res.pairs[b - 1], "ALL");
    EXPECT_EQ(all.tokens, n);
    EXPECT_NEAR(all.delta, sum / static_cast<double>(n), 1e-9);
    EXPECT_EQ(res.targets, n);
  }
  // Partitions add up to ALL: copy bins, form classes, domains, positions, frequencies.
  const PairResult& p = res.pairs[0];
  const uint64_t all = find_row(res, p, "ALL").tokens;
  for (const char* group : {"form", "domain", "position", "frequency"}) {
    uint64_t s = 0;
    for (size_t k = 0; k < res.categories.size(); ++k)
      if (res.categories[k].group == group) s += p.categories[k].tokens;
    EXPECT_EQ(s, all) << group;
  }
  uint64_t copy = find_row(res, p, "NO-COPY").tokens;
  for (const char* c : {"COPY-1", "COPY-2-3", "COPY-4-7", "COPY-8-15", "COPY-16-31", "COPY-32+"})
    copy += find_row(res, p, c).tokens;
  EXPECT_EQ(copy, all);
  uint64_t dist = 0;
  for (const CategoryRow& c : p.by_copy_distance) dist += c.tokens;
  EXPECT_EQ(dist + find_row(res, p, "NO-COPY").tokens, all);
  // The span label of document 0 ("cat", bytes 4..7) is a user category.
  EXPECT_EQ(find_row(res, p, "animal").tokens, 1u);
  EXPECT_TRUE(p.regression_error.empty()) << p.regression_error;
  EXPECT_EQ(p.regression.n_obs, all);
  ASSERT_FALSE(res.view.empty());
  EXPECT_EQ(res.view.front().nll.size(), 3u);
}

TEST_F(AnalysisTest, SelectsModelsAndBaseline) {
  make_store(path_, {{"A", false}, {"B", false}, {"C", false}}, 8);
  LoadOptions o;
  o.models = {"A", "C"};
  o.baseline = "C";
  LoadedRun run = load_run(path_, o);
  ASSERT_EQ(run.records.model.size(), 2u);
  EXPECT_EQ(run.records.model[0], "C");
  EXPECT_EQ(run.records.model[1], "A");
  o.models = {"A", "Z"};
  try {
    load_run(path_, o);
    FAIL() << "unknown model accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("\"Z\""), std::string::npos) << e.what();
  }
}

TEST_F(AnalysisTest, DifferentTokenizersArePairedOnWordsConservingNll) {
  const auto nll = make_store(path_, {{"W", false}, {"C", true}}, 9);
  const LoadedRun run = load_run(path_, {});
  ASSERT_EQ(run.level, PairLevel::Word);
  const Records& r = run.records;
  // Words of the texts; per model, the sum over words equals the sum over its tokens (each
  // token charged to exactly one word), NaN where the unscored first token was charged.
  for (size_t m = 0; m < 2; ++m)
    for (size_t d = 0; d < r.n_docs(); ++d) {
      double tok_sum = 0, word_sum = 0;
      for (size_t i = 1; i < nll[m][d].size(); ++i) tok_sum += static_cast<float>(nll[m][d][i]);
      for (size_t w = r.doc_begin[d] + 1; w < r.doc_begin[d + 1]; ++w) word_sum += r.nll[m][w];
      EXPECT_TRUE(std::isnan(r.nll[m][r.doc_begin[d]])) << "first word holds the unscored first token";
      // The first word's other tokens are lost with it: add them back.
      const uint32_t first_end = r.byte_end[r.doc_begin[d]];
      const auto chars_or_words = tokenize(kDocs[d].first, m == 1);
      for (size_t i = 1; i < chars_or_words.ids.size(); ++i)
        if (chars_or_words.spans[i].first < first_end) word_sum += static_cast<float>(nll[m][d][i]);
      EXPECT_NEAR(word_sum, tok_sum, 1e-3) << "model " << m << " document " << d;
    }
  // Word spans tile the text; ids intern the word's bytes.
  for (size_t d = 0; d < r.n_docs(); ++d) {
    EXPECT_EQ(r.byte_begin[r.doc_begin[d]], 0u);
    EXPECT_EQ(r.byte_end[r.doc_begin[d + 1] - 1], r.doc_text(d).size());
    for (size_t w = r.doc_begin[d] + 1; w < r.doc_begin[d + 1]; ++w) EXPECT_EQ(r.byte_begin[w], r.byte_end[w - 1]);
  }
  AnalysisOptions opt;
  opt.bootstrap.resamples = 20;
  const AnalysisResult res = analyse(run, opt);
  EXPECT_EQ(res.level, PairLevel::Word);
  EXPECT_STREQ(res.unit_name(), "word");
}

TEST_F(AnalysisTest, WhereFilterRestrictsTargets) {
  make_store(path_, {{"A", false}, {"B", false}}, 10);
  AnalysisOptions opt;
  opt.bootstrap.resamples = 20;
  const AnalysisResult all = analyse(load_run(path_, {}), opt);
  opt.where = Filter::parse("domain = python");
  const AnalysisResult py = analyse(load_run(path_, {}), opt);
  EXPECT_EQ(py.targets, find_row(all, all.pairs[0], "DOMAIN/python").tokens);
  EXPECT_NEAR(find_row(py, py.pairs[0], "ALL").delta, find_row(all, all.pairs[0], "DOMAIN/python").delta, 1e-12);
  opt.where = Filter::parse("not (domain = python) or copy_len >= 100");
  const AnalysisResult not_py = analyse(load_run(path_, {}), opt);
  EXPECT_EQ(not_py.targets + py.targets, all.targets);
  opt.where = Filter::parse("category = NO-COPY and position > 0");
  const AnalysisResult nc = analyse(load_run(path_, {}), opt);
  EXPECT_EQ(nc.targets, find_row(all, all.pairs[0], "NO-COPY").tokens);
}

TEST(Filter, SyntaxErrorsNameThePlace) {
  for (const char* bad : {"domain", "domain ~ x", "copy_len = abc", "colour = red", "(domain = x", "domain < x",
                          "domain = x and"}) {
    try {
      Filter::parse(bad);
      FAIL() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "--where") << bad;
    }
  }
  EXPECT_TRUE(Filter::parse("  ").empty());
  EXPECT_FALSE(Filter::parse("text = \"a b\" or not form = space").empty());
}

TEST_F(AnalysisTest, ImportedMinimalRecordsPairWithTheOriginal) {
  make_store(path_, {{"A", false}, {"B", false}}, 11);
  // The corpus and B's scores as minimal records {doc, start, end, logprob}.
  const fs::path corpus = temp_path("corpus", ".jsonl"), records = temp_path("records", ".jsonl");
  {
    std::ofstream c(corpus);
    for (size_t d = 0; d < kDocs.size(); ++d) {
      nlohmann::json j{{"id", "doc" + std::to_string(d)}, {"text", kDocs[d].first}, {"domain", kDocs[d].second}};
      if (d == 0) j["spans"] = nlohmann::json::parse(R"([{"start":4,"end":7,"label":"animal"}])");
      c << j.dump() << "\n";
    }
    std::ofstream o(records);
    RunStore store = RunStore::open(path_, false);
    store.for_each_score(std::string("B"), [&](const ScoreRow& r) {
      o << nlohmann::json{{"doc", r.doc}, {"start", r.start}, {"end", r.end}, {"logprob", r.logprob}}.dump() << "\n";
    });
  }
  ImportOptions io;
  io.records = records;
  io.corpus = corpus;
  io.out = path_;
  io.name = "B-imported";
  const ImportSummary s = import_records(io);
  EXPECT_EQ(s.documents, 3);
  EXPECT_EQ(s.fields, (ScoreFields{false, false, false}));
  LoadOptions lo;
  lo.models = {"A", "B-imported"};
  LoadedRun run = load_run(path_, lo);
  // The imported run lacks the unscored first tokens, so its token stream differs: word level.
  EXPECT_EQ(run.level, PairLevel::Word);
  // Entropy, rank and top-1 are not available for it: NULL in the store, and every output says so.
  ASSERT_EQ(run.runs.size(), 2u);
  EXPECT_TRUE(run.runs[0].header.fields.all());
  EXPECT_EQ(run.runs[1].header.fields, (ScoreFields{false, false, false}));
  RunStore store = RunStore::open(path_, false);
  size_t rows = 0;
  store.for_each_score(std::string("B-imported"), [&](const ScoreRow& r) {
    ++rows;
    EXPECT_FALSE(r.entropy || r.rank || r.top1_id || r.top1_logprob);
  });
  EXPECT_GT(rows, 0u);
  AnalysisOptions ao;
  ao.bootstrap.resamples = 20;
  const AnalysisResult res = analyse(std::move(run), ao);
  const nlohmann::json j = nlohmann::json::parse(render_json(res, false));
  EXPECT_EQ(j["models"][0]["score_fields"], (nlohmann::json{{"entropy", true}, {"rank", true}, {"top1", true}}));
  EXPECT_EQ(j["models"][1]["score_fields"], (nlohmann::json{{"entropy", false}, {"rank", false}, {"top1", false}}));
  EXPECT_NE(render_summary(res).find("scores: log-prob; not available: entropy, rank, top-1"), std::string::npos)
      << render_summary(res);
  const std::string models_csv = render_csv(res).at("models.csv");
  EXPECT_NE(models_csv.find("\"log-prob; not available: entropy, rank, top-1\""), std::string::npos) << models_csv;
  // Importing the same name again is refused.
  EXPECT_THROW(import_records(io), InputError);
  fs::remove(corpus);
  fs::remove(records);
}

// export --tags: a model's tag table made with another model's table lending its tags (same
// tokenizer, same policy) has exactly the cells of one computed from scratch; a model with other
// tokens lends nothing.
TEST_F(AnalysisTest, TokenTagTablesShareTagsOfTheSameTokens) {
  make_store(path_, {{"A", false}, {"B", false}, {"C", true}}, 5);
  const PosTagger tagger = PosTagger::load(fs::path(LOSSGAP_SOURCE_DIR) / "models/pos/en_ud.pos");
  const TokenTagTable a(path_, "A", &tagger);
  const TokenTagTable b_alone(path_, "B", &tagger), b_lent(path_, "B", &tagger, &a);
  const TokenTagTable c_alone(path_, "C", &tagger), c_lent(path_, "C", &tagger, &b_lent);
  std::vector<TokenTagTable::Cell> x, y;
  size_t rows = 0;
  RunStore::open(path_, false).for_each_score(std::nullopt, [&](const ScoreRow& r) {
    if (r.model == "A") return;
    const bool is_b = r.model == "B";
    (is_b ? b_alone : c_alone).row(r.doc, r.pos, x);
    (is_b ? b_lent : c_lent).row(r.doc, r.pos, y);
    ASSERT_EQ(x.size(), y.size());
    for (size_t k = 0; k < x.size(); ++k) EXPECT_EQ(x[k].value, y[k].value) << r.model << " " << r.doc << " " << r.pos;
    ++rows;
  });
  EXPECT_GT(rows, 0u);
}

// Optional fields in records: given on some records only (stored where given, NULL elsewhere,
// and the run does not claim them); v1 export markers read as not given; values no real score
// has, or top1_id without top1_logprob, are refused naming the line.
TEST_F(AnalysisTest, ImportOptionalFields) {
  make_store(path_, {{"A", false}}, 11);
  const fs::path corpus = temp_path("corpus", ".jsonl"), records = temp_path("records", ".jsonl");
  {
    std::ofstream c(corpus);
    for (size_t d = 0; d < kDocs.size(); ++d)
      c << nlohmann::json{{"id", "doc" + std::to_string(d)}, {"text", kDocs[d].first}}.dump() << "\n";
  }
  std::vector<nlohmann::json> recs;
  RunStore::open(path_, false).for_each_score(std::string("A"), [&](const ScoreRow& r) {
    recs.push_back({{"doc", r.doc}, {"start", r.start}, {"end", r.end}, {"logprob", r.logprob},
                    {"entropy", *r.entropy}, {"rank", *r.rank}});
    if (recs.size() % 2 == 0) recs.back()["top1_id"] = *r.top1_id, recs.back()["top1_logprob"] = *r.top1_logprob;
  });
  recs[1]["rank"] = 0;  // the schema-1 marker: not given
  auto write = [&](const std::vector<nlohmann::json>& v) {
    std::ofstream o(records);
    for (const auto& x : v) o << x.dump() << "\n";
  };
  write(recs);
  ImportOptions io;
  io.records = records;
  io.corpus = corpus;
  io.out = path_;
  io.name = "partial";
  EXPECT_EQ(import_records(io).fields, (ScoreFields{true, false, false}));
  size_t k = 0;
  RunStore::open(path_, false).for_each_score(std::string("partial"), [&](const ScoreRow& r) {
    EXPECT_TRUE(r.entropy.has_value());
    EXPECT_EQ(r.rank.has_value(), k != 1);
    EXPECT_EQ(r.top1_id.has_value(), k % 2 == 1);
    EXPECT_EQ(r.top1_logprob.has_value(), k % 2 == 1);
    ++k;
  });
  EXPECT_EQ(k, recs.size());
  const std::vector<std::pair<std::string, nlohmann::json>> wrong = {
      {"entropy", {{"entropy", -0.5}}},
      {"rank", {{"rank", 2.5}}},
      {"top1_id", {{"top1_id", -3}, {"top1_logprob", -0.5}}},
      {"top1_logprob", {{"top1_id", 3}, {"top1_logprob", 0.25}}}};
  for (const auto& [key, fields] : wrong) {
    std::vector<nlohmann::json> bad = recs;
    bad[0].update(fields);
    write(bad);
    io.name = "bad-" + key;
    try {
      import_records(io);
      ADD_FAILURE() << fields.dump() << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(records.string() + ":1"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  std::vector<nlohmann::json> half = recs;
  half[0].erase("top1_logprob");
  half[0]["top1_id"] = 4;
  write(half);
  io.name = "half";
  EXPECT_THROW(import_records(io), InputError);
  fs::remove(corpus);
  fs::remove(records);
}

}  // namespace
}  // namespace lossgap
