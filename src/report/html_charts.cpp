// Inline SVG charts of the HTML report (html_charts.h).
#include "report/html_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <optional>

#include "core/utf8.h"

namespace lossgap::html {

std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  const int n = std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, f);
  std::vsnprintf(big.data(), big.size(), f, ap);
  va_end(ap);
  big.pop_back();
  return big;
}

std::string clean_utf8(std::string_view s) {
  if (!utf8_find_invalid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_valid_seq_len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string esc(std::string_view raw) {
  const std::string s = clean_utf8(raw);
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string model_colour(size_t m) {
  // A in red and B in blue, as in the viewer's diverging scale (negative Δ: A better).
  static const char* const kColours[] = {"#b2182b", "#2166ac", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d"};
  return kColours[m % (sizeof kColours / sizeof kColours[0])];
}

double nice_ceil(double v) {
  const double e = std::pow(10.0, std::floor(std::log10(v)));
  for (double f : {1.0, 2.0, 5.0, 10.0})
    if (f * e >= v * (1 - 1e-12)) return f * e;
  return 10 * e;
}

namespace {

constexpr const char* kBetterA = "#b2182b";
constexpr const char* kBetterB = "#2166ac";
constexpr const char* kNeutral = "#666666";

const char* sign_colour(double d) { return d > 0 ? kBetterB : d < 0 ? kBetterA : kNeutral; }

// A linear map from [d0, d1] to [r0, r1].
struct Scale {
  double d0, d1, r0, r1;
  double operator()(double v) const { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); }
};

// About `n` round tick values covering [lo, hi], and the step between them.
std::vector<double> ticks(double lo, double hi, int n, double* step_out) {
  const double step = nice_ceil((hi - lo) / n);
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  if (step_out) *step_out = step;
  return t;
}

std::string tick_label(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return fmt("%.*f", decimals, v);
}

// [lo, hi] padded by 6% of its width on each side (a unit range around a single value).
std::pair<double, double> padded(double lo, double hi) {
  if (!(hi > lo)) {
    const double c = std::isfinite(lo) ? lo : 0;
    const double w = std::max(std::fabs(c) * 0.1, 0.01);
    return {c - w, c + w};
  }
  const double pad = (hi - lo) * 0.06;
  return {lo - pad, hi + pad};
}

std::string num_or_dash(double v, const char* f) { return std::isfinite(v) ? fmt(f, v) : "–"; }

// "[lo, hi]", or "" when the interval is undefined.
std::string bracket(double lo, double hi, const char* f) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return "";
  return "[" + fmt(f, lo) + ", " + fmt(f, hi) + "]";
}

std::string ci_str(double lo, double hi, const char* f) {
  const std::string b = bracket(lo, hi, f);
  return b.empty() ? "no CI" : "95% CI " + b;
}

std::string open_figure(const std::string& cls, const std::string& title, double w, double h) {
  return "<figure class=\"chart " + cls + "\"><figcaption>" + esc(title) + "</figcaption>\n<svg viewBox=\"0 0 " +
         fmt("%.0f %.0f", w, h) + "\" width=\"" + fmt("%.0f", w) + "\" height=\"" + fmt("%.0f", h) +
         "\" role=\"img\" aria-label=\"" + esc(title) + "\">\n";
}

std::string close_figure(const std::string& note = "") {
  return "</svg>" + (note.empty() ? "" : "<p class=\"def\">" + note + "</p>") + "</figure>\n";
}

std::string cut_label(const std::string& s, size_t max_points) {
  if (utf8_find_invalid(s) || utf8_length(s) <= max_points) return s;
  size_t pos = 0;
  for (size_t n = 0; n + 1 < max_points; ++n) pos = utf8_char_end(s, pos);
  return s.substr(0, pos) + "…";
}

// One curve of an xy chart over categorical x positions.
struct Series {
  std::string name, colour;
  std::vector<double> y, lo, hi;  // [n_x], NaN = no point / no whisker
  std::vector<std::string> tip;   // [n_x] the mark's <title>
  bool dashed = false;            // a reference line (no points)
  bool sign_points = false;       // colour points by the sign of y (Δ charts)
};

// A chart of curves over categorical x labels, with whiskers, a y axis of round ticks, and a
// zero line when 0 is inside the range.
std::string xy_chart(const std::string& cls, const std::string& title, const std::vector<std::string>& xl,
                     const std::vector<Series>& series, const std::string& x_title, const std::string& y_title,
                     std::optional<std::pair<double, double>> y_fixed, bool include_zero, const std::string& note) {
  const double W = 440, H = 280, L = 58, R = 12, T = series.size() > 1 ? 34 : 14;
  const bool rotate = xl.size() > 5;
  const double B = rotate ? 78 : 52;
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : series)
    for (size_t i = 0; i < s.y.size(); ++i)
      for (double v : {s.y[i], s.lo[i], s.hi[i]})
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  std::string h = open_figure(cls, title, W, H);
  if (xl.empty() || !std::isfinite(lo)) {
    h += "<text x=\"" + fmt("%.0f", W / 2) + "\" y=\"" + fmt("%.0f", H / 2) + "\" class=\"empty\">no data</text>\n";
    return h + close_figure(note);
  }
  if (y_fixed) {
    lo = std::min(lo, y_fixed->first);
    hi = std::max(hi, y_fixed->second);
  } else {
    if (include_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
    std::tie(lo, hi) = padded(lo, hi);
  }
  const Scale y{lo, hi, H - B, T};
  const double pw = W - L - R;
  auto x = [&](size_t i) { return L + (static_cast<double>(i) + 0.5) * pw / static_cast<double>(xl.size()); };
  double step = 0;
  for (double t : ticks(lo, hi, 5, &step)) {
    h += fmt("<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", L, W - R, y(t), y(t));
    h += fmt("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", L - 4, y(t) + 4) + tick_label(t, step) +
         "</text>\n";
  }
  if (lo < 0 && hi > 0) h += fmt("<line class=\"zero\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", L, W - R, y(0), y(0));
  h += fmt("<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", L, W - R, H - B, H - B);
  for (size_t i = 0; i < xl.size(); ++i) {
    const std::string label = esc(cut_label(xl[i], 16));
    if (rotate)
      h += fmt("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-40 %.1f %.1f)\">", x(i),
               H - B + 14, x(i), H - B + 14) + label + "</text>\n";
    else
      h += fmt("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x(i), H - B + 16) + label + "</text>\n";
  }
  h += fmt("<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", L + pw / 2, H - 6) + esc(x_title) +
       "</text>\n";
  h += fmt("<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">",
           14.0, T + (H - B - T) / 2, 14.0, T + (H - B - T) / 2) + esc(y_title) + "</text>\n";
  for (const Series& s : series) {
    std::string path;
    for (size_t i = 0; i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) path += fmt("%s%.1f,%.1f", path.empty() ? "M" : " L", x(i), y(s.y[i]));
    h += "<g class=\"series\"><path d=\"" + path + "\" fill=\"none\" stroke=\"" + s.colour + "\" stroke-width=\"" +
         (s.dashed ? "1.2\" stroke-dasharray=\"5 4\"" : "1.8\"") + "/>\n";
    if (!s.dashed)
      for (size_t i = 0; i < s.y.size(); ++i) {
        if (!std::isfinite(s.y[i])) continue;
        h += "<g><title>" + esc(i < s.tip.size() ? s.tip[i] : "") + "</title>";
        if (std::isfinite(s.lo[i]) && std::isfinite(s.hi[i]))
          h += fmt("<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", x(i), x(i),
                   y(s.lo[i]), y(s.hi[i]), s.colour.c_str());
        h += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/></g>\n", x(i), y(s.y[i]),
                 s.sign_points ? sign_colour(s.y[i]) : s.colour.c_str());
      }
    h += "</g>\n";
  }
  if (series.size() > 1) {
    double lx = L;
    for (const Series& s : series) {
      h += fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"12\" y2=\"12\" stroke=\"%s\" stroke-width=\"2\"%s/>", lx, lx + 16,
               s.colour.c_str(), s.dashed ? " stroke-dasharray=\"4 3\"" : "");
      const std::string name = cut_label(s.name, 22);
      h += fmt("<text class=\"legend\" x=\"%.1f\" y=\"16\">", lx + 20) + esc(name) + "</text>\n";
      lx += 40 + 7.5 * static_cast<double>(utf8_length(clean_utf8(name)));
    }
  }
  return h + close_figure(note);
}

}  // namespace

std::string losses_chart(const AnalysisResult& r) {
  if (r.losses.empty()) return "";
  std::vector<std::string> models;
  for (const StoredRun& s : r.models) models.push_back(s.model.name);
  std::vector<std::string> filters;
  for (const LossRow& l : r.losses)
    if (std::find(filters.begin(), filters.end(), l.filter) == filters.end()) filters.push_back(l.filter);
  static const char* const kFilterColours[] = {"#444444", "#1b9e77", "#7570b3", "#d95f02"};
  std::vector<Series> series;
  for (size_t f = 0; f < filters.size(); ++f) {
    Series s;
    s.name = filters[f];
    s.colour = kFilterColours[f % 4];
    s.y.assign(models.size(), NAN);
    s.lo = s.hi = s.y;
    s.tip.assign(models.size(), "");
    for (const LossRow& l : r.losses) {
      if (l.filter != filters[f]) continue;
      const auto it = std::find(models.begin(), models.end(), l.model);
      if (it == models.end()) continue;
      const size_t m = static_cast<size_t>(it - models.begin());
      s.y[m] = l.mean_nll;
      s.lo[m] = l.ci.lo;
      s.hi[m] = l.ci.hi;
      s.tip[m] = l.model + ", " + l.filter + ": mean NLL " + num_or_dash(l.mean_nll, "%.4f") + " nats (" +
                 ci_str(l.ci.lo, l.ci.hi, "%.4f") + "), " + std::to_string(l.tokens) + " " + r.unit_name() +
                 "s, " + num_or_dash(l.bpb, "%.4f") + " bits per byte";
    }
    series.push_back(std::move(s));
  }
  return "<div class=\"charts\">\n" +
         xy_chart("losses", "Filtered losses per model", models, series, "model (in the order given; A first)",
                  "mean NLL (nats / " + std::string(r.unit_name()) + ")", std::nullopt, false,
                  "Mean NLL over all targets, over CONTENT ∩ NO-COPY (content words that complete no repeated "
                  "n-gram) and over COPY-5 targets; across a series of checkpoints these are the study's curves.") +
         "</div>\n";
}

std::string category_chart(const AnalysisResult& r, const PairResult& p) {
  static const char* const kGroups[] = {"overall", "pos", "copy", "delim", "form", "domain", "user"};
  struct Row {
    const CategoryRow* c;
    std::string group;  // non-empty: a group header row before it
  };
  std::vector<Row> rows;
  std::string last_group;
  double lo = 0, hi = 0;
  for (size_t k = 0; k < p.categories.size() && k < r.categories.size(); ++k) {
    const CategoryRow& c = p.categories[k];
    const std::string& g = r.categories[k].group;
    if (std::find(std::begin(kGroups), std::end(kGroups), g) == std::end(kGroups)) continue;
    if (c.tokens == 0 || !std::isfinite(c.delta)) continue;
    rows.push_back(Row{&c, g != last_group ? g : ""});
    last_group = g;
    for (double v : {c.delta, c.delta_ci.lo, c.delta_ci.hi})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const std::string title = "Δ by category: " + p.model_a + " (A) vs " + p.model_b + " (B)";
  size_t headers = 0;
  for (const Row& row : rows) headers += !row.group.empty();
  const double W = 900, L = 230, PW = 420, RH = 17, GH = 19, T = 30;
  const double H = T + RH * static_cast<double>(rows.size()) + GH * static_cast<double>(headers) + 34;
  std::string h = open_figure("delta wide", title, W, H);
  std::tie(lo, hi) = padded(lo, hi);
  const Scale x{lo, hi, L, L + PW};
  double step = 0;
  const std::vector<double> tk = ticks(lo, hi, 6, &step);
  for (double t : tk) {
    h += fmt("<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x(t), x(t), T - 4, H - 30);
    h += fmt("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x(t), T - 10) + tick_label(t, step) +
         "</text>\n";
  }
  h += fmt("<line class=\"zero\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", x(0), x(0), T - 4, H - 30);
  double yy = T;
  for (const Row& row : rows) {
    if (!row.group.empty()) {
      h += fmt("<text class=\"group\" x=\"4\" y=\"%.1f\">", yy + 14) + esc(row.group) + "</text>";
      h += fmt("<line class=\"grid\" x1=\"4\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", W - 4, yy + 17.5, yy + 17.5);
      yy += GH;
    }
    const CategoryRow& c = *row.c;
    const double cy = yy + RH / 2;
    h += "<g class=\"row\"><title>" +
         esc(c.name + ": Δ = " + fmt("%+.4f", c.delta) + " nats (" + ci_str(c.delta_ci.lo, c.delta_ci.hi, "%+.4f") +
             "), " + std::to_string(c.tokens) + " " + r.unit_name() + "s in " + std::to_string(c.documents) +
             " documents, win rate of B " + num_or_dash(100 * c.win_rate, "%.1f%%") + ", share of ΣΔ " +
             num_or_dash(100 * c.share, "%.1f%%")) +
         "</title>";
    h += fmt("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", L - 8, cy + 4) + esc(cut_label(c.name, 30)) +
         "</text>";
    if (std::isfinite(c.delta_ci.lo) && std::isfinite(c.delta_ci.hi)) {
      h += fmt("<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x(c.delta_ci.lo),
               x(c.delta_ci.hi), cy, cy);
      for (double e : {c.delta_ci.lo, c.delta_ci.hi})
        h += fmt("<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x(e), x(e), cy - 4, cy + 4);
    }
    h += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", x(c.delta), cy, sign_colour(c.delta));
    h += fmt("<text class=\"value\" x=\"%.1f\" y=\"%.1f\">", L + PW + 14, cy + 4) + fmt("%+.4f", c.delta) + " " +
         bracket(c.delta_ci.lo, c.delta_ci.hi, "%+.4f") + " n=" + std::to_string(c.tokens) +
         "</text></g>\n";
    yy += RH;
  }
  h += fmt("<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", L + PW / 2, H - 10) +
       esc("Δ = NLL_A − NLL_B (nats / " + std::string(r.unit_name()) + ")   ← A better · B better →") + "</text>\n";
  return h + close_figure("Dots: mean Δ; whiskers: document-clustered bootstrap 95% CI. Every category, UPOS tag "
                          "and bin is in the tables below.");
}

std::string series_chart(const std::vector<CategoryRow>& rows, const std::string& title, const std::string& x_title,
                         const std::string& strip_prefix, const std::string& unit) {
  std::vector<std::string> xl;
  Series s;
  s.colour = "#555555";
  s.sign_points = true;
  for (const CategoryRow& c : rows) {
    if (c.tokens == 0 || !std::isfinite(c.delta)) continue;
    xl.push_back(c.name.rfind(strip_prefix, 0) == 0 ? c.name.substr(strip_prefix.size()) : c.name);
    s.y.push_back(c.delta);
    s.lo.push_back(c.delta_ci.lo);
    s.hi.push_back(c.delta_ci.hi);
    s.tip.push_back(c.name + ": Δ = " + fmt("%+.4f", c.delta) + " (" + ci_str(c.delta_ci.lo, c.delta_ci.hi, "%+.4f") +
                    "), " + std::to_string(c.tokens) + " " + unit + "s, win rate of B " +
                    num_or_dash(100 * c.win_rate, "%.1f%%"));
  }
  return xy_chart("delta", title, xl, {s}, x_title, "Δ (nats / " + unit + ")", std::nullopt, true, "");
}

std::string probe_charts(const ProbeCurves& probes) {
  std::vector<std::string> tasks;
  for (const ProbeCurveRow& row : probes.rows)
    if (std::find(tasks.begin(), tasks.end(), row.task) == tasks.end()) tasks.push_back(row.task);
  std::string h = "<h3>Probes</h3>\n<p class=\"def\">The latest <code>lossgap probe</code> run of the store: per task "
                  "and distance (" + esc(probes.distance_unit) + "), each model's accuracy (the target continuation "
                  "beats every distractor; dashed: chance) and mean target log-probability, with bootstrap 95% CIs "
                  "over instances.</p>\n<div class=\"charts\">\n";
  for (const std::string& task : tasks) {
    std::vector<int64_t> dist;
    for (const ProbeCurveRow& row : probes.rows)
      if (row.task == task && std::find(dist.begin(), dist.end(), row.distance) == dist.end()) dist.push_back(row.distance);
    std::sort(dist.begin(), dist.end());
    std::vector<std::string> xl;
    for (int64_t d : dist) xl.push_back(std::to_string(d));
    for (int metric = 0; metric < 2; ++metric) {
      std::vector<Series> series;
      Series chance;
      chance.name = "chance";
      chance.colour = "#999999";
      chance.dashed = true;
      chance.y.assign(dist.size(), NAN);
      chance.lo = chance.hi = chance.y;
      for (size_t m = 0; m < probes.models.size(); ++m) {
        Series s;
        s.name = probes.models[m];
        s.colour = model_colour(m);
        s.y.assign(dist.size(), NAN);
        s.lo = s.hi = s.y;
        s.tip.assign(dist.size(), "");
        for (const ProbeCurveRow& row : probes.rows) {
          if (row.task != task || row.model != m) continue;
          const size_t i = static_cast<size_t>(std::find(dist.begin(), dist.end(), row.distance) - dist.begin());
          if (metric == 0) {
            s.y[i] = row.accuracy, s.lo[i] = row.accuracy_lo, s.hi[i] = row.accuracy_hi;
            chance.y[i] = row.chance;
          } else {
            s.y[i] = row.logprob, s.lo[i] = row.logprob_lo, s.hi[i] = row.logprob_hi;
          }
          s.tip[i] = s.name + ", " + task + ", distance " + std::to_string(row.distance) + ": accuracy " +
                     fmt("%.3f", row.accuracy) + " (" + ci_str(row.accuracy_lo, row.accuracy_hi, "%.3f") +
                     "), mean log-prob " + fmt("%.3f", row.logprob) + " (" +
                     ci_str(row.logprob_lo, row.logprob_hi, "%.3f") + "), n = " + std::to_string(row.n);
        }
        series.push_back(std::move(s));
      }
      if (metric == 0) series.push_back(std::move(chance));
      h += xy_chart("probe", task + (metric == 0 ? ": accuracy" : ": mean target log-probability"), xl, series,
                    "distance (" + probes.distance_unit + ")", metric == 0 ? "accuracy" : "log-prob (nats)",
                    metric == 0 ? std::optional<std::pair<double, double>>({0.0, 1.0}) : std::nullopt, false, "");
    }
  }
  return h + "</div>\n";
}

}  // namespace lossgap::html
