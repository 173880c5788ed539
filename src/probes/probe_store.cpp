// The probe tables (see probe_store.h; docs/probes.md "Store" is the reference; keep the
// two in step).
#include "probes/probe_store.h"

#include <cmath>

#include "core/error.h"

#include "store/sqlite.h"
#include "store/store.h"

namespace lossgap::probes {

namespace {

constexpr const char* kProbeSchema = R"sql(
CREATE TABLE IF NOT EXISTS probe_runs (
  probe_run_id  INTEGER PRIMARY KEY,
  tool_version  TEXT NOT NULL,
  git_commit    TEXT NOT NULL,
  created       TEXT NOT NULL,
  finished      TEXT,
  seed          INTEGER NOT NULL,
  n             INTEGER NOT NULL,
  tasks         TEXT NOT NULL,
  distances     TEXT NOT NULL,
  context       INTEGER NOT NULL,
  bos_policy    TEXT NOT NULL,
  distance_unit TEXT NOT NULL,
  resamples     INTEGER NOT NULL,
  level         REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS probe_models (
  probe_run_id     INTEGER NOT NULL REFERENCES probe_runs(probe_run_id),
  model_index      INTEGER NOT NULL,
  name             TEXT NOT NULL,
  dir              TEXT NOT NULL,
  model_type       TEXT NOT NULL,
  config_sha256    TEXT NOT NULL,
  tokenizer_sha256 TEXT NOT NULL,
  weights_sha256   TEXT NOT NULL,
  bos_id           INTEGER,
  PRIMARY KEY (probe_run_id, model_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_instances (
  probe_run_id      INTEGER NOT NULL REFERENCES probe_runs(probe_run_id),
  instance_id       INTEGER NOT NULL,
  task              TEXT NOT NULL,
  distance          INTEGER NOT NULL,
  idx               INTEGER NOT NULL,
  text              TEXT NOT NULL,
  filler_start      INTEGER NOT NULL,
  filler_end        INTEGER NOT NULL,
  filler_words      INTEGER NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id),
  UNIQUE (probe_run_id, task, distance, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_queries (
  probe_run_id      INTEGER NOT NULL,
  instance_id       INTEGER NOT NULL,
  q                 INTEGER NOT NULL,
  at                INTEGER NOT NULL,
  antecedent_start  INTEGER NOT NULL,
  antecedent_end    INTEGER NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id, q)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_continuations (
  probe_run_id  INTEGER NOT NULL,
  instance_id   INTEGER NOT NULL,
  q             INTEGER NOT NULL,
  k             INTEGER NOT NULL,
  text          TEXT NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id, q, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_scores (
  probe_run_id  INTEGER NOT NULL,
  instance_id   INTEGER NOT NULL,
  model_index   INTEGER NOT NULL,
  q             INTEGER NOT NULL,
  k             INTEGER NOT NULL,
  logprob       REAL NOT NULL,
  n_tokens      INTEGER NOT NULL,
  distance      INTEGER NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id, model_index, q, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_summary (
  probe_run_id       INTEGER NOT NULL,
  task               TEXT NOT NULL,
  distance           INTEGER NOT NULL,
  model_index        INTEGER NOT NULL,
  n                  INTEGER NOT NULL,
  n_continuations    INTEGER NOT NULL,
  n_queries          INTEGER NOT NULL,
  skipped_boundary   INTEGER NOT NULL,
  skipped_length     INTEGER NOT NULL,
  mean_distance      REAL NOT NULL,
  mean_target_tokens REAL NOT NULL,
  logprob            REAL NOT NULL,
  logprob_lo         REAL,
  logprob_hi         REAL,
  accuracy           REAL NOT NULL,
  accuracy_lo        REAL,
  accuracy_hi        REAL,
  delta_logprob      REAL,
  delta_logprob_lo   REAL,
  delta_logprob_hi   REAL,
  delta_accuracy     REAL,
  delta_accuracy_lo  REAL,
  delta_accuracy_hi  REAL,
  PRIMARY KEY (probe_run_id, task, distance, model_index)
) WITHOUT ROWID;
)sql";

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) {
    if (!s.empty()) s += ',';
    s += x;
  }
  return s;
}

// Binds a finite value, or NULL for NaN (an undefined interval).
void bind_real(sql::Stmt& st, int i, double v) {
  if (std::isnan(v)) {
    st.bind_null(i);
  } else {
    st.bind(i, v);
  }
}

}  // namespace

struct ProbeStore::Impl {
  sql::Db db;
  explicit Impl(const std::filesystem::path& p) : db(p, false) {}
};

ProbeStore ProbeStore::open(const std::filesystem::path& path) {
  {
    // Creates the store or checks that the file is one (application id, schema version).
    RunStore check = RunStore::open(path, true);
  }
  auto impl = std::make_unique<Impl>(path);
  impl->db.exec("PRAGMA foreign_keys=ON");
  // Probe tables of lossgap before multi-query probes (no probe_queries table) cannot take
  // this version's rows.
  if (impl->db.query_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'probe_instances'").value_or(0) > 0 &&
      impl->db.query_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'probe_queries'").value_or(0) == 0)
    throw InputError(path.string(), "probe_queries: the probe tables were made by an older lossgap (one query per "
                                    "instance, no probe_queries table); write the probes to a new store");
  impl->db.exec(kProbeSchema);
  return ProbeStore(std::move(impl));
}

ProbeStore::ProbeStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProbeStore::~ProbeStore() = default;
ProbeStore::ProbeStore(ProbeStore&&) noexcept = default;
ProbeStore& ProbeStore::operator=(ProbeStore&&) noexcept = default;

int64_t ProbeStore::start_run(const ProbeRunHeader& h, const std::vector<ProbeModelRecord>& models) {
  sql::Transaction tx(impl_->db);
  std::string distances;
  for (int64_t d : h.distances) {
    if (!distances.empty()) distances += ',';
    distances += std::to_string(d);
  }
  sql::Stmt run(impl_->db,
                "INSERT INTO probe_runs (tool_version, git_commit, created, finished, seed, n, tasks, distances, "
                "context, bos_policy, distance_unit, resamples, level) "
                "VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  run.bind(1, h.tool_version)
      .bind(2, h.git_commit)
      .bind(3, utc_now())
      .bind(4, static_cast<int64_t>(h.seed))
      .bind(5, h.n)
      .bind(6, join(h.tasks))
      .bind(7, distances)
      .bind(8, h.context)
      .bind(9, h.bos_policy)
      .bind(10, h.distance_unit)
      .bind(11, static_cast<int64_t>(h.resamples))
      .bind(12, h.level);
  run.run();
  const int64_t id = impl_->db.last_insert_rowid();
  sql::Stmt m(impl_->db,
              "INSERT INTO probe_models (probe_run_id, model_index, name, dir, model_type, config_sha256, "
              "tokenizer_sha256, weights_sha256, bos_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (size_t i = 0; i < models.size(); ++i) {
    const ProbeModelRecord& r = models[i];
    m.bind(1, id)
        .bind(2, static_cast<int64_t>(i))
        .bind(3, r.name)
        .bind(4, r.dir)
        .bind(5, r.model_type)
        .bind(6, r.config_sha256)
        .bind(7, r.tokenizer_sha256)
        .bind(8, r.weights_sha256)
        .bind(9, r.bos_id);
    m.run();
  }
  tx.commit();
  return id;
}

int64_t ProbeStore::resume_run(const ProbeRunHeader& h, const std::vector<ProbeModelRecord>& models) {
  sql::Db& db = impl_->db;
  const std::optional<int64_t> run =
      db.query_int("SELECT MAX(probe_run_id) FROM probe_runs WHERE finished IS NULL");
  if (!run || db.query_int("SELECT COUNT(*) FROM probe_runs WHERE finished IS NULL").value_or(0) == 0)
    throw InputError("--resume", "no unfinished probe run in " + db.path() + " to continue");
  const auto differ = [&](const std::string& what, const std::string& stored, const std::string& now) {
    if (stored != now)
      throw InputError("--resume", "probe run " + std::to_string(*run) + " in " + db.path() + " was made with " +
                                       what + " " + stored + ", this invocation has " + now);
  };
  {
    sql::Stmt st(db,
                 "SELECT tool_version, git_commit, seed, n, tasks, distances, context, bos_policy, distance_unit, "
                 "resamples, level FROM probe_runs WHERE probe_run_id = ?1");
    st.bind(1, *run);
    LG_CHECK(st.step(), "probe run vanished");
    std::string distances;
    for (int64_t d : h.distances) distances += (distances.empty() ? "" : ",") + std::to_string(d);
    differ("tool version", st.col_text(0), h.tool_version);
    differ("git commit", st.col_text(1), h.git_commit);
    differ("--seed", std::to_string(st.col_int(2)), std::to_string(static_cast<int64_t>(h.seed)));
    differ("--n", std::to_string(st.col_int(3)), std::to_string(h.n));
    differ("tasks", st.col_text(4), join(h.tasks));
    differ("distances", st.col_text(5), distances);
    differ("context", std::to_string(st.col_int(6)), std::to_string(h.context));
    differ("--bos", st.col_text(7), h.bos_policy);
    differ("distance unit", st.col_text(8), h.distance_unit);
    differ("--resamples", std::to_string(st.col_int(9)), std::to_string(h.resamples));
    differ("level", std::to_string(st.col_double(10)), std::to_string(h.level));
  }
  const int64_t stored = db.query_int("SELECT COUNT(*) FROM probe_models WHERE probe_run_id = " +
                                      std::to_string(*run)).value_or(0);
  differ("a number of models of", std::to_string(stored), std::to_string(models.size()));
  sql::Stmt st(db,
               "SELECT name, dir, config_sha256, tokenizer_sha256, weights_sha256, bos_id FROM probe_models "
               "WHERE probe_run_id = ?1 ORDER BY model_index");
  st.bind(1, *run);
  const auto bos = [](const std::optional<int64_t>& b) { return b ? std::to_string(*b) : std::string("none"); };
  for (size_t m = 0; st.step(); ++m) {
    const ProbeModelRecord& r = models.at(m);
    const std::string which = "model " + std::to_string(m) + " ";
    differ(which + "name", st.col_text(0), r.name);
    differ(which + "directory", st.col_text(1), r.dir);
    differ(which + "config sha256", st.col_text(2), r.config_sha256);
    differ(which + "tokenizer sha256", st.col_text(3), r.tokenizer_sha256);
    differ(which + "weights sha256", st.col_text(4), r.weights_sha256);
    differ(which + "BOS", bos(st.col_is_null(5) ? std::nullopt : std::optional<int64_t>(st.col_int(5))), bos(r.bos_id));
  }
  return *run;
}

void ProbeStore::add_instance(int64_t run_id, const ProbeInstance& p, const std::vector<InstanceScore>& scores) {
  sql::Db& db = impl_->db;
  sql::Transaction tx(db);
  const int64_t iid = db.query_int("SELECT COALESCE(MAX(instance_id) + 1, 0) FROM probe_instances WHERE "
                                   "probe_run_id = " + std::to_string(run_id)).value_or(0);
  sql::Stmt ins(db,
                "INSERT INTO probe_instances (probe_run_id, instance_id, task, distance, idx, text, filler_start, "
                "filler_end, filler_words) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  ins.bind(1, run_id)
      .bind(2, iid)
      .bind(3, std::string_view(task_name(p.task)))
      .bind(4, p.distance)
      .bind(5, static_cast<int64_t>(p.index))
      .bind(6, p.text)
      .bind(7, static_cast<int64_t>(p.filler.start))
      .bind(8, static_cast<int64_t>(p.filler.end))
      .bind(9, p.filler_words);
  ins.run();
  sql::Stmt qry(db,
                "INSERT INTO probe_queries (probe_run_id, instance_id, q, at, antecedent_start, antecedent_end) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  sql::Stmt cont(db,
                 "INSERT INTO probe_continuations (probe_run_id, instance_id, q, k, text) VALUES (?1, ?2, ?3, ?4, ?5)");
  for (size_t q = 0; q < p.queries.size(); ++q) {
    const ProbeQuery& pq = p.queries[q];
    qry.bind(1, run_id)
        .bind(2, iid)
        .bind(3, static_cast<int64_t>(q))
        .bind(4, static_cast<int64_t>(pq.at))
        .bind(5, static_cast<int64_t>(pq.antecedent.start))
        .bind(6, static_cast<int64_t>(pq.antecedent.end));
    qry.run();
    for (size_t k = 0; k < pq.continuations.size(); ++k) {
      cont.bind(1, run_id).bind(2, iid).bind(3, static_cast<int64_t>(q)).bind(4, static_cast<int64_t>(k));
      cont.bind(5, pq.continuations[k]);
      cont.run();
    }
  }
  sql::Stmt sc(db,
               "INSERT INTO probe_scores (probe_run_id, instance_id, model_index, q, k, logprob, n_tokens, distance) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (size_t m = 0; m < scores.size(); ++m) {
    LG_CHECK(scores[m].queries.size() == p.queries.size(), "scores of another instance");
    for (size_t q = 0; q < p.queries.size(); ++q) {
      const QueryScore& s = scores[m].queries[q];
      for (size_t k = 0; k < s.continuations.size(); ++k) {
        sc.bind(1, run_id)
            .bind(2, iid)
            .bind(3, static_cast<int64_t>(m))
            .bind(4, static_cast<int64_t>(q))
            .bind(5, static_cast<int64_t>(k))
            .bind(6, s.continuations[k].logprob)
            .bind(7, static_cast<int64_t>(s.continuations[k].n_tokens))
            .bind(8, s.distance);
        sc.run();
      }
    }
  }
  tx.commit();
}

std::map<uint64_t, ProbeStore::StoredInstance> ProbeStore::load_cell(int64_t run_id, Task task, int64_t distance,
                                                                     size_t n_models) {
  sql::Db& db = impl_->db;
  std::map<uint64_t, StoredInstance> out;
  std::map<int64_t, uint64_t> idx_of;  // instance_id -> idx
  {
    sql::Stmt st(db, "SELECT instance_id, idx, text FROM probe_instances WHERE probe_run_id = ?1 AND task = ?2 "
                     "AND distance = ?3");
    st.bind(1, run_id).bind(2, std::string_view(task_name(task))).bind(3, distance);
    while (st.step()) {
      const uint64_t idx = static_cast<uint64_t>(st.col_int(1));
      idx_of[st.col_int(0)] = idx;
      out[idx].text = st.col_text(2);
      out[idx].scores.resize(n_models);
    }
  }
  sql::Stmt st(db,
               "SELECT s.instance_id, s.model_index, s.q, s.k, s.logprob, s.n_tokens, s.distance FROM probe_scores s "
               "JOIN probe_instances i USING (probe_run_id, instance_id) WHERE s.probe_run_id = ?1 AND i.task = ?2 "
               "AND i.distance = ?3 ORDER BY s.instance_id, s.model_index, s.q, s.k");
  st.bind(1, run_id).bind(2, std::string_view(task_name(task))).bind(3, distance);
  while (st.step()) {
    const int64_t m = st.col_int(1);
    const int64_t q = st.col_int(2), k = st.col_int(3);
    if (m < 0 || static_cast<size_t>(m) >= n_models)
      throw InputError(db.path(), "probe_scores of probe run " + std::to_string(run_id) + " names model index " +
                                      std::to_string(m) + " of " + std::to_string(n_models));
    InstanceScore& is = out.at(idx_of.at(st.col_int(0))).scores[static_cast<size_t>(m)];
    if (static_cast<int64_t>(is.queries.size()) == q) is.queries.emplace_back();
    LG_CHECK(static_cast<int64_t>(is.queries.size()) == q + 1, "probe_scores rows out of order");
    QueryScore& qs = is.queries.back();
    LG_CHECK(static_cast<int64_t>(qs.continuations.size()) == k, "probe_scores rows out of order");
    qs.continuations.push_back({st.col_double(4), static_cast<int32_t>(st.col_int(5))});
    qs.distance = st.col_int(6);
  }
  return out;
}

void ProbeStore::put_summary(int64_t run_id, const CellSummary& summary) {
  sql::Db& db = impl_->db;
  sql::Transaction tx(db);
  sql::Stmt sum(db,
                "INSERT OR REPLACE INTO probe_summary (probe_run_id, task, distance, model_index, n, n_continuations, "
                "n_queries, skipped_boundary, skipped_length, mean_distance, mean_target_tokens, logprob, logprob_lo, "
                "logprob_hi, accuracy, accuracy_lo, accuracy_hi, delta_logprob, delta_logprob_lo, "
                "delta_logprob_hi, delta_accuracy, delta_accuracy_lo, delta_accuracy_hi) VALUES (?1, ?2, ?3, "
                "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)");
  for (size_t m = 0; m < summary.models.size(); ++m) {
    const ModelCell& c = summary.models[m];
    sum.bind(1, run_id)
        .bind(2, std::string_view(task_name(summary.task)))
        .bind(3, summary.distance)
        .bind(4, static_cast<int64_t>(m))
        .bind(5, summary.n)
        .bind(6, summary.n_continuations)
        .bind(7, summary.n_queries)
        .bind(8, summary.skipped_boundary)
        .bind(9, summary.skipped_length)
        .bind(10, c.mean_distance)
        .bind(11, c.mean_target_tokens)
        .bind(12, c.logprob.value);
    bind_real(sum, 13, c.logprob.ci.lo);
    bind_real(sum, 14, c.logprob.ci.hi);
    sum.bind(15, c.accuracy.value);
    bind_real(sum, 16, c.accuracy.ci.lo);
    bind_real(sum, 17, c.accuracy.ci.hi);
    const auto opt = [&](int i, const std::optional<Estimate>& e) {
      if (e) {
        sum.bind(i, e->value);
        bind_real(sum, i + 1, e->ci.lo);
        bind_real(sum, i + 2, e->ci.hi);
      } else {
        sum.bind_null(i).bind_null(i + 1).bind_null(i + 2);
      }
    };
    opt(18, c.delta_logprob);
    opt(21, c.delta_accuracy);
    sum.run();
  }
  tx.commit();
}

void ProbeStore::finish_run(int64_t run_id) {
  sql::Stmt st(impl_->db, "UPDATE probe_runs SET finished = ?1 WHERE probe_run_id = ?2");
  st.bind(1, utc_now()).bind(2, run_id);
  st.run();
}

}  // namespace lossgap::probes
