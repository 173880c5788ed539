// Terminal summary (summary.h).
#include "report/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace lossgap {

namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string val(double v, int prec = 3) { return std::isfinite(v) ? fmt("%.*f", prec, v) : "-"; }
std::string signed_val(double v) { return std::isfinite(v) ? fmt("%+.4f", v) : "-"; }
std::string ci(const Interval& i) {
  if (!std::isfinite(i.lo) || !std::isfinite(i.hi)) return "-";
  return fmt("[%+.3f, %+.3f]", i.lo, i.hi);
}

// Cuts a name to `w` display columns (counting UTF-8 code points), marking the cut with '~'.
std::string fit(const std::string& s, size_t w) {
  size_t cols = 0, i = 0;
  while (i < s.size()) {
    size_t len = 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    if (cols + 1 > w) break;
    i += len;
    ++cols;
  }
  if (i >= s.size()) return s + std::string(w - cols, ' ');
  // Too long: keep w - 1 code points and a '~'.
  size_t keep = 0, k = 0;
  for (size_t n = 0; n + 1 < w && k < s.size(); ++n) {
    const auto c = static_cast<unsigned char>(s[k]);
    k += c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    keep = k;
  }
  return s.substr(0, keep) + "~";
}

std::string count(uint64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

bool main_group(const std::string& g) {
  return g == "overall" || g == "pos" || g == "copy" || g == "delim" || g == "domain" || g == "user";
}

}  // namespace

std::string render_summary(const AnalysisResult& r) {
  std::string o;
  const char* unit = r.unit_name();
  const StoredRun& base = r.models.front();
  const ResolvedPolicy& p = base.header.policy;
  o += fmt("lossgap report: %s\n", r.store.c_str());
  for (size_t m = 0; m < r.models.size(); ++m) {
    const StoredRun& s = r.models[m];
    o += fmt("  %s %-24s %s, %s params, %s, weights %.12s\n", m == 0 ? "A" : "B", s.model.name.c_str(),
             s.model.model_type.c_str(), count(static_cast<uint64_t>(s.model.n_parameters)).c_str(),
             s.model.dtype.c_str(), s.model.weights_sha256.c_str());
    if (!s.header.fields.all()) o += "      scores: " + score_fields_note(s.header.fields) + "\n";
  }
  o += fmt("  policy: context %lld, stride %lld, bos %s%s\n", static_cast<long long>(p.context),
           static_cast<long long>(p.stride), bos_policy_name(p.bos),
           p.bos_id ? (" (id " + std::to_string(*p.bos_id) + ")").c_str() : "");
  o += fmt("  corpus: %s (%s, sha256 %.12s)\n", base.header.corpus_path.c_str(), base.header.corpus_kind.c_str(),
           base.header.corpus_sha256.c_str());
  o += fmt("  level: %s\n    (%s)\n", unit, r.level_note.c_str());
  o += fmt("  %s documents (%s excluded: not scored by every model), %s %ss, %s targets, %s bytes\n",
           count(r.documents).c_str(), count(r.documents_excluded).c_str(), count(r.units).c_str(), unit,
           count(r.targets).c_str(), count(r.bytes).c_str());
  o += fmt("  filter: %s\n  CIs: %u-resample document bootstrap, seed %llu; POS: %s\n",
           r.where.empty() ? "none" : r.where.c_str(), r.bootstrap.resamples,
           static_cast<unsigned long long>(r.bootstrap.seed), r.pos_tagged ? "tagged" : "off");
  for (const std::string& w : r.warnings) o += "  warning: " + w + "\n";

  // Filtered losses, one line per model and filter.
  o += fmt("\nFiltered losses: mean NLL in nats per %s, 95%% CI, bits per byte\n", unit);
  o += fmt("  %-28s %-18s %10s %8s %-18s %6s\n", "model", "filter", unit, "NLL", "95% CI", "bpb");
  for (const LossRow& l : r.losses) {
    const std::string c = std::isfinite(l.ci.lo) ? fmt("[%.3f, %.3f]", l.ci.lo, l.ci.hi) : "-";
    o += "  " + fit(l.model, 28) + " " + fit(l.filter, 18) +
         fmt(" %10s %8s %-18s %6s\n", count(l.tokens).c_str(), val(l.mean_nll).c_str(), c.c_str(), val(l.bpb).c_str());
  }

  for (const PairResult& pr : r.pairs) {
    o += fmt("\nA = %s vs B = %s\n  Δ = NLL_A - NLL_B in nats per %s; Δ > 0 and win%% > 50 mean B predicts better\n",
             pr.model_a.c_str(), pr.model_b.c_str(), unit);
    o += fmt("  %-22s %10s %6s %7s %7s %9s %-18s %5s %6s\n", "category", unit, "docs", "NLL A", "NLL B", "Δ",
             "95% CI", "win%", "share");
    std::vector<size_t> idx;
    for (size_t k = 0; k < pr.categories.size(); ++k)
      if (main_group(r.categories[k].group) && pr.categories[k].tokens > 0 && r.categories[k].name != "ALL")
        idx.push_back(k);
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return pr.categories[a].delta > pr.categories[b].delta; });
    for (size_t k = 0; k < pr.categories.size(); ++k)
      if (r.categories[k].name == "ALL") idx.insert(idx.begin(), k);
    for (size_t k : idx) {
      const CategoryRow& c = pr.categories[k];
      o += "  " + fit(c.name, 22) +
           fmt(" %10s %6s %7s %7s %8s %-18s %5s %6s\n", count(c.tokens).c_str(), count(c.documents).c_str(),
               val(c.nll_a).c_str(), val(c.nll_b).c_str(), signed_val(c.delta).c_str(), ci(c.delta_ci).c_str(),
               val(100 * c.win_rate, 1).c_str(), val(100 * c.share, 1).c_str());
    }
    const OlsResult& reg = pr.regression;
    if (!pr.regression_error.empty()) {
      o += "  regression: not fitted (" + pr.regression_error + ")\n";
    } else {
      o += fmt("  regression of Δ (OLS, SEs clustered by document; %s rows, %s documents, R² %.3f):\n",
               count(reg.n_obs).c_str(), count(reg.n_clusters).c_str(), reg.r_squared);
      std::string line = "   ";
      for (size_t k = 0; k < reg.names.size(); ++k) {
        const std::string cell = reg.aliased[k] ? reg.names[k] + " aliased"
                                                : reg.names[k] + " " + signed_val(reg.coef[k]) + " (" +
                                                      val(reg.se[k], 4) + ")";
        if (line.size() + cell.size() + 2 > 98) {
          o += line + "\n";
          line = "   ";
        }
        line += " " + cell + (k + 1 < reg.names.size() ? ";" : "");
      }
      o += line + "\n";
    }
  }
  o += fmt("\n%zu categories, copy-distance and position bins, and every coefficient: --json / --csv.\n",
           r.categories.size());
  return o;
}

}  // namespace lossgap
