// CSV tables (csv.h).
#include "report/csv.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/error.h"

namespace lossgap {

namespace {

std::string field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

const char* kRowHeader =
    "level,a,b,name,tokens,documents,bytes,nll_a,nll_b,delta,delta_lo,delta_hi,win_rate,win_lo,win_hi,share,bpb_a,"
    "bpb_b";

std::string row(const AnalysisResult& r, const PairResult& p, const CategoryRow& c) {
  return std::string(pair_level_name(r.level)) + "," + field(p.model_a) + "," + field(p.model_b) + "," + field(c.name) +
         "," + std::to_string(c.tokens) + "," + std::to_string(c.documents) + "," + std::to_string(c.bytes) + "," +
         num(c.nll_a) + "," + num(c.nll_b) + "," + num(c.delta) + "," + num(c.delta_ci.lo) + "," +
         num(c.delta_ci.hi) + "," + num(c.win_rate) + "," + num(c.win_ci.lo) + "," + num(c.win_ci.hi) + "," +
         num(c.share) + "," + num(c.bpb_a) + "," + num(c.bpb_b);
}

}  // namespace

std::map<std::string, std::string> render_csv(const AnalysisResult& r) {
  std::map<std::string, std::string> out;
  std::string& models = out["models.csv"];
  models = "role,name,dir,model_type,n_parameters,dtype,config_sha256,tokenizer_sha256,weights_sha256,context,stride,"
           "bos,bos_id,corpus_path,corpus_sha256,scores\n";
  for (size_t m = 0; m < r.models.size(); ++m) {
    const StoredRun& s = r.models[m];
    const ResolvedPolicy& p = s.header.policy;
    models += std::string(m == 0 ? "A" : "B") + "," + field(s.model.name) + "," + field(s.model.dir) + "," +
              field(s.model.model_type) + "," + std::to_string(s.model.n_parameters) + "," + field(s.model.dtype) + "," +
              s.model.config_sha256 + "," + s.model.tokenizer_sha256 + "," + s.model.weights_sha256 + "," +
              std::to_string(p.context) + "," + std::to_string(p.stride) + "," + bos_policy_name(p.bos) + "," +
              (p.bos_id ? std::to_string(*p.bos_id) : "") + "," + field(s.header.corpus_path) + "," +
              s.header.corpus_sha256 + "," + field(score_fields_note(s.header.fields)) + "\n";
  }
  std::string& losses = out["losses.csv"];
  losses = "level,model,filter,tokens,mean_nll,ci_lo,ci_hi,bpb\n";
  for (const LossRow& l : r.losses)
    losses += std::string(pair_level_name(r.level)) + "," + field(l.model) + "," + field(l.filter) + "," +
              std::to_string(l.tokens) + "," + num(l.mean_nll) + "," + num(l.ci.lo) + "," + num(l.ci.hi) + "," +
              num(l.bpb) + "\n";
  std::string& cats = out["categories.csv"];
  cats = std::string(kRowHeader) + ",group\n";
  std::string& dist = out["copy_distance.csv"];
  dist = std::string(kRowHeader) + "\n";
  std::string& pos = out["position.csv"];
  pos = std::string(kRowHeader) + "\n";
  std::string& reg = out["regression.csv"];
  reg = "level,a,b,term,coef,se,aliased,n_obs,n_clusters,r_squared\n";
  for (const PairResult& p : r.pairs) {
    for (size_t k = 0; k < p.categories.size(); ++k)
      cats += row(r, p, p.categories[k]) + "," + r.categories[k].group + "\n";
    for (const CategoryRow& c : p.by_copy_distance) dist += row(r, p, c) + "\n";
    for (const CategoryRow& c : p.by_position) pos += row(r, p, c) + "\n";
    const OlsResult& o = p.regression;
    for (size_t k = 0; k < o.names.size(); ++k)
      reg += std::string(pair_level_name(r.level)) + "," + field(p.model_a) + "," + field(p.model_b) + "," +
             field(o.names[k]) + "," + num(o.coef[k]) + "," + num(o.se[k]) + "," + (o.aliased[k] ? "1" : "0") + "," +
             std::to_string(o.n_obs) + "," + std::to_string(o.n_clusters) + "," + num(o.r_squared) + "\n";
  }
  return out;
}

void write_csv(const AnalysisResult& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir.string(), "cannot create the directory: " + ec.message());
  for (const auto& [name, text] : render_csv(r)) {
    const std::filesystem::path p = dir / name;
    std::ofstream f(p, std::ios::binary);
    f << text;
    f.close();
    if (!f) throw InputError(p.string(), "cannot write the file");
  }
}

}  // namespace lossgap
