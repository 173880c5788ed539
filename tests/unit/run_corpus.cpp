// Unit tests of the corpus reader: JSONL, a text file, a directory; ids, domains and extra
// keys; every error names the file (and line), the document and the field.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "corpus/corpus.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lossgap_corpus_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  static std::vector<Document> read_all(const fs::path& p) {
    CorpusReader r = CorpusReader::open(p);
    std::vector<Document> docs;
    while (auto d = r.next()) docs.push_back(*d);
    return docs;
  }
  // The InputError message of reading the whole corpus (fails the test if none is thrown).
  static std::string error_of(const fs::path& p) {
    try {
      read_all(p);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no InputError for " << p;
    return "";
  }
  fs::path dir_;
};

TEST_F(CorpusTest, JsonlIdsDomainsAndExtraKeys) {
  const std::string lines =
      R"({"id": "a", "text": "first", "domain": "prose", "spans": [[0, 5, "x"]]})" "\n"
      "\n"
      R"({"id": 7, "text": "second\u00e9"})" "\r\n"
      R"({"text": "third", "domain": null})" "\n";
  const fs::path p = write("c.jsonl", lines);
  const auto docs = read_all(p);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].id, "a");
  EXPECT_EQ(docs[0].text, "first");
  EXPECT_EQ(docs[0].domain, "prose");
  EXPECT_EQ(nlohmann::json::parse(docs[0].extra), nlohmann::json::parse(R"({"spans": [[0, 5, "x"]]})"));
  EXPECT_EQ(docs[0].origin, p.string() + ":1");
  EXPECT_EQ(docs[1].id, "7");
  EXPECT_EQ(docs[1].text, "second\xC3\xA9");
  EXPECT_EQ(docs[1].extra, "{}");
  EXPECT_EQ(docs[2].id, "c.jsonl:4");  // no id: file name and line
  EXPECT_EQ(docs[2].domain, "");
  const CorpusSummary s = CorpusReader::scan(p);
  EXPECT_EQ(s.kind, CorpusKind::Jsonl);
  EXPECT_EQ(s.n_documents, 3);
  EXPECT_EQ(s.n_bytes, static_cast<int64_t>(lines.size()));
  EXPECT_EQ(s.sha256, sha256_bytes(lines));
}

TEST_F(CorpusTest, TextFileIsOneDocument) {
  const std::string text = "line one\nline two\n";
  const fs::path p = write("notes.txt", text);
  const auto docs = read_all(p);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].id, "notes.txt");
  EXPECT_EQ(docs[0].text, text);
  const CorpusSummary s = CorpusReader::scan(p);
  EXPECT_EQ(s.kind, CorpusKind::TextFile);
  EXPECT_EQ(s.n_documents, 1);
  EXPECT_EQ(s.sha256, sha256_bytes(text));
}

TEST_F(CorpusTest, DirectoryRecursiveSortedHiddenSkipped) {
  write("corpus/b.txt", "bee");
  write("corpus/a/z.txt", "zed");
  write("corpus/a/y.py", "why = 1");
  write("corpus/.hidden", "no");
  write("corpus/.git/config", "no");
  const auto docs = read_all(dir_ / "corpus");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].id, "a/y.py");
  EXPECT_EQ(docs[1].id, "a/z.txt");
  EXPECT_EQ(docs[2].id, "b.txt");
  EXPECT_EQ(docs[2].text, "bee");
  const CorpusSummary s = CorpusReader::scan(dir_ / "corpus");
  EXPECT_EQ(s.kind, CorpusKind::Directory);
  EXPECT_EQ(s.n_documents, 3);
  EXPECT_EQ(s.sha256, sha256_bytes("a/y.py\t" + sha256_bytes("why = 1") + "\na/z.txt\t" + sha256_bytes("zed") +
                                   "\nb.txt\t" + sha256_bytes("bee") + "\n"));
}

TEST_F(CorpusTest, Errors) {
  const std::string good = R"({"id": "g", "text": "good"})" "\n";
  auto expect = [&](const std::string& name, const std::string& content, std::vector<std::string> parts) {
    const fs::path p = write(name, content);
    const std::string msg = error_of(p);
    for (const auto& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg << " lacks " << part;
  };
  expect("badjson.jsonl", good + "{\"id\": \"x\", \"text\": \n", {"badjson.jsonl:2", "not a JSON object"});
  expect("array.jsonl", good + "[1, 2]\n", {"array.jsonl:2", "expected a JSON object"});
  expect("notext.jsonl", good + R"({"id": "n"})" "\n", {"notext.jsonl:2", "document \"n\"", "\"text\" is missing"});
  expect("numtext.jsonl", R"({"id": "n", "text": 3})" "\n", {"numtext.jsonl:1", "\"text\": expected a string"});
  expect("empty.jsonl", good + R"({"id": "e", "text": ""})" "\n", {"empty.jsonl:2", "document \"e\"", "empty"});
  expect("dup.jsonl", good + good, {"dup.jsonl:2", "duplicate document id \"g\"", "dup.jsonl:1"});
  expect("dupnum.jsonl", R"({"id": 5, "text": "a"})" "\n" R"({"id": "5", "text": "b"})" "\n",
         {"dupnum.jsonl:2", "duplicate document id \"5\""});
  expect("idtype.jsonl", R"({"id": [1], "text": "a"})" "\n", {"idtype.jsonl:1", "field \"id\""});
  expect("domain.jsonl", R"({"id": 1, "text": "a", "domain": 3})" "\n", {"domain.jsonl:1", "field \"domain\""});
  // Invalid UTF-8: the byte offset is in the file (line 2 starts after `good`).
  const std::string bad_line = "{\"id\": \"u\", \"text\": \"ab\xff\"}\n";
  const size_t offset = good.size() + bad_line.find('\xff');
  expect("utf8.jsonl", good + bad_line,
         {"utf8.jsonl:2", "document \"u\"", "invalid UTF-8 at byte " + std::to_string(offset) + " of the file", "0xFF"});
  expect("empty.txt", "", {"empty.txt", "document \"empty.txt\"", "empty"});
  expect("bad.txt", "ok\xC3(", {"bad.txt", "invalid UTF-8 at byte 2", "0xC3"});
  EXPECT_THROW(CorpusReader::open(dir_ / "missing.jsonl"), InputError);
  fs::create_directories(dir_ / "emptydir");
  EXPECT_THROW(CorpusReader::open(dir_ / "emptydir"), InputError);
}

TEST_F(CorpusTest, DocumentsBeforeAnErrorAreDelivered) {
  const fs::path p = write("c.jsonl", R"({"id": 1, "text": "a"})" "\n" R"({"id": 2, "text": "b"})" "\n{oops\n");
  CorpusReader r = CorpusReader::open(p);
  EXPECT_EQ(r.next()->id, "1");
  EXPECT_EQ(r.next()->id, "2");
  EXPECT_THROW(r.next(), InputError);
}

}  // namespace
}  // namespace lossgap
