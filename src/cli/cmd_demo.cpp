// `lossgap demo [--out DIR] [--threads N] [--corpus FILE] [--models DIR]`: the bundled
// demonstration. Compares the bundled pair, models/demo/olmo3-small (the transformer, baseline
// A) against models/demo/olmo-hybrid-small (its Gated DeltaNet hybrid twin, B), on the demo
// corpus that tools/build_demo_corpus.py builds from Debian packages, by running `lossgap
// compare` (its progress bars and terminal summary), and writes the run store, the JSON
// summary and the HTML report into DIR. docs/demo.md says what it shows.
// Not the comparison (cmd_compare.cpp, src/analysis/) and not the corpus (tools/).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "corpus/corpus.h"

namespace lossgap::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kBaseline = "olmo3-small";
constexpr const char* kHybrid = "olmo-hybrid-small";

struct DemoOptions {
  std::string out = "lossgap-demo";
  int threads = 0;
  std::string corpus;
  std::string models;
};

// The directory holding the running executable.
fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw InputError("/proc/self/exe", "cannot find the lossgap executable's directory: " + ec.message() +
                                                 " (pass --models DIR and --corpus FILE)");
  return exe.parent_path();
}

bool is_pair_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kBaseline / "config.json", ec) && fs::is_regular_file(dir / kHybrid / "config.json", ec);
}

// The directory holding both demo models: --models, else $LOSSGAP_DEMO_MODELS, else
// models/demo in the executable's directory or one or two levels above it (a build directory
// inside the source tree: build/lossgap -> models/demo).
fs::path find_models(const DemoOptions& o) {
  if (!o.models.empty()) {
    if (!is_pair_dir(o.models))
      throw InputError(o.models, std::string("expected a directory holding ") + kBaseline + "/ and " + kHybrid +
                                     "/ (each with config.json)");
    return o.models;
  }
  if (const char* env = std::getenv("LOSSGAP_DEMO_MODELS"); env && *env) {
    if (!is_pair_dir(env))
      throw InputError(env, std::string("LOSSGAP_DEMO_MODELS: expected a directory holding ") + kBaseline + "/ and " +
                                kHybrid + "/ (each with config.json)");
    return env;
  }
  fs::path dir = executable_dir();
  std::string tried;
  for (int up = 0; up < 3; ++up, dir = dir.parent_path()) {
    const fs::path p = dir / "models" / "demo";
    if (is_pair_dir(p)) return p;
    tried += (tried.empty() ? "" : ", ") + p.string();
  }
  throw InputError("--models", "the demo models were not found (looked at " + tried +
                                   "); pass --models DIR or set LOSSGAP_DEMO_MODELS");
}

// The demo corpus: --corpus, else $LOSSGAP_DEMO_CORPUS, else demo-corpus/corpus.jsonl in the
// executable's directory (where tools/demo.sh builds it).
fs::path find_corpus(const DemoOptions& o) {
  if (!o.corpus.empty()) return o.corpus;  // CorpusReader names it if it cannot be read
  if (const char* env = std::getenv("LOSSGAP_DEMO_CORPUS"); env && *env) return env;
  const fs::path dir = executable_dir() / "demo-corpus";
  const fs::path p = dir / "corpus.jsonl";
  std::error_code ec;
  if (!fs::is_regular_file(p, ec))
    throw InputError(p.string(), "the demo corpus has not been built: run 'python3 tools/build_demo_corpus.py --out " +
                                     dir.string() + "' (tools/demo.sh does it), or pass --corpus FILE");
  return p;
}

// Runs the `compare` subcommand with these arguments, through the same parser and callback as
// the command line.
void run_compare_command(const std::vector<std::string>& args) {
  CLI::App app{"", "lossgap"};
  add_compare_command(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  app.parse(reversed);
}

void run_demo(const DemoOptions& o) {
  if (o.threads < 0) throw InputError("--threads", "must be >= 0 (0 = all cores), found " + std::to_string(o.threads));
  const fs::path models = find_models(o);
  const fs::path corpus = find_corpus(o);
  const CorpusSummary cs = CorpusReader::scan(corpus);
  const fs::path out = o.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out)) throw InputError(o.out, "cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  const fs::path store = out / "demo.sqlite", json = out / "summary.json", html = out / "report.html";
  // A fresh store each time: the previous demo's (perhaps of another corpus) is replaced.
  fs::remove(store, ec);
  if (ec) throw InputError(store.string(), "cannot remove the previous demo run store: " + ec.message());

  std::printf("lossgap demo: %s (transformer, baseline A) against %s (hybrid, B)\n", kBaseline, kHybrid);
  std::printf("  models: %s\n  corpus: %s (%lld documents, %s)\n  Δ = NLL_A − NLL_B per token: positive = the hybrid "
              "predicted the token better\n\n",
              models.string().c_str(), corpus.string().c_str(), static_cast<long long>(cs.n_documents),
              (std::to_string(cs.n_bytes / 1000) + " kB").c_str());
  std::fflush(stdout);
  run_compare_command({"compare", "--model", (models / kBaseline).string(), "--model", (models / kHybrid).string(),
                       "--input", corpus.string(), "--out", store.string(), "--threads", std::to_string(o.threads),
                       "--json", json.string(), "--report", html.string()});
  std::printf("\nlossgap demo: wrote\n  %s  (open in a browser: charts and the token viewer)\n  %s  (JSON summary, "
              "docs/report-json.md)\n  %s  (run store: 'lossgap report %s --where \"domain = python\"' slices it)\n",
              html.string().c_str(), json.string().c_str(), store.string().c_str(), store.string().c_str());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Compare the bundled transformer/hybrid pair (models/demo/) on the demo corpus and write the HTML report.");
  cmd->add_option("--out", o->out, "Output directory: demo.sqlite, summary.json, report.html (default lossgap-demo)");
  cmd->add_option("--threads", o->threads, "CPU threads for scoring (default 0 = all cores)");
  cmd->add_option("--corpus", o->corpus,
                  "Corpus (default: $LOSSGAP_DEMO_CORPUS, else demo-corpus/corpus.jsonl by the executable, as "
                  "tools/demo.sh builds it)");
  cmd->add_option("--models", o->models,
                  "Directory holding olmo3-small/ and olmo-hybrid-small/ (default: $LOSSGAP_DEMO_MODELS, else "
                  "models/demo by the executable or one or two levels above it)");
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace lossgap::cli
