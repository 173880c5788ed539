// Tests of the probe generators (determinism, validity: the antecedent decides the target,
// distractors are well formed, the filler holds no probed word), of span location, of the
// statistics and of the probe tables. The expected targets are re-derived here by parsing the
// generated text, independently of the generator's own bookkeeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <iterator>

#include <unistd.h>

#include "core/error.h"
#include "model/model.h"
#include "probes/evaluate.h"
#include "probes/generate.h"
#include "probes/probe_data.h"
#include "probes/probe_store.h"
#include "probes/summary.h"
#include "store/sqlite.h"

namespace lossgap::probes {
namespace {

namespace fs = std::filesystem;

const fs::path kDemoTokenizer = fs::path(LOSSGAP_SOURCE_DIR) / "models" / "demo" / "olmo3-small";
// A tiny random model with its own tokenizer (a different vocabulary from the demo's).
const fs::path kFixtureModel = fs::path(LOSSGAP_FIXTURES_DIR) / "models" / "olmo3_linear_layer_types";

const Tokenizer& demo_tokenizer() {
  static const Tokenizer t = Tokenizer::from_dir(kDemoTokenizer);
  return t;
}

std::vector<std::string> file_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
  }
  return out;
}

std::string filler_of(const ProbeInstance& p) { return p.text.substr(p.filler.start, p.filler.end - p.filler.start); }
std::string antecedent_of(const ProbeInstance& p, size_t q) {
  const ByteSpan a = p.queries.at(q).antecedent;
  return p.text.substr(a.start, a.end - a.start);
}

// The target of query q that the antecedent decides, derived from the instance's text alone.
std::string derive_target(const ProbeInstance& p, size_t q) {
  std::smatch m;
  const std::string text = p.prefix(q);
  switch (p.task) {
    case Task::Pronoun: {
      const std::regex intro(R"(([A-Z][a-z]+) is an? ([a-z]+), and (she|he) lives in the village)");
      std::map<std::string, std::string> role_pronoun;
      for (auto it = std::sregex_iterator(text.begin(), text.end(), intro); it != std::sregex_iterator(); ++it) {
        role_pronoun[(*it)[2]] = (*it)[3];
      }
      EXPECT_EQ(role_pronoun.size(), 2u) << text;
      EXPECT_TRUE(std::regex_search(text, m, std::regex(R"(One morning the ([a-z]+) said that$)")));
      return " " + role_pronoun.at(m[1]);
    }
    case Task::Entity: {
      std::map<std::string, std::string> box_object;
      const std::regex put(R"(the ([a-z]+) is in the ([a-z]+) box)", std::regex::icase);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), put); it != std::sregex_iterator(); ++it) {
        std::string obj = (*it)[1];
        box_object[(*it)[2]] = obj;
      }
      EXPECT_EQ(box_object.size(), 3u) << text;
      EXPECT_TRUE(std::regex_search(text, m, std::regex(R"(Then the ([a-z]+) and the ([a-z]+) swap boxes\.)")));
      const std::string a = m[1], b = m[2];
      for (auto& [box, obj] : box_object) {
        if (obj == a) {
          obj = b;
        } else if (obj == b) {
          obj = a;
        }
      }
      EXPECT_TRUE(std::regex_search(text, m, std::regex(R"(Now the ([a-z]+) box holds the$)")));
      return " " + box_object.at(m[1]);
    }
    case Task::ClosureBracket: {
      const std::string open = antecedent_of(p, q);
      return open == "(" ? ")" : open == "[" ? "]" : "}";
    }
    case Task::ClosureHtml: {
      const std::string a = antecedent_of(p, q);
      EXPECT_TRUE(std::regex_match(a, m, std::regex(R"(<([a-z]+)>)")));
      return "</" + m[1].str() + ">";
    }
    case Task::ClosureLatex: {
      const std::string a = antecedent_of(p, q);
      EXPECT_TRUE(std::regex_match(a, m, std::regex(R"(\\begin\{([a-z]+)\})")));
      return "\\end{" + m[1].str() + "}";
    }
    case Task::Recall: {
      std::map<std::string, std::string> pairs;
      const std::regex pair(R"(the ([a-z]+) goes with the ([a-z]+)[,.])");
      const std::string head = text.substr(0, text.find('.') + 1);
      for (auto it = std::sregex_iterator(head.begin(), head.end(), pair); it != std::sregex_iterator(); ++it) {
        pairs[(*it)[1]] = (*it)[2];
      }
      EXPECT_EQ(pairs.size(), Generator::kRecallPairs) << head;
      // The query: "So the KEY goes with the" (first), ", the KEY ..." or ", and the KEY ..." (later),
      // each after the previous query's value.
      EXPECT_TRUE(std::regex_search(text, m, std::regex(R"((So|,|, and) the ([a-z]+) goes with the$)")));
      EXPECT_EQ(m[1].str() == "So", q == 0);
      // The antecedent is the queried pair itself.
      EXPECT_EQ(antecedent_of(p, q), "the " + m[2].str() + " goes with the " + pairs.at(m[2]));
      return " " + pairs.at(m[2]);
    }
    case Task::Copy: {
      std::istringstream in(antecedent_of(p, q));
      std::vector<std::string> words{std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
      EXPECT_TRUE(std::regex_search(text, m, std::regex(R"(Read the words once more: ([a-z]+) ([a-z]+)$)")));
      EXPECT_EQ(m[1].str(), words.at(0));
      EXPECT_EQ(m[2].str(), words.at(1));
      std::string rest;
      for (size_t i = 2; i < words.size(); ++i) rest += " " + words[i];
      return rest;
    }
  }
  return "";
}

// The continuation is of the task's kind (so a distractor is a well-formed alternative).
bool well_formed(Task t, const std::string& c) {
  switch (t) {
    case Task::Pronoun: return c == " she" || c == " he";
    case Task::Entity:
    case Task::Recall: return std::regex_match(c, std::regex(" [a-z]+"));
    case Task::ClosureBracket: return c == ")" || c == "]" || c == "}";
    case Task::ClosureHtml: return std::regex_match(c, std::regex("</[a-z]+>"));
    case Task::ClosureLatex: return std::regex_match(c, std::regex(R"(\\end\{[a-z]+\})"));
    case Task::Copy: return std::regex_match(c, std::regex("( [a-z]+){8}"));
  }
  return false;
}

bool same(const ProbeInstance& a, const ProbeInstance& b) {
  if (a.text != b.text || a.filler_words != b.filler_words || a.queries.size() != b.queries.size()) return false;
  for (size_t q = 0; q < a.queries.size(); ++q) {
    const ProbeQuery &x = a.queries[q], &y = b.queries[q];
    if (x.at != y.at || x.continuations != y.continuations || x.antecedent.start != y.antecedent.start ||
        x.antecedent.end != y.antecedent.end || x.measured_distance != y.measured_distance)
      return false;
  }
  return true;
}

TEST(ProbeData, EmbeddedDataMatchesTheTextFiles) {
  const fs::path dir = fs::path(LOSSGAP_SOURCE_DIR) / "data" / "probes";
  std::set<std::string> on_disk;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") on_disk.insert(e.path().filename().string());
  }
  std::set<std::string> embedded;
  for (const EmbeddedFile& f : embedded_files()) {
    embedded.insert(f.name);
    EXPECT_EQ(embedded_lines(f.name), file_lines(dir / f.name))
        << f.name << " differs from src/probes/probe_data.cpp: run python3 data/probes/embed.py";
  }
  EXPECT_EQ(embedded, on_disk) << "run python3 data/probes/embed.py";
}

TEST(ProbeData, FillerHoldsNoProbedPattern) {
  for (const std::string& s : embedded_lines("filler.txt")) {
    EXPECT_EQ(probed_words_in(s), std::vector<std::string>{}) << s;
    EXPECT_FALSE(structural_char_in(s).has_value()) << s;
    EXPECT_EQ(s.find_first_of("0123456789"), std::string::npos) << s;
  }
}

TEST(ProbeData, DetectorsFindWhatTheyLookFor) {
  // Every list word, its plural, the pronouns and every structural character are caught.
  for (const char* list : {"roles.txt", "objects.txt", "animals.txt", "html_tags.txt", "latex_envs.txt",
                           "names_female.txt", "names_male.txt", "box_colors.txt"}) {
    for (const std::string& w : embedded_lines(list)) {
      EXPECT_FALSE(probed_words_in("a " + w + " b").empty()) << w;
      EXPECT_FALSE(probed_words_in("many " + w + "s here").empty()) << w;
    }
  }
  for (const char* w : {"she", "He", "her", "his", "him"}) EXPECT_FALSE(probed_words_in(w).empty()) << w;
  for (char c : std::string("()[]{}<>\\")) EXPECT_TRUE(structural_char_in(std::string("ab ") + c).has_value()) << c;
}

TEST(ProbeSpan, LocatesTokenBoundariesAndRefusesStraddles) {
  Encoding e;
  e.ids = {1, 2, 3, 4};
  e.offsets = {{0, 3}, {3, 6}, {6, 9}, {9, 12}};
  const std::optional<SpanTokens> s = locate_span(e, ByteSpan{6, 12}, ByteSpan{0, 4});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, 2u);
  EXPECT_EQ(s->n_tokens, 2u);
  EXPECT_EQ(s->antecedent_last, 1u);  // byte 3 (the antecedent's last) is in token 1
  EXPECT_EQ(s->distance(), 1);
  const std::optional<SpanTokens> mid = locate_span(e, ByteSpan{6, 9}, ByteSpan{0, 1});  // a span inside the text
  ASSERT_TRUE(mid.has_value());
  EXPECT_EQ(mid->first, 2u);
  EXPECT_EQ(mid->n_tokens, 1u);
  EXPECT_FALSE(locate_span(e, ByteSpan{5, 12}, ByteSpan{0, 1}).has_value());  // token 1 straddles byte 5
  EXPECT_FALSE(locate_span(e, ByteSpan{6, 10}, ByteSpan{0, 1}).has_value());  // token 3 straddles byte 10
  EXPECT_FALSE(locate_span(e, ByteSpan{6, 13}, ByteSpan{0, 1}).has_value());  // beyond the tokens
}

class ProbeTasks : public ::testing::TestWithParam<Task> {};

TEST_P(ProbeTasks, GenerationIsDeterministicAndOrderFree) {
  const Task t = GetParam();
  const Generator g1(demo_tokenizer(), 7), g2(demo_tokenizer(), 7), g3(demo_tokenizer(), 8);
  std::optional<ProbeInstance> late;
  for (uint64_t i = 0; i < 6; ++i) {
    const auto a = g1.make(t, 64, i);
    if (i == 5) late = a;
  }
  const auto first = g2.make(t, 64, 5);  // the same instance made first, by another generator
  ASSERT_TRUE(late && first);
  EXPECT_TRUE(same(*late, *first));
  const auto other_seed = g3.make(t, 64, 5);
  const auto other_index = g1.make(t, 64, 6);
  ASSERT_TRUE(other_seed && other_index);
  EXPECT_FALSE(same(*late, *other_seed));
  EXPECT_FALSE(same(*late, *other_index));
}

TEST_P(ProbeTasks, InstancesAreValid) {
  const Task t = GetParam();
  const Generator g(demo_tokenizer(), 3);
  std::map<std::string, int> targets;
  for (int64_t d : {32, 100, 256}) {
    for (uint64_t i = 0; i < 40; ++i) {
      const std::optional<ProbeInstance> p = g.make(t, d, i);
      ASSERT_TRUE(p.has_value()) << task_name(t) << " " << d << " " << i;
      SCOPED_TRACE(p->text);
      EXPECT_EQ(p->queries.size(), t == Task::Recall ? Generator::kRecallQueries : 1u);
      const std::string filler = filler_of(*p);
      std::set<std::string> filler_words;
      std::istringstream fin(filler);
      for (std::string w; fin >> w;) filler_words.insert(w);
      const Encoding enc = demo_tokenizer().encode(p->text, false);
      int64_t least = INT64_MAX;
      for (size_t q = 0; q < p->queries.size(); ++q) {
        const ProbeQuery& pq = p->queries[q];
        // The text holds the target at `at`; it is the last thing in the text for the last query.
        const std::string& target = pq.continuations.at(0);
        EXPECT_EQ(p->text.substr(pq.at, target.size()), target);
        if (q + 1 == p->queries.size()) {
          EXPECT_EQ(pq.at + target.size(), p->text.size());
        }
        // The antecedent decides the target; it lies before the filler.
        EXPECT_EQ(target, derive_target(*p, q));
        EXPECT_LE(pq.antecedent.end, p->filler.start);
        ++targets[target];
        // Distractors: well formed, distinct from the target and from each other.
        const std::set<std::string> distinct(pq.continuations.begin(), pq.continuations.end());
        EXPECT_EQ(distinct.size(), pq.continuations.size());
        EXPECT_EQ(pq.continuations.size(), t == Task::Recall ? Generator::kRecallPairs : t == Task::Pronoun ? 2u : 3u);
        for (const std::string& c : pq.continuations) EXPECT_TRUE(well_formed(t, c)) << "[" << c << "]";
        // The filler holds no word of any continuation.
        for (const std::string& c : pq.continuations) {
          std::istringstream cin(c);
          for (std::string w; cin >> w;) EXPECT_EQ(filler_words.count(w), 0u) << w;
        }
        // The distance, re-measured on the whole text: at least the request.
        const std::optional<SpanTokens> s =
            locate_span(enc, ByteSpan{pq.at, static_cast<uint32_t>(pq.at + target.size())}, pq.antecedent);
        ASSERT_TRUE(s.has_value());
        EXPECT_EQ(s->distance(), pq.measured_distance);
        EXPECT_GE(pq.measured_distance, d);
        least = std::min(least, pq.measured_distance);
      }
      // The least filler that reaches the distance: the nearest query is at most a few tokens
      // over, unless the text without filler is already farther (recall's list and queries can
      // be longer than 32 tokens).
      EXPECT_EQ(p->measured_distance(), least);
      if (p->filler_words > 0) {
        EXPECT_LE(least, d + 4);
      } else {
        EXPECT_TRUE(t == Task::Recall && d == 32) << "no filler at distance " << d;
      }
      // The filler holds no probed word and no structure.
      EXPECT_EQ(probed_words_in(filler), std::vector<std::string>{});
      EXPECT_FALSE(structural_char_in(filler).has_value());
    }
  }
  // The target is not always the same (the antecedent, not a prior, decides it).
  EXPECT_GE(targets.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(AllTasks, ProbeTasks, ::testing::ValuesIn(all_tasks()),
                         [](const auto& info) {
                           std::string n = task_name(info.param);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(ProbeTasksNames, ParseRoundTripsAndRefusesUnknown) {
  for (Task t : all_tasks()) EXPECT_EQ(parse_task(task_name(t), "--task"), t);
  EXPECT_THROW(parse_task("brackets", "--task"), lossgap::InputError);
}

// The model without its own score_queries: Model's default (one score() per query).
class DefaultQueries final : public Model {
 public:
  explicit DefaultQueries(const Model& m) : m_(m) {}
  const ModelConfig& config() const override { return m_.config(); }
  ModelInfo info() const override { return m_.info(); }
  std::vector<TokenScore> score(std::span<const int32_t> ids, size_t first_target) const override {
    return m_.score(ids, first_target);
  }

 private:
  const Model& m_;
};

TEST(ProbeEvaluate, ScoreQueriesIsScoreOfTheSubstitutedWindow) {
  if (!fs::exists(kFixtureModel / "config.json")) GTEST_SKIP() << "no fixture model at " << kFixtureModel;
  const Tokenizer tok = Tokenizer::from_dir(kFixtureModel);
  const std::unique_ptr<Model> model = Model::load(kFixtureModel);
  const std::vector<int32_t> ids = tok.encode("The lamp goes with the tiger, and the cup goes with the horse.", false).ids;
  ASSERT_GE(ids.size(), 8u);
  const std::vector<TokenQuery> asked = {{1, ids[1]}, {5, ids[7]}, {5, ids[2]}, {ids.size(), ids[3]}, {3, ids[3]}};
  const std::vector<TokenScore> got = model->score_queries(ids, asked);
  const std::vector<TokenScore> by_default = DefaultQueries(*model).score_queries(ids, asked);
  ASSERT_EQ(got.size(), asked.size());
  ASSERT_EQ(by_default.size(), asked.size());
  for (size_t i = 0; i < asked.size(); ++i) {
    // Independently: the window cut before the position, the queried token appended.
    std::vector<int32_t> w(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(asked[i].position));
    w.push_back(asked[i].id);
    const TokenScore want = model->score(w, asked[i].position).at(0);
    EXPECT_NEAR(got[i].logprob, want.logprob, 1e-4) << i;
    EXPECT_NEAR(got[i].entropy, want.entropy, 1e-4) << i;
    EXPECT_EQ(got[i].rank, want.rank) << i;
    EXPECT_EQ(got[i].top1_id, want.top1_id) << i;
    EXPECT_EQ(by_default[i].logprob, want.logprob) << i;
  }
  const std::vector<TokenQuery> bad = {{1, 1 << 30}};
  EXPECT_THROW(model->score_queries(ids, bad), lossgap::InputError);
}

TEST(ProbeEvaluate, ContinuationLogprobIsTheSumOverItsTokens) {
  if (!fs::exists(kFixtureModel / "config.json")) GTEST_SKIP() << "no fixture model at " << kFixtureModel;
  const Tokenizer tok = Tokenizer::from_dir(kFixtureModel);
  const std::unique_ptr<Model> model = Model::load(kFixtureModel);
  ResolvedPolicy policy;
  policy.context = 1024;
  const Generator g(demo_tokenizer(), 5);
  for (Task t : {Task::Recall, Task::Copy}) {
    const std::optional<ProbeInstance> p = g.make(t, 40, 0);
    ASSERT_TRUE(p.has_value());
    const Prepared prep = prepare(*p, tok, policy);
    ASSERT_TRUE(prep.instance.has_value());
    const InstanceScore s = score_instance(*model, *prep.instance);
    ASSERT_EQ(s.queries.size(), p->queries.size());
    for (size_t q = 0; q < p->queries.size(); ++q) {
      const ProbeQuery& pq = p->queries[q];
      ASSERT_EQ(s.queries[q].continuations.size(), pq.continuations.size());
      for (size_t c = 0; c < pq.continuations.size(); ++c) {
        // Independently: score prefix + continuation once and add the records of the tokens
        // that lie at or after the prefix's end.
        const std::string text = p->prefix(q) + pq.continuations[c];
        const Encoding enc = tok.encode(text, false);
        const std::vector<TokenScore> all = model->score(enc.ids, 1);
        double sum = 0;
        int n = 0;
        for (size_t i = 1; i < enc.ids.size(); ++i) {
          if (enc.offsets[i].first >= pq.at) {
            sum += all[i - 1].logprob;
            ++n;
          }
        }
        EXPECT_EQ(s.queries[q].continuations[c].n_tokens, n) << q << " " << c;
        EXPECT_NEAR(s.queries[q].continuations[c].logprob, sum, 1e-4) << q << " " << c;
      }
    }
    // A context too short for the instance is a counted skip, not an error.
    ResolvedPolicy short_policy = policy;
    short_policy.context = 16;
    EXPECT_EQ(prepare(*p, tok, short_policy).skip, std::optional<Skip>(Skip::Length));
  }
}

// The shared-prefix scoring equals the plain one (one pass per continuation) on every task, on
// the demo pair (a transformer and a Gated DeltaNet hybrid); prints the time of each (one thread).
TEST(ProbeEvaluate, SharedPrefixScoringEqualsThePlainForm) {
  const fs::path hybrid = fs::path(LOSSGAP_SOURCE_DIR) / "models" / "demo" / "olmo-hybrid-small";
  if (!fs::exists(hybrid / "config.json")) GTEST_SKIP() << "no demo model at " << hybrid;
  set_num_threads(1);
  ResolvedPolicy policy;
  policy.context = 1024;
  const Generator g(demo_tokenizer(), 9);
  for (const fs::path& dir : {kDemoTokenizer, hybrid}) {
    const std::unique_ptr<Model> model = Model::load(dir);
    const Tokenizer tok = Tokenizer::from_dir(dir);
    for (Task t : all_tasks()) {
      const std::optional<ProbeInstance> p = g.make(t, 64, 0);
      ASSERT_TRUE(p.has_value());
      const Prepared prep = prepare(*p, tok, policy);
      ASSERT_TRUE(prep.instance.has_value());
      const auto t0 = std::chrono::steady_clock::now();
      const InstanceScore fast = score_instance(*model, *prep.instance);
      const auto t1 = std::chrono::steady_clock::now();
      const InstanceScore plain = score_instance_reference(*model, *prep.instance);
      const auto t2 = std::chrono::steady_clock::now();
      ASSERT_EQ(fast.queries.size(), plain.queries.size());
      for (size_t q = 0; q < fast.queries.size(); ++q) {
        EXPECT_EQ(fast.queries[q].distance, plain.queries[q].distance);
        ASSERT_EQ(fast.queries[q].continuations.size(), plain.queries[q].continuations.size());
        for (size_t c = 0; c < fast.queries[q].continuations.size(); ++c) {
          EXPECT_NEAR(fast.queries[q].continuations[c].logprob, plain.queries[q].continuations[c].logprob, 1e-4)
              << dir << " " << task_name(t) << " " << q << " " << c;
          EXPECT_EQ(fast.queries[q].continuations[c].n_tokens, plain.queries[q].continuations[c].n_tokens);
        }
      }
      std::printf("%-18s %-16s shared prefix %7.1f ms, one pass per continuation %7.1f ms\n",
                  dir.filename().c_str(), task_name(t), 1e3 * std::chrono::duration<double>(t1 - t0).count(),
                  1e3 * std::chrono::duration<double>(t2 - t1).count());
    }
  }
  set_num_threads(0);
}

QueryScore query_scored(double target, std::initializer_list<double> distractors, int64_t distance) {
  QueryScore s;
  s.continuations.push_back({target, 1});
  for (double d : distractors) s.continuations.push_back({d, 1});
  s.distance = distance;
  return s;
}
InstanceScore scored(double target, std::initializer_list<double> distractors, int64_t distance) {
  InstanceScore s;
  s.queries.push_back(query_scored(target, distractors, distance));
  return s;
}

TEST(ProbeSummary, MeansAccuracyAndPairedDeltas) {
  CellScores cell;
  cell.task = Task::Pronoun;
  cell.distance = 32;
  // A tie (-1 vs -1) is a miss.
  cell.by_model = {{scored(-1, {-2}, 32), scored(-1, {-1}, 33), scored(-3, {-0.5}, 34), scored(-0.2, {-4}, 32)},
                   {scored(-0.5, {-2}, 31), scored(-2, {-3}, 33), scored(-1, {-0.5}, 35), scored(-0.1, {-4}, 32)}};
  BootstrapOptions opt;
  opt.resamples = 500;
  const CellSummary s = summarize(cell, opt);
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.n, 4);
  EXPECT_EQ(s.n_continuations, 2);
  double lp[2] = {0, 0}, acc[2] = {0, 0}, dist[2] = {0, 0};
  for (size_t m = 0; m < 2; ++m) {
    for (const InstanceScore& i : cell.by_model[m]) {
      const QueryScore& q = i.queries[0];
      lp[m] += q.continuations[0].logprob / 4;
      acc[m] += (q.continuations[0].logprob > q.continuations[1].logprob ? 1.0 : 0.0) / 4;
      dist[m] += static_cast<double>(q.distance) / 4;
    }
    EXPECT_NEAR(s.models[m].logprob.value, lp[m], 1e-12);
    EXPECT_NEAR(s.models[m].accuracy.value, acc[m], 1e-12);
    EXPECT_NEAR(s.models[m].mean_distance, dist[m], 1e-12);
    EXPECT_LE(s.models[m].logprob.ci.lo, s.models[m].logprob.value);
    EXPECT_GE(s.models[m].logprob.ci.hi, s.models[m].logprob.value);
  }
  EXPECT_FALSE(s.models[0].delta_logprob.has_value());
  ASSERT_TRUE(s.models[1].delta_logprob && s.models[1].delta_accuracy);
  EXPECT_NEAR(s.models[1].delta_logprob->value, lp[1] - lp[0], 1e-12);
  EXPECT_NEAR(s.models[1].delta_accuracy->value, acc[1] - acc[0], 1e-12);
  EXPECT_LE(s.models[1].delta_logprob->ci.lo, s.models[1].delta_logprob->ci.hi);
  // Same seed, same intervals.
  const CellSummary again = summarize(cell, opt);
  EXPECT_EQ(again.models[1].delta_logprob->ci.lo, s.models[1].delta_logprob->ci.lo);
}

TEST(ProbeSummary, MultiQueryInstancesAreMeansOverTheirQueries) {
  // Two instances of three queries: an instance's value is the mean over its queries, and the
  // cell's the mean over instances (the queries of one text are resampled together).
  InstanceScore a, b;
  a.queries = {query_scored(-1, {-2, -3}, 40), query_scored(-4, {-2, -3}, 50), query_scored(-0.5, {-2, -3}, 60)};
  b.queries = {query_scored(-2, {-1, -3}, 35), query_scored(-1, {-2, -3}, 45), query_scored(-3, {-2, -3}, 55)};
  EXPECT_NEAR(a.target_logprob(), (-1 - 4 - 0.5) / 3.0, 1e-12);
  EXPECT_NEAR(a.accuracy(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(b.accuracy(), 1.0 / 3.0, 1e-12);  // -3 ties the distractor -3: a miss
  EXPECT_NEAR(a.distance(), 50, 1e-12);
  CellScores cell;
  cell.task = Task::Recall;
  cell.distance = 32;
  cell.by_model = {{a, b}};
  BootstrapOptions opt;
  opt.resamples = 200;
  const CellSummary s = summarize(cell, opt);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(s.n_queries, 3);
  EXPECT_EQ(s.n_continuations, 3);
  EXPECT_NEAR(s.models[0].accuracy.value, 0.5, 1e-12);
  EXPECT_NEAR(s.models[0].logprob.value, (a.target_logprob() + b.target_logprob()) / 2, 1e-12);
  EXPECT_NEAR(s.models[0].mean_distance, 47.5, 1e-12);
}

TEST(ProbeStoreTables, WritesAndReadsBackInstancesScoresAndSummary) {
  const fs::path db = fs::temp_directory_path() / ("lossgap_probe_store_" + std::to_string(::getpid()) + ".sqlite");
  fs::remove(db);
  const Generator g(demo_tokenizer(), 1);
  std::vector<ProbeInstance> inst;
  for (uint64_t i = 0; i < 3; ++i) inst.push_back(*g.make(Task::Recall, 32, i));
  // [model][instance]: Q queries of K continuations each.
  constexpr size_t Q = Generator::kRecallQueries, K = Generator::kRecallPairs;
  std::vector<std::vector<InstanceScore>> scores(2);
  for (size_t m = 0; m < 2; ++m) {
    for (size_t i = 0; i < 3; ++i) {
      InstanceScore s;
      for (size_t q = 0; q < Q; ++q) {
        QueryScore qs = query_scored(-1.0 - static_cast<double>(i + m + q) / 7, {}, 32 + static_cast<int64_t>(q));
        for (size_t k = 1; k < K; ++k) qs.continuations.push_back({-2.0 - static_cast<double>(k) / 3, 2});
        s.queries.push_back(qs);
      }
      scores[m].push_back(s);
    }
  }
  CellScores cell{Task::Recall, 32, scores, 0, 0};
  const CellSummary sum = summarize(cell, BootstrapOptions{});
  ProbeRunHeader h;
  h.tasks = {"recall"};
  h.distances = {32};
  const std::vector<ProbeModelRecord> models = {ProbeModelRecord{"a", "A", "olmo3", "c", "t", "w", std::nullopt},
                                                ProbeModelRecord{"b", "B", "olmo3", "c", "t", "w", 0}};
  int64_t id = 0;
  {
    ProbeStore store = ProbeStore::open(db);
    id = store.start_run(h, models);
    for (size_t i = 0; i < 2; ++i) store.add_instance(id, inst[i], {scores[0][i], scores[1][i]});
  }
  {
    // Interrupted after two instances: --resume finds the run, reads them back exactly, and
    // refuses other options or models.
    ProbeStore store = ProbeStore::open(db);
    EXPECT_EQ(store.resume_run(h, models), id);
    ProbeRunHeader other = h;
    other.seed = 2;
    EXPECT_THROW(store.resume_run(other, models), lossgap::InputError);
    std::vector<ProbeModelRecord> renamed = models;
    renamed[1].weights_sha256 = "x";
    EXPECT_THROW(store.resume_run(h, renamed), lossgap::InputError);
    EXPECT_THROW(store.resume_run(h, {models[0]}), lossgap::InputError);
    const auto stored = store.load_cell(id, Task::Recall, 32, 2);
    ASSERT_EQ(stored.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const auto& si = stored.at(i);
      EXPECT_EQ(si.text, inst[i].text);
      for (size_t m = 0; m < 2; ++m) {
        ASSERT_EQ(si.scores[m].queries.size(), Q);
        for (size_t q = 0; q < Q; ++q) {
          EXPECT_EQ(si.scores[m].queries[q].distance, scores[m][i].queries[q].distance);
          ASSERT_EQ(si.scores[m].queries[q].continuations.size(), K);
          for (size_t k = 0; k < K; ++k)
            EXPECT_EQ(si.scores[m].queries[q].continuations[k].logprob, scores[m][i].queries[q].continuations[k].logprob);
        }
      }
    }
    EXPECT_TRUE(store.load_cell(id, Task::Recall, 64, 2).empty());
    store.add_instance(id, inst[2], {scores[0][2], scores[1][2]});
    store.put_summary(id, sum);
    store.put_summary(id, sum);  // a resumed run rewrites its summary rows
    store.finish_run(id);
    EXPECT_THROW(store.resume_run(h, models), lossgap::InputError);  // nothing left to resume
  }
  sql::Db d(db, false);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_runs WHERE finished IS NOT NULL"), 1);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_models"), 2);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_instances"), 3);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_queries"), static_cast<int64_t>(3 * Q));
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_continuations"), static_cast<int64_t>(3 * Q * K));
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_scores"), static_cast<int64_t>(2 * 3 * Q * K));
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_summary"), 2);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_summary WHERE delta_logprob IS NULL"), 1);
  EXPECT_EQ(d.query_int("SELECT n_queries FROM probe_summary WHERE model_index = 0"), static_cast<int64_t>(Q));
  // A second open keeps the tables and adds to them; the corpus tables are there too.
  { ProbeStore again = ProbeStore::open(db); }
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_instances"), 3);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'scores'"), 1);
  fs::remove(db);
}

}  // namespace
}  // namespace lossgap::probes
