// The comparison analysis (analysis.h): taggers, categories, filter, statistics, viewer documents.
#include "core/version.h"
#include "analysis/analysis.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "stats/categories.h"
#include "stats/regression.h"
#include "tags/context.h"
#include "tags/copy.h"
#include "tags/delim.h"
#include "tags/form.h"

namespace lossgap {

namespace {

// The group of a category made by standard_categories(), from its name.
std::string standard_group(const std::string& name) {
  if (name == "ALL") return "overall";
  if (name == "CONTENT" || name == "FUNCTION" || name == "CONTENT∩NO-COPY") return "pos";
  if (name.starts_with("COPY-") || name == "NO-COPY") return "copy";
  if (name.starts_with("DELIM-")) return "delim";
  if (name.starts_with("FORM/")) return "form";
  if (name.starts_with("DOMAIN/")) return "domain";
  LG_CHECK(false, "standard category '" + name + "' has no group");
  return "";
}

// Span labels from a document's extra JSON: "spans": [{"start": B, "end": E, "label": "L"}, ...].
std::vector<SpanLabel> span_labels(const std::string& extra, const std::string& doc_id) {
  std::vector<SpanLabel> out;
  const std::string where = "document " + doc_id + " \"spans\"";
  const nlohmann::json j = nlohmann::json::parse(extra, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("spans")) return out;
  const nlohmann::json& s = j["spans"];
  if (!s.is_array()) throw InputError(where, "expected an array of {\"start\", \"end\", \"label\"} objects");
  for (size_t k = 0; k < s.size(); ++k) {
    const nlohmann::json& e = s[k];
    const std::string at = where + "[" + std::to_string(k) + "]";
    if (!e.is_object() || !e.contains("start") || !e.contains("end") || !e.contains("label") ||
        !e["start"].is_number_unsigned() || !e["end"].is_number_unsigned() || !e["label"].is_string())
      throw InputError(at, "expected {\"start\": byte, \"end\": byte, \"label\": string}, found " + e.dump());
    const uint64_t b = e["start"].get<uint64_t>(), en = e["end"].get<uint64_t>();
    if (b > std::numeric_limits<uint32_t>::max() || en > std::numeric_limits<uint32_t>::max())
      throw InputError(at, "byte offsets must be below 2^32");
    out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(en), e["label"].get<std::string>()});
  }
  return out;
}

template <class Pred>
TokenMask mask_of(size_t n, Pred&& p) {
  TokenMask m(n);
  for (size_t i = 0; i < n; ++i)
    if (p(i)) m.set(i);
  return m;
}

}  // namespace

AnalysisResult analyse(LoadedRun run, const AnalysisOptions& opt) {
  Records& r = run.records;
  const size_t N = r.n_tokens(), D = r.n_docs(), M = r.n_models();
  AnalysisResult out;
  out.tool_version = tool_version();
  out.git_commit = git_commit();
  out.store = run.store.string();
  out.models = run.runs;
  out.level = run.level;
  out.level_note = run.level_note;
  out.where = opt.where.text();
  out.bootstrap = opt.bootstrap;
  out.documents = D;
  out.documents_excluded = run.documents_excluded;
  out.units = N;
  out.bytes = r.text.size();
  out.warnings = run.warnings;

  auto clock = std::chrono::steady_clock::now();
  auto lap = [&](const char* stage) {
    const auto now = std::chrono::steady_clock::now();
    out.timing.push_back({stage, std::chrono::duration<double>(now - clock).count()});
    clock = now;
  };

  // Taggers.
  const CopyTags copy = tag_copy(r);
  lap("tag_copy");
  const DelimTags delim = tag_delim(r);
  lap("tag_delim");
  const std::vector<FormClass> form = tag_form(r, delim.doc_class);
  lap("tag_form");
  const ContextTags ctx = tag_context(r);
  lap("tag_context");
  std::vector<uint16_t> pos_tag;
  TokenMask content, function, other, initial, continuation;
  std::vector<std::string> upos_names;  // the tagger's UPOS tags, sorted
  std::vector<TokenMask> upos_masks;    // [upos_names.size()]
  if (opt.pos_tagger) {
    const PosTagger& tagger = *opt.pos_tagger;
    out.pos_tagged = true;
    pos_tag.assign(N, Filter::kNoTag);
    std::vector<uint8_t> is_initial(N, 0);
    // Documents in parallel, the longest first (dynamic scheduling then balances the cores);
    // each writes its own tokens, so the result does not depend on the threads.
    std::vector<size_t> order(D);
    for (size_t d = 0; d < D; ++d) order[d] = d;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return r.text_begin[a + 1] - r.text_begin[a] > r.text_begin[b + 1] - r.text_begin[b];
    });
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t k = 0; k < D; ++k) {
      const size_t d = order[k];
      const size_t b = r.doc_begin[d], n = r.doc_begin[d + 1] - b;
      std::vector<std::pair<uint32_t, uint32_t>> spans(n);
      for (size_t t = 0; t < n; ++t) spans[t] = {r.byte_begin[b + t], r.byte_end[b + t]};
      const DocumentPos dp = tag_tokens(tagger, r.doc_text(d), spans);
      for (size_t t = 0; t < n; ++t) {
        if (dp.tokens[t].word >= 0) pos_tag[b + t] = dp.tokens[t].tag;
        is_initial[b + t] = dp.tokens[t].word_initial ? 1 : 0;
      }
    }
    lap("tag_pos");
    // Per tag id: its class and the index of its UPOS among the sorted names.
    for (uint16_t t = 0; t < tagger.n_tags(); ++t) {
      const std::string u(tagger.upos(t));
      if (std::find(upos_names.begin(), upos_names.end(), u) == upos_names.end()) upos_names.push_back(u);
    }
    std::sort(upos_names.begin(), upos_names.end());
    std::vector<PosClass> tag_class(tagger.n_tags());
    std::vector<size_t> tag_upos(tagger.n_tags());
    for (uint16_t t = 0; t < tagger.n_tags(); ++t) {
      tag_class[t] = pos_class_of(tagger.upos(t));
      tag_upos[t] = static_cast<size_t>(
          std::find(upos_names.begin(), upos_names.end(), tagger.upos(t)) - upos_names.begin());
    }
    content = function = other = initial = continuation = TokenMask(N);
    upos_masks.assign(upos_names.size(), TokenMask(N));
    for (size_t i = 0; i < N; ++i) {
      const uint16_t t = pos_tag[i];
      const PosClass c = t == Filter::kNoTag ? PosClass::Other : tag_class[t];
      (c == PosClass::Content ? content : c == PosClass::Function ? function : other).set(i);
      if (is_initial[i]) initial.set(i);
      if (t != Filter::kNoTag) {
        if (!is_initial[i]) continuation.set(i);
        upos_masks[tag_upos[t]].set(i);
      }
    }
    lap("pos_masks");
  }
  const TagColumns cols{copy, delim, form, ctx, opt.pos_tagger ? &content : nullptr,
                        opt.pos_tagger ? &function : nullptr};

  // Categories, grouped in table order.
  std::vector<Category> cats;
  {
    std::vector<Category> std_cats = standard_categories(r, cols);
    std::vector<std::pair<std::string, Category>> grouped;
    for (Category& c : std_cats) grouped.emplace_back(standard_group(c.name), std::move(c));
    auto take = [&](const std::string& group) {
      for (auto& [g, c] : grouped)
        if (g == group) {
          out.categories.push_back({c.name, g});
          cats.push_back(std::move(c));
        }
    };
    auto add = [&](std::string name, const std::string& group, TokenMask m) {
      out.categories.push_back({name, group});
      cats.push_back({std::move(name), std::move(m)});
    };
    take("overall");
    if (opt.pos_tagger) {
      // CONTENT, FUNCTION, then OTHER, CONTENT∩NO-COPY, WORD-INITIAL, CONTINUATION.
      for (auto& [g, c] : grouped)
        if (g == "pos" && c.name != "CONTENT∩NO-COPY") {
          out.categories.push_back({c.name, g});
          cats.push_back(std::move(c));
        }
      add("OTHER", "pos", other);
      for (auto& [g, c] : grouped)
        if (g == "pos" && c.name == "CONTENT∩NO-COPY") {
          out.categories.push_back({c.name, g});
          cats.push_back(std::move(c));
        }
      add("WORD-INITIAL", "pos", initial);
      add("CONTINUATION", "pos", continuation);
      for (size_t u = 0; u < upos_names.size(); ++u) add("UPOS/" + upos_names[u], "upos", std::move(upos_masks[u]));
    }
    take("copy");
    take("delim");
    take("form");
    for (Category& c : position_bins(ctx)) add(c.name, "position", std::move(c.members));
    uint8_t max_f = 0;
    for (uint8_t b : ctx.freq_bucket) max_f = std::max(max_f, b);
    std::vector<TokenMask> freq(N > 0 ? max_f + 1u : 0u, TokenMask(N));
    for (size_t i = 0; i < N; ++i) freq[ctx.freq_bucket[i]].set(i);
    for (size_t b = 0; b < freq.size(); ++b)
      add("FREQ " + freq_bucket_label(static_cast<uint8_t>(b)), "frequency", std::move(freq[b]));
    take("domain");
    for (const RegexTagSpec& spec : opt.regex_tags) add(spec.name, "user", tag_regex(r, spec));
    std::vector<std::vector<SpanLabel>> spans(D);
    bool any_spans = false;
    for (size_t d = 0; d < D; ++d) {
      spans[d] = span_labels(run.doc_extra[d], r.doc_id[d]);
      any_spans = any_spans || !spans[d].empty();
    }
    if (any_spans)
      for (Category& c : tag_span_labels(r, spans)) add(c.name, "user", std::move(c.members));
  }
  lap("categories");

  // The filter: excluded units count as unscored for every model.
  if (!opt.where.empty()) {
    const Filter::Env env{r, copy, delim, form, ctx, pos_tag, opt.pos_tagger,
                          opt.pos_tagger ? &initial : nullptr, cats};
    const TokenMask keep = opt.where.evaluate(env);
    for (auto& col : r.nll)
      for (size_t i = 0; i < N; ++i)
        if (!keep.test(i)) col[i] = std::numeric_limits<float>::quiet_NaN();
  }
  for (size_t i = 0; i < N; ++i) out.targets += r.is_target(i) ? 1 : 0;
  lap("filter");

  out.losses = filtered_losses(r, loss_filters(r, cols), opt.bootstrap);
  lap("filtered_losses");

  std::vector<Category> indicators;
  for (const Category& c : cats)
    if (c.name == "CONTENT" || c.name == "FUNCTION" || c.name == "NO-COPY" || c.name == "COPY-5" ||
        c.name == "DELIM-OPEN" || c.name == "DELIM-CLOSE")
      indicators.push_back(c);
  const std::vector<Category> dist_bins = copy_distance_bins(copy, 1);
  for (size_t m = 1; m < M; ++m) {
    PairResult p;
    p.model_a = r.model[0];
    p.model_b = r.model[m];
    p.categories = compare_categories(r, 0, m, cats, opt.bootstrap);
    for (size_t k = 0; k < cats.size(); ++k)
      if (out.categories[k].group == "position") p.by_position.push_back(p.categories[k]);
    p.by_copy_distance = compare_categories(r, 0, m, dist_bins, opt.bootstrap);
    lap("compare_categories");
    try {
      p.regression = gap_regression(r, 0, m,
                                    RegressionInputs{indicators, copy, ctx, opt.pos_tagger ? &continuation : nullptr});
    } catch (const InputError& e) {
      p.regression_error = e.detail();
    }
    lap("regression");
    out.pairs.push_back(std::move(p));
  }

  // Viewer documents: the largest |ΣΔ| of the first pair (of ΣNLL with one model).
  std::vector<std::pair<double, size_t>> key;
  for (size_t d = 0; d < D; ++d) {
    double s = 0;
    for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) {
      if (!r.is_target(i)) continue;
      s += M >= 2 ? static_cast<double>(r.nll[0][i]) - r.nll[1][i] : r.nll[0][i];
    }
    key.emplace_back(s, d);
  }
  std::stable_sort(key.begin(), key.end(),
                   [](const auto& a, const auto& b) { return std::fabs(a.first) > std::fabs(b.first); });
  for (size_t k = 0; k < key.size() && k < opt.view_documents; ++k) {
    const size_t d = key[k].second;
    ViewDocument v;
    v.doc = d;
    v.id = r.doc_id[d];
    v.domain = r.doc_domain[d];
    v.text = std::string(r.doc_text(d));
    v.delta_sum = key[k].first;
    const size_t b = r.doc_begin[d];
    const size_t e = std::min<size_t>(r.doc_begin[d + 1], b + opt.view_max_tokens);
    v.truncated = e < r.doc_begin[d + 1];
    v.nll.resize(M);
    for (size_t i = b; i < e; ++i) {
      v.begin.push_back(r.byte_begin[i]);
      v.end.push_back(r.byte_end[i]);
      for (size_t m = 0; m < M; ++m) v.nll[m].push_back(r.nll[m][i]);
      std::vector<uint16_t> mem;
      for (size_t c = 1; c < cats.size(); ++c)
        if (cats[c].members.test(i)) mem.push_back(static_cast<uint16_t>(c));
      v.member.push_back(std::move(mem));
    }
    out.view.push_back(std::move(v));
  }
  lap("view_documents");
  return out;
}

}  // namespace lossgap
