// The probe tables (see probe_store.h; docs/probes.md "Store" is the reference; keep the
// two in step).
#include "probes/probe_store.h"

#include <cmath>

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
  prefix            TEXT NOT NULL,
  antecedent_start  INTEGER NOT NULL,
  antecedent_end    INTEGER NOT NULL,
  filler_start      INTEGER NOT NULL,
  filler_end        INTEGER NOT NULL,
  filler_words      INTEGER NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_continuations (
  probe_run_id  INTEGER NOT NULL,
  instance_id   INTEGER NOT NULL,
  k             INTEGER NOT NULL,
  text          TEXT NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_scores (
  probe_run_id  INTEGER NOT NULL,
  instance_id   INTEGER NOT NULL,
  model_index   INTEGER NOT NULL,
  k             INTEGER NOT NULL,
  logprob       REAL NOT NULL,
  n_tokens      INTEGER NOT NULL,
  distance      INTEGER NOT NULL,
  PRIMARY KEY (probe_run_id, instance_id, model_index, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_summary (
  probe_run_id       INTEGER NOT NULL,
  task               TEXT NOT NULL,
  distance           INTEGER NOT NULL,
  model_index        INTEGER NOT NULL,
  n                  INTEGER NOT NULL,
  n_continuations    INTEGER NOT NULL,
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

void ProbeStore::add_cell(int64_t run_id, const std::vector<ProbeInstance>& instances,
                          const std::vector<std::vector<InstanceScore>>& scores, const CellSummary& summary) {
  sql::Db& db = impl_->db;
  sql::Transaction tx(db);
  const int64_t base = db.query_int("SELECT COALESCE(MAX(instance_id) + 1, 0) FROM probe_instances WHERE "
                                    "probe_run_id = " + std::to_string(run_id)).value_or(0);
  sql::Stmt ins(db,
                "INSERT INTO probe_instances (probe_run_id, instance_id, task, distance, idx, prefix, "
                "antecedent_start, antecedent_end, filler_start, filler_end, filler_words) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  sql::Stmt cont(db, "INSERT INTO probe_continuations (probe_run_id, instance_id, k, text) VALUES (?1, ?2, ?3, ?4)");
  sql::Stmt sc(db,
               "INSERT INTO probe_scores (probe_run_id, instance_id, model_index, k, logprob, n_tokens, distance) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (size_t i = 0; i < instances.size(); ++i) {
    const ProbeInstance& p = instances[i];
    const int64_t iid = base + static_cast<int64_t>(i);
    ins.bind(1, run_id)
        .bind(2, iid)
        .bind(3, std::string_view(task_name(p.task)))
        .bind(4, p.distance)
        .bind(5, static_cast<int64_t>(p.index))
        .bind(6, p.prefix)
        .bind(7, static_cast<int64_t>(p.antecedent.start))
        .bind(8, static_cast<int64_t>(p.antecedent.end))
        .bind(9, static_cast<int64_t>(p.filler.start))
        .bind(10, static_cast<int64_t>(p.filler.end))
        .bind(11, p.filler_words);
    ins.run();
    for (size_t k = 0; k < p.continuations.size(); ++k) {
      cont.bind(1, run_id).bind(2, iid).bind(3, static_cast<int64_t>(k)).bind(4, p.continuations[k]);
      cont.run();
    }
    for (size_t m = 0; m < scores.size(); ++m) {
      const InstanceScore& s = scores[m][i];
      for (size_t k = 0; k < s.continuations.size(); ++k) {
        sc.bind(1, run_id)
            .bind(2, iid)
            .bind(3, static_cast<int64_t>(m))
            .bind(4, static_cast<int64_t>(k))
            .bind(5, s.continuations[k].logprob)
            .bind(6, static_cast<int64_t>(s.continuations[k].n_tokens))
            .bind(7, s.distance);
        sc.run();
      }
    }
  }
  sql::Stmt sum(db,
                "INSERT INTO probe_summary (probe_run_id, task, distance, model_index, n, n_continuations, "
                "skipped_boundary, skipped_length, mean_distance, mean_target_tokens, logprob, logprob_lo, "
                "logprob_hi, accuracy, accuracy_lo, accuracy_hi, delta_logprob, delta_logprob_lo, "
                "delta_logprob_hi, delta_accuracy, delta_accuracy_lo, delta_accuracy_hi) VALUES (?1, ?2, ?3, "
                "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)");
  for (size_t m = 0; m < summary.models.size(); ++m) {
    const ModelCell& c = summary.models[m];
    sum.bind(1, run_id)
        .bind(2, std::string_view(task_name(summary.task)))
        .bind(3, summary.distance)
        .bind(4, static_cast<int64_t>(m))
        .bind(5, summary.n)
        .bind(6, summary.n_continuations)
        .bind(7, summary.skipped_boundary)
        .bind(8, summary.skipped_length)
        .bind(9, c.mean_distance)
        .bind(10, c.mean_target_tokens)
        .bind(11, c.logprob.value);
    bind_real(sum, 12, c.logprob.ci.lo);
    bind_real(sum, 13, c.logprob.ci.hi);
    sum.bind(14, c.accuracy.value);
    bind_real(sum, 15, c.accuracy.ci.lo);
    bind_real(sum, 16, c.accuracy.ci.hi);
    const auto opt = [&](int i, const std::optional<Estimate>& e) {
      if (e) {
        sum.bind(i, e->value);
        bind_real(sum, i + 1, e->ci.lo);
        bind_real(sum, i + 2, e->ci.hi);
      } else {
        sum.bind_null(i).bind_null(i + 1).bind_null(i + 2);
      }
    };
    opt(17, c.delta_logprob);
    opt(20, c.delta_accuracy);
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
