// Tests of the probe generators (determinism, validity: the antecedent decides the target,
// distractors are well formed, the filler holds no probed word), of span location, of the
// statistics and of the probe tables. The expected targets are re-derived here by parsing the
// generated text, independently of the generator's own bookkeeping.
#include <gtest/gtest.h>

#include <algorithm>
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

std::string filler_of(const ProbeInstance& p) { return p.prefix.substr(p.filler.start, p.filler.end - p.filler.start); }
std::string antecedent_of(const ProbeInstance& p) {
  return p.prefix.substr(p.antecedent.start, p.antecedent.end - p.antecedent.start);
}

// The target the antecedent decides, derived from the instance's text alone.
std::string derive_target(const ProbeInstance& p) {
  std::smatch m;
  const std::string& text = p.prefix;
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
      const std::string open = antecedent_of(p);
      return open == "(" ? ")" : open == "[" ? "]" : "}";
    }
    case Task::ClosureHtml: {
      const std::string a = antecedent_of(p);
      EXPECT_TRUE(std::regex_match(a, m, std::regex(R"(<([a-z]+)>)")));
      return "</" + m[1].str() + ">";
    }
    case Task::ClosureLatex: {
      const std::string a = antecedent_of(p);
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
      EXPECT_EQ(pairs.size(), 4u) << head;
      EXPECT_TRUE(std::regex_search(text, m, std::regex(R"(So the ([a-z]+) goes with the$)")));
      return " " + pairs.at(m[1]);
    }
    case Task::Copy: {
      std::istringstream in(antecedent_of(p));
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
  return a.prefix == b.prefix && a.continuations == b.continuations && a.antecedent.start == b.antecedent.start &&
         a.antecedent.end == b.antecedent.end && a.filler_words == b.filler_words &&
         a.measured_distance == b.measured_distance;
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
  const std::optional<SpanTokens> s = locate_span(e, 6, 12, ByteSpan{0, 4});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, 2u);
  EXPECT_EQ(s->n_tokens, 2u);
  EXPECT_EQ(s->antecedent_last, 1u);  // byte 3 (the antecedent's last) is in token 1
  EXPECT_EQ(s->distance(), 1);
  EXPECT_FALSE(locate_span(e, 5, 12, ByteSpan{0, 1}).has_value());   // token 1 straddles byte 5
  EXPECT_FALSE(locate_span(e, 6, 13, ByteSpan{0, 1}).has_value());   // the text is longer than the tokens
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
      SCOPED_TRACE(p->prefix);
      // The antecedent decides the target.
      EXPECT_EQ(p->continuations.at(0), derive_target(*p));
      ++targets[p->continuations[0]];
      // Distractors: well formed, distinct from the target and from each other.
      const std::set<std::string> distinct(p->continuations.begin(), p->continuations.end());
      EXPECT_EQ(distinct.size(), p->continuations.size());
      EXPECT_GE(p->continuations.size(), 2u);
      for (const std::string& c : p->continuations) EXPECT_TRUE(well_formed(t, c)) << "[" << c << "]";
      // The filler holds no probed word, no structure, and no word of any continuation.
      const std::string filler = filler_of(*p);
      EXPECT_GT(p->filler_words, 0);
      EXPECT_EQ(probed_words_in(filler), std::vector<std::string>{});
      EXPECT_FALSE(structural_char_in(filler).has_value());
      std::set<std::string> filler_words;
      std::istringstream fin(filler);
      for (std::string w; fin >> w;) filler_words.insert(w);
      for (const std::string& c : p->continuations) {
        std::istringstream cin(c);
        for (std::string w; cin >> w;) EXPECT_EQ(filler_words.count(w), 0u) << w;
      }
      // The distance, re-measured: at least the request, and the least filler that reaches it.
      const std::string text = p->prefix + p->continuations[0];
      const std::optional<SpanTokens> s =
          locate_span(demo_tokenizer().encode(text, false), p->prefix.size(), text.size(), p->antecedent);
      ASSERT_TRUE(s.has_value());
      EXPECT_EQ(s->distance(), p->measured_distance);
      EXPECT_GE(p->measured_distance, d);
      EXPECT_LE(p->measured_distance, d + 4);
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

TEST(ProbeEvaluate, ContinuationLogprobIsTheSumOverItsTokens) {
  if (!fs::exists(kFixtureModel / "config.json")) GTEST_SKIP() << "no fixture model at " << kFixtureModel;
  const Tokenizer tok = Tokenizer::from_dir(kFixtureModel);
  const std::unique_ptr<Model> model = Model::load(kFixtureModel);
  ResolvedPolicy policy;
  policy.context = 1024;
  const Generator g(demo_tokenizer(), 5);
  const std::optional<ProbeInstance> p = g.make(Task::Recall, 40, 0);
  ASSERT_TRUE(p.has_value());
  const Prepared prep = prepare(*p, tok, policy);
  ASSERT_TRUE(prep.instance.has_value());
  const InstanceScore s = score_instance(*model, *prep.instance);
  ASSERT_EQ(s.continuations.size(), p->continuations.size());
  for (size_t c = 0; c < p->continuations.size(); ++c) {
    // Independently: score the whole text once and add the records of the tokens that lie at or
    // after the prefix's end.
    const std::string text = p->prefix + p->continuations[c];
    const Encoding enc = tok.encode(text, false);
    const std::vector<TokenScore> all = model->score(enc.ids, 1);
    double sum = 0;
    int n = 0;
    for (size_t i = 1; i < enc.ids.size(); ++i) {
      if (enc.offsets[i].first >= p->prefix.size()) {
        sum += all[i - 1].logprob;
        ++n;
      }
    }
    EXPECT_EQ(s.continuations[c].n_tokens, n);
    EXPECT_NEAR(s.continuations[c].logprob, sum, 1e-4);
  }
  // A context too short for the instance is a counted skip, not an error.
  policy.context = 16;
  EXPECT_EQ(prepare(*p, tok, policy).skip, std::optional<Skip>(Skip::Length));
}

InstanceScore scored(double target, std::initializer_list<double> distractors, int64_t distance) {
  InstanceScore s;
  s.continuations.push_back({target, 1});
  for (double d : distractors) s.continuations.push_back({d, 1});
  s.distance = distance;
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
      lp[m] += i.continuations[0].logprob / 4;
      acc[m] += (i.continuations[0].logprob > i.continuations[1].logprob ? 1.0 : 0.0) / 4;
      dist[m] += static_cast<double>(i.distance) / 4;
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

TEST(ProbeStoreTables, WritesRunInstancesScoresAndSummary) {
  const fs::path db = fs::temp_directory_path() / ("lossgap_probe_store_" + std::to_string(::getpid()) + ".sqlite");
  fs::remove(db);
  const Generator g(demo_tokenizer(), 1);
  std::vector<ProbeInstance> inst;
  for (uint64_t i = 0; i < 3; ++i) inst.push_back(*g.make(Task::ClosureHtml, 32, i));
  std::vector<std::vector<InstanceScore>> scores(2);
  for (size_t m = 0; m < 2; ++m) {
    for (size_t i = 0; i < 3; ++i) scores[m].push_back(scored(-1.0 - static_cast<double>(i + m), {-2, -3}, 32));
  }
  CellScores cell{Task::ClosureHtml, 32, scores, 0, 0};
  const CellSummary sum = summarize(cell, BootstrapOptions{});
  {
    ProbeStore store = ProbeStore::open(db);
    ProbeRunHeader h;
    h.tasks = {"closure-html"};
    h.distances = {32};
    const int64_t id = store.start_run(h, {ProbeModelRecord{"a", "A", "olmo3", "c", "t", "w", std::nullopt},
                                           ProbeModelRecord{"b", "B", "olmo3", "c", "t", "w", 0}});
    store.add_cell(id, inst, scores, sum);
    store.finish_run(id);
  }
  sql::Db d(db, false);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_runs WHERE finished IS NOT NULL"), 1);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_models"), 2);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_instances"), 3);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_continuations"), 9);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_scores"), 18);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_summary WHERE delta_logprob IS NULL"), 1);
  // A second open keeps the tables and adds to them; the corpus tables are there too.
  { ProbeStore again = ProbeStore::open(db); }
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM probe_instances"), 3);
  EXPECT_EQ(d.query_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'scores'"), 1);
  fs::remove(db);
}

}  // namespace
}  // namespace lossgap::probes
