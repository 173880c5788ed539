// The SQLite run store (see store.h; the schema is documented in docs/store.md).
#include "core/version.h"
#include "store/store.h"

#include <cmath>
#include <ctime>

#include "core/error.h"
#include "core/hash.h"
#include "store/sqlite.h"

namespace lossgap {

namespace {

// 'LGAP': marks a SQLite file as a lossgap run store.
constexpr int64_t kApplicationId = 0x4C474150;

// Schema version 2 (docs/store.md is the reference; keep the two in step).
constexpr const char* kSchema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE tokenizers (
  tokenizer_id INTEGER PRIMARY KEY,
  sha256       TEXT NOT NULL UNIQUE
);
CREATE TABLE models (
  model_id         INTEGER PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,
  dir              TEXT NOT NULL,
  model_type       TEXT NOT NULL,
  config_sha256    TEXT NOT NULL,
  tokenizer_sha256 TEXT NOT NULL,
  weights_sha256   TEXT NOT NULL,
  dtype            TEXT NOT NULL,
  device           TEXT NOT NULL,
  backend          TEXT NOT NULL,
  n_parameters     INTEGER NOT NULL,
  tokenizer_id     INTEGER NOT NULL REFERENCES tokenizers(tokenizer_id)
);
CREATE TABLE runs (
  run_id           INTEGER PRIMARY KEY,
  model_id         INTEGER NOT NULL UNIQUE REFERENCES models(model_id),
  tool_version     TEXT NOT NULL,
  git_commit       TEXT NOT NULL,
  created          TEXT NOT NULL,
  updated          TEXT NOT NULL,
  finished         TEXT,
  sessions         INTEGER NOT NULL,
  context          INTEGER NOT NULL,
  stride           INTEGER NOT NULL,
  bos_policy       TEXT NOT NULL,
  bos_id           INTEGER,
  force_context    INTEGER NOT NULL,
  add_special_tokens INTEGER NOT NULL,
  logprob_unit     TEXT NOT NULL,
  corpus_path      TEXT NOT NULL,
  corpus_kind      TEXT NOT NULL,
  corpus_sha256    TEXT NOT NULL,
  corpus_documents INTEGER NOT NULL,
  score_fields     TEXT NOT NULL
);
CREATE TABLE documents (
  doc_id  INTEGER PRIMARY KEY,
  id      TEXT NOT NULL UNIQUE,
  domain  TEXT NOT NULL,
  text    TEXT NOT NULL,
  n_bytes INTEGER NOT NULL,
  sha256  TEXT NOT NULL,
  extra   TEXT NOT NULL
);
CREATE TABLE tokens (
  tokenizer_id INTEGER NOT NULL REFERENCES tokenizers(tokenizer_id),
  doc_id       INTEGER NOT NULL REFERENCES documents(doc_id),
  pos          INTEGER NOT NULL,
  token_id     INTEGER NOT NULL,
  start_byte   INTEGER NOT NULL,
  end_byte     INTEGER NOT NULL,
  PRIMARY KEY (tokenizer_id, doc_id, pos)
) WITHOUT ROWID;
CREATE TABLE scored_documents (
  model_id  INTEGER NOT NULL REFERENCES models(model_id),
  doc_id    INTEGER NOT NULL REFERENCES documents(doc_id),
  n_tokens  INTEGER NOT NULL,
  n_targets INTEGER NOT NULL,
  n_windows INTEGER NOT NULL,
  PRIMARY KEY (model_id, doc_id)
) WITHOUT ROWID;
CREATE TABLE scores (
  model_id     INTEGER NOT NULL REFERENCES models(model_id),
  doc_id       INTEGER NOT NULL REFERENCES documents(doc_id),
  pos          INTEGER NOT NULL,
  logprob      REAL NOT NULL,
  entropy      REAL,
  rank         INTEGER,
  top1_id      INTEGER,
  top1_logprob REAL,
  PRIMARY KEY (model_id, doc_id, pos)
) WITHOUT ROWID;
)sql";

// Version 1 -> 2: the optional score columns become nullable, version 1's markers of a missing
// field (entropy -1, rank 0, top1_id -1 with top1_logprob 1, written by imports) become NULL,
// and runs.score_fields records which fields each run has (imports: those never missing).
constexpr const char* kMigrateV1 = R"sql(
CREATE TABLE scores_v2 (
  model_id     INTEGER NOT NULL REFERENCES models(model_id),
  doc_id       INTEGER NOT NULL REFERENCES documents(doc_id),
  pos          INTEGER NOT NULL,
  logprob      REAL NOT NULL,
  entropy      REAL,
  rank         INTEGER,
  top1_id      INTEGER,
  top1_logprob REAL,
  PRIMARY KEY (model_id, doc_id, pos)
) WITHOUT ROWID;
INSERT INTO scores_v2
  SELECT model_id, doc_id, pos, logprob, NULLIF(entropy, -1), NULLIF(rank, 0), NULLIF(top1_id, -1),
         CASE WHEN top1_id = -1 THEN NULL ELSE top1_logprob END
  FROM scores ORDER BY model_id, doc_id, pos;
DROP TABLE scores;
ALTER TABLE scores_v2 RENAME TO scores;
ALTER TABLE runs ADD COLUMN score_fields TEXT NOT NULL DEFAULT 'entropy rank top1';
UPDATE runs SET score_fields = trim(
    (CASE WHEN EXISTS (SELECT 1 FROM scores s WHERE s.model_id = runs.model_id AND s.entropy IS NULL)
          THEN '' ELSE 'entropy ' END) ||
    (CASE WHEN EXISTS (SELECT 1 FROM scores s WHERE s.model_id = runs.model_id AND s.rank IS NULL)
          THEN '' ELSE 'rank ' END) ||
    (CASE WHEN EXISTS (SELECT 1 FROM scores s WHERE s.model_id = runs.model_id AND s.top1_id IS NULL)
          THEN '' ELSE 'top1' END))
  WHERE model_id IN (SELECT model_id FROM models WHERE backend = 'import');
PRAGMA user_version = 2;
)sql";

ScoreFields parse_score_fields(const std::string& text, const std::string& where) {
  ScoreFields f{false, false, false};
  size_t a = 0;
  while (a < text.size()) {
    size_t b = text.find(' ', a);
    if (b == std::string::npos) b = text.size();
    const std::string name = text.substr(a, b - a);
    if (name == "entropy") {
      f.entropy = true;
    } else if (name == "rank") {
      f.rank = true;
    } else if (name == "top1") {
      f.top1 = true;
    } else {
      throw InputError(where, "runs.score_fields: expected names among \"entropy rank top1\", found \"" + text + "\"");
    }
    a = b + 1;
  }
  return f;
}

struct PendingDoc {
  int64_t model_id = 0;
  int64_t tokenizer_id = 0;
  Document doc;
  std::vector<int32_t> ids;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  DocumentScores scores;
};

std::string dq(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string score_fields_text(const ScoreFields& f) {
  std::string s;
  for (auto [on, name] : {std::pair{f.entropy, "entropy"}, std::pair{f.rank, "rank"}, std::pair{f.top1, "top1"}})
    if (on) s += (s.empty() ? "" : " ") + std::string(name);
  return s;
}

std::string score_fields_note(const ScoreFields& f) {
  if (f.all()) return "log-prob, entropy, rank, top-1";
  std::string missing;
  for (auto [on, name] : {std::pair{f.entropy, "entropy"}, std::pair{f.rank, "rank"}, std::pair{f.top1, "top-1"}})
    if (!on) missing += (missing.empty() ? "" : ", ") + std::string(name);
  return "log-prob; not available: " + missing;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct RunStore::Impl {
  std::filesystem::path path;
  sql::Db db;
  std::vector<PendingDoc> pending;

  Impl(const std::filesystem::path& p, bool create) : path(p), db(p, create) {}

  StoredRun read_run(sql::Stmt& st) {
    StoredRun r;
    int c = 0;
    r.run_id = st.col_int(c++);
    r.model_id = st.col_int(c++);
    r.tokenizer_id = st.col_int(c++);
    r.model.name = st.col_text(c++);
    r.model.dir = st.col_text(c++);
    r.model.model_type = st.col_text(c++);
    r.model.config_sha256 = st.col_text(c++);
    r.model.tokenizer_sha256 = st.col_text(c++);
    r.model.weights_sha256 = st.col_text(c++);
    r.model.dtype = st.col_text(c++);
    r.model.device = st.col_text(c++);
    r.model.backend = st.col_text(c++);
    r.model.n_parameters = st.col_int(c++);
    r.header.tool_version = st.col_text(c++);
    r.header.git_commit = st.col_text(c++);
    r.created = st.col_text(c++);
    r.updated = st.col_text(c++);
    r.finished = st.col_text(c++);
    r.sessions = st.col_int(c++);
    r.header.policy.context = st.col_int(c++);
    r.header.policy.stride = st.col_int(c++);
    r.header.policy.bos = parse_bos_policy(st.col_text(c++), path.string() + ": runs.bos_policy");
    if (!st.col_is_null(c)) r.header.policy.bos_id = static_cast<int32_t>(st.col_int(c));
    ++c;
    r.header.policy.force_context = st.col_int(c++) != 0;
    r.header.corpus_path = st.col_text(c++);
    r.header.corpus_kind = st.col_text(c++);
    r.header.corpus_sha256 = st.col_text(c++);
    r.header.corpus_documents = st.col_int(c++);
    r.header.fields = parse_score_fields(st.col_text(c++), path.string());
    r.documents_done = st.col_int(c++);
    return r;
  }

  std::vector<StoredRun> select_runs(const std::optional<std::string>& name) {
    sql::Stmt st(db, R"sql(
      SELECT r.run_id, m.model_id, m.tokenizer_id, m.name, m.dir, m.model_type, m.config_sha256,
             m.tokenizer_sha256, m.weights_sha256, m.dtype, m.device, m.backend, m.n_parameters,
             r.tool_version, r.git_commit, r.created, r.updated, r.finished, r.sessions,
             r.context, r.stride, r.bos_policy, r.bos_id, r.force_context,
             r.corpus_path, r.corpus_kind, r.corpus_sha256, r.corpus_documents, r.score_fields,
             (SELECT count(*) FROM scored_documents s WHERE s.model_id = m.model_id)
      FROM runs r JOIN models m ON m.model_id = r.model_id
      WHERE ?1 IS NULL OR m.name = ?1
      ORDER BY r.run_id)sql");
    if (name) st.bind(1, *name);
    std::vector<StoredRun> out;
    while (st.step()) out.push_back(read_run(st));
    return out;
  }

  int64_t tokenizer_id(const std::string& sha) {
    sql::Stmt ins(db, "INSERT OR IGNORE INTO tokenizers(sha256) VALUES (?1)");
    ins.bind(1, sha).run();
    sql::Stmt sel(db, "SELECT tokenizer_id FROM tokenizers WHERE sha256 = ?1");
    sel.bind(1, sha);
    LG_CHECK(sel.step(), "tokenizer row just inserted");
    return sel.col_int(0);
  }
};

RunStore::RunStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RunStore::~RunStore() = default;
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;

const std::filesystem::path& RunStore::path() const { return impl_->path; }

RunStore RunStore::open(const std::filesystem::path& path, bool create) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  if (!existed && !create) throw InputError(path.string(), "the run store does not exist");
  auto impl = std::make_unique<Impl>(path, create);
  sql::Db& db = impl->db;
  const std::string where = path.string();
  int64_t app_id = 0;
  int64_t n_tables = 0;
  try {
    app_id = db.query_int("PRAGMA application_id").value_or(0);
    n_tables = db.query_int("SELECT count(*) FROM sqlite_master").value_or(0);
  } catch (const InputError& e) {
    throw InputError(where, "not a lossgap run store (" + e.detail() + ")");
  }
  if (app_id != kApplicationId) {
    if (n_tables != 0 || !create) throw InputError(where, "not a lossgap run store (SQLite application_id is not 'LGAP')");
    db.exec("PRAGMA journal_mode=WAL");
    sql::Transaction tx(db);
    db.exec(kSchema);
    db.exec("PRAGMA application_id=" + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version=" + std::to_string(kStoreSchemaVersion));
    sql::Stmt meta(db, "INSERT INTO meta(key, value) VALUES (?1, ?2)");
    meta.bind(1, std::string_view("created_by")).bind(2, std::string("lossgap ") + tool_version()).run();
    meta.bind(1, std::string_view("created")).bind(2, utc_now()).run();
    tx.commit();
  } else {
    const int64_t version = db.query_int("PRAGMA user_version").value_or(0);
    if (version > kStoreSchemaVersion)
      throw InputError(where, "the run store has schema version " + std::to_string(version) +
                                  ", newer than this lossgap's " + std::to_string(kStoreSchemaVersion));
    if (version < 1) throw InputError(where, "the run store has no schema version (PRAGMA user_version)");
    db.exec("PRAGMA journal_mode=WAL");
    if (version == 1) {
      try {
        sql::Transaction tx(db);
        db.exec(kMigrateV1);
        tx.commit();
      } catch (const InputError& e) {
        throw InputError(where, "the run store has schema version 1; lossgap " + std::string(tool_version()) +
                                    " migrates it to version " + std::to_string(kStoreSchemaVersion) +
                                    " on open, which failed (" + e.detail() + ")");
      }
    }
  }
  // In WAL mode NORMAL is durable against a process crash (SIGKILL): only a power loss can
  // drop the last commits.
  db.exec("PRAGMA synchronous=NORMAL");
  db.exec("PRAGMA foreign_keys=ON");
  return RunStore(std::move(impl));
}

std::optional<StoredRun> RunStore::find_run(const std::string& name) {
  auto runs = impl_->select_runs(name);
  if (runs.empty()) return std::nullopt;
  return runs.front();
}

std::vector<StoredRun> RunStore::runs() { return impl_->select_runs(std::nullopt); }

StoredRun RunStore::start_run(const ModelRecord& model, const RunHeader& header, bool resume) {
  const std::string where = impl_->path.string();
  if (auto existing = find_run(model.name)) {
    if (!resume)
      throw InputError(where, "already holds a run of model " + dq(model.name) +
                                  "; pass --resume to continue it, or --name to score under another name");
    const StoredRun& old = *existing;
    auto differs = [&](const char* field, const std::string& stored, const std::string& now) {
      if (stored != now)
        throw InputError(where, std::string("cannot resume the run of model ") + dq(model.name) + ": " + field +
                                    " is " + dq(stored) + " in the store but " + dq(now) + " now");
    };
    differs("model_type", old.model.model_type, model.model_type);
    differs("config.json sha256", old.model.config_sha256, model.config_sha256);
    differs("tokenizer sha256", old.model.tokenizer_sha256, model.tokenizer_sha256);
    differs("weights sha256", old.model.weights_sha256, model.weights_sha256);
    differs("dtype", old.model.dtype, model.dtype);
    differs("device", old.model.device, model.device);
    differs("backend", old.model.backend, model.backend);
    const ResolvedPolicy& a = old.header.policy;
    const ResolvedPolicy& b = header.policy;
    differs("context", std::to_string(a.context), std::to_string(b.context));
    differs("stride", std::to_string(a.stride), std::to_string(b.stride));
    differs("bos policy", bos_policy_name(a.bos), bos_policy_name(b.bos));
    differs("bos id", a.bos_id ? std::to_string(*a.bos_id) : "none", b.bos_id ? std::to_string(*b.bos_id) : "none");
    differs("corpus sha256", old.header.corpus_sha256, header.corpus_sha256);
    differs("score fields", score_fields_text(old.header.fields), score_fields_text(header.fields));
    sql::Stmt up(impl_->db, "UPDATE runs SET sessions = sessions + 1, updated = ?2 WHERE run_id = ?1");
    up.bind(1, old.run_id).bind(2, utc_now()).run();
    return *find_run(model.name);
  }

  sql::Transaction tx(impl_->db);
  const int64_t tok_id = impl_->tokenizer_id(model.tokenizer_sha256);
  sql::Stmt ins_model(impl_->db, R"sql(
    INSERT INTO models(name, dir, model_type, config_sha256, tokenizer_sha256, weights_sha256,
                       dtype, device, backend, n_parameters, tokenizer_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql");
  ins_model.bind(1, model.name).bind(2, model.dir).bind(3, model.model_type).bind(4, model.config_sha256);
  ins_model.bind(5, model.tokenizer_sha256).bind(6, model.weights_sha256).bind(7, model.dtype);
  ins_model.bind(8, model.device).bind(9, model.backend).bind(10, model.n_parameters).bind(11, tok_id);
  ins_model.run();
  const int64_t model_id = impl_->db.last_insert_rowid();
  const std::string now = utc_now();
  const ResolvedPolicy& p = header.policy;
  sql::Stmt ins_run(impl_->db, R"sql(
    INSERT INTO runs(model_id, tool_version, git_commit, created, updated, finished, sessions,
                     context, stride, bos_policy, bos_id, force_context, add_special_tokens,
                     logprob_unit, corpus_path, corpus_kind, corpus_sha256, corpus_documents, score_fields)
    VALUES (?1, ?2, ?3, ?4, ?4, NULL, 1, ?5, ?6, ?7, ?8, ?9, 0, 'nats', ?10, ?11, ?12, ?13, ?14))sql");
  ins_run.bind(1, model_id).bind(2, header.tool_version).bind(3, header.git_commit).bind(4, now);
  ins_run.bind(5, p.context).bind(6, p.stride).bind(7, std::string_view(bos_policy_name(p.bos)));
  ins_run.bind(8, p.bos_id ? std::optional<int64_t>(*p.bos_id) : std::nullopt);
  ins_run.bind(9, static_cast<int64_t>(p.force_context ? 1 : 0));
  ins_run.bind(10, header.corpus_path).bind(11, header.corpus_kind).bind(12, header.corpus_sha256);
  ins_run.bind(13, header.corpus_documents);
  ins_run.bind(14, score_fields_text(header.fields));
  ins_run.run();
  tx.commit();
  return *find_run(model.name);
}

std::unordered_set<std::string> RunStore::completed_documents(int64_t model_id) {
  sql::Stmt st(impl_->db, R"sql(
    SELECT d.id FROM scored_documents s JOIN documents d ON d.doc_id = s.doc_id
    WHERE s.model_id = ?1)sql");
  st.bind(1, model_id);
  std::unordered_set<std::string> out;
  while (st.step()) out.insert(st.col_text(0));
  return out;
}

void RunStore::check_document(const Document& doc) {
  sql::Stmt st(impl_->db, "SELECT sha256 FROM documents WHERE id = ?1");
  st.bind(1, doc.id);
  if (!st.step()) return;
  const std::string stored = st.col_text(0);
  if (stored != sha256_bytes(doc.text))
    throw InputError(doc.origin, "document " + dq(doc.id) + ": " + impl_->path.string() +
                                     " already holds a document with this id and a different text");
}

void RunStore::add_scored_document(const StoredRun& run, const Document& doc, std::span<const int32_t> ids,
                                   std::span<const std::pair<uint32_t, uint32_t>> offsets,
                                   const DocumentScores& scores) {
  PendingDoc p;
  p.model_id = run.model_id;
  p.tokenizer_id = run.tokenizer_id;
  p.doc = doc;
  p.ids.assign(ids.begin(), ids.end());
  p.offsets.assign(offsets.begin(), offsets.end());
  p.scores = scores;
  impl_->pending.push_back(std::move(p));
}

size_t RunStore::pending_documents() const { return impl_->pending.size(); }

void RunStore::discard_batch() { impl_->pending.clear(); }

void RunStore::commit_batch() {
  if (impl_->pending.empty()) return;
  sql::Db& db = impl_->db;
  sql::Transaction tx(db);
  sql::Stmt ins_doc(db, R"sql(
    INSERT OR IGNORE INTO documents(id, domain, text, n_bytes, sha256, extra)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql");
  sql::Stmt sel_doc(db, "SELECT doc_id, sha256 FROM documents WHERE id = ?1");
  sql::Stmt has_tokens(db, "SELECT 1 FROM tokens WHERE tokenizer_id = ?1 AND doc_id = ?2 LIMIT 1");
  sql::Stmt ins_tok(db, R"sql(
    INSERT INTO tokens(tokenizer_id, doc_id, pos, token_id, start_byte, end_byte)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql");
  sql::Stmt ins_score(db, R"sql(
    INSERT INTO scores(model_id, doc_id, pos, logprob, entropy, rank, top1_id, top1_logprob)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql");
  sql::Stmt ins_done(db, R"sql(
    INSERT INTO scored_documents(model_id, doc_id, n_tokens, n_targets, n_windows)
    VALUES (?1, ?2, ?3, ?4, ?5))sql");
  std::optional<int64_t> model_id;
  for (const PendingDoc& p : impl_->pending) {
    model_id = p.model_id;
    const std::string sha = sha256_bytes(p.doc.text);
    ins_doc.bind(1, p.doc.id).bind(2, p.doc.domain).bind(3, p.doc.text);
    ins_doc.bind(4, static_cast<int64_t>(p.doc.text.size())).bind(5, sha).bind(6, p.doc.extra).run();
    sel_doc.bind(1, p.doc.id);
    LG_CHECK(sel_doc.step(), "document row just inserted");
    const int64_t doc_id = sel_doc.col_int(0);
    const std::string stored_sha = sel_doc.col_text(1);
    sel_doc.reset();
    if (stored_sha != sha)
      throw InputError(p.doc.origin, "document " + dq(p.doc.id) + ": " + impl_->path.string() +
                                         " already holds a document with this id and a different text");
    has_tokens.bind(1, p.tokenizer_id).bind(2, doc_id);
    const bool tokens_stored = has_tokens.step();
    has_tokens.reset();
    if (!tokens_stored) {
      for (size_t i = 0; i < p.ids.size(); ++i) {
        ins_tok.bind(1, p.tokenizer_id).bind(2, doc_id).bind(3, static_cast<int64_t>(i));
        ins_tok.bind(4, static_cast<int64_t>(p.ids[i])).bind(5, static_cast<int64_t>(p.offsets[i].first));
        ins_tok.bind(6, static_cast<int64_t>(p.offsets[i].second)).run();
      }
    }
    for (const TargetRecord& r : p.scores.targets) {
      const TokenScore& sc = r.score;
      ins_score.bind(1, p.model_id).bind(2, doc_id).bind(3, static_cast<int64_t>(r.pos));
      ins_score.bind(4, static_cast<double>(sc.logprob));
      if (std::isnan(sc.entropy)) {
        ins_score.bind_null(5);
      } else {
        ins_score.bind(5, static_cast<double>(sc.entropy));
      }
      if (sc.rank == MissingScore::rank) {
        ins_score.bind_null(6);
      } else {
        ins_score.bind(6, static_cast<int64_t>(sc.rank));
      }
      if (sc.top1_id == MissingScore::top1_id) {
        ins_score.bind_null(7).bind_null(8);
      } else {
        ins_score.bind(7, static_cast<int64_t>(sc.top1_id)).bind(8, static_cast<double>(sc.top1_logprob));
      }
      ins_score.run();
    }
    ins_done.bind(1, p.model_id).bind(2, doc_id).bind(3, static_cast<int64_t>(p.scores.n_tokens));
    ins_done.bind(4, static_cast<int64_t>(p.scores.targets.size())).bind(5, static_cast<int64_t>(p.scores.n_windows));
    ins_done.run();
  }
  if (model_id) {
    sql::Stmt up(db, "UPDATE runs SET updated = ?2 WHERE model_id = ?1");
    up.bind(1, *model_id).bind(2, utc_now()).run();
  }
  tx.commit();
  impl_->pending.clear();
}

void RunStore::finish_run(const StoredRun& run) {
  sql::Stmt up(impl_->db, "UPDATE runs SET finished = ?2, updated = ?2 WHERE run_id = ?1");
  up.bind(1, run.run_id).bind(2, utc_now()).run();
}

void RunStore::for_each_score(const std::optional<std::string>& model, const std::function<void(const ScoreRow&)>& f) {
  if (model && !find_run(*model)) {
    std::string names;
    for (const StoredRun& r : runs()) names += (names.empty() ? "" : ", ") + dq(r.model.name);
    throw InputError(impl_->path.string(), "no model named " + dq(*model) + " (the store has " +
                                               (names.empty() ? std::string("none") : names) + ")");
  }
  sql::Stmt st(impl_->db, R"sql(
    SELECT d.id, m.name, s.pos, t.token_id, t.start_byte, t.end_byte,
           s.logprob, s.entropy, s.rank, s.top1_id, s.top1_logprob
    FROM scores s
    JOIN models m ON m.model_id = s.model_id
    JOIN documents d ON d.doc_id = s.doc_id
    JOIN tokens t ON t.tokenizer_id = m.tokenizer_id AND t.doc_id = s.doc_id AND t.pos = s.pos
    WHERE ?1 IS NULL OR m.name = ?1
    ORDER BY s.model_id, s.doc_id, s.pos)sql");
  if (model) st.bind(1, *model);
  ScoreRow row;
  while (st.step()) {
    row.doc = st.col_text(0);
    row.model = st.col_text(1);
    row.pos = st.col_int(2);
    row.token_id = st.col_int(3);
    row.start = st.col_int(4);
    row.end = st.col_int(5);
    row.logprob = st.col_double(6);
    row.entropy = st.col_is_null(7) ? std::nullopt : std::optional<double>(st.col_double(7));
    row.rank = st.col_is_null(8) ? std::nullopt : std::optional<int64_t>(st.col_int(8));
    row.top1_id = st.col_is_null(9) ? std::nullopt : std::optional<int64_t>(st.col_int(9));
    row.top1_logprob = st.col_is_null(10) ? std::nullopt : std::optional<double>(st.col_double(10));
    f(row);
  }
}

}  // namespace lossgap
