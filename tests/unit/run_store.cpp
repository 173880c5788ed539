// Unit tests of the SQLite run store: round trip of documents, tokens and scores; run headers;
// batches (only committed ones survive); resume checks; shared tokens between models with one
// tokenizer; refusal of files that are not lossgap stores or are newer; optional score fields
// stored as NULL; migration of version-1 stores.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include "core/error.h"
#include "store/store.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("lossgap_store_" + std::to_string(getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite");
    remove_store();
  }
  void TearDown() override { remove_store(); }
  void remove_store() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_.string() + suffix);
  }

  static ModelRecord model(const std::string& name, const std::string& tokenizer = "tok") {
    ModelRecord m;
    m.name = name;
    m.dir = "/models/" + name;
    m.model_type = "llama";
    m.config_sha256 = "cfg-" + name;
    m.tokenizer_sha256 = tokenizer;
    m.weights_sha256 = "w-" + name;
    m.dtype = "BF16";
    m.device = "cpu";
    m.backend = "cpu";
    m.n_parameters = 1234;
    return m;
  }
  static RunHeader header(int64_t context = 32, int64_t stride = 8) {
    RunHeader h;
    h.tool_version = "0.1.0";
    h.git_commit = "abc";
    h.policy.context = context;
    h.policy.stride = stride;
    h.policy.bos = BosPolicy::Always;
    h.policy.bos_id = 5;
    h.corpus_path = "c.jsonl";
    h.corpus_kind = "jsonl";
    h.corpus_sha256 = "corpus-sha";
    h.corpus_documents = 3;
    return h;
  }
  static Document doc(const std::string& id, const std::string& text) {
    Document d;
    d.id = id;
    d.text = text;
    d.domain = "prose";
    d.extra = R"({"k":1})";
    d.origin = "c.jsonl:1";
    return d;
  }
  // n tokens of one byte each; targets at every position from `first`, with scores derived from
  // the position and a per-model salt (values not exactly representable in decimal).
  struct Scored {
    std::vector<int32_t> ids;
    std::vector<std::pair<uint32_t, uint32_t>> offsets;
    DocumentScores scores;
  };
  static Scored scored(size_t n, size_t first, float salt) {
    Scored s;
    for (size_t i = 0; i < n; ++i) {
      s.ids.push_back(static_cast<int32_t>(10 + i));
      s.offsets.emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1));
    }
    s.scores.n_tokens = n;
    s.scores.n_windows = 1;
    for (size_t i = first; i < n; ++i) {
      TargetRecord r;
      r.pos = static_cast<uint32_t>(i);
      r.token_id = s.ids[i];
      r.start = s.offsets[i].first;
      r.end = s.offsets[i].second;
      r.score.logprob = -salt / static_cast<float>(i + 3);
      r.score.entropy = salt * 0.1f + static_cast<float>(i) / 7.0f;
      r.score.rank = static_cast<int32_t>(i + 1);
      r.score.top1_id = static_cast<int32_t>(i * 2);
      r.score.top1_logprob = -1.0f / (salt + static_cast<float>(i));
      s.scores.targets.push_back(r);
    }
    return s;
  }
  static void add(RunStore& store, const StoredRun& run, const Document& d, const Scored& s) {
    store.add_scored_document(run, d, s.ids, s.offsets, s.scores);
  }
  std::vector<ScoreRow> rows(const std::optional<std::string>& m = std::nullopt) {
    RunStore store = RunStore::open(path_, false);
    std::vector<ScoreRow> out;
    store.for_each_score(m, [&](const ScoreRow& r) { out.push_back(r); });
    return out;
  }
  fs::path path_;
};

TEST_F(StoreTest, RoundTrip) {
  const Scored a = scored(6, 0, 1.7f);
  const Scored b = scored(4, 0, 2.3f);
  {
    RunStore store = RunStore::open(path_, true);
    const StoredRun run = store.start_run(model("m1"), header(), false);
    add(store, run, doc("d1", "abcdef"), a);
    add(store, run, doc("d2", "wxyz"), b);
    EXPECT_EQ(store.pending_documents(), 2u);
    store.commit_batch();
    EXPECT_EQ(store.pending_documents(), 0u);
    store.finish_run(run);
  }
  const auto got = rows();
  ASSERT_EQ(got.size(), a.scores.targets.size() + b.scores.targets.size());
  size_t k = 0;
  for (const auto* s : {&a, &b}) {
    for (const TargetRecord& t : s->scores.targets) {
      const ScoreRow& r = got[k++];
      EXPECT_EQ(r.doc, s == &a ? "d1" : "d2");
      EXPECT_EQ(r.model, "m1");
      EXPECT_EQ(r.pos, t.pos);
      EXPECT_EQ(r.token_id, t.token_id);
      EXPECT_EQ(r.start, t.start);
      EXPECT_EQ(r.end, t.end);
      EXPECT_EQ(static_cast<float>(r.logprob), t.score.logprob);  // exact: fp32 stored as REAL
      ASSERT_TRUE(r.entropy && r.rank && r.top1_id && r.top1_logprob);
      EXPECT_EQ(static_cast<float>(*r.entropy), t.score.entropy);
      EXPECT_EQ(*r.rank, t.score.rank);
      EXPECT_EQ(*r.top1_id, t.score.top1_id);
      EXPECT_EQ(static_cast<float>(*r.top1_logprob), t.score.top1_logprob);
    }
  }
  RunStore store = RunStore::open(path_, false);
  const auto run = store.find_run("m1");
  ASSERT_TRUE(run.has_value());
  const RunHeader h = header();
  EXPECT_EQ(run->model.config_sha256, "cfg-m1");
  EXPECT_EQ(run->model.dtype, "BF16");
  EXPECT_EQ(run->model.n_parameters, 1234);
  EXPECT_EQ(run->header.policy.context, h.policy.context);
  EXPECT_EQ(run->header.policy.stride, h.policy.stride);
  EXPECT_EQ(run->header.policy.bos, BosPolicy::Always);
  EXPECT_EQ(run->header.policy.bos_id, h.policy.bos_id);
  EXPECT_EQ(run->header.corpus_sha256, h.corpus_sha256);
  EXPECT_EQ(run->header.git_commit, "abc");
  EXPECT_FALSE(run->finished.empty());
  EXPECT_EQ(run->documents_done, 2);
  EXPECT_TRUE(run->header.fields.all());
  EXPECT_EQ(store.completed_documents(run->model_id), (std::unordered_set<std::string>{"d1", "d2"}));
}

// A run without entropy / rank / top-1 (an import of log-probs only): NULL in the store, nullopt
// when read, and runs.score_fields says which fields the run has.
TEST_F(StoreTest, MissingScoreFieldsAreNull) {
  Scored a = scored(5, 1, 1.3f);
  for (size_t k = 0; k < a.scores.targets.size(); ++k) {
    TokenScore& sc = a.scores.targets[k].score;
    sc.entropy = MissingScore::entropy;
    sc.top1_id = MissingScore::top1_id;
    sc.top1_logprob = MissingScore::top1_logprob;
    if (k % 2 == 0) sc.rank = MissingScore::rank;  // rank given for some tokens only
  }
  RunHeader h = header();
  h.fields = ScoreFields{false, false, false};
  {
    RunStore store = RunStore::open(path_, true);
    const StoredRun run = store.start_run(model("imp"), h, false);
    add(store, run, doc("d1", "abcde"), a);
    store.commit_batch();
  }
  const auto got = rows();
  ASSERT_EQ(got.size(), a.scores.targets.size());
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(static_cast<float>(got[k].logprob), a.scores.targets[k].score.logprob);
    EXPECT_FALSE(got[k].entropy.has_value());
    EXPECT_FALSE(got[k].top1_id.has_value());
    EXPECT_FALSE(got[k].top1_logprob.has_value());
    EXPECT_EQ(got[k].rank.has_value(), k % 2 == 1);
    if (got[k].rank) {
      EXPECT_EQ(*got[k].rank, a.scores.targets[k].score.rank);
    }
  }
  RunStore store = RunStore::open(path_, false);
  EXPECT_EQ(store.find_run("imp")->header.fields, (ScoreFields{false, false, false}));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  EXPECT_EQ(count("SELECT count(*) FROM scores WHERE entropy IS NULL AND top1_id IS NULL AND top1_logprob IS NULL"),
            static_cast<int64_t>(got.size()));
  EXPECT_EQ(count("SELECT count(*) FROM scores WHERE rank IS NULL"), static_cast<int64_t>((got.size() + 1) / 2));
  EXPECT_EQ(count("SELECT score_fields = '' FROM runs"), 1);
  EXPECT_EQ(count("PRAGMA user_version"), kStoreSchemaVersion);
  sqlite3_close(db);
}

// A store of schema version 1 (NOT NULL score columns; imports wrote the markers entropy -1,
// rank 0, top1_id -1, top1_logprob 1; no runs.score_fields) is migrated when opened: markers
// become NULL, the import's run has no optional field, a scored run keeps every value.
TEST_F(StoreTest, MigratesVersion1Stores) {
  const Scored a = scored(6, 1, 1.7f);
  Scored b = scored(6, 1, 2.9f);
  for (TargetRecord& t : b.scores.targets) {
    t.score.entropy = MissingScore::entropy;
    t.score.rank = MissingScore::rank;
    t.score.top1_id = MissingScore::top1_id;
    t.score.top1_logprob = MissingScore::top1_logprob;
  }
  {
    RunStore store = RunStore::open(path_, true);
    const StoredRun ra = store.start_run(model("scored"), header(), false);
    ModelRecord mb = model("imported");
    mb.backend = "import";
    RunHeader hb = header();
    hb.fields = ScoreFields{false, false, false};
    const StoredRun rb = store.start_run(mb, hb, false);
    add(store, ra, doc("d1", "abcdef"), a);
    add(store, rb, doc("d1", "abcdef"), b);
    store.commit_batch();
  }
  {
    // Rewrite it as version 1 wrote it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* v1 = R"sql(
      CREATE TABLE scores_v1 (
        model_id INTEGER NOT NULL REFERENCES models(model_id),
        doc_id INTEGER NOT NULL REFERENCES documents(doc_id),
        pos INTEGER NOT NULL, logprob REAL NOT NULL, entropy REAL NOT NULL, rank INTEGER NOT NULL,
        top1_id INTEGER NOT NULL, top1_logprob REAL NOT NULL,
        PRIMARY KEY (model_id, doc_id, pos)) WITHOUT ROWID;
      INSERT INTO scores_v1 SELECT model_id, doc_id, pos, logprob, ifnull(entropy, -1), ifnull(rank, 0),
                                   ifnull(top1_id, -1), ifnull(top1_logprob, 1) FROM scores;
      DROP TABLE scores;
      ALTER TABLE scores_v1 RENAME TO scores;
      ALTER TABLE runs DROP COLUMN score_fields;
      PRAGMA user_version = 1;)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  std::vector<ScoreRow> got = rows();  // opening migrates
  ASSERT_EQ(got.size(), a.scores.targets.size() + b.scores.targets.size());
  for (size_t k = 0; k < a.scores.targets.size(); ++k) {
    const TokenScore& t = a.scores.targets[k].score;
    ASSERT_TRUE(got[k].entropy && got[k].rank && got[k].top1_id && got[k].top1_logprob);
    EXPECT_EQ(static_cast<float>(*got[k].entropy), t.entropy);
    EXPECT_EQ(*got[k].rank, t.rank);
    EXPECT_EQ(*got[k].top1_id, t.top1_id);
    EXPECT_EQ(static_cast<float>(*got[k].top1_logprob), t.top1_logprob);
  }
  for (size_t k = a.scores.targets.size(); k < got.size(); ++k) {
    EXPECT_EQ(got[k].model, "imported");
    EXPECT_EQ(static_cast<float>(got[k].logprob), b.scores.targets[k - a.scores.targets.size()].score.logprob);
    EXPECT_FALSE(got[k].entropy || got[k].rank || got[k].top1_id || got[k].top1_logprob);
  }
  RunStore store = RunStore::open(path_, true);
  EXPECT_TRUE(store.find_run("scored")->header.fields.all());
  EXPECT_EQ(store.find_run("imported")->header.fields, (ScoreFields{false, false, false}));
  // Writable again with NULLs after the migration.
  ModelRecord mc = model("later");
  RunHeader hc = header();
  hc.fields = ScoreFields{false, false, false};
  const StoredRun rc = store.start_run(mc, hc, false);
  add(store, rc, doc("d1", "abcdef"), b);
  store.commit_batch();
  EXPECT_EQ(rows(std::string("later")).size(), b.scores.targets.size());
}

TEST_F(StoreTest, OnlyCommittedBatchesSurvive) {
  {
    RunStore store = RunStore::open(path_, true);
    const StoredRun run = store.start_run(model("m1"), header(), false);
    add(store, run, doc("d1", "abc"), scored(3, 0, 1.0f));
    store.commit_batch();
    add(store, run, doc("d2", "defg"), scored(4, 0, 1.0f));
    // Destroyed with d2 pending, as after a crash.
  }
  RunStore store = RunStore::open(path_, false);
  const auto run = store.find_run("m1");
  EXPECT_EQ(store.completed_documents(run->model_id), (std::unordered_set<std::string>{"d1"}));
  EXPECT_TRUE(run->finished.empty());
  EXPECT_EQ(rows().size(), 3u);
}

TEST_F(StoreTest, ResumeChecksIdentityPolicyAndCorpus) {
  {
    RunStore store = RunStore::open(path_, true);
    store.start_run(model("m1"), header(), false);
  }
  RunStore store = RunStore::open(path_, false);
  EXPECT_THROW(store.start_run(model("m1"), header(), false), InputError);
  auto message = [&](const ModelRecord& m, const RunHeader& h) -> std::string {
    try {
      store.start_run(m, h, true);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(model("m1"), header(64, 8)).find("context is \"32\" in the store but \"64\" now"), std::string::npos);
  EXPECT_NE(message(model("m1"), header(32, 4)).find("stride"), std::string::npos);
  ModelRecord other = model("m1");
  other.weights_sha256 = "changed";
  EXPECT_NE(message(other, header()).find("weights sha256"), std::string::npos);
  RunHeader h = header();
  h.corpus_sha256 = "another corpus";
  EXPECT_NE(message(model("m1"), h).find("corpus sha256"), std::string::npos);
  h = header();
  h.policy.bos_id = std::nullopt;
  EXPECT_NE(message(model("m1"), h).find("bos id"), std::string::npos);
  const StoredRun resumed = store.start_run(model("m1"), header(), true);
  EXPECT_EQ(resumed.sessions, 2);
  // Resume with nothing to resume starts a new run.
  EXPECT_EQ(store.start_run(model("m2"), header(), true).sessions, 1);
}

TEST_F(StoreTest, ModelsShareDocumentsAndTokens) {
  RunStore store = RunStore::open(path_, true);
  const StoredRun r1 = store.start_run(model("m1", "tokA"), header(), false);
  const StoredRun r2 = store.start_run(model("m2", "tokA"), header(), false);
  const StoredRun r3 = store.start_run(model("m3", "tokB"), header(), false);
  EXPECT_EQ(r1.tokenizer_id, r2.tokenizer_id);
  EXPECT_NE(r1.tokenizer_id, r3.tokenizer_id);
  add(store, r1, doc("d1", "abcd"), scored(4, 1, 1.0f));
  store.commit_batch();
  add(store, r2, doc("d1", "abcd"), scored(4, 0, 2.0f));
  add(store, r3, doc("d1", "abcd"), scored(4, 0, 3.0f));
  store.commit_batch();
  EXPECT_THROW(store.check_document(doc("d1", "a different text")), InputError);
  EXPECT_NO_THROW(store.check_document(doc("d1", "abcd")));
  EXPECT_NO_THROW(store.check_document(doc("d9", "new")));

  const auto all = rows();
  ASSERT_EQ(all.size(), 3u + 4u + 4u);
  EXPECT_EQ(all.front().model, "m1");
  EXPECT_EQ(all.front().pos, 1);
  EXPECT_EQ(all.back().model, "m3");
  EXPECT_EQ(rows("m2").size(), 4u);
  EXPECT_THROW(rows("nope"), InputError);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  EXPECT_EQ(count("SELECT count(*) FROM documents"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM tokens"), 8);  // 4 tokens x 2 tokenizers
  sqlite3_close(db);
}

TEST_F(StoreTest, RefusesForeignAndNewerFiles) {
  EXPECT_THROW(RunStore::open(path_, false), InputError);  // missing
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_THROW(RunStore::open(path_, true), InputError);  // another application's database
  remove_store();
  { RunStore::open(path_, true); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const std::string sql = "PRAGMA user_version=" + std::to_string(kStoreSchemaVersion + 1);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  try {
    RunStore::open(path_, false);
    ADD_FAILURE() << "a newer schema was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lossgap
