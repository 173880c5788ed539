// `lossgap export`: one row per scored token of a run store, as JSONL or CSV (columns doc,
// model, pos, token_id, start, end, logprob, entropy, rank, top1_id, top1_logprob; the last four
// null / empty where the run lacks them).
// Floats are written with 9 significant digits, which round-trips the stored fp32 values.
// With --tags, every tag of each token follows as more columns (analysis/token_tags.h).
// Not an analysis: `lossgap report` reads the store for that.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <string>

#include "analysis/token_tags.h"
#include "cli/analysis_cli.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "core/error.h"
#include "store/store.h"

namespace lossgap::cli {

namespace {

struct ExportOptions {
  std::string store;
  std::string format;
  std::string model;
  std::string out;
  bool tags = false;
  std::string pos_model;
  bool no_pos = false;
};

// 9 significant digits (fp32 round trip); JSON has no inf/nan, so those become null there.
std::string number(double v, bool json) {
  if (!std::isfinite(v)) return json ? "null" : (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// A field the run may lack (an import without it): JSON null, an empty CSV field.
std::string optional(const std::optional<double>& v, bool json) {
  return v ? number(*v, json) : json ? "null" : "";
}
std::string optional(const std::optional<int64_t>& v, bool json) {
  return v ? std::to_string(*v) : json ? "null" : "";
}

// RFC 4180: quote a field holding a comma, quote, CR or LF; double the quotes inside.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void run_export(const ExportOptions& o) {
  RunStore store = RunStore::open(o.store, false);
  const bool json = o.format == "jsonl";
  std::optional<PosTagger> tagger;
  if (o.tags)
    if (const auto p = find_pos_model(o.pos_model, o.no_pos)) tagger.emplace(PosTagger::load(*p));
  std::unique_ptr<TokenTagTable> table;  // tags of the model being written (rows come model by model)
  std::string table_model;
  std::vector<TokenTagTable::Cell> cells;
  const std::vector<std::string> tag_columns = TokenTagTable::column_names(tagger.has_value());
  Output out(o.out);
  if (!json) {
    std::string header = "doc,model,pos,token_id,start,end,logprob,entropy,rank,top1_id,top1_logprob";
    if (o.tags)
      for (const std::string& c : tag_columns) header += "," + c;
    out.write(header + "\n");
  }
  std::string line;
  const std::optional<std::string> model = o.model.empty() ? std::nullopt : std::optional<std::string>(o.model);
  store.for_each_score(model, [&](const ScoreRow& r) {
    line.clear();
    if (json) {
      line += "{\"doc\":" + nlohmann::json(r.doc).dump() + ",\"model\":" + nlohmann::json(r.model).dump();
      line += ",\"pos\":" + std::to_string(r.pos) + ",\"token_id\":" + std::to_string(r.token_id);
      line += ",\"start\":" + std::to_string(r.start) + ",\"end\":" + std::to_string(r.end);
      line += ",\"logprob\":" + number(r.logprob, true) + ",\"entropy\":" + optional(r.entropy, true);
      line += ",\"rank\":" + optional(r.rank, true) + ",\"top1_id\":" + optional(r.top1_id, true);
      line += ",\"top1_logprob\":" + optional(r.top1_logprob, true);
    } else {
      line += csv_field(r.doc) + "," + csv_field(r.model) + "," + std::to_string(r.pos) + "," +
              std::to_string(r.token_id) + "," + std::to_string(r.start) + "," + std::to_string(r.end) + "," +
              number(r.logprob, false) + "," + optional(r.entropy, false) + "," + optional(r.rank, false) + "," +
              optional(r.top1_id, false) + "," + optional(r.top1_logprob, false);
    }
    if (o.tags) {
      if (!table || table_model != r.model) {
        // The previous model's table lends the tags a model with the same tokens shares.
        table = std::make_unique<TokenTagTable>(o.store, r.model, tagger ? &*tagger : nullptr, table.get());
        table_model = r.model;
      }
      table->row(r.doc, r.pos, cells);
      for (size_t k = 0; k < cells.size(); ++k) {
        if (json)
          line += ",\"" + tag_columns[k] + "\":" + (cells[k].text ? nlohmann::json(cells[k].value).dump() : cells[k].value);
        else
          line += "," + (cells[k].text ? csv_field(cells[k].value) : cells[k].value);
      }
    }
    line += json ? "}\n" : "\n";
    out.write(line);
  });
  out.close();
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Write one row per scored token of a run store as JSONL or CSV.");
  cmd->add_option("RUN", o->store, "Run store written by 'lossgap score'")->required();
  cmd->add_option("--format", o->format, "jsonl or csv")->required()->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("--model", o->model, "Only this model's rows (default: every model, in the order they were added)");
  cmd->add_option("--out", o->out, "Output file (default: standard output)");
  cmd->add_flag("--tags", o->tags,
                "Add every tag of each token as columns (copy_len, copy_dist, delim, form, domain, upos, xpos, ...; "
                "docs/taggers.md)");
  cmd->add_option("--pos-model", o->pos_model,
                  "With --tags: part-of-speech model (default: $LOSSGAP_POS_MODEL, else models/pos/en_ud.pos)");
  cmd->add_flag("--no-pos", o->no_pos, "With --tags: leave out the part-of-speech columns");
  cmd->footer(
      "Columns: doc, model, pos (index of the target among the document's tokens, BOS excluded), token_id, "
      "start, end (byte span in the document's text), logprob (natural log), entropy (nats), rank (1 = "
      "top), top1_id, top1_logprob; the last four are null in JSONL and empty in CSV where the run lacks them "
      "(an import without them).");
  cmd->callback([o] { run_export(*o); });
}

}  // namespace lossgap::cli
