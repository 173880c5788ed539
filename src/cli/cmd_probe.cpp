// `lossgap probe`: synthetic probes (pronoun memory, entity tracking, structural closure,
// associative recall, verbatim copy) at growing antecedent distances, scored by one or more
// models on the same texts; a table on stdout, the probe tables of a run store (one commit per
// instance; --resume continues an interrupted run), and a JSON summary. Generation, scoring and
// statistics live in probes/; this file checks which distances fit and wires them together.
// Definitions: docs/probes.md.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/version.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"
#include "probes/evaluate.h"
#include "probes/generate.h"
#include "probes/probe_store.h"
#include "probes/summary.h"
#include "report/html.h"
#include "scoring/policy.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace lossgap::cli {

namespace {

namespace fs = std::filesystem;
using namespace lossgap::probes;

struct ProbeOptions {
  std::vector<std::string> models;
  std::vector<std::string> names;
  std::vector<std::string> tasks;
  std::vector<int64_t> distances;
  int64_t n = 200;
  uint64_t seed = 1;
  std::string out;
  std::string json;
  std::string report;
  int64_t context = 0;
  std::string bos = "auto";
  int threads = 0;
  uint32_t resamples = 1000;
  int64_t max_distance = 0;
  bool force_context = false;
  bool resume = false;
};

constexpr int64_t kDefaultDistances[] = {32, 64, 128, 256, 512, 1024};

struct LoadedModel {
  std::string name;
  std::string dir;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Model> model;
  ResolvedPolicy policy;
  ProbeModelRecord record;
};

std::string dir_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(p, ec);
  return (ec ? p : c).filename().string();
}

nlohmann::json estimate_json(const Estimate& e) {
  const auto num = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"value", num(e.value)}, {"lo", num(e.ci.lo)}, {"hi", num(e.ci.hi)}};
}

std::string fmt_ci(const Estimate& e, bool sign) {
  char buf[96];
  std::snprintf(buf, sizeof buf, sign ? "%+.3f [%+.3f, %+.3f]" : "%.3f [%.3f, %.3f]", e.value, e.ci.lo, e.ci.hi);
  return buf;
}

void print_table(const std::vector<CellSummary>& cells, const std::vector<LoadedModel>& models) {
  size_t name_w = 5;
  for (const auto& m : models) name_w = std::max(name_w, m.name.size());
  std::printf("%-16s %5s  %-*s %4s %7s  %-26s %-23s %-26s %-23s\n", "task", "dist", static_cast<int>(name_w), "model",
              "n", "tokdist", "logprob [95% CI]", "accuracy [95% CI]", "dlogprob vs base [95% CI]",
              "daccuracy [95% CI]");
  for (const CellSummary& c : cells) {
    for (size_t m = 0; m < c.models.size(); ++m) {
      const ModelCell& mc = c.models[m];
      std::printf("%-16s %5lld  %-*s %4lld %7.1f  %-26s %-23s %-26s %-23s\n", m == 0 ? task_name(c.task) : "",
                  static_cast<long long>(c.distance), static_cast<int>(name_w), models[m].name.c_str(),
                  static_cast<long long>(c.n), mc.mean_distance, fmt_ci(mc.logprob, false).c_str(),
                  fmt_ci(mc.accuracy, false).c_str(),
                  mc.delta_logprob ? fmt_ci(*mc.delta_logprob, true).c_str() : "(baseline)",
                  mc.delta_accuracy ? fmt_ci(*mc.delta_accuracy, true).c_str() : "");
    }
  }
  std::printf("logprob: mean log-probability of the target (nats, summed over its tokens); accuracy: the target "
              "beats every distractor (chance = 1/choices);\nd*: model minus the baseline (%s), paired over "
              "instances; tokdist: mean antecedent-to-target distance in the model's tokens.\n",
              models[0].name.c_str());
}

// The distances a run asks for: --distances, or the doubling list from 32 to --max-distance
// (and that distance itself), or the default list.
std::vector<int64_t> requested_distances(const ProbeOptions& o, int64_t context, const char*& where) {
  std::vector<int64_t> out;
  if (!o.distances.empty()) {
    where = "--distances";
    for (int64_t d : o.distances) {
      if (d < 1) throw InputError(where, "distances must be >= 1 token, found " + std::to_string(d));
      out.push_back(d);
    }
  } else if (o.max_distance != 0) {
    where = "--max-distance";
    if (o.max_distance < 1 || o.max_distance >= context)
      throw InputError(where, "must be in [1, context) = [1, " + std::to_string(context) + "), found " +
                                  std::to_string(o.max_distance));
    for (int64_t d = kDefaultDistances[0]; d < o.max_distance; d *= 2) out.push_back(d);
    out.push_back(o.max_distance);
  } else {
    where = nullptr;
    out.assign(std::begin(kDefaultDistances), std::end(kDefaultDistances));
  }
  return out;
}

// A cell that no instance of fits the context (checked on its first instances).
struct LeftOut {
  Task task;
  int64_t distance;
  size_t tokens;  // what an instance needs, BOS included
  std::string model;
};

// Whether instances of (task, d) fit every model's context: the first instance every tokenizer
// can place decides (instances differ by a few tokens; longer ones are counted as
// skipped.length). The cell is taken to fit when none of the first 16 can be placed (it is then
// scored and its skips counted).
std::optional<LeftOut> check_fit(const Generator& gen, Task task, int64_t d, const std::vector<LoadedModel>& models) {
  for (uint64_t index = 0; index < 16; ++index) {
    const std::optional<ProbeInstance> inst = gen.make(task, d, index);
    if (!inst) continue;
    bool placed = true;
    for (const LoadedModel& m : models) {
      const Prepared p = prepare(*inst, *m.tokenizer, m.policy);
      if (p.skip == Skip::Length) return LeftOut{task, d, p.tokens, m.name};
      if (p.skip) {
        placed = false;  // a boundary skip says nothing about the length: try the next instance
        break;
      }
    }
    if (placed) return std::nullopt;
  }
  return std::nullopt;
}

void run_probe(const ProbeOptions& o) {
  if (o.models.empty()) throw InputError("--model", "at least one model directory is required");
  if (!o.names.empty() && o.names.size() != o.models.size())
    throw InputError("--name", "give one --name per --model (" + std::to_string(o.models.size()) + "), found " +
                                   std::to_string(o.names.size()));
  if (o.n < 1) throw InputError("--n", "must be >= 1, found " + std::to_string(o.n));
  if (o.threads < 0) throw InputError("--threads", "must be >= 0 (0 = all cores), found " + std::to_string(o.threads));
  if (o.resamples < 1) throw InputError("--resamples", "must be >= 1");
  std::vector<Task> tasks;
  for (const std::string& t : o.tasks) tasks.push_back(parse_task(t, "--task"));
  if (tasks.empty()) tasks = all_tasks();
  ScoringPolicy requested;
  requested.context = o.context;
  requested.bos = parse_bos_policy(o.bos, "--bos");
  requested.force_context = o.force_context;

  set_num_threads(o.threads);
  std::vector<LoadedModel> models;
  int64_t context = 0;
  std::string context_from;  // which model's limit sets the context
  for (size_t i = 0; i < o.models.size(); ++i) {
    require_model_dir(o.models[i]);
    LoadedModel m;
    m.dir = o.models[i];
    m.name = o.names.empty() ? dir_name(m.dir) : o.names[i];
    for (const LoadedModel& other : models) {
      if (other.name == m.name) throw InputError("--name", "two models are called '" + m.name + "'; name them with --name");
    }
    m.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_dir(m.dir));
    m.model = Model::load(m.dir);
    const ModelConfig& cfg = m.model->config();
    m.policy = resolve_policy(requested, cfg.max_position_embeddings, m.tokenizer->prepended_bos(),
                              m.tokenizer->bos_token_id(), cfg.bos_token_id);
    const ModelIdentity id = model_identity(m.dir);
    m.record = {m.name, m.dir, cfg.model_type, id.config, id.tokenizer, id.weights,
                m.policy.bos_id ? std::optional<int64_t>(*m.policy.bos_id) : std::nullopt};
    if (i == 0 || m.policy.context < context) {
      context = m.policy.context;
      context_from = o.context != 0 ? std::string("--context") : m.name + "'s max_position_embeddings";
    }
    models.push_back(std::move(m));
  }
  for (LoadedModel& m : models) m.policy.context = context;
  const Generator gen(*models[0].tokenizer, o.seed);

  // Distances: an asked-for distance that some task cannot fit is an error; a default one is
  // left out for that task with a note (and listed in the JSON summary).
  const char* where = nullptr;
  const std::vector<int64_t> distances = requested_distances(o, context, where);
  std::vector<LeftOut> left_out;
  std::vector<std::pair<Task, int64_t>> cells_to_run;
  for (Task task : tasks) {
    for (int64_t d : distances) {
      const std::optional<LeftOut> lo = check_fit(gen, task, d, models);
      const std::string why =
          lo ? std::string(task_name(task)) + " at distance " + std::to_string(d) + " needs " +
                   std::to_string(lo->tokens) + " tokens of " + lo->model + " (BOS included), more than the context of " +
                   std::to_string(context) + " tokens (" + context_from + ")"
             : std::string();
      if (lo && where)
        throw InputError(where, why + "; ask for less, or for a longer --context (beyond max_position_embeddings "
                                      "only with --force-context)");
      if (lo) {
        std::fprintf(stderr, "lossgap probe: left out: %s\n", why.c_str());
        left_out.push_back(*lo);
      } else {
        cells_to_run.emplace_back(task, d);
      }
    }
  }
  if (cells_to_run.empty())
    throw InputError("--context", "a context of " + std::to_string(context) + " tokens holds no probe of the tasks asked");

  ProbeRunHeader header;
  header.tool_version = tool_version();
  header.git_commit = git_commit();
  header.seed = o.seed;
  header.n = o.n;
  for (Task t : tasks) header.tasks.push_back(task_name(t));
  header.distances = distances;
  header.context = context;
  header.bos_policy = bos_policy_name(requested.bos);
  header.distance_unit = "tokens of " + models[0].name;
  BootstrapOptions bopt;
  bopt.resamples = o.resamples;
  bopt.seed = o.seed;
  header.resamples = bopt.resamples;
  header.level = bopt.level;

  ProbeStore store = ProbeStore::open(o.out);
  std::vector<ProbeModelRecord> records;
  for (const LoadedModel& m : models) records.push_back(m.record);
  const int64_t run_id = o.resume ? store.resume_run(header, records) : store.start_run(header, records);
  std::fprintf(stderr, "lossgap probe: %zu models, %zu tasks x %zu distances x %lld instances, context %lld, "
                       "seed %llu -> %s (probe run %lld%s)\n",
               models.size(), tasks.size(), distances.size(), static_cast<long long>(o.n),
               static_cast<long long>(context), static_cast<unsigned long long>(o.seed), o.out.c_str(),
               static_cast<long long>(run_id), o.resume ? ", resumed" : "");

  std::vector<CellSummary> cells;
  for (const auto& [task, d] : cells_to_run) {
    const auto t0 = std::chrono::steady_clock::now();
    CellScores cell;
    cell.task = task;
    cell.distance = d;
    cell.by_model.resize(models.size());
    // Instances stored by an interrupted invocation are taken as they are (their text checked).
    std::map<uint64_t, ProbeStore::StoredInstance> stored;
    if (o.resume) stored = store.load_cell(run_id, task, d, models.size());
    int64_t kept = 0, reused = 0;
    // Instances a tokenizer cannot score are skipped and counted; give up after 4n tries.
    for (uint64_t index = 0; kept < o.n && index < static_cast<uint64_t>(4 * o.n); ++index) {
      std::optional<ProbeInstance> inst = gen.make(task, d, index);
      if (!inst) {
        ++cell.skipped_boundary;
        continue;
      }
      std::vector<PreparedInstance> per_model;
      std::optional<Skip> skip;
      for (const LoadedModel& m : models) {
        Prepared p = prepare(*inst, *m.tokenizer, m.policy);
        if (p.skip) {
          skip = p.skip;
          break;
        }
        per_model.push_back(std::move(*p.instance));
      }
      if (skip) {
        ++(*skip == Skip::Boundary ? cell.skipped_boundary : cell.skipped_length);
        continue;
      }
      std::vector<InstanceScore> scores;
      const auto found = stored.find(index);
      if (found != stored.end()) {
        if (found->second.text != inst->text)
          throw InputError(o.out, "probe_instances: the stored " + std::string(task_name(task)) + " instance " +
                                      std::to_string(index) + " at distance " + std::to_string(d) +
                                      " is not the text this lossgap generates; it cannot be resumed");
        scores = found->second.scores;
        ++reused;
      } else {
        for (size_t m = 0; m < models.size(); ++m) scores.push_back(score_instance(*models[m].model, per_model[m]));
        store.add_instance(run_id, *inst, scores);
      }
      for (size_t m = 0; m < models.size(); ++m) cell.by_model[m].push_back(std::move(scores[m]));
      ++kept;
    }
    CellSummary s = summarize(cell, bopt);
    store.put_summary(run_id, s);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "  %-16s distance %5lld: %lld instances (%lld skipped, %lld stored before) in %.1f s\n",
                 task_name(task), static_cast<long long>(d), static_cast<long long>(kept),
                 static_cast<long long>(cell.skipped_boundary + cell.skipped_length), static_cast<long long>(reused),
                 secs);
    cells.push_back(std::move(s));
  }
  store.finish_run(run_id);
  print_table(cells, models);

  if (!o.json.empty()) {
    nlohmann::json j;
    j["format"] = "lossgap-probes";
    j["version"] = 2;
    j["run"] = {{"tool_version", header.tool_version}, {"git_commit", header.git_commit},
                {"store", o.out},                      {"probe_run_id", run_id},
                {"seed", o.seed},                      {"n", o.n},
                {"tasks", header.tasks},               {"distances", distances},
                {"context", context},                  {"bos_policy", header.bos_policy},
                {"distance_unit", header.distance_unit}, {"resamples", bopt.resamples},
                {"level", bopt.level},
                {"scoring", "one pass per probe text (every target and every distractor's first token), plus one "
                            "per distractor of two or more tokens"},
                {"logprob_unit", "nats, summed over the target's tokens"},
                {"delta", "model minus baseline (models[0]); positive = better than the baseline"}};
    j["left_out"] = nlohmann::json::array();
    for (const LeftOut& lo : left_out) {
      j["left_out"].push_back({{"task", task_name(lo.task)}, {"distance", lo.distance}, {"tokens_needed", lo.tokens},
                               {"model", lo.model}, {"context", context}});
    }
    j["models"] = nlohmann::json::array();
    for (size_t m = 0; m < models.size(); ++m) {
      j["models"].push_back({{"name", models[m].name}, {"dir", models[m].dir},
                             {"model_type", models[m].record.model_type}, {"baseline", m == 0}});
    }
    j["cells"] = nlohmann::json::array();
    for (const CellSummary& c : cells) {
      nlohmann::json cj = {{"task", task_name(c.task)},
                           {"distance", c.distance},
                           {"n", c.n},
                           {"n_continuations", c.n_continuations},
                           {"n_queries", c.n_queries},
                           {"chance", c.chance},
                           {"skipped", {{"boundary", c.skipped_boundary}, {"length", c.skipped_length}}}};
      cj["models"] = nlohmann::json::array();
      for (size_t m = 0; m < c.models.size(); ++m) {
        const ModelCell& mc = c.models[m];
        cj["models"].push_back(
            {{"model", models[m].name},
             {"mean_distance", mc.mean_distance},
             {"mean_target_tokens", mc.mean_target_tokens},
             {"logprob", estimate_json(mc.logprob)},
             {"accuracy", estimate_json(mc.accuracy)},
             {"delta_logprob", mc.delta_logprob ? estimate_json(*mc.delta_logprob) : nlohmann::json(nullptr)},
             {"delta_accuracy", mc.delta_accuracy ? estimate_json(*mc.delta_accuracy) : nlohmann::json(nullptr)}});
      }
      j["cells"].push_back(std::move(cj));
    }
    Output out(o.json);
    out.write(j.dump(2) + "\n");
    out.close();
  }
  if (!o.report.empty()) {
    const bool has_corpus = !RunStore::open(o.out, false).runs().empty();
    write_probe_html_report(read_probe_curves(o.out), o.out,
                            has_corpus ? "This store also holds corpus scores: lossgap report " + o.out +
                                             " --report FILE shows these curves next to the corpus analysis."
                                       : "",
                            o.report);
  }
}

}  // namespace

void add_probe_command(CLI::App& app) {
  auto o = std::make_shared<ProbeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "probe", "Synthetic probes of recall and state tracking at growing distances, scored by each model.");
  cmd->add_option("--model", o->models,
                  "Checkpoint directory; repeat for several models (the first is the baseline and measures "
                  "distances)")
      ->required();
  cmd->add_option("--name", o->names, "Name of each model, in --model order (default: the directory's name)");
  cmd->add_option("--task", o->tasks,
                  "Tasks (comma list or repeated): pronoun, entity, closure-bracket, closure-html, closure-latex, "
                  "recall, copy (default: all)")
      ->delimiter(',');
  CLI::Option* dist = cmd->add_option("--distances", o->distances,
                                      "Antecedent-to-target distances in tokens of the first model (comma list; "
                                      "default 32,64,128,256,512,1024, those that fit the context, with a note for "
                                      "the others)")
                           ->delimiter(',');
  cmd->add_option("--max-distance", o->max_distance,
                  "Distances 32, 64, 128, ... up to this one (included), below the context")
      ->excludes(dist);
  cmd->add_option("--n", o->n, "Instances per task and distance (default 200)");
  cmd->add_option("--seed", o->seed, "Seed of the generators and of the bootstrap (default 1)");
  cmd->add_option("--out", o->out, "Run store to create or add the probe tables to (SQLite)")->required();
  cmd->add_option("--json", o->json, "Write the JSON summary to this file");
  cmd->add_option("--report,--html", o->report,
                  "Write a self-contained HTML page of the probe curves and table to this file");
  cmd->add_option("--context", o->context,
                  "Tokens per window, BOS included (default: min(2048, max_position_embeddings), smallest over "
                  "the models)");
  cmd->add_flag("--force-context", o->force_context, "Allow --context beyond a model's max_position_embeddings");
  cmd->add_flag("--resume", o->resume,
                "Continue the store's unfinished probe run (same options and models): stored instances are not "
                "scored again");
  cmd->add_option("--bos", o->bos, "BOS before every probe: auto, always, never (default auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--threads", o->threads, "CPU threads (default 0 = all cores)");
  cmd->add_option("--resamples", o->resamples, "Bootstrap resamples (default 1000)");
  cmd->callback([o] { run_probe(*o); });
}

}  // namespace lossgap::cli
