// The comparison analysis (analysis.h): taggers, categories, filter, statistics, viewer documents.
#include "core/version.h"
#include "analysis/analysis.h"

#include <algorithm>
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

  // Taggers.
  const CopyTags copy = tag_copy(r);
  const DelimTags delim = tag_delim(r);
  const std::vector<FormClass> form = tag_form(r, delim.doc_class);
  const ContextTags ctx = tag_context(r);
  std::vector<uint16_t> pos_tag;
  TokenMask content, function, other, initial, continuation;
  if (opt.pos_tagger) {
    out.pos_tagged = true;
    pos_tag.assign(N, Filter::kNoTag);
    std::vector<uint8_t> is_initial(N, 0);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t d = 0; d < D; ++d) {
      std::vector<std::pair<uint32_t, uint32_t>> spans;
      for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) spans.emplace_back(r.byte_begin[i], r.byte_end[i]);
      const DocumentPos dp = tag_tokens(*opt.pos_tagger, r.doc_text(d), spans);
      for (size_t k = 0; k < dp.tokens.size(); ++k) {
        const size_t i = r.doc_begin[d] + k;
        if (dp.tokens[k].word >= 0) pos_tag[i] = dp.tokens[k].tag;
        is_initial[i] = dp.tokens[k].word_initial ? 1 : 0;
      }
    }
    auto cls = [&](size_t i) {
      return pos_tag[i] == Filter::kNoTag ? PosClass::Other : pos_class_of(opt.pos_tagger->upos(pos_tag[i]));
    };
    content = mask_of(N, [&](size_t i) { return cls(i) == PosClass::Content; });
    function = mask_of(N, [&](size_t i) { return cls(i) == PosClass::Function; });
    other = mask_of(N, [&](size_t i) { return cls(i) == PosClass::Other; });
    initial = mask_of(N, [&](size_t i) { return is_initial[i] != 0; });
    continuation = mask_of(N, [&](size_t i) { return pos_tag[i] != Filter::kNoTag && !is_initial[i]; });
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
      std::vector<std::string> upos;
      for (uint16_t t = 0; t < opt.pos_tagger->n_tags(); ++t) {
        const std::string u(opt.pos_tagger->upos(t));
        if (std::find(upos.begin(), upos.end(), u) == upos.end()) upos.push_back(u);
      }
      std::sort(upos.begin(), upos.end());
      for (const std::string& u : upos)
        add("UPOS/" + u, "upos", mask_of(N, [&](size_t i) {
              return pos_tag[i] != Filter::kNoTag && opt.pos_tagger->upos(pos_tag[i]) == u;
            }));
    }
    take("copy");
    take("delim");
    take("form");
    for (Category& c : position_bins(ctx)) add(c.name, "position", std::move(c.members));
    uint8_t max_f = 0;
    for (uint8_t b : ctx.freq_bucket) max_f = std::max(max_f, b);
    for (uint32_t b = 0; b <= max_f && N > 0; ++b)
      add("FREQ " + freq_bucket_label(static_cast<uint8_t>(b)), "frequency",
          mask_of(N, [&](size_t i) { return ctx.freq_bucket[i] == b; }));
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

  out.losses = filtered_losses(r, loss_filters(r, cols), opt.bootstrap);

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
    try {
      p.regression = gap_regression(r, 0, m,
                                    RegressionInputs{indicators, copy, ctx, opt.pos_tagger ? &continuation : nullptr});
    } catch (const InputError& e) {
      p.regression_error = e.detail();
    }
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
  return out;
}

}  // namespace lossgap
