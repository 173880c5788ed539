// The self-contained HTML report of a comparison (DESIGN.md "Reports"; docs/report-html.md):
// one UTF-8 file that works offline (no CDN, no external fonts or URLs) holding a header with
// the models, corpus, scoring policy and pairing level; inline SVG charts drawn here in C++
// (Δ by category with CI whiskers, Δ against copy distance and against position, filtered
// losses per model, probe curves when the store holds probe results); the category and
// regression tables; and a document viewer (every unit coloured by Δ, filtered by category,
// the spans where each model wins most, each model's probability and top-1 prediction on
// hover) whose per-unit data is embedded as compact JSON.
// Not the analysis (analysis/analysis.h computes every number shown here) and not the JSON
// summary (report/json.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "analysis/analysis.h"

namespace lossgap {

// What the viewer may embed. The documents are those of AnalysisResult::view (the analysis
// picks them, largest |ΣΔ| first, and cuts each to its view_max_tokens); the report keeps them
// in that order until either cap is reached and says in the page how many it kept and why.
struct HtmlOptions {
  uint32_t max_documents = 50;   // documents in the viewer
  uint64_t max_tokens = 200000;  // units (tokens or words) in the viewer, all documents together
};

// How many units of each r.view document the report shows, in r.view order: documents are
// taken while fewer than opt.max_documents are kept and units remain under opt.max_tokens (the
// last one may be cut to fit). [documents shown]
std::vector<size_t> shown_units(const AnalysisResult& r, const HtmlOptions& opt);

// Each model's top-1 prediction at one viewed unit: at token level the prediction for that
// token; at word level the prediction for the model's first token starting inside the word.
struct ViewTop1 {
  std::vector<int32_t> id;     // [T] vocabulary id, -1 where the model has no score there
  std::vector<float> logprob;  // [T] its log-probability (nats), NaN where id is -1
};

// Results of `lossgap probe` stored in the run store (docs/store.md "Probe tables"): the
// per-cell summary of the latest probe run.
struct ProbeCurveRow {
  std::string task;
  int64_t distance = 0;
  size_t model = 0;  // index into ProbeCurves::models
  int64_t n = 0;
  double chance = 0;                            // 1 / n_continuations
  double accuracy = 0, accuracy_lo = 0, accuracy_hi = 0;  // NaN bounds when undefined
  double logprob = 0, logprob_lo = 0, logprob_hi = 0;
};
struct ProbeCurves {
  std::vector<std::string> models;  // baseline first
  std::string distance_unit;        // e.g. "tokens of <model>"
  std::vector<ProbeCurveRow> rows;  // by task, then distance, then model
};

// What the report reads from the run store besides the AnalysisResult.
struct HtmlStoreData {
  // [view document][model]: top-1 predictions aligned with the document's units; empty when
  // the store could not provide them (then `notes` says why).
  std::vector<std::vector<ViewTop1>> top1;
  // [model] the decoded text of every top-1 id used above (from the tokenizer in the model's
  // directory); empty for a model whose tokenizer could not be read (ids are shown instead).
  std::vector<std::map<int32_t, std::string>> top1_text;
  ProbeCurves probes;              // no rows when the store has no probe results
  std::vector<std::string> notes;  // shown in the page (e.g. "tokenizer of B not found at DIR")
};

// Reads the top-1 predictions of the documents the viewer will show (HtmlOptions caps) from
// the run store `store` that `r` was computed from, decodes them with each model's tokenizer
// when its directory still holds tokenizer.json, and reads the latest probe run's summary.
// Throws InputError naming the store when it cannot be read or disagrees with `r` (a viewed
// document or model missing).
HtmlStoreData read_html_store_data(const std::filesystem::path& store, const AnalysisResult& r,
                                   const HtmlOptions& opt);

// The latest probe run's summary in the run store `store` (no rows when it holds none). Throws
// InputError naming the store when it cannot be read.
ProbeCurves read_probe_curves(const std::filesystem::path& store);

// The whole page. Every string from the store or the corpus is escaped for its context (HTML
// text, attribute, SVG, or JSON inside <script>, where "</script>" cannot end the element).
std::string render_html(const AnalysisResult& r, const HtmlStoreData& data, const HtmlOptions& opt);

// read_html_store_data(r.store) + render_html, written to `out` ("-" for stdout). Throws
// InputError naming `out` when it cannot be written.
void write_html_report(const AnalysisResult& r, const HtmlOptions& opt, const std::filesystem::path& out);

// The page of `lossgap probe --report`: the probe run's models, the summary table and the
// curves, self-contained like render_html's page, without corpus sections. `note` (may be
// empty) is shown under the title.
std::string render_probe_html(const ProbeCurves& probes, const std::string& store, const std::string& note);

// render_probe_html written to `out` ("-" for stdout). Throws InputError naming `store` when
// `probes` has no rows, or `out` when it cannot be written.
void write_probe_html_report(const ProbeCurves& probes, const std::string& store, const std::string& note,
                             const std::filesystem::path& out);

}  // namespace lossgap
