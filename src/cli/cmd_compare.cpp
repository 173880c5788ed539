// `lossgap compare --model A_DIR --model B_DIR [...] --input CORPUS --out RUN.sqlite`: scores the
// corpus with each model into one run store (exactly as `lossgap score --resume` would: scores
// already in the store for the same model, policy and corpus are reused, a mismatch is an
// error), then runs the analysis of `lossgap report` with the first model as the baseline.
// Not the analysis itself (src/analysis/) and not the scoring loop (cmd_score.cpp).
#include <filesystem>
#include <memory>

#include "cli/analysis_cli.h"
#include "cli/commands.h"
#include "core/error.h"

namespace lossgap::cli {

namespace {

namespace fs = std::filesystem;

struct CompareOptions {
  std::vector<std::string> models, names;
  std::string input, out;
  int64_t context = 0, stride = 0;
  std::string bos = "auto";
  bool force_context = false;
  int threads = 0;
  AnalysisCliOptions analysis;
};

// The store name `score` gives a model directory by default: its last path component.
std::string default_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(p, ec);
  return (ec ? p : canonical).filename().string();
}

// Runs the `score` subcommand with these arguments, through the same parser and callback as
// the command line.
void run_score_command(const std::vector<std::string>& args) {
  CLI::App app{"", "lossgap"};
  add_score_command(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  app.parse(reversed);
}

void run_compare(const CompareOptions& o) {
  if (o.models.size() < 2) throw InputError("--model", "compare needs at least two models (the first is the baseline)");
  if (!o.names.empty() && o.names.size() != o.models.size())
    throw InputError("--name", "give one --name per --model (" + std::to_string(o.models.size()) + "), found " +
                                   std::to_string(o.names.size()));
  std::vector<std::string> names;
  for (size_t m = 0; m < o.models.size(); ++m) {
    names.push_back(o.names.empty() ? default_name(o.models[m]) : o.names[m]);
    for (size_t k = 0; k < m; ++k)
      if (names[k] == names[m])
        throw InputError("--model", "two models would be stored as \"" + names[m] + "\" (" + o.models[k] + ", " +
                                        o.models[m] + "): name them with --name, once per --model");
  }
  check_analysis_options(o.analysis);
  for (size_t m = 0; m < o.models.size(); ++m) {
    std::vector<std::string> args = {"score", o.models[m], "--input", o.input, "--out", o.out, "--name", names[m],
                                     "--resume", "--bos", o.bos, "--threads", std::to_string(o.threads)};
    if (o.context) args.insert(args.end(), {"--context", std::to_string(o.context)});
    if (o.stride) args.insert(args.end(), {"--stride", std::to_string(o.stride)});
    if (o.force_context) args.push_back("--force-context");
    run_score_command(args);
  }
  LoadOptions load;
  load.models = names;
  analyse_and_report(o.out, load, o.analysis);
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Score a corpus with several checkpoints and compare them token by token against the first.");
  cmd->add_option("--model", o->models,
                  "Checkpoint directory; repeat for each model, the baseline A first (Δ = NLL_A - NLL_B)")
      ->required();
  cmd->add_option("--name", o->names, "Store name of each model, once per --model (default: the directory's name)");
  cmd->add_option("--input", o->input, "Corpus: .jsonl/.ndjson ({\"id\", \"text\", \"domain\"?}), a text file or a directory")
      ->required();
  cmd->add_option("--out", o->out,
                  "Run store (SQLite): created, or reused when it already holds a model's scores for the same files, "
                  "policy and corpus")
      ->required();
  cmd->add_option("--context", o->context, "Tokens per window, BOS included (default: min(2048, max_position_embeddings))");
  cmd->add_option("--stride", o->stride, "New target tokens per later window (default: context - 1)");
  cmd->add_option("--bos", o->bos, "BOS before every window: auto, always, never (default auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--force-context", o->force_context, "Allow --context above max_position_embeddings");
  cmd->add_option("--threads", o->threads, "CPU threads for scoring (default 0 = all cores)");
  add_analysis_options(cmd, o->analysis);
  cmd->callback([o] { run_compare(*o); });
}

}  // namespace lossgap::cli
