// The HTML report (html.h): the page, its header and tables, and the viewer's embedded data.
// The SVG charts are in html_charts.cpp; the stylesheet and the viewer's script are
// src/report/assets/ (embedded at build time). docs/report-html.md describes the page.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/utf8.h"
#include "core/version.h"
#include "report/html.h"
#include "report/html_assets.h"
#include "report/html_charts.h"

namespace lossgap {

namespace {

using html::esc;
using html::fmt;

// A JSON string literal of `s` (invalid UTF-8 replaced by U+FFFD).
std::string jstr(std::string_view s) {
  return nlohmann::json(html::clean_utf8(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A number with at most `prec` decimals and no trailing zeros; "null" when not finite.
std::string jnum(double v, int prec = 3) {
  if (!std::isfinite(v)) return "null";
  std::string s = fmt("%.*f", prec, v);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

// Appends `x` to `out` after a comma unless it is the first item (i == 0). Appending instead of
// `(i ? "," : "") + x` also avoids GCC 12's -Wrestrict false positive on string concatenation.
void item(std::string& out, size_t i, const std::string& x) {
  if (i) out += ',';
  out += x;
}

// JSON text made safe inside <script>: '<', '>' and '&' only occur inside JSON strings, where
// their \u escapes mean the same, so no "</script>" or "<!--" can appear.
std::string script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string short_hash(const std::string& h) {
  return "<span class=\"hash\" title=\"" + esc(h) + "\">" + esc(h.substr(0, 12)) + "</span>";
}

std::string thousands(uint64_t n) {
  const std::string s = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string ci_text(const Interval& i, const char* f) {
  if (!std::isfinite(i.lo) || !std::isfinite(i.hi)) return "–";
  return "[" + fmt(f, i.lo) + ", " + fmt(f, i.hi) + "]";
}

std::string val(double v, const char* f) { return std::isfinite(v) ? fmt(f, v) : "–"; }

// ---- header -------------------------------------------------------------------------------

std::string run_section(const AnalysisResult& r, const HtmlStoreData& data) {
  std::string h = "<section id=\"run\"><h2>Run</h2>\n";
  h += "<p class=\"def\">Δ = NLL<sub>A</sub> − NLL<sub>B</sub> in nats per " + std::string(r.unit_name()) +
       ", A = the baseline <b>" + esc(r.models.empty() ? "" : r.models[0].model.name) +
       "</b>; positive Δ: B predicted the true " + r.unit_name() + " better. Pairing level: <b class=\"level\">" +
       esc(pair_level_name(r.level)) + "</b>" + (r.level_note.empty() ? "" : " — " + esc(r.level_note)) + ".</p>\n";

  h += "<h3>Models</h3><table class=\"grid\"><thead><tr><th></th><th>name</th><th>model_type</th>"
       "<th>parameters</th><th>dtype</th><th>device / backend</th><th>directory</th><th>config</th>"
       "<th>tokenizer</th><th>weights</th><th>documents scored</th><th>created</th><th>finished</th>"
       "<th>lossgap</th><th>scores</th></tr></thead><tbody>\n";
  for (size_t m = 0; m < r.models.size(); ++m) {
    const StoredRun& s = r.models[m];
    const std::string role = m == 0 ? "A" : (r.models.size() == 2 ? "B" : "B" + std::to_string(m));
    h += "<tr><td><span class=\"swatch\" style=\"background:" + html::model_colour(m) + "\"></span>" + role +
         "</td><td class=\"model-name\">" + esc(s.model.name) + "</td><td>" + esc(s.model.model_type) + "</td><td>" +
         thousands(static_cast<uint64_t>(std::max<int64_t>(0, s.model.n_parameters))) + "</td><td>" +
         esc(s.model.dtype) + "</td><td>" + esc(s.model.device) + " / " + esc(s.model.backend) + "</td><td>" +
         esc(s.model.dir) + "</td><td>" + short_hash(s.model.config_sha256) + "</td><td>" +
         short_hash(s.model.tokenizer_sha256) + "</td><td>" + short_hash(s.model.weights_sha256) + "</td><td>" +
         thousands(static_cast<uint64_t>(std::max<int64_t>(0, s.documents_done))) + "</td><td>" + esc(s.created) +
         "</td><td>" + (s.finished.empty() ? "incomplete" : esc(s.finished)) + "</td><td>" +
         esc(s.header.tool_version) + " " + esc(s.header.git_commit) + "</td><td>" +
         esc(score_fields_note(s.header.fields)) + "</td></tr>\n";
  }
  h += "</tbody></table>\n";

  h += "<h3>Scoring policy and corpus</h3><table class=\"grid\"><thead><tr><th>model</th><th>context</th>"
       "<th>stride</th><th>BOS</th><th>bos_id</th><th>corpus</th><th>kind</th><th>corpus sha256</th>"
       "<th>corpus documents</th></tr></thead><tbody>\n";
  for (const StoredRun& s : r.models) {
    const ResolvedPolicy& p = s.header.policy;
    h += "<tr><td>" + esc(s.model.name) + "</td><td>" + std::to_string(p.context) + "</td><td>" +
         std::to_string(p.stride) + "</td><td>" + bos_policy_name(p.bos) + "</td><td>" +
         (p.bos_id ? std::to_string(*p.bos_id) : std::string("none")) + "</td><td>" + esc(s.header.corpus_path) +
         "</td><td>" + esc(s.header.corpus_kind) + "</td><td>" + short_hash(s.header.corpus_sha256) + "</td><td>" +
         thousands(static_cast<uint64_t>(std::max<int64_t>(0, s.header.corpus_documents))) + "</td></tr>\n";
  }
  h += "</tbody></table>\n<p class=\"def\">Each document is scored from its start in windows of <i>context</i> "
       "tokens (BOS included); a later window scores <i>stride</i> new targets, each keeping at least "
       "<i>context − stride</i> tokens of prefix; no state is carried across windows. Log-probabilities are "
       "natural logs over the full vocabulary.</p>\n";

  h += "<h3>Analysis</h3><table class=\"kv\"><tbody>\n";
  auto kv = [&](const std::string& k, const std::string& v) { h += "<tr><th>" + k + "</th><td>" + v + "</td></tr>\n"; };
  kv("run store", esc(r.store));
  kv("pairing level", "<span class=\"level\">" + esc(pair_level_name(r.level)) + "</span>" +
                          (r.level_note.empty() ? "" : " — " + esc(r.level_note)));
  kv("filter (--where)", r.where.empty() ? "none" : "<code>" + esc(r.where) + "</code>");
  kv("bootstrap", std::to_string(r.bootstrap.resamples) + " resamples of documents, seed " +
                      std::to_string(r.bootstrap.seed) + ", " + fmt("%g", 100 * r.bootstrap.level) +
                      "% percentile intervals");
  kv("part-of-speech categories", r.pos_tagged ? "yes" : "no (no tagger)");
  kv("documents", thousands(r.documents) + " analysed (scored by every model), " + thousands(r.documents_excluded) +
                      " left out");
  kv(std::string(r.unit_name()) + "s", thousands(r.units) + " (" + thousands(r.targets) + " targets)");
  kv("bytes", thousands(r.bytes));
  kv("report made by", "lossgap " + esc(r.tool_version) + " (" + esc(r.git_commit) + ")");
  h += "</tbody></table>\n";
  if (!r.warnings.empty() || !data.notes.empty()) {
    h += "<ul class=\"warnings\">\n";
    for (const std::string& w : r.warnings) h += "<li>" + esc(w) + "</li>\n";
    for (const std::string& w : data.notes) h += "<li>" + esc(w) + "</li>\n";
    h += "</ul>\n";
  }
  return h + "</section>\n";
}

// ---- tables -------------------------------------------------------------------------------

std::string category_table(const AnalysisResult& r, const PairResult& p) {
  std::string h = "<table class=\"grid num sortable\"><thead><tr><th>group</th><th>category</th><th>" +
                  std::string(r.unit_name()) + "s</th><th>docs</th><th>NLL A</th><th>NLL B</th><th>Δ</th>"
                  "<th>Δ 95% CI</th><th>win rate B</th><th>win CI</th><th>share of ΣΔ</th><th>bpb A</th>"
                  "<th>bpb B</th></tr></thead><tbody>\n";
  for (size_t k = 0; k < p.categories.size() && k < r.categories.size(); ++k) {
    const CategoryRow& c = p.categories[k];
    if (c.tokens == 0) continue;
    const char* sign = !std::isfinite(c.delta) ? "" : c.delta > 0 ? " class=\"bb\"" : c.delta < 0 ? " class=\"ba\"" : "";
    h += "<tr><td>" + esc(r.categories[k].group) + "</td><td class=\"cat\">" + esc(c.name) + "</td><td>" +
         std::to_string(c.tokens) + "</td><td>" + std::to_string(c.documents) + "</td><td>" + val(c.nll_a, "%.4f") +
         "</td><td>" + val(c.nll_b, "%.4f") + "</td><td" + sign + ">" + val(c.delta, "%+.4f") + "</td><td>" +
         ci_text(c.delta_ci, "%+.4f") + "</td><td>" + val(100 * c.win_rate, "%.1f%%") + "</td><td>" +
         (std::isfinite(c.win_ci.lo) ? ci_text(Interval{100 * c.win_ci.lo, 100 * c.win_ci.hi, c.win_ci.valid}, "%.1f")
                                     : std::string("–")) +
         "</td><td>" + val(100 * c.share, "%.1f%%") + "</td><td>" + val(c.bpb_a, "%.4f") + "</td><td>" +
         val(c.bpb_b, "%.4f") + "</td></tr>\n";
  }
  return h + "</tbody></table>\n";
}

std::string regression_table(const PairResult& p) {
  const OlsResult& o = p.regression;
  if (!p.regression_error.empty())
    return "<p class=\"def\">Regression not fitted: " + esc(p.regression_error) + "</p>\n";
  std::string h = "<p class=\"def\">OLS of Δ on category indicators and controls; standard errors CR1 clustered by "
                  "document. n = " + thousands(o.n_obs) + ", clusters = " + thousands(o.n_clusters) + ", rank = " +
                  std::to_string(o.rank) + ", R² = " + val(o.r_squared, "%.4f") + ".</p>\n"
                  "<table class=\"grid num\"><thead><tr><th>term</th><th>coefficient</th><th>SE</th><th>t</th>"
                  "</tr></thead><tbody>\n";
  for (size_t k = 0; k < o.names.size(); ++k) {
    const bool aliased = k < o.aliased.size() && o.aliased[k];
    const double coef = k < o.coef.size() ? o.coef[k] : NAN, se = k < o.se.size() ? o.se[k] : NAN;
    h += "<tr><td class=\"cat\">" + esc(o.names[k]) + "</td>";
    if (aliased) {
      h += "<td colspan=\"3\">aliased (dropped)</td></tr>\n";
      continue;
    }
    h += "<td>" + val(coef, "%+.5f") + "</td><td>" + val(se, "%.5f") + "</td><td>" +
         val(se > 0 ? coef / se : NAN, "%+.2f") + "</td></tr>\n";
  }
  return h + "</tbody></table>\n";
}

// ---- viewer data --------------------------------------------------------------------------

// The spans of kSpanUnits consecutive units where a pair's ΣΔ is largest (B wins) or smallest
// (A wins), at most kSpans each, not overlapping, across the shown documents.
constexpr size_t kSpanUnits = 8;
constexpr size_t kSpans = 12;

struct Span {
  size_t doc = 0, begin = 0, end = 0;
  double sum = 0;
};

std::vector<Span> best_spans(const AnalysisResult& r, const std::vector<size_t>& shown, size_t b, bool b_wins) {
  std::vector<Span> cand;
  for (size_t k = 0; k < shown.size(); ++k) {
    const ViewDocument& v = r.view[k];
    const size_t T = shown[k];
    std::vector<double> d(T, 0);
    std::vector<int> target(T, 0);
    for (size_t i = 0; i < T; ++i) {
      const double x = static_cast<double>(v.nll[0][i]) - v.nll[b][i];
      if (std::isfinite(x)) d[i] = x, target[i] = 1;
    }
    const size_t w = std::min(kSpanUnits, T);
    double sum = 0;
    int targets = 0;
    for (size_t i = 0; i < T; ++i) {
      sum += d[i];
      targets += target[i];
      if (i >= w) sum -= d[i - w], targets -= target[i - w];
      if (i + 1 >= w && targets > 0) cand.push_back(Span{k, i + 1 - w, i + 1, sum});
    }
  }
  std::stable_sort(cand.begin(), cand.end(),
                   [&](const Span& x, const Span& y) { return b_wins ? x.sum > y.sum : x.sum < y.sum; });
  std::vector<Span> out;
  for (const Span& s : cand) {
    if (out.size() >= kSpans || (b_wins ? s.sum <= 0 : s.sum >= 0)) break;
    bool overlaps = false;
    for (const Span& o : out) overlaps |= o.doc == s.doc && s.begin < o.end && o.begin < s.end;
    if (!overlaps) out.push_back(s);
  }
  return out;
}

// A diverging colour scale's half-range: the 95th percentile of |Δ| over the shown targets of
// the first pair, rounded up to 1, 2 or 5 × 10^k (at least 0.01).
double colour_scale(const AnalysisResult& r, const std::vector<size_t>& shown) {
  std::vector<float> a;
  for (size_t k = 0; k < shown.size(); ++k)
    for (size_t i = 0; i < shown[k] && r.models.size() >= 2; ++i) {
      const float x = r.view[k].nll[0][i] - r.view[k].nll[1][i];
      if (std::isfinite(x)) a.push_back(std::fabs(x));
    }
  if (a.empty()) return 1;
  const size_t q = std::min(a.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(a.size())));
  std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(q), a.end());
  return html::nice_ceil(std::max(0.01, static_cast<double>(a[q])));
}

// The visible text of each unit and the uncovered text before it, cut at character boundaries
// (a unit holding part of a character shows the whole character; the next shows what is left).
struct Pieces {
  std::vector<std::string> unit;              // [T]
  std::vector<std::pair<size_t, std::string>> gap;  // (unit index it precedes, or T for the end; text)
};

Pieces split_text(const ViewDocument& v, size_t T) {
  Pieces p;
  const std::string_view text = v.text;
  const bool valid = !utf8_find_invalid(text).has_value();
  auto start_of = [&](size_t x) { return valid ? utf8_char_start(text, std::min(x, text.size())) : std::min(x, text.size()); };
  auto end_of = [&](size_t x) { return valid ? utf8_char_end(text, std::min(x, text.size())) : std::min(x, text.size()); };
  size_t cursor = 0;
  for (size_t i = 0; i < T; ++i) {
    const size_t b = start_of(v.begin[i]);
    if (b > cursor) p.gap.emplace_back(i, std::string(text.substr(cursor, b - cursor)));
    const size_t s = std::max(cursor, b);
    const size_t e = v.end[i] > v.begin[i] ? std::max(s, end_of(v.end[i] - 1)) : s;
    p.unit.push_back(std::string(text.substr(s, e - s)));
    cursor = e;
  }
  // A whole document keeps its tail; a cut one ends at its last shown unit.
  if (!v.truncated && T == v.begin.size() && cursor < text.size())
    p.gap.emplace_back(T, std::string(text.substr(cursor)));
  return p;
}

std::string viewer_data(const AnalysisResult& r, const HtmlStoreData& data, const HtmlOptions& opt,
                        const std::vector<size_t>& shown) {
  const size_t M = r.models.size();
  std::string j = "{\"level\":" + jstr(pair_level_name(r.level)) + ",\"unit\":" + jstr(r.unit_name()) + ",\"models\":[";
  for (size_t m = 0; m < M; ++m) item(j, m, jstr(r.models[m].model.name));
  j += "],\"top1_available\":[";
  for (size_t m = 0; m < M; ++m) item(j, m, r.models[m].header.fields.top1 ? "true" : "false");
  j += "],\"colours\":[";
  for (size_t m = 0; m < M; ++m) item(j, m, jstr(html::model_colour(m)));
  j += "],\"categories\":[";
  for (size_t c = 0; c < r.categories.size(); ++c)
    item(j, c, "[" + jstr(r.categories[c].name) + "," + jstr(r.categories[c].group) + "]");
  j += "],\"scale\":" + jnum(colour_scale(r, shown), 4);
  j += ",\"max_documents\":" + std::to_string(opt.max_documents) + ",\"max_tokens\":" + std::to_string(opt.max_tokens);

  // Distinct category sets: each unit refers to one.
  std::map<std::vector<uint16_t>, size_t> set_index;
  std::vector<const std::vector<uint16_t>*> sets;
  std::string docs;
  for (size_t k = 0; k < shown.size(); ++k) {
    const ViewDocument& v = r.view[k];
    const size_t T = shown[k];
    const Pieces pieces = split_text(v, T);
    if (k) docs += ',';
    docs += "{\"id\":" + jstr(v.id) + ",\"domain\":" + jstr(v.domain) +
            ",\"delta_sum\":" + jnum(v.delta_sum, 4) + ",\"units\":" + std::to_string(v.begin.size()) +
            ",\"cut\":" + (v.truncated || T < v.begin.size() ? "true" : "false") + ",\"t\":[";
    for (size_t i = 0; i < T; ++i) item(docs, i, jstr(pieces.unit[i]));
    docs += "],\"gap\":[";
    for (size_t g = 0; g < pieces.gap.size(); ++g)
      item(docs, g, "[" + std::to_string(pieces.gap[g].first) + "," + jstr(pieces.gap[g].second) + "]");
    docs += "],\"nll\":[";
    for (size_t m = 0; m < M; ++m) {
      docs += m ? ",[" : "[";
      for (size_t i = 0; i < T; ++i) item(docs, i, jnum(v.nll[m][i]));
      docs += "]";
    }
    docs += "],\"set\":[";
    for (size_t i = 0; i < T; ++i) {
      const auto [it, added] = set_index.emplace(v.member[i], sets.size());
      if (added) sets.push_back(&it->first);
      item(docs, i, std::to_string(it->second));
    }
    docs += "]";
    if (k < data.top1.size() && data.top1[k].size() == M) {
      docs += ",\"top1\":[";
      for (size_t m = 0; m < M; ++m) {
        const ViewTop1& t = data.top1[k][m];
        docs += m ? ",[" : "[";
        for (size_t i = 0; i < T && i < t.id.size(); ++i) item(docs, i, std::to_string(t.id[i]));
        docs += "]";
      }
      docs += "],\"top1_lp\":[";
      for (size_t m = 0; m < M; ++m) {
        const ViewTop1& t = data.top1[k][m];
        docs += m ? ",[" : "[";
        for (size_t i = 0; i < T && i < t.logprob.size(); ++i) item(docs, i, jnum(t.logprob[i]));
        docs += "]";
      }
      docs += "]";
    }
    docs += "}";
  }
  j += ",\"sets\":[";
  for (size_t s = 0; s < sets.size(); ++s) {
    j += s ? ",[" : "[";
    for (size_t c = 0; c < sets[s]->size(); ++c) item(j, c, std::to_string((*sets[s])[c]));
    j += "]";
  }
  j += "],\"vocab\":[";
  for (size_t m = 0; m < M; ++m) {
    j += m ? ",{" : "{";
    bool first = true;
    if (m < data.top1_text.size())
      for (const auto& [id, text] : data.top1_text[m]) {
        if (!first) j += ',';
        j += "\"" + std::to_string(id) + "\":" + jstr(text);
        first = false;
      }
    j += "}";
  }
  j += "],\"spans\":[";
  for (size_t b = 1; b < M; ++b) {
    j += b > 1 ? ",{" : "{";
    for (int side = 0; side < 2; ++side) {
      j += side ? "],\"a\":[" : "\"b\":[";
      const std::vector<Span> spans = best_spans(r, shown, b, side == 0);
      for (size_t s = 0; s < spans.size(); ++s)
        item(j, s, "[" + std::to_string(spans[s].doc) + "," + std::to_string(spans[s].begin) + "," +
                       std::to_string(spans[s].end) + "," + jnum(spans[s].sum, 4) + "]");
    }
    j += "]}";
  }
  j += "],\"docs\":[" + docs + "]}";
  return j;
}

std::string viewer_section(const AnalysisResult& r, const std::vector<size_t>& shown, const HtmlOptions& opt) {
  uint64_t units = 0;
  bool cut = false;
  for (size_t k = 0; k < shown.size(); ++k) {
    units += shown[k];
    cut |= r.view[k].truncated || shown[k] < r.view[k].begin.size();
  }
  std::string h = "<section id=\"viewer\"><h2>Document viewer</h2>\n<p class=\"def viewer-note\">Showing " +
                  std::to_string(shown.size()) + " of " + thousands(r.documents) + " documents (" + thousands(units) +
                  " " + r.unit_name() + "s): the documents with the largest |ΣΔ| of the first pair, at most " +
                  std::to_string(opt.max_documents) + " documents and " + thousands(opt.max_tokens) + " " +
                  r.unit_name() + "s in all" + (cut ? "; long documents are cut (marked “cut”)" : "") +
                  ". Each " + r.unit_name() + " is coloured by Δ; hover for both models' probabilities and top-1 "
                  "predictions; grey text was not a target.</p>\n";
  if (shown.empty()) return h + "<p>No document to show.</p></section>\n";
  h += "<div class=\"controls\">"
       "<label>document <select id=\"doc-select\"></select></label>"
       "<label id=\"pair-label\">B <select id=\"pair-select\"></select></label>"
       "<label>category <select id=\"cat-select\"><option value=\"-1\">all " + std::string(r.unit_name()) +
       "s</option></select></label>"
       "<span class=\"legend\"><span id=\"legend-a\"></span><span class=\"bar\"></span><span id=\"legend-b\"></span>"
       "</span></div>\n"
       "<div class=\"viewer-body\"><div id=\"doc-view\" class=\"doc\"></div>"
       "<aside class=\"spans\"><h3>Where B wins most</h3><ol id=\"spans-b\"></ol>"
       "<h3>Where A wins most</h3><ol id=\"spans-a\"></ol><p class=\"def\">Windows of " +
       std::to_string(kSpanUnits) + " " + r.unit_name() + "s by ΣΔ; click to jump.</p></aside></div>\n"
       "<div id=\"tooltip\" role=\"tooltip\" hidden></div>\n";
  return h + "</section>\n";
}

// Everything before <main>: the self-contained page's head (nothing may be loaded from anywhere)
// and the header with its navigation links [(anchor, label)].
std::string page_start(const std::string& title, const std::string& tool_version,
                       const std::vector<std::pair<std::string, std::string>>& nav) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
                  "<meta name=\"generator\" content=\"lossgap " + esc(tool_version) + "\">\n<title>" + esc(title) +
                  "</title>\n<style>\n" + html_asset("report.css") + "</style>\n</head>\n<body>\n";
  h += "<header><h1>" + esc(title) + "</h1><nav>";
  for (const auto& [anchor, label] : nav) h += "<a href=\"#" + anchor + "\">" + label + "</a>";
  return h + "</nav></header>\n<main>\n";
}

// `page` to the file `out` ("-": stdout); InputError naming `out` when it cannot be written.
void write_page(const std::string& page, const std::filesystem::path& out) {
  if (out == "-") {
    std::cout << page << std::flush;
    if (!std::cout) throw InputError("-", "cannot write the HTML report to stdout");
    return;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(out.string(), "cannot open the HTML report file for writing");
  f.write(page.data(), static_cast<std::streamsize>(page.size()));
  f.close();
  if (!f) throw InputError(out.string(), "cannot write the HTML report file");
}

std::string ci_cell(double v, double lo, double hi, const char* f) {
  const std::string ci = std::isnan(lo) || std::isnan(hi) ? "–" : fmt(f, lo) + ", " + fmt(f, hi);
  return "<td class=\"num\">" + fmt(f, v) + " [" + ci + "]</td>";
}

}  // namespace

std::string render_html(const AnalysisResult& r, const HtmlStoreData& data, const HtmlOptions& opt) {
  const std::vector<size_t> shown = shown_units(r, opt);
  std::string title = "lossgap report";
  if (!r.models.empty()) {
    title += ": ";
    for (size_t m = 0; m < r.models.size(); ++m) {
      if (m) title += " vs ";
      title += r.models[m].model.name;
    }
  }
  std::string h = page_start(title, r.tool_version,
                             {{"run", "run"}, {"charts", "charts"}, {"tables", "tables"}, {"viewer", "viewer"}});
  h += run_section(r, data);

  h += "<section id=\"charts\"><h2>Charts</h2>\n";
  h += html::losses_chart(r);
  for (const PairResult& p : r.pairs) {
    h += "<h3 class=\"pair\">" + esc(p.model_a) + " (A) vs " + esc(p.model_b) + " (B)</h3>\n<div class=\"charts\">\n";
    h += html::category_chart(r, p);
    h += html::series_chart(p.by_copy_distance, "Δ against copy distance",
                            "distance to the previous occurrence (" + std::string(r.unit_name()) + "s), copy_len ≥ 1",
                            "DIST ", r.unit_name());
    h += html::series_chart(p.by_position, "Δ against position", "position in the window (" +
                            std::string(r.unit_name()) + "s before the target)", "POS ", r.unit_name());
    std::vector<CategoryRow> freq;
    for (size_t k = 0; k < p.categories.size() && k < r.categories.size(); ++k)
      if (r.categories[k].group == "frequency") freq.push_back(p.categories[k]);
    if (!freq.empty())
      h += html::series_chart(freq, "Δ against frequency", "count of the " + std::string(r.unit_name()) +
                              " in the analysed records", "FREQ ", r.unit_name());
    h += "</div>\n";
  }
  if (!data.probes.rows.empty()) h += html::probe_charts(data.probes);
  h += "</section>\n";

  h += "<section id=\"tables\"><h2>Tables</h2>\n";
  for (const PairResult& p : r.pairs) {
    h += "<h3 class=\"pair\">" + esc(p.model_a) + " (A) vs " + esc(p.model_b) + " (B)</h3>\n";
    h += "<details open><summary>Every category (click a column to sort)</summary>\n" + category_table(r, p) +
         "</details>\n";
    h += "<details><summary>Regression</summary>\n" + regression_table(p) + "</details>\n";
  }
  h += "</section>\n";

  h += viewer_section(r, shown, opt);
  h += "</main>\n<script type=\"application/json\" id=\"lossgap-data\">" +
       script_safe(viewer_data(r, data, opt, shown)) + "</script>\n<script>\n" + html_asset("report.js") +
       "</script>\n</body>\n</html>\n";
  return h;
}

void write_html_report(const AnalysisResult& r, const HtmlOptions& opt, const std::filesystem::path& out) {
  const HtmlStoreData data = read_html_store_data(r.store, r, opt);
  write_page(render_html(r, data, opt), out);
}

std::string render_probe_html(const ProbeCurves& probes, const std::string& store, const std::string& note) {
  std::string title = "lossgap probes: ";
  for (size_t m = 0; m < probes.models.size(); ++m) title += (m ? " vs " : "") + probes.models[m];
  std::string h = page_start(title, tool_version(), {{"run", "run"}, {"charts", "charts"}, {"tables", "tables"}});
  h += "<section id=\"run\"><h2>Run</h2>\n<p class=\"def\">Run store <code>" + esc(store) +
       "</code>; models, baseline first: <b>";
  for (size_t m = 0; m < probes.models.size(); ++m) h += (m ? "</b>, <b>" : "") + esc(probes.models[m]);
  h += "</b>. Distances in " + esc(probes.distance_unit) + "; report made by lossgap " + esc(tool_version()) +
       " (" + esc(git_commit()) + ").</p>\n";
  if (!note.empty()) h += "<p class=\"def\">" + esc(note) + "</p>\n";
  h += "</section>\n<section id=\"charts\"><h2>Charts</h2>\n" + html::probe_charts(probes) + "</section>\n";
  h += "<section id=\"tables\"><h2>Tables</h2>\n<table class=\"grid\"><thead><tr><th>task</th><th>distance</th>"
       "<th>model</th><th>n</th><th>chance</th><th>accuracy [95% CI]</th><th>mean log-prob [95% CI]</th></tr>"
       "</thead><tbody>\n";
  for (const ProbeCurveRow& row : probes.rows)
    h += "<tr><td>" + esc(row.task) + "</td><td class=\"num\">" + std::to_string(row.distance) + "</td><td>" +
         esc(probes.models[row.model]) + "</td><td class=\"num\">" + std::to_string(row.n) +
         "</td><td class=\"num\">" + fmt("%.3f", row.chance) + "</td>" +
         ci_cell(row.accuracy, row.accuracy_lo, row.accuracy_hi, "%.3f") +
         ci_cell(row.logprob, row.logprob_lo, row.logprob_hi, "%.3f") + "</tr>\n";
  return h + "</tbody></table></section>\n</main>\n</body>\n</html>\n";
}

void write_probe_html_report(const ProbeCurves& probes, const std::string& store, const std::string& note,
                             const std::filesystem::path& out) {
  if (probes.rows.empty()) throw InputError(store, "the run store holds no probe results");
  write_page(render_probe_html(probes, store, note), out);
}

}  // namespace lossgap
