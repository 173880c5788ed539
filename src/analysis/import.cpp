// Import of per-token log-probs into a run store (import.h).
#include "core/version.h"
#include "analysis/import.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "corpus/corpus.h"
#include "model/checkpoint.h"
#include "scoring/policy.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace lossgap {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Rec {
  int64_t line = 0;
  std::optional<int64_t> pos;
  std::optional<int32_t> token_id;
  uint32_t start = 0, end = 0;
  TokenScore score;
};

// One imported document: its token stream and the scored targets.
struct Doc {
  Document doc;
  std::vector<int32_t> ids;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  DocumentScores scores;
};

int64_t get_int(const json& j, const char* key, const std::string& where) {
  const json& v = j[key];
  if (!v.is_number_integer()) throw InputError(where, std::string("\"") + key + "\" must be an integer, found " + v.dump());
  return v.get<int64_t>();
}

std::string doc_key(const json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  throw InputError(where, "\"doc\" must be a string or an integer, found " + v.dump());
}

std::string tokenizer_key(const fs::path& dir) {
  std::string key = model_identity(dir).tokenizer;
  const fs::path cfg = dir / "tokenizer_config.json";
  std::error_code ec;
  if (fs::exists(cfg, ec)) key += "+" + sha256_file(cfg);
  return sha256_bytes(key);
}

}  // namespace

ImportSummary import_records(const ImportOptions& opt) {
  const std::string file = opt.records.string();
  if (opt.name.empty()) throw InputError("--name", "the imported model needs a name");
  // 1. Records, grouped by document (in file order within a document).
  std::unordered_map<std::string, std::vector<Rec>> by_doc;
  std::ifstream in(opt.records, std::ios::binary);
  if (!in) throw InputError(file, "cannot open the records file");
  std::string line, seen_model;
  int64_t line_no = 0;
  ScoreFields fields;  // the optional fields every record gives
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file + ":" + std::to_string(line_no);
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object()) throw InputError(where, "not a JSON object");
    if (j.contains("model")) {
      if (!j["model"].is_string()) throw InputError(where, "\"model\" must be a string");
      const std::string m = j["model"].get<std::string>();
      if (!opt.model.empty()) {
        if (m != opt.model) continue;
      } else if (seen_model.empty()) {
        seen_model = m;
      } else if (m != seen_model) {
        throw InputError(where, "the file holds rows of several models (\"" + seen_model + "\", \"" + m +
                                    "\"): choose one with --model");
      }
    }
    for (const char* k : {"doc", "start", "end", "logprob"})
      if (!j.contains(k)) throw InputError(where, std::string("missing \"") + k + "\" (a record needs doc, start, end, logprob)");
    Rec r;
    r.line = line_no;
    const int64_t s = get_int(j, "start", where), e = get_int(j, "end", where);
    if (s < 0 || e < s || e > std::numeric_limits<uint32_t>::max())
      throw InputError(where, "span [" + std::to_string(s) + ", " + std::to_string(e) + ") is not a byte span");
    r.start = static_cast<uint32_t>(s);
    r.end = static_cast<uint32_t>(e);
    if (!j["logprob"].is_number()) throw InputError(where, "\"logprob\" must be a number, found " + j["logprob"].dump());
    const double lp = j["logprob"].get<double>();
    if (!std::isfinite(lp) || lp > 0) throw InputError(where, "\"logprob\" must be finite and <= 0, found " + j["logprob"].dump());
    r.score.logprob = static_cast<float>(lp);
    // Optional fields: absent or null, or the marker an export of a schema-1 store wrote for a
    // missing field (entropy -1, rank 0, top1_id -1, top1_logprob 1), means not given; the store
    // then holds NULL (MissingScore). A given value must be one a real score can have.
    auto opt_num = [&](const char* k, double marker) -> std::optional<double> {
      if (!j.contains(k) || j[k].is_null()) return std::nullopt;
      if (!j[k].is_number()) throw InputError(where, std::string("\"") + k + "\" must be a number or null");
      const double v = j[k].get<double>();
      if (v == marker) return std::nullopt;
      return v;
    };
    auto bad = [&](const char* k, const char* expected) {
      throw InputError(where, std::string("\"") + k + "\" must be " + expected + " or null, found " + j[k].dump());
    };
    const auto entropy = opt_num("entropy", -1), rank = opt_num("rank", 0), top1 = opt_num("top1_id", -1),
               top1_lp = opt_num("top1_logprob", 1);
    if (entropy && !(std::isfinite(*entropy) && *entropy >= 0)) bad("entropy", "finite and >= 0");
    if (rank && !(*rank >= 1 && *rank <= std::numeric_limits<int32_t>::max() && *rank == std::floor(*rank)))
      bad("rank", "an integer >= 1");
    if (top1 && !(*top1 >= 0 && *top1 <= std::numeric_limits<int32_t>::max() && *top1 == std::floor(*top1)))
      bad("top1_id", "an integer >= 0");
    if (top1_lp && !(std::isfinite(*top1_lp) && *top1_lp <= 0)) bad("top1_logprob", "finite and <= 0");
    if (top1.has_value() != top1_lp.has_value())
      throw InputError(where, "\"top1_id\" and \"top1_logprob\" must be given together");
    r.score.entropy = entropy ? static_cast<float>(*entropy) : MissingScore::entropy;
    r.score.rank = rank ? static_cast<int32_t>(*rank) : MissingScore::rank;
    r.score.top1_id = top1 ? static_cast<int32_t>(*top1) : MissingScore::top1_id;
    r.score.top1_logprob = top1_lp ? static_cast<float>(*top1_lp) : MissingScore::top1_logprob;
    fields.entropy = fields.entropy && entropy.has_value();
    fields.rank = fields.rank && rank.has_value();
    fields.top1 = fields.top1 && top1.has_value();
    if (j.contains("pos") && !j["pos"].is_null()) {
      r.pos = get_int(j, "pos", where);
      if (*r.pos < 0) throw InputError(where, "\"pos\" must be >= 0");
    }
    if (j.contains("token_id") && !j["token_id"].is_null()) {
      const int64_t t = get_int(j, "token_id", where);
      if (t < 0 || t > std::numeric_limits<int32_t>::max()) throw InputError(where, "\"token_id\" out of range");
      r.token_id = static_cast<int32_t>(t);
    }
    by_doc[doc_key(j["doc"], where)].push_back(r);
  }
  if (in.bad()) throw InputError(file, "cannot read the records file");
  if (by_doc.empty())
    throw InputError(file, opt.model.empty() ? "holds no record" : "holds no record of model \"" + opt.model + "\"");

  // 2. Token streams from the corpus texts.
  std::optional<Tokenizer> tok;
  if (!opt.tokenizer_dir.empty()) tok.emplace(Tokenizer::from_dir(opt.tokenizer_dir));
  std::unordered_map<std::string, int32_t> intern;  // token bytes -> id, when the records give none
  std::vector<Doc> docs;
  CorpusReader reader = CorpusReader::open(opt.corpus);
  size_t matched = 0;
  while (std::optional<Document> d = reader.next()) {
    auto it = by_doc.find(d->id);
    if (it == by_doc.end()) continue;
    ++matched;
    std::vector<Rec>& recs = it->second;
    Doc out;
    out.doc = std::move(*d);
    const std::string& text = out.doc.text;
    auto at = [&](const Rec& r) { return file + ":" + std::to_string(r.line); };
    for (const Rec& r : recs)
      if (r.end > text.size())
        throw InputError(at(r), "span [" + std::to_string(r.start) + ", " + std::to_string(r.end) +
                                    ") is past the end of document \"" + out.doc.id + "\" (" +
                                    std::to_string(text.size()) + " bytes)");
    std::vector<int64_t> pos_of(recs.size());
    if (tok) {
      const Encoding enc = tok->encode(text, /*add_special_tokens=*/false);
      out.ids = enc.ids;
      out.offsets = enc.offsets;
      std::multimap<std::pair<uint32_t, uint32_t>, size_t> by_span;
      for (size_t i = 0; i < enc.offsets.size(); ++i) by_span.emplace(enc.offsets[i], i);
      for (size_t k = 0; k < recs.size(); ++k) {
        const Rec& r = recs[k];
        int64_t p = -1;
        if (r.pos) {
          p = *r.pos;
        } else if (auto f = by_span.find({r.start, r.end}); f != by_span.end()) {
          p = static_cast<int64_t>(f->second);
          by_span.erase(f);
        }
        if (p < 0 || static_cast<size_t>(p) >= enc.ids.size() || enc.offsets[static_cast<size_t>(p)] !=
                                                                      std::make_pair(r.start, r.end))
          throw InputError(at(r), "the record's token (span [" + std::to_string(r.start) + ", " + std::to_string(r.end) +
                                      ")" + (r.pos ? ", pos " + std::to_string(*r.pos) : std::string()) +
                                      ") is not a token of " + opt.tokenizer_dir.string() + "'s tokenizer on document \"" +
                                      out.doc.id + "\"");
        if (r.token_id && *r.token_id != enc.ids[static_cast<size_t>(p)])
          throw InputError(at(r), "token_id " + std::to_string(*r.token_id) + " differs from the tokenizer's " +
                                      std::to_string(enc.ids[static_cast<size_t>(p)]));
        pos_of[k] = p;
      }
    } else {
      // The records are the tokens: in pos order when every record has one, else in file order.
      const bool all_pos = std::all_of(recs.begin(), recs.end(), [](const Rec& r) { return r.pos.has_value(); });
      if (all_pos)
        std::stable_sort(recs.begin(), recs.end(), [](const Rec& a, const Rec& b) { return *a.pos < *b.pos; });
      const bool any_id = std::any_of(recs.begin(), recs.end(), [](const Rec& r) { return r.token_id.has_value(); });
      for (size_t k = 0; k < recs.size(); ++k) {
        const Rec& r = recs[k];
        if (k > 0 && all_pos && *r.pos == *recs[k - 1].pos) throw InputError(at(r), "a second record for pos " + std::to_string(*r.pos));
        if (k > 0 && r.start < recs[k - 1].start)
          throw InputError(at(r), "spans go backwards in document \"" + out.doc.id + "\"");
        int32_t id = 0;
        if (any_id) {
          if (!r.token_id) throw InputError(at(r), "some records of this document have a token_id and this one has none");
          id = *r.token_id;
        } else {
          auto [f, fresh] = intern.emplace(text.substr(r.start, r.end - r.start), static_cast<int32_t>(intern.size()));
          id = f->second;
        }
        out.ids.push_back(id);
        out.offsets.emplace_back(r.start, r.end);
        pos_of[k] = static_cast<int64_t>(k);
      }
    }
    out.scores.n_tokens = out.ids.size();
    for (size_t k = 0; k < recs.size(); ++k) {
      TargetRecord t;
      t.pos = static_cast<uint32_t>(pos_of[k]);
      t.token_id = out.ids[t.pos];
      t.start = out.offsets[t.pos].first;
      t.end = out.offsets[t.pos].second;
      t.score = recs[k].score;
      out.scores.targets.push_back(t);
    }
    std::sort(out.scores.targets.begin(), out.scores.targets.end(),
              [](const TargetRecord& a, const TargetRecord& b) { return a.pos < b.pos; });
    for (size_t k = 1; k < out.scores.targets.size(); ++k)
      if (out.scores.targets[k].pos == out.scores.targets[k - 1].pos)
        throw InputError(file, "two records for token " + std::to_string(out.scores.targets[k].pos) + " of document \"" +
                                   out.doc.id + "\"");
    docs.push_back(std::move(out));
  }
  if (matched != by_doc.size())
    for (const auto& [id, recs] : by_doc) {
      bool found = false;
      for (const Doc& d : docs) found = found || d.doc.id == id;
      if (!found)
        throw InputError(file + ":" + std::to_string(recs.front().line),
                         "document \"" + id + "\" is not in the corpus " + opt.corpus.string());
    }

  // 3. Policy and identity.
  ImportSummary sum;
  ResolvedPolicy policy;
  policy.bos = opt.bos_id ? BosPolicy::Always : BosPolicy::Never;
  policy.bos_id = opt.bos_id;
  int64_t longest = 0;
  for (const Doc& d : docs) longest = std::max<int64_t>(longest, static_cast<int64_t>(d.ids.size()));
  policy.context = opt.context > 0 ? opt.context : std::max<int64_t>(2, longest + (opt.bos_id ? 1 : 0));
  policy.stride = opt.stride > 0 ? opt.stride : policy.context - 1;
  if (opt.context < 0) throw InputError("--context", "must be >= 0");
  if (policy.context < 2) throw InputError("--context", "must be >= 2, found " + std::to_string(policy.context));
  if (policy.stride < 1 || policy.stride >= policy.context)
    throw InputError("--stride", "must be in [1, context - 1] = [1, " + std::to_string(policy.context - 1) + "], found " +
                                     std::to_string(policy.stride));
  for (Doc& d : docs) d.scores.n_windows = plan_windows(d.ids.size(), policy).size();
  std::string key;
  if (tok) {
    key = tokenizer_key(opt.tokenizer_dir);
  } else {
    std::string stream = "lossgap-import-tokens\n";
    for (const Doc& d : docs) {
      stream += d.doc.id + "\n";
      for (size_t i = 0; i < d.ids.size(); ++i)
        stream += std::to_string(d.ids[i]) + " " + std::to_string(d.offsets[i].first) + " " +
                  std::to_string(d.offsets[i].second) + "\n";
    }
    key = sha256_bytes(stream);
  }

  ModelRecord rec;
  rec.name = opt.name;
  rec.dir = opt.records.string();
  rec.model_type = "imported";
  rec.config_sha256 = "";
  rec.tokenizer_sha256 = key;
  rec.weights_sha256 = sha256_file(opt.records);
  rec.dtype = "";
  rec.device = "";
  rec.backend = "import";
  rec.n_parameters = 0;
  const CorpusSummary cs = CorpusReader::scan(opt.corpus);
  RunHeader header;
  header.tool_version = tool_version();
  header.git_commit = git_commit();
  header.policy = policy;
  header.corpus_path = opt.corpus.string();
  header.corpus_kind = corpus_kind_name(cs.kind);
  header.corpus_sha256 = cs.sha256;
  header.corpus_documents = cs.n_documents;
  header.fields = fields;

  RunStore store = RunStore::open(opt.out, true);
  const StoredRun run = store.start_run(rec, header, /*resume=*/false);
  for (const Doc& d : docs) {
    store.check_document(d.doc);
    store.add_scored_document(run, d.doc, d.ids, d.offsets, d.scores);
    sum.tokens += static_cast<int64_t>(d.ids.size());
    sum.targets += static_cast<int64_t>(d.scores.targets.size());
    if (store.pending_documents() >= 64) store.commit_batch();
  }
  store.commit_batch();
  store.finish_run(run);
  sum.documents = static_cast<int64_t>(docs.size());
  sum.context = policy.context;
  sum.stride = policy.stride;
  sum.tokenizer_key = key;
  sum.fields = fields;
  return sum;
}

}  // namespace lossgap
