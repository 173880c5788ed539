// Inline SVG charts of the HTML report (html.h), drawn from the AnalysisResult, and the text
// helpers the page shares with them (escaping, number formatting, colours). Each chart is a
// <figure> holding an <svg> without any external reference; every mark carries a <title> with
// its exact numbers. Not a plotting library: only the chart shapes the report uses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis.h"
#include "report/html.h"

namespace lossgap::html {

// printf into a std::string.
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));

// `s` with every ill-formed UTF-8 sequence replaced by U+FFFD.
std::string clean_utf8(std::string_view s);

// `s` escaped for HTML or SVG text and double- or single-quoted attribute values (& < > " '),
// ill-formed UTF-8 replaced by U+FFFD.
std::string esc(std::string_view s);

// The colour of model m (A first) in every chart and the viewer, as "#rrggbb".
std::string model_colour(size_t m);

// The smallest 1, 2 or 5 × 10^k that is >= v (v > 0).
double nice_ceil(double v);

// Filtered losses per model (ALL, CONTENT∩NO-COPY, COPY-5): one curve per filter across the
// models in order, with CI whiskers. "" when r.losses is empty.
std::string losses_chart(const AnalysisResult& r);

// Mean Δ by category with CI whiskers, one row per category of the groups overall, pos, copy,
// delim, form, domain and user that has targets.
std::string category_chart(const AnalysisResult& r, const PairResult& p);

// Mean Δ with CI whiskers across ordered bins (copy distance, position, frequency); bin labels
// are the row names without `strip_prefix`. Rows without targets are left out.
std::string series_chart(const std::vector<CategoryRow>& rows, const std::string& title, const std::string& x_title,
                         const std::string& strip_prefix, const std::string& unit);

// Per probe task: accuracy (with the chance level) and mean target log-probability against
// distance, one curve per model with CI whiskers.
std::string probe_charts(const ProbeCurves& probes);

}  // namespace lossgap::html
