// `lossgap score`: scores a corpus with one checkpoint into a run store (resumable).
// The policy is scoring/policy.h; the store is store/store.h; this file wires them together,
// handles SIGINT (stop after the window in flight, keep every complete document) and shows
// progress. Not the forward pass.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include "core/version.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/util.h"
#include "core/error.h"
#include "core/hash.h"
#include "corpus/corpus.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"
#include "scoring/policy.h"
#include "scoring/scorer.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace lossgap::cli {

namespace {

namespace fs = std::filesystem;

struct ScoreOptions {
  std::string model_dir;
  std::string input;
  std::string out;
  std::string name;
  int64_t context = 0;
  int64_t stride = 0;
  std::string bos = "auto";
  bool force_context = false;
  int threads = 0;
  bool resume = false;
  int batch = 16;
  double batch_seconds = 5.0;
};

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_sigint(int) {
  g_interrupted = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// The model's name in the store: --name, else the directory's last component.
std::string default_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(p, ec);
  return (ec ? p : canonical).filename().string();
}

// The tokenizer's identity for the tokens table: tokenizer.json and tokenizer_config.json.
std::string tokenizer_key(const fs::path& dir, const std::string& tokenizer_json_sha) {
  std::string key = tokenizer_json_sha;
  const fs::path cfg = dir / "tokenizer_config.json";
  std::error_code ec;
  if (fs::exists(cfg, ec)) key += "+" + sha256_file(cfg);
  return sha256_bytes(key);
}

std::string dtypes_of(const ModelInfo& info) {
  std::string s;
  for (const auto& [dtype, bytes] : info.bytes_by_dtype) {
    if (bytes > 0) s += (s.empty() ? "" : ",") + dtype;
  }
  return s;
}

void run_score(const ScoreOptions& o) {
  const fs::path dir = o.model_dir;
  require_model_dir(dir);
  if (o.batch < 1) throw InputError("--batch", "must be >= 1, found " + std::to_string(o.batch));
  if (o.threads < 0) throw InputError("--threads", "must be >= 0 (0 = all cores), found " + std::to_string(o.threads));
  ScoringPolicy requested;
  requested.context = o.context;
  requested.stride = o.stride;
  requested.bos = parse_bos_policy(o.bos, "--bos");
  requested.force_context = o.force_context;
  CorpusReader reader = CorpusReader::open(o.input);

  set_num_threads(o.threads);
  const Tokenizer tokenizer = Tokenizer::from_dir(dir);
  const std::unique_ptr<Model> model = Model::load(dir);
  const ModelConfig& config = model->config();
  const ModelInfo info = model->info();
  const ResolvedPolicy policy =
      resolve_policy(requested, config.max_position_embeddings, tokenizer.prepended_bos(),
                     tokenizer.bos_token_id(), config.bos_token_id);

  const ModelIdentity identity = model_identity(dir);
  ModelRecord rec;
  rec.name = o.name.empty() ? default_name(dir) : o.name;
  rec.dir = o.model_dir;
  rec.model_type = config.model_type;
  rec.config_sha256 = identity.config;
  rec.tokenizer_sha256 = tokenizer_key(dir, identity.tokenizer);
  rec.weights_sha256 = identity.weights;
  rec.dtype = dtypes_of(info);
  rec.device = "cpu";
  rec.backend = "cpu";
  rec.n_parameters = info.n_parameters;

  const CorpusSummary summary = CorpusReader::scan(o.input);
  RunHeader header;
  header.tool_version = tool_version();
  header.git_commit = git_commit();
  header.policy = policy;
  header.corpus_path = o.input;
  header.corpus_kind = corpus_kind_name(summary.kind);
  header.corpus_sha256 = summary.sha256;
  header.corpus_documents = summary.n_documents;

  RunStore store = RunStore::open(o.out, true);
  const StoredRun run = store.start_run(rec, header, o.resume);
  const auto complete = store.completed_documents(run.model_id);

  std::fprintf(stderr,
               "lossgap score: model %s (%s, %lld parameters, %s) -> %s\n"
               "  policy: context %lld, stride %lld, bos %s (%s); corpus %s (%lld documents, sha256 %.12s)%s\n",
               rec.name.c_str(), rec.model_type.c_str(), static_cast<long long>(rec.n_parameters), rec.dtype.c_str(),
               o.out.c_str(), static_cast<long long>(policy.context), static_cast<long long>(policy.stride),
               bos_policy_name(policy.bos), policy.bos_id ? ("id " + std::to_string(*policy.bos_id)).c_str() : "none",
               o.input.c_str(), static_cast<long long>(summary.n_documents), summary.sha256.c_str(),
               complete.empty() ? "" : ("; resuming, " + std::to_string(complete.size()) + " documents done").c_str());

  g_interrupted = 0;
  auto previous = std::signal(SIGINT, on_sigint);
  struct RestoreSignal {
    void (*handler)(int);
    ~RestoreSignal() { std::signal(SIGINT, handler); }
  } restore{previous};
  const auto stop = [] { return g_interrupted != 0; };

  Progress progress(summary.n_documents, 0);
  auto last_commit = std::chrono::steady_clock::now();
  try {
    while (!stop()) {
      std::optional<Document> doc = reader.next();
      if (!doc) break;
      if (complete.count(doc->id)) {
        progress.skipped();
        continue;
      }
      store.check_document(*doc);
      const Encoding enc = tokenizer.encode(doc->text, /*add_special_tokens=*/false);
      const std::optional<DocumentScores> scores = score_document(*model, enc.ids, enc.offsets, policy, stop);
      if (!scores) break;  // interrupted inside the document: it is not kept
      store.add_scored_document(run, *doc, enc.ids, enc.offsets, *scores);
      progress.scored(static_cast<int64_t>(scores->targets.size()));
      const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_commit).count();
      if (store.pending_documents() >= static_cast<size_t>(o.batch) || since >= o.batch_seconds) {
        store.commit_batch();
        last_commit = std::chrono::steady_clock::now();
      }
    }
    store.commit_batch();
  } catch (...) {
    // Keep every document scored before the error: only the failing one is lost.
    try {
      store.commit_batch();
    } catch (...) {
      // The original error is the one to report.
    }
    progress.finish();
    throw;
  }
  progress.finish();
  if (stop()) {
    std::fprintf(stderr, "lossgap score: interrupted; every complete document is saved in %s; "
                         "rerun with --resume to continue\n", o.out.c_str());
    throw Interrupted{};
  }
  store.finish_run(run);
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto o = std::make_shared<ScoreOptions>();
  CLI::App* cmd = app.add_subcommand("score", "Score a corpus with a checkpoint into a run store (SQLite).");
  cmd->add_option("MODEL_DIR", o->model_dir, "Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)")
      ->required();
  cmd->add_option("--input", o->input,
                  "Corpus: a .jsonl/.ndjson file ({\"id\", \"text\", \"domain\"?} a line), a text file (one "
                  "document), or a directory of text files")
      ->required();
  cmd->add_option("--out", o->out, "Run store to create or add to (SQLite)")->required();
  cmd->add_option("--name", o->name, "Name of the model in the store (default: the directory's name)");
  cmd->add_option("--context", o->context,
                  "Tokens per window, BOS included (default: min(2048, max_position_embeddings))");
  cmd->add_option("--stride", o->stride,
                  "New target tokens per later window: each of its targets keeps >= context - stride tokens "
                  "of prefix; 0 = context - 1, no overlap (default 0)");
  cmd->add_option("--bos", o->bos,
                  "BOS before every window: auto (as the tokenizer's post-processor), always, never (default auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--force-context", o->force_context, "Allow --context above the model's max_position_embeddings");
  cmd->add_option("--threads", o->threads, "CPU threads (default 0 = all cores)");
  cmd->add_flag("--resume", o->resume,
                "Continue this model's run in the store (same model files, policy and corpus), skipping "
                "complete documents");
  cmd->add_option("--batch", o->batch,
                  "Documents per transaction (also committed every 5 s); a crash loses at most one batch (default 16)");
  cmd->callback([o] { run_score(*o); });
}

}  // namespace lossgap::cli
