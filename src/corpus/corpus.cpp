// Corpus reading: JSONL, one text file, or a directory of text files (see corpus.h).
#include "corpus/corpus.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hash.h"
#include "core/utf8.h"

namespace lossgap {

namespace fs = std::filesystem;

namespace {

bool is_jsonl_path(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".jsonl" || ext == ".ndjson";
}

bool is_hidden(const fs::path& rel) {
  for (const auto& part : rel) {
    const std::string s = part.string();
    if (!s.empty() && s[0] == '.') return true;
  }
  return false;
}

// Regular files below dir, names starting with '.' skipped at any depth, sorted by relative
// path in byte order.
std::vector<fs::path> list_text_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) throw InputError(dir.string(), "cannot list the corpus directory: " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw InputError(dir.string(), "cannot list the corpus directory: " + ec.message());
    const fs::path rel = it->path().lexically_relative(dir);
    if (is_hidden(rel)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(rel);
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  return files;
}

std::string read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the file");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path.string(), "cannot read the file");
  return data;
}

std::string json_quoted(const std::string& s) { return nlohmann::json(s).dump(); }

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

}  // namespace

const char* corpus_kind_name(CorpusKind kind) {
  switch (kind) {
    case CorpusKind::Jsonl: return "jsonl";
    case CorpusKind::TextFile: return "text";
    case CorpusKind::Directory: return "directory";
  }
  return "?";
}

CorpusReader CorpusReader::open(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw InputError(path.string(), "the corpus does not exist");
  CorpusReader r;
  r.root_ = path;
  if (fs::is_directory(status)) {
    r.kind_ = CorpusKind::Directory;
    r.files_ = list_text_files(path);
    if (r.files_.empty()) throw InputError(path.string(), "the corpus directory holds no files");
  } else if (is_jsonl_path(path)) {
    r.kind_ = CorpusKind::Jsonl;
    r.in_.open(path, std::ios::binary);
    if (!r.in_) throw InputError(path.string(), "cannot open the corpus file");
  } else {
    r.kind_ = CorpusKind::TextFile;
    r.files_ = {fs::path()};
  }
  return r;
}

CorpusSummary CorpusReader::scan(const fs::path& path) {
  CorpusReader r = open(path);
  CorpusSummary s;
  s.kind = r.kind_;
  if (r.kind_ == CorpusKind::Directory) {
    Sha256 h;
    for (const auto& rel : r.files_) {
      const fs::path full = path / rel;
      const std::string line = rel.generic_string() + "\t" + sha256_file(full) + "\n";
      h.update(line);
      s.n_bytes += static_cast<int64_t>(fs::file_size(full));
    }
    s.sha256 = h.hex_digest();
    s.n_documents = static_cast<int64_t>(r.files_.size());
    return s;
  }
  Sha256 h;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the corpus file");
  std::string line;
  while (std::getline(in, line)) {
    const bool had_newline = !in.eof();
    h.update(line);
    if (had_newline) h.update("\n");
    s.n_bytes += static_cast<int64_t>(line.size()) + (had_newline ? 1 : 0);
    if (r.kind_ == CorpusKind::Jsonl && !is_blank(line)) ++s.n_documents;
  }
  if (in.bad()) throw InputError(path.string(), "cannot read the corpus file");
  if (r.kind_ == CorpusKind::TextFile) s.n_documents = 1;
  s.sha256 = h.hex_digest();
  return s;
}

std::optional<Document> CorpusReader::next() {
  return kind_ == CorpusKind::Jsonl ? next_jsonl() : next_file();
}

void CorpusReader::remember_id(const Document& doc, const std::string& field) {
  auto [it, inserted] = seen_.emplace(doc.id, doc.origin);
  if (!inserted) {
    throw InputError(doc.origin, field + ": duplicate document id " + json_quoted(doc.id) +
                                     " (first seen at " + it->second + ")");
  }
}

std::optional<Document> CorpusReader::next_jsonl() {
  std::string line;
  const std::string file = root_.string();
  while (true) {
    line_offset_ = static_cast<int64_t>(in_.tellg());
    if (!std::getline(in_, line)) {
      if (in_.bad()) throw InputError(file, "cannot read the corpus file");
      return std::nullopt;
    }
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!is_blank(line)) break;
  }
  const std::string where = file + ":" + std::to_string(line_no_);

  // Invalid UTF-8 is found on the raw line so that the error can give a byte offset in the
  // file; the id is then read from a copy with the bad bytes replaced, when that parses.
  if (const auto bad = utf8_find_invalid(line)) {
    std::string id_text = "(unknown id)";
    std::string repaired = line;
    for (size_t i = 0; i < repaired.size();) {
      const size_t len = utf8_valid_seq_len(repaired, i);
      if (len == 0) {
        repaired[i] = '?';
        ++i;
      } else {
        i += len;
      }
    }
    const auto j = nlohmann::json::parse(repaired, nullptr, false);
    if (j.is_object() && j.contains("id") && (j["id"].is_string() || j["id"].is_number_integer()))
      id_text = j["id"].is_string() ? json_quoted(j["id"].get<std::string>()) : j["id"].dump();
    throw InputError(where, "document " + id_text + ": invalid UTF-8 at byte " +
                                std::to_string(line_offset_ + static_cast<int64_t>(*bad)) +
                                " of the file (" + hex_byte(static_cast<unsigned char>(line[*bad])) +
                                ")");
  }

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann says "[json.exception.parse_error.101] parse error at line 1, column N: ...";
    // its line is always 1 here, so keep the column and the reason.
    const std::string what = e.what();
    const size_t col = what.find("column ");
    throw InputError(where, "not a JSON object: " + (col == std::string::npos ? what : what.substr(col)));
  }
  if (!j.is_object()) throw InputError(where, "expected a JSON object, found " + std::string(j.type_name()));

  Document doc;
  doc.origin = where;
  auto id_it = j.find("id");
  if (id_it == j.end() || id_it->is_null()) {
    doc.id = root_.filename().string() + ":" + std::to_string(line_no_);
  } else if (id_it->is_string()) {
    doc.id = id_it->get<std::string>();
  } else if (id_it->is_number_integer()) {
    doc.id = id_it->dump();
  } else {
    throw InputError(where, "field \"id\": expected a string or an integer, found " +
                                std::string(id_it->type_name()) + " " + id_it->dump());
  }

  auto text_it = j.find("text");
  if (text_it == j.end())
    throw InputError(where, "document " + json_quoted(doc.id) + ": field \"text\" is missing");
  if (!text_it->is_string())
    throw InputError(where, "document " + json_quoted(doc.id) + ": field \"text\": expected a string, found " +
                                std::string(text_it->type_name()));
  doc.text = text_it->get<std::string>();
  if (doc.text.empty())
    throw InputError(where, "document " + json_quoted(doc.id) + ": field \"text\" is empty (an empty document cannot be scored)");

  auto dom_it = j.find("domain");
  if (dom_it != j.end() && !dom_it->is_null()) {
    if (!dom_it->is_string())
      throw InputError(where, "document " + json_quoted(doc.id) + ": field \"domain\": expected a string, found " +
                                  std::string(dom_it->type_name()));
    doc.domain = dom_it->get<std::string>();
  }
  nlohmann::json extra = nlohmann::json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "id" && it.key() != "text" && it.key() != "domain") extra[it.key()] = it.value();
  }
  doc.extra = extra.dump();
  remember_id(doc, "field \"id\"");
  return doc;
}

std::optional<Document> CorpusReader::next_file() {
  if (next_file_ >= files_.size()) return std::nullopt;
  const fs::path rel = files_[next_file_++];
  const fs::path full = kind_ == CorpusKind::Directory ? root_ / rel : root_;
  Document doc;
  doc.id = kind_ == CorpusKind::Directory ? rel.generic_string() : root_.filename().string();
  doc.origin = full.string();
  doc.text = read_whole_file(full);
  if (doc.text.empty())
    throw InputError(doc.origin, "document " + json_quoted(doc.id) + ": the file is empty (an empty document cannot be scored)");
  if (const auto bad = utf8_find_invalid(doc.text))
    throw InputError(doc.origin, "document " + json_quoted(doc.id) + ": invalid UTF-8 at byte " +
                                     std::to_string(*bad) + " (" +
                                     hex_byte(static_cast<unsigned char>(doc.text[*bad])) + ")");
  doc.extra = "{}";
  remember_id(doc, "file name");
  return doc;
}

}  // namespace lossgap
