// `lossgap import RECORDS.jsonl --input CORPUS --out RUN.sqlite --name NAME`: per-token
// log-probs made elsewhere become one model's run in a store (analysis/import.h; formats in
// docs/compare.md). Not scoring.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "analysis/import.h"
#include "cli/commands.h"

namespace lossgap::cli {

namespace {

struct ImportCliOptions {
  std::string records, input, out, name, model, tokenizer;
  int64_t context = 0, stride = 0;
  std::optional<int32_t> bos_id;
};

}  // namespace

void add_import_command(CLI::App& app) {
  auto o = std::make_shared<ImportCliOptions>();
  CLI::App* cmd = app.add_subcommand("import", "Import per-token log-probs computed elsewhere into a run store.");
  cmd->add_option("RECORDS", o->records,
                  "JSONL, one scored token a line: the 'lossgap export' format, or {doc, start, end, logprob}")
      ->required();
  cmd->add_option("--input", o->input, "The corpus the records were computed on (the documents' texts)")->required();
  cmd->add_option("--out", o->out, "Run store to create or add to (SQLite)")->required();
  cmd->add_option("--name", o->name, "Name of the imported model in the store (must be new)")->required();
  cmd->add_option("--model", o->model, "Only the rows whose \"model\" is this (an export of several models)");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Checkpoint directory whose tokenizer made the tokens: every token of each text is stored and "
                  "the run shares its tokens with models scored by 'lossgap score'");
  cmd->add_option("--context", o->context, "Window the engine used (default: each document in one window)");
  cmd->add_option("--stride", o->stride, "New targets per later window (default: context - 1)");
  cmd->add_option("--bos-id", o->bos_id, "The BOS token the engine put before every window, if any");
  cmd->callback([o] {
    ImportOptions io;
    io.records = o->records;
    io.corpus = o->input;
    io.out = o->out;
    io.name = o->name;
    io.model = o->model;
    io.tokenizer_dir = o->tokenizer;
    io.context = o->context;
    io.stride = o->stride;
    io.bos_id = o->bos_id;
    const ImportSummary s = import_records(io);
    std::fprintf(stderr,
                 "lossgap import: %s -> %s as \"%s\": %lld documents, %lld tokens, %lld scored; context %lld, "
                 "stride %lld; tokens key %.12s\n",
                 o->records.c_str(), o->out.c_str(), o->name.c_str(), static_cast<long long>(s.documents),
                 static_cast<long long>(s.tokens), static_cast<long long>(s.targets), static_cast<long long>(s.context),
                 static_cast<long long>(s.stride), s.tokenizer_key.c_str());
    if (!s.fields.all()) {
      std::string missing;
      for (auto [on, name] : {std::pair{s.fields.entropy, "entropy"}, std::pair{s.fields.rank, "rank"},
                              std::pair{s.fields.top1, "top-1 prediction"}})
        if (!on) missing += (missing.empty() ? "" : ", ") + std::string(name);
      std::fprintf(stderr,
                   "lossgap import: not in every record, so not available for \"%s\" (stored as NULL where "
                   "missing): %s\n",
                   o->name.c_str(), missing.c_str());
    }
  });
}

}  // namespace lossgap::cli
