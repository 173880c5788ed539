// Shared analysis options of compare and report (analysis_cli.h).
#include "cli/analysis_cli.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "analysis/analysis.h"
#include "cli/util.h"
#include "core/error.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/json.h"
#include "report/summary.h"
#include "tags/pos.h"

namespace lossgap::cli {

namespace {

namespace fs = std::filesystem;

// NAME=REGEX -> a regex tag spec.
RegexTagSpec parse_tag(const std::string& s, RegexTagSpec::Over over, const char* option) {
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    throw InputError(option, "expected NAME=REGEX, found \"" + s + "\"");
  RegexTagSpec spec;
  spec.name = s.substr(0, eq);
  spec.pattern = s.substr(eq + 1);
  spec.over = over;
  return spec;
}

}  // namespace

std::optional<fs::path> find_pos_model(const std::string& pos_model, bool no_pos) {
  if (no_pos) return std::nullopt;
  if (!pos_model.empty()) {
    if (!fs::is_regular_file(pos_model)) throw InputError(pos_model, "the part-of-speech model file does not exist");
    return fs::path(pos_model);
  }
  if (const char* env = std::getenv("LOSSGAP_POS_MODEL"); env && *env) {
    if (!fs::is_regular_file(env))
      throw InputError(env, "LOSSGAP_POS_MODEL names no file (unset it, or pass --pos-model FILE or --no-pos)");
    return fs::path(env);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::string tried;
  if (!ec) {
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 3; ++up, dir = dir.parent_path()) {
      const fs::path p = dir / "models" / "pos" / "en_ud.pos";
      if (fs::is_regular_file(p, ec)) return p;
      tried += (tried.empty() ? "" : ", ") + p.string();
    }
  }
  throw InputError("--pos-model", "no part-of-speech model found (looked at " + tried +
                                      "); pass --pos-model FILE, set LOSSGAP_POS_MODEL, or pass --no-pos");
}

void add_analysis_options(CLI::App* cmd, AnalysisCliOptions& o) {
  cmd->add_option("--json", o.json, "Write the JSON summary (schema: docs/report-json.md) to this file");
  cmd->add_flag("--json-documents", o.json_documents,
                "Also put the viewer documents (tokens with each model's NLL) in the JSON");
  cmd->add_option("--csv", o.csv, "Write the CSV tables into this directory");
  cmd->add_option("--report,--html", o.html,
                  "Write the self-contained HTML report (charts, tables, token viewer) to this file");
  cmd->add_option("--where", o.where,
                  "Analyse only the tokens this expression holds for, e.g. 'domain = python and copy_len = 0' "
                  "(docs/compare.md)");
  cmd->add_option("--resamples", o.resamples, "Bootstrap resamples (default 1000)");
  cmd->add_option("--seed", o.seed, "Bootstrap seed (default 20260611)");
  cmd->add_option("--pos-model", o.pos_model,
                  "Part-of-speech model (default: $LOSSGAP_POS_MODEL, else models/pos/en_ud.pos by the executable)");
  cmd->add_flag("--no-pos", o.no_pos, "Run without the part-of-speech tagger (no CONTENT/FUNCTION/UPOS categories)");
  cmd->add_option("--tag", o.tags, "User category NAME=REGEX: tokens whose text matches (PCRE2); repeatable");
  cmd->add_option("--text-tag", o.text_tags,
                  "User category NAME=REGEX over the document text: tokens overlapping a match; repeatable");
  cmd->add_option("--view-documents", o.view_documents,
                  "Documents kept for the viewer (largest |sum of Δ| first; default 50)");
  cmd->add_option("--view-tokens", o.view_tokens,
                  "Tokens (or words) of all documents together in the HTML viewer (default 200000)");
}

void check_analysis_options(const AnalysisCliOptions& o) {
  Filter::parse(o.where);
  for (const std::string& t : o.tags) parse_tag(t, RegexTagSpec::Over::Token, "--tag");
  for (const std::string& t : o.text_tags) parse_tag(t, RegexTagSpec::Over::Text, "--text-tag");
  if (o.resamples < 1) throw InputError("--resamples", "must be >= 1");
  find_pos_model(o.pos_model, o.no_pos);
}

void analyse_and_report(const std::string& store, const LoadOptions& load, const AnalysisCliOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  AnalysisOptions ao;
  ao.bootstrap.resamples = o.resamples;
  ao.bootstrap.seed = o.seed;
  ao.where = Filter::parse(o.where);
  for (const std::string& t : o.tags) ao.regex_tags.push_back(parse_tag(t, RegexTagSpec::Over::Token, "--tag"));
  for (const std::string& t : o.text_tags) ao.regex_tags.push_back(parse_tag(t, RegexTagSpec::Over::Text, "--text-tag"));
  ao.view_documents = o.view_documents;
  std::optional<PosTagger> tagger;
  if (const auto p = find_pos_model(o.pos_model, o.no_pos)) tagger.emplace(PosTagger::load(*p));
  ao.pos_tagger = tagger ? &*tagger : nullptr;

  LoadedRun run = load_run(store, load);
  const auto t1 = std::chrono::steady_clock::now();
  const AnalysisResult result = analyse(std::move(run), ao);
  const auto t2 = std::chrono::steady_clock::now();
  Output out("");
  out.write(render_summary(result));
  out.close();
  if (!o.json.empty()) {
    Output j(o.json);
    j.write(render_json(result, o.json_documents));
    j.close();
  }
  if (!o.csv.empty()) write_csv(result, o.csv);
  if (!o.html.empty()) {
    HtmlOptions ho;
    ho.max_documents = o.view_documents;
    ho.max_tokens = o.view_tokens;
    write_html_report(result, ho, o.html);
  }
  std::fprintf(stderr, "lossgap: analysis of %llu %ss: load %.1f s, tags and statistics %.1f s\n",
               static_cast<unsigned long long>(result.units), result.unit_name(),
               std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
}

}  // namespace lossgap::cli
