// The comparison analysis: loaded records (load.h) -> every tagger -> every statistic of
// DESIGN.md "Comparison and statistics", gathered into one in-memory result that the terminal
// summary, the JSON summary (docs/report-json.md is its schema), the CSV tables and the HTML
// report all render. Each model is compared against the baseline (the first model).
// Not I/O: nothing here prints or writes files; not the taggers or the statistics themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/filter.h"
#include "analysis/load.h"
#include "stats/bootstrap.h"
#include "stats/compare.h"
#include "stats/ols.h"
#include "tags/pos.h"
#include "tags/user.h"

namespace lossgap {

// The JSON schema version of AnalysisResult (docs/report-json.md); bumped on any change of meaning.
inline constexpr int kReportSchemaVersion = 1;

struct AnalysisOptions {
  BootstrapOptions bootstrap;
  const PosTagger* pos_tagger = nullptr;  // null: no part-of-speech categories or filters
  std::vector<RegexTagSpec> regex_tags;   // user categories (group "user")
  Filter where;                           // tokens outside it count as unscored for every model
  uint32_t view_documents = 20;           // documents kept for the HTML viewer (largest |ΣΔ| first)
  uint32_t view_max_tokens = 4000;        // per viewed document (longer ones are cut)
};

// One row of the per-category tables: its name and the group it belongs to, in table order.
//   overall   ALL
//   pos       CONTENT, FUNCTION, OTHER, CONTENT∩NO-COPY, WORD-INITIAL, CONTINUATION
//   upos      UPOS/<tag> for every UPOS tag present
//   copy      NO-COPY, COPY-1 … COPY-32+ (copy_len bins), COPY-5
//   delim     DELIM-OPEN, DELIM-CLOSE, DELIM-OPEN/<prose|code|markup>, DELIM-CLOSE/<class>
//   form      FORM/<class>
//   position  POS <bucket> (log2 bins of the position in the window)
//   frequency FREQ <bucket> (log2 bins of the token id's count in the records)
//   domain    DOMAIN/<name>
//   user      regex tags and span labels, by their names
struct CategoryInfo {
  std::string name;
  std::string group;
};

// The baseline (A) against one other model (B).
struct PairResult {
  std::string model_a, model_b;
  std::vector<CategoryRow> categories;        // aligned with AnalysisResult::categories
  std::vector<CategoryRow> by_copy_distance;  // "DIST 1", "DIST 2-3", … over COPY-1 targets
  std::vector<CategoryRow> by_position;       // "POS 0", "POS 1", "POS 2-3", …
  OlsResult regression;                       // Δ on indicators + controls (stats/regression.h)
  std::string regression_error;               // non-empty when the fit was impossible (then no coefficients)
};

// A document as the HTML viewer shows it: its tokens (or words) with each model's NLL.
struct ViewDocument {
  size_t doc = 0;          // index into the records' documents
  std::string id, domain;
  std::string text;
  double delta_sum = 0;    // ΣΔ of the first pair over its targets (the selection key)
  bool truncated = false;  // only the first view_max_tokens tokens are kept
  std::vector<uint32_t> begin, end;           // [T] byte spans in text
  std::vector<std::vector<float>> nll;        // [M][T], NaN where not scored or filtered out
  std::vector<std::vector<uint16_t>> member;  // [T] indices into AnalysisResult::categories (ALL left out)
};

// Wall seconds of one stage of analyse(), for benchmarks and progress lines (not in the JSON:
// timings differ from run to run).
struct StageTime {
  std::string stage;  // "tag_copy", "tag_pos", "compare", ...
  double seconds = 0;
};

struct AnalysisResult {
  int schema_version = kReportSchemaVersion;
  std::string tool_version, git_commit;
  std::string store;
  std::vector<StoredRun> models;  // baseline first
  PairLevel level = PairLevel::Token;
  std::string level_note;
  std::string where;  // the filter's text, "" for none
  BootstrapOptions bootstrap;
  bool pos_tagged = false;
  uint64_t documents = 0;           // documents analysed (scored by every model)
  uint64_t documents_excluded = 0;  // documents of the store left out (not scored by every model)
  uint64_t units = 0;               // tokens (or words) of those documents
  uint64_t targets = 0;             // units every model scored and the filter kept
  uint64_t bytes = 0;               // text bytes of the analysed documents
  std::vector<std::string> warnings;

  std::vector<CategoryInfo> categories;
  std::vector<LossRow> losses;  // per model (model-major): ALL, CONTENT∩NO-COPY (with POS), COPY-5
  std::vector<PairResult> pairs;  // [M - 1]: baseline vs each other model, in model order
  std::vector<ViewDocument> view;
  std::vector<StageTime> timing;  // analyse()'s stages in order; their sum is its wall time

  const char* unit_name() const { return level == PairLevel::Token ? "token" : "word"; }
};

// Tags and compares (takes the records by value: the filter blanks their NLLs). Throws InputError("--where", ...) for a filter that cannot be evaluated,
// InputError("document <id>", ...) for malformed span labels in a document's "spans".
AnalysisResult analyse(LoadedRun run, const AnalysisOptions& opt);

}  // namespace lossgap
