// What the HTML report reads from the run store besides the AnalysisResult (html.h): each
// model's top-1 predictions on the viewed documents (decoded with the model's own tokenizer when
// it is still where it was scored, with the same identity hash), and the latest probe run's
// summary. Read-only; the tables are those of docs/store.md.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/hash.h"
#include "report/html.h"
#include "store/sqlite.h"
#include "tokenizer/tokenizer.h"

namespace lossgap {

namespace fs = std::filesystem;

std::vector<size_t> shown_units(const AnalysisResult& r, const HtmlOptions& opt) {
  std::vector<size_t> shown;
  uint64_t left = opt.max_tokens;
  for (const ViewDocument& v : r.view) {
    if (shown.size() >= opt.max_documents || left == 0) break;
    const size_t n = std::min<uint64_t>(v.begin.size(), left);
    shown.push_back(n);
    left -= n;
  }
  return shown;
}

namespace {

// The tokenizer identity the store records (docs/store.md `tokenizers.sha256`) of the files in
// `dir` now, or "" when tokenizer.json is missing.
std::string tokenizer_identity(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "tokenizer.json", ec)) return "";
  std::string key = sha256_file(dir / "tokenizer.json");
  if (fs::exists(dir / "tokenizer_config.json", ec)) key += "+" + sha256_file(dir / "tokenizer_config.json");
  return sha256_bytes(key);
}

double real_or_nan(const sql::Stmt& st, int col) { return st.col_is_null(col) ? NAN : st.col_double(col); }

bool has_table(sql::Db& db, const char* name) {
  sql::Stmt st(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  st.bind(1, std::string_view(name));
  return st.step();
}

ProbeCurves read_probes(sql::Db& db) {
  ProbeCurves pc;
  if (!has_table(db, "probe_summary") || !has_table(db, "probe_models") || !has_table(db, "probe_runs")) return pc;
  const auto run = db.query_int("SELECT MAX(probe_run_id) FROM probe_summary");
  if (!run) return pc;
  {
    sql::Stmt st(db, "SELECT name FROM probe_models WHERE probe_run_id = ?1 ORDER BY model_index");
    st.bind(1, *run);
    while (st.step()) pc.models.push_back(st.col_text(0));
  }
  {
    sql::Stmt st(db, "SELECT distance_unit FROM probe_runs WHERE probe_run_id = ?1");
    st.bind(1, *run);
    if (st.step()) pc.distance_unit = st.col_text(0);
  }
  sql::Stmt st(db,
               "SELECT task, distance, model_index, n, n_continuations, accuracy, accuracy_lo, accuracy_hi, "
               "logprob, logprob_lo, logprob_hi FROM probe_summary WHERE probe_run_id = ?1 "
               "ORDER BY task, distance, model_index");
  st.bind(1, *run);
  while (st.step()) {
    ProbeCurveRow row;
    row.task = st.col_text(0);
    row.distance = st.col_int(1);
    const int64_t m = st.col_int(2);
    if (m < 0 || static_cast<size_t>(m) >= pc.models.size())
      throw InputError(db.path(), "probe_summary of probe run " + std::to_string(*run) + " names model index " +
                                      std::to_string(m) + ", but probe_models lists " +
                                      std::to_string(pc.models.size()) + " models");
    row.model = static_cast<size_t>(m);
    row.n = st.col_int(3);
    const int64_t k = st.col_int(4);
    row.chance = k > 0 ? 1.0 / static_cast<double>(k) : NAN;
    row.accuracy = st.col_double(5);
    row.accuracy_lo = real_or_nan(st, 6);
    row.accuracy_hi = real_or_nan(st, 7);
    row.logprob = st.col_double(8);
    row.logprob_lo = real_or_nan(st, 9);
    row.logprob_hi = real_or_nan(st, 10);
    pc.rows.push_back(std::move(row));
  }
  return pc;
}

}  // namespace

HtmlStoreData read_html_store_data(const fs::path& store, const AnalysisResult& r, const HtmlOptions& opt) {
  HtmlStoreData out;
  sql::Db db(store, false);
  const std::vector<size_t> shown = shown_units(r, opt);
  const size_t M = r.models.size();
  out.top1.assign(shown.size(), std::vector<ViewTop1>(M));
  out.top1_text.resize(M);

  sql::Stmt doc_q(db, "SELECT doc_id FROM documents WHERE id = ?1");
  // Token level: the model's scores by position. Word level: every token of the model's
  // tokenizer in text order with its score, if any (LEFT JOIN: a token that was only context
  // still claims its word).
  sql::Stmt tok_q(db, "SELECT pos, top1_id, top1_logprob FROM scores WHERE model_id = ?1 AND doc_id = ?2 AND pos < ?3 "
                      "ORDER BY pos");
  sql::Stmt word_q(db,
                   "SELECT t.start_byte, s.top1_id, s.top1_logprob FROM tokens t LEFT JOIN scores s "
                   "ON s.model_id = ?1 AND s.doc_id = t.doc_id AND s.pos = t.pos "
                   "WHERE t.tokenizer_id = ?2 AND t.doc_id = ?3 ORDER BY t.pos");
  for (size_t k = 0; k < shown.size(); ++k) {
    const ViewDocument& v = r.view[k];
    const size_t T = shown[k];
    doc_q.reset();
    doc_q.bind(1, std::string_view(v.id));
    if (!doc_q.step()) throw InputError(store.string(), "document \"" + v.id + "\" of the analysis is not in the store");
    const int64_t doc_id = doc_q.col_int(0);
    for (size_t m = 0; m < M; ++m) {
      ViewTop1& t = out.top1[k][m];
      t.id.assign(T, -1);
      t.logprob.assign(T, NAN);
      if (r.level == PairLevel::Token) {
        tok_q.reset();
        tok_q.bind(1, r.models[m].model_id).bind(2, doc_id).bind(3, static_cast<int64_t>(T));
        while (tok_q.step()) {
          const int64_t pos = tok_q.col_int(0);
          if (pos < 0 || static_cast<size_t>(pos) >= T || tok_q.col_is_null(1)) continue;  // NULL: no top-1
          t.id[pos] = static_cast<int32_t>(tok_q.col_int(1));
          t.logprob[pos] = static_cast<float>(tok_q.col_double(2));
        }
      } else {
        word_q.reset();
        word_q.bind(1, r.models[m].model_id).bind(2, r.models[m].tokenizer_id).bind(3, doc_id);
        size_t u = 0;
        std::vector<bool> claimed(T, false);
        while (word_q.step()) {
          const auto start = static_cast<uint32_t>(word_q.col_int(0));
          while (u < T && v.end[u] <= start) ++u;
          if (u == T) break;
          if (start < v.begin[u] || claimed[u]) continue;
          claimed[u] = true;
          if (word_q.col_is_null(1)) continue;
          t.id[u] = static_cast<int32_t>(word_q.col_int(1));
          t.logprob[u] = static_cast<float>(word_q.col_double(2));
        }
      }
    }
  }

  // Decode every top-1 id with the tokenizer the model was scored with.
  for (size_t m = 0; m < M; ++m) {
    const StoredRun& run = r.models[m];
    std::set<int32_t> ids;
    for (const auto& doc : out.top1)
      for (int32_t id : doc[m].id)
        if (id >= 0) ids.insert(id);
    if (ids.empty()) continue;
    const fs::path dir = run.model.dir;
    std::string why;
    try {
      const std::string now = tokenizer_identity(dir);
      if (now.empty()) {
        why = "no tokenizer.json in " + run.model.dir;
      } else if (now != run.model.tokenizer_sha256) {
        why = "the tokenizer in " + run.model.dir + " is not the one the scores were made with (hash differs)";
      } else {
        const Tokenizer tok = Tokenizer::from_dir(dir);
        for (int32_t id : ids) out.top1_text[m][id] = tok.decode(std::span<const int32_t>(&id, 1));
      }
    } catch (const InputError& e) {
      why = e.what();
    }
    if (!why.empty())
      out.notes.push_back("Top-1 predictions of " + run.model.name + " are shown as token ids: " + why + ".");
  }
  out.probes = read_probes(db);
  return out;
}

ProbeCurves read_probe_curves(const fs::path& store) {
  sql::Db db(store, false);
  return read_probes(db);
}

}  // namespace lossgap
