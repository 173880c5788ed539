// Reading a corpus: a JSONL file (one document a line), a single text file (one document), or a
// directory of text files (recursive, one document a file). Documents come out one at a time in
// corpus order, checked (UTF-8, non-empty, unique ids); the whole corpus is never held in memory.
// Not tokenization and not storage: see tokenizer/ and store/. Format details: docs/cli.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace lossgap {

enum class CorpusKind { Jsonl, TextFile, Directory };

const char* corpus_kind_name(CorpusKind kind);  // "jsonl", "text", "directory"

struct Document {
  std::string id;      // as given ("id" string), a JSON integer id as its decimal text, a text
                       // file's name, a directory file's relative path, or "<file>:<line>" for a
                       // JSONL line without "id"
  std::string text;    // valid UTF-8, never empty
  std::string domain;  // the JSONL "domain" ("" when absent or null, and for text files)
  std::string extra;   // the JSONL object's other keys as compact JSON ("{}" when none)
  std::string origin;  // where it was read: "<file>:<line>" for JSONL, the file path otherwise
};

// What a cheap first pass over the corpus learns: its identity and size, for the run header and
// the progress bar. sha256 is over the bytes as stored: of the file for JSONL and text; for a
// directory, of the lines "<relative path>\t<sha256 of file>\n" in corpus order.
struct CorpusSummary {
  CorpusKind kind = CorpusKind::Jsonl;
  std::string sha256;      // 64 lowercase hex digits
  int64_t n_documents = 0; // non-blank JSONL lines, or files
  int64_t n_bytes = 0;     // bytes of the input file(s)
};

class CorpusReader {
 public:
  // A path ending in .jsonl or .ndjson is JSONL; another file is one text document; a directory
  // is every regular file below it (names starting with '.' skipped, at any depth), sorted by
  // relative path (byte order). Throws InputError if the path does not exist or is unreadable.
  static CorpusReader open(const std::filesystem::path& path);

  // Reads every input file once (hashing and counting), without validating documents.
  static CorpusSummary scan(const std::filesystem::path& path);

  CorpusKind kind() const { return kind_; }

  // The next document, or nullopt after the last. Throws InputError, naming the file (and line)
  // and the field, for: a line that is not a JSON object, a missing or non-string "text", an
  // "id" that is neither a string nor an integer, a "domain" that is not a string, an empty
  // text, invalid UTF-8 (with the document id and the byte offset in the file), or an id seen
  // before (with where it was first seen). Blank JSONL lines are skipped.
  std::optional<Document> next();

 private:
  CorpusReader() = default;
  std::optional<Document> next_jsonl();
  std::optional<Document> next_file();
  void remember_id(const Document& doc, const std::string& field);

  CorpusKind kind_ = CorpusKind::Jsonl;
  std::filesystem::path root_;
  // JSONL state
  std::ifstream in_;
  int64_t line_no_ = 0;
  int64_t line_offset_ = 0;  // file offset of the line being read
  // Text file / directory state: files in corpus order and the next one to read
  std::vector<std::filesystem::path> files_;
  size_t next_file_ = 0;
  std::unordered_map<std::string, std::string> seen_;  // id -> origin of its first occurrence
};

}  // namespace lossgap
