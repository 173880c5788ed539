// JSON summary (json.h). Field meanings: docs/report-json.md; keep the two in step.
#include "report/json.h"

#include <cmath>

namespace lossgap {

namespace {

using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json interval(const Interval& i) { return json{{"lo", num(i.lo)}, {"hi", num(i.hi)}, {"valid", i.valid}}; }

json row(const CategoryRow& c) {
  return json{{"name", c.name},         {"tokens", c.tokens},       {"documents", c.documents},
              {"bytes", c.bytes},       {"nll_a", num(c.nll_a)},    {"nll_b", num(c.nll_b)},
              {"delta", num(c.delta)},  {"delta_ci", interval(c.delta_ci)},
              {"win_rate", num(c.win_rate)}, {"win_ci", interval(c.win_ci)},
              {"share", num(c.share)},  {"bpb_a", num(c.bpb_a)},    {"bpb_b", num(c.bpb_b)}};
}

json rows(const std::vector<CategoryRow>& v) {
  json a = json::array();
  for (const CategoryRow& c : v) a.push_back(row(c));
  return a;
}

json regression(const PairResult& p) {
  const OlsResult& o = p.regression;
  json terms = json::array();
  for (size_t k = 0; k < o.names.size(); ++k) {
    const double t = o.se[k] > 0 ? o.coef[k] / o.se[k] : NAN;
    terms.push_back(json{{"name", o.names[k]}, {"coef", num(o.coef[k])}, {"se", num(o.se[k])}, {"t", num(t)},
                         {"aliased", static_cast<bool>(o.aliased[k])}});
  }
  return json{{"error", p.regression_error.empty() ? json(nullptr) : json(p.regression_error)},
              {"n_obs", o.n_obs},
              {"n_clusters", o.n_clusters},
              {"rank", o.rank},
              {"r_squared", num(o.r_squared)},
              {"se_type", "CR1 clustered by document"},
              {"terms", terms}};
}

json model(const StoredRun& r) {
  const ResolvedPolicy& p = r.header.policy;
  return json{{"name", r.model.name},
              {"dir", r.model.dir},
              {"model_type", r.model.model_type},
              {"config_sha256", r.model.config_sha256},
              {"tokenizer_sha256", r.model.tokenizer_sha256},
              {"weights_sha256", r.model.weights_sha256},
              {"dtype", r.model.dtype},
              {"device", r.model.device},
              {"backend", r.model.backend},
              {"n_parameters", r.model.n_parameters},
              {"tool_version", r.header.tool_version},
              {"git_commit", r.header.git_commit},
              {"created", r.created},
              {"finished", r.finished.empty() ? json(nullptr) : json(r.finished)},
              {"documents_scored", r.documents_done},
              {"score_fields", json{{"entropy", r.header.fields.entropy},
                                    {"rank", r.header.fields.rank},
                                    {"top1", r.header.fields.top1}}},
              {"policy", json{{"context", p.context},
                              {"stride", p.stride},
                              {"bos", bos_policy_name(p.bos)},
                              {"bos_id", p.bos_id ? json(*p.bos_id) : json(nullptr)}}},
              {"corpus", json{{"path", r.header.corpus_path},
                              {"kind", r.header.corpus_kind},
                              {"sha256", r.header.corpus_sha256},
                              {"documents", r.header.corpus_documents}}}};
}

}  // namespace

nlohmann::json report_json(const AnalysisResult& r, bool include_view) {
  json j;
  j["schema"] = "lossgap-report";
  j["schema_version"] = r.schema_version;
  j["tool"] = json{{"version", r.tool_version}, {"git_commit", r.git_commit}};
  j["store"] = r.store;
  j["level"] = pair_level_name(r.level);
  j["level_note"] = r.level_note;
  j["unit"] = std::string("nats per ") + r.unit_name();
  j["filter"] = r.where.empty() ? json(nullptr) : json(r.where);
  j["bootstrap"] = json{{"resamples", r.bootstrap.resamples}, {"seed", r.bootstrap.seed}, {"level", r.bootstrap.level},
                        {"clusters", "documents"}};
  j["pos_tagged"] = r.pos_tagged;
  j["counts"] = json{{"documents", r.documents}, {"documents_excluded", r.documents_excluded},
                     {"units", r.units},         {"targets", r.targets},
                     {"bytes", r.bytes}};
  j["warnings"] = r.warnings;
  json models = json::array();
  for (const StoredRun& m : r.models) models.push_back(model(m));
  j["models"] = models;
  json cats = json::array();
  for (const CategoryInfo& c : r.categories) cats.push_back(json{{"name", c.name}, {"group", c.group}});
  j["categories"] = cats;
  json losses = json::array();
  for (const LossRow& l : r.losses)
    losses.push_back(json{{"model", l.model}, {"filter", l.filter}, {"tokens", l.tokens},
                          {"mean_nll", num(l.mean_nll)}, {"ci", interval(l.ci)}, {"bpb", num(l.bpb)}});
  j["losses"] = losses;
  json pairs = json::array();
  for (const PairResult& p : r.pairs)
    pairs.push_back(json{{"a", p.model_a},
                         {"b", p.model_b},
                         {"categories", rows(p.categories)},
                         {"by_copy_distance", rows(p.by_copy_distance)},
                         {"by_position", rows(p.by_position)},
                         {"regression", regression(p)}});
  j["pairs"] = pairs;
  if (include_view) {
    json docs = json::array();
    for (const ViewDocument& v : r.view) {
      json nll = json::array();
      for (const auto& col : v.nll) {
        json c = json::array();
        for (float x : col) c.push_back(num(x));
        nll.push_back(c);
      }
      docs.push_back(json{{"id", v.id},     {"domain", v.domain}, {"text", v.text},   {"delta_sum", num(v.delta_sum)},
                          {"truncated", v.truncated}, {"begin", v.begin}, {"end", v.end}, {"nll", nll},
                          {"member", v.member}});
    }
    j["documents"] = docs;
  }
  return j;
}

std::string render_json(const AnalysisResult& r, bool include_view) {
  // Invalid UTF-8 cannot reach here (the corpus reader rejects it), but replace rather than throw.
  return report_json(r, include_view).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace lossgap
