// Run store -> Records (load.h). Reads the tables directly with ordered primary-key scans
// (documents, tokens per tokenizer, scores per model), each on a thread and SQLite connection of
// its own, into arrays of the Records' size.
#include "analysis/load.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "scoring/policy.h"
#include "store/sqlite.h"
#include "tags/words.h"

namespace lossgap {

namespace {

std::string dq(const std::string& s) { return "\"" + s + "\""; }

// One tokenizer's tokens of the selected documents, in Records layout.
struct TokenStream {
  std::vector<uint64_t> begin;  // [D + 1]
  std::vector<int32_t> id;      // [N]
  std::vector<uint32_t> b, e;   // [N] byte spans
  // Same tokens: the same spans in every document (ids may be numbered differently, e.g. an
  // import that interned token texts).
  bool same_spans(const TokenStream& o) const { return begin == o.begin && b == o.b && e == o.e; }
};

TokenStream read_tokens(sql::Db& db, int64_t tokenizer_id, const std::vector<int64_t>& doc_index, size_t D,
                        const std::string& where) {
  TokenStream s;
  s.begin.assign(D + 1, 0);
  std::vector<uint64_t> count(D, 0);
  sql::Stmt st(db, "SELECT doc_id, pos, token_id, start_byte, end_byte FROM tokens WHERE tokenizer_id = ?1 "
                   "ORDER BY doc_id, pos");
  st.bind(1, tokenizer_id);
  int64_t prev_doc = -1;
  while (st.step()) {
    const int64_t doc = st.col_int(0);
    if (doc < 0 || static_cast<size_t>(doc) >= doc_index.size() || doc_index[static_cast<size_t>(doc)] < 0) continue;
    const size_t d = static_cast<size_t>(doc_index[static_cast<size_t>(doc)]);
    LG_CHECK(doc >= prev_doc, "tokens are read in document order");
    prev_doc = doc;
    if (st.col_int(1) != static_cast<int64_t>(count[d]))
      throw InputError(where, "tokens of document row " + std::to_string(doc) + " are not numbered 0, 1, 2, ...");
    ++count[d];
    s.id.push_back(static_cast<int32_t>(st.col_int(2)));
    s.b.push_back(static_cast<uint32_t>(st.col_int(3)));
    s.e.push_back(static_cast<uint32_t>(st.col_int(4)));
  }
  for (size_t d = 0; d < D; ++d) s.begin[d + 1] = s.begin[d] + count[d];
  return s;
}

// One model's scores: NLL per token of its tokenizer's stream, NaN where not scored. `begin`
// [D + 1] are the stream's document offsets as the run's completion marks give them
// (scored_documents.n_tokens); load_run checks them against the tokens read.
std::vector<float> read_nll(sql::Db& db, int64_t model_id, const std::string& model, const std::vector<uint64_t>& begin,
                            const std::vector<int64_t>& doc_index, const std::string& where) {
  std::vector<float> nll(begin.back(), std::numeric_limits<float>::quiet_NaN());
  sql::Stmt st(db, "SELECT doc_id, pos, logprob FROM scores WHERE model_id = ?1 ORDER BY doc_id, pos");
  st.bind(1, model_id);
  while (st.step()) {
    const int64_t doc = st.col_int(0);
    if (doc < 0 || static_cast<size_t>(doc) >= doc_index.size() || doc_index[static_cast<size_t>(doc)] < 0) continue;
    const size_t d = static_cast<size_t>(doc_index[static_cast<size_t>(doc)]);
    const int64_t pos = st.col_int(1);
    const uint64_t n = begin[d + 1] - begin[d];
    if (pos < 0 || static_cast<uint64_t>(pos) >= n)
      throw InputError(where, "model " + dq(model) + " has a score at position " + std::to_string(pos) +
                                  " of document row " + std::to_string(doc) + ", which has " + std::to_string(n) +
                                  " tokens");
    const double lp = st.col_double(2);
    nll[begin[d] + static_cast<uint64_t>(pos)] = static_cast<float>(-lp);
  }
  return nll;
}

// Runs the jobs on threads of their own (the store's tables are read through one SQLite
// connection each), then rethrows the first job's exception in job order.
void run_parallel(const std::vector<std::function<void()>>& jobs) {
  std::vector<std::exception_ptr> errors(jobs.size());
  std::vector<std::thread> threads;
  for (size_t k = 0; k < jobs.size(); ++k)
    threads.emplace_back([&, k] {
      try {
        jobs[k]();
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

bool same_policy(const ResolvedPolicy& a, const ResolvedPolicy& b) {
  return a.context == b.context && a.stride == b.stride && a.bos == b.bos && a.bos_id == b.bos_id;
}

}  // namespace

const char* pair_level_name(PairLevel l) { return l == PairLevel::Token ? "token" : "word"; }

std::vector<uint32_t> window_positions(size_t n, const ResolvedPolicy& policy) {
  std::vector<uint32_t> pos(n, 0);
  for (const Window& w : plan_windows(n, policy))
    for (size_t i = w.first_target; i < w.end; ++i) pos[i] = static_cast<uint32_t>(i - w.begin);
  return pos;
}

LoadedRun load_run(const std::filesystem::path& path, const LoadOptions& opt) {
  const std::string where = path.string();
  LoadedRun out;
  out.store = path;
  std::vector<StoredRun> all;
  {
    RunStore rs = RunStore::open(path, false);
    all = rs.runs();
  }
  if (all.empty()) throw InputError(where, "the run store holds no scored model");
  auto known = [&] {
    std::string s;
    for (const StoredRun& r : all) s += (s.empty() ? "" : ", ") + dq(r.model.name);
    return s;
  };
  auto find = [&](const std::string& name) -> const StoredRun& {
    for (const StoredRun& r : all)
      if (r.model.name == name) return r;
    throw InputError(where, "no model named " + dq(name) + " (the store has " + known() + ")");
  };
  if (opt.models.empty()) {
    out.runs = all;
  } else {
    for (const std::string& name : opt.models) {
      for (const StoredRun& r : out.runs)
        if (r.model.name == name) throw InputError(where, "model " + dq(name) + " is selected twice");
      out.runs.push_back(find(name));
    }
  }
  if (!opt.baseline.empty()) {
    const StoredRun base = find(opt.baseline);
    auto it = std::find_if(out.runs.begin(), out.runs.end(),
                           [&](const StoredRun& r) { return r.model.name == opt.baseline; });
    if (it == out.runs.end()) throw InputError(where, "the baseline " + dq(opt.baseline) + " is not among the models compared");
    out.runs.erase(it);
    out.runs.insert(out.runs.begin(), base);
  }
  const size_t M = out.runs.size();
  const StoredRun& base = out.runs.front();
  for (size_t m = 1; m < M; ++m) {
    const StoredRun& r = out.runs[m];
    if (!same_policy(r.header.policy, base.header.policy))
      out.warnings.push_back("model " + dq(r.model.name) + " was scored with another policy than the baseline " +
                             dq(base.model.name) + " (context " + std::to_string(r.header.policy.context) + " vs " +
                             std::to_string(base.header.policy.context) + ", stride " +
                             std::to_string(r.header.policy.stride) + " vs " + std::to_string(base.header.policy.stride) +
                             "): positions follow the baseline's windows");
    if (r.header.corpus_sha256 != base.header.corpus_sha256)
      out.warnings.push_back("model " + dq(r.model.name) + " was scored from another corpus file (sha256 " +
                             r.header.corpus_sha256.substr(0, 12) + " vs " + base.header.corpus_sha256.substr(0, 12) +
                             "); only documents scored by every model are compared");
  }

  // Documents scored by every selected model (store order), with each model's token count.
  std::map<int64_t, std::vector<int64_t>> scored;  // store doc_id -> [M] n_tokens
  {
    sql::Db db(path, false);
    for (size_t m = 0; m < M; ++m) {
      sql::Stmt st(db, "SELECT doc_id, n_tokens FROM scored_documents WHERE model_id = ?1");
      st.bind(1, out.runs[m].model_id);
      while (st.step()) {
        std::vector<int64_t>& n = scored[st.col_int(0)];
        n.resize(M, -1);
        n[m] = st.col_int(1);
      }
    }
    out.documents_in_store = static_cast<uint64_t>(db.query_int("SELECT count(*) FROM documents").value_or(0));
  }
  std::vector<int64_t> doc_index;                   // store doc_id -> record document, or -1
  std::vector<std::vector<uint64_t>> run_begin(M);  // [M][D + 1] token offsets per the completion marks
  for (auto& b : run_begin) b.push_back(0);
  size_t D = 0;
  for (const auto& [doc, n] : scored) {
    if (std::find(n.begin(), n.end(), -1) != n.end() || doc < 0) continue;
    if (static_cast<size_t>(doc) >= doc_index.size()) doc_index.resize(static_cast<size_t>(doc) + 1, -1);
    doc_index[static_cast<size_t>(doc)] = static_cast<int64_t>(D++);
    for (size_t m = 0; m < M; ++m) run_begin[m].push_back(run_begin[m].back() + static_cast<uint64_t>(std::max<int64_t>(0, n[m])));
  }
  if (D == 0)
    throw InputError(where, "no document was scored by every selected model (" + std::to_string(out.documents_in_store) +
                                " documents in the store)");
  out.documents_excluded = out.documents_in_store - D;

  // The documents' texts, each tokenizer's tokens and each model's scores, read at once.
  Records& rec = out.records;
  std::vector<int64_t> tokenizers;
  for (const StoredRun& r : out.runs)
    if (std::find(tokenizers.begin(), tokenizers.end(), r.tokenizer_id) == tokenizers.end())
      tokenizers.push_back(r.tokenizer_id);
  std::unordered_map<int64_t, TokenStream> streams;
  for (int64_t t : tokenizers) streams[t];
  std::vector<std::vector<float>> run_nll(M);  // [M][tokens of the model's stream]
  std::vector<std::function<void()>> jobs;
  jobs.push_back([&] {
    sql::Db db(path, false, /*one_thread=*/true);
    sql::Stmt st(db, "SELECT doc_id, id, domain, text, extra FROM documents ORDER BY doc_id");
    while (st.step()) {
      const int64_t doc = st.col_int(0);
      if (doc < 0 || static_cast<size_t>(doc) >= doc_index.size() || doc_index[static_cast<size_t>(doc)] < 0) continue;
      rec.begin_document(st.col_text(1), st.col_text(2), st.col_text(3));
      out.doc_extra.push_back(st.col_text(4));
    }
  });
  for (int64_t t : tokenizers)
    jobs.push_back([&, t] {
      sql::Db db(path, false, /*one_thread=*/true);
      streams.at(t) = read_tokens(db, t, doc_index, D, where);
    });
  for (size_t m = 0; m < M; ++m)
    jobs.push_back([&, m] {
      sql::Db db(path, false, /*one_thread=*/true);
      run_nll[m] = read_nll(db, out.runs[m].model_id, out.runs[m].model.name, run_begin[m], doc_index, where);
    });
  run_parallel(jobs);
  LG_CHECK(rec.n_docs() == D, "every selected document has a row in documents");
  for (size_t m = 0; m < M; ++m) {
    const TokenStream& s = streams.at(out.runs[m].tokenizer_id);
    for (size_t d = 0; d < D; ++d)
      if (s.begin[d + 1] - s.begin[d] != run_begin[m][d + 1] - run_begin[m][d])
        throw InputError(where, "model " + dq(out.runs[m].model.name) + " scored document " + dq(rec.doc_id[d]) +
                                    " as " + std::to_string(run_begin[m][d + 1] - run_begin[m][d]) +
                                    " tokens, but the store holds " + std::to_string(s.begin[d + 1] - s.begin[d]) +
                                    " tokens of its tokenizer for it");
  }
  for (const StoredRun& r : out.runs) rec.model.push_back(r.model.name);
  const TokenStream& bs = streams.at(base.tokenizer_id);
  bool identical = true;
  for (int64_t t : tokenizers) identical = identical && streams.at(t).same_spans(bs);
  if (tokenizers.size() == 1) {
    out.level = PairLevel::Token;
    out.level_note = M == 1 ? "one model" : "every model uses one tokenizer";
  } else if (identical) {
    out.level = PairLevel::Token;
    out.level_note = "the runs' tokenizers differ by hash but give identical token spans on every document";
  } else {
    out.level = PairLevel::Word;
    out.level_note = "the models' tokenizers differ: each token's NLL is charged to the word holding its first byte";
  }

  if (out.level == PairLevel::Token) {
    rec.token = bs.id;
    rec.byte_begin = bs.b;
    rec.byte_end = bs.e;
    rec.doc_begin.assign(bs.begin.begin(), bs.begin.end());
    rec.position.resize(bs.id.size());
    for (size_t d = 0; d < D; ++d) {
      const auto pos = window_positions(bs.begin[d + 1] - bs.begin[d], base.header.policy);
      std::copy(pos.begin(), pos.end(), rec.position.begin() + static_cast<std::ptrdiff_t>(bs.begin[d]));
    }
    rec.nll = std::move(run_nll);
    validate(rec, where);
    return out;
  }

  // Word level: words of each document, spans tiling the text (whitespace charged forward).
  std::unordered_map<std::string, int32_t> intern;
  std::vector<uint64_t> word_begin(D + 1, 0);
  for (size_t d = 0; d < D; ++d) {
    const std::string_view text = rec.doc_text(d);
    const std::vector<WordSpan> words = split_words(text);
    for (size_t k = 0; k < words.size(); ++k) {
      const std::string w(text.substr(words[k].start, words[k].end - words[k].start));
      auto [it, fresh] = intern.emplace(w, static_cast<int32_t>(intern.size()));
      rec.token.push_back(it->second);
      rec.byte_begin.push_back(k == 0 ? 0 : words[k - 1].end);
      rec.byte_end.push_back(k + 1 == words.size() ? static_cast<uint32_t>(text.size()) : words[k].end);
    }
    word_begin[d + 1] = word_begin[d] + words.size();
  }
  rec.doc_begin.assign(word_begin.begin(), word_begin.end());
  // The record (word) of each token of a stream: the word whose span holds its first byte.
  auto charge = [&](const TokenStream& s) {
    std::vector<int64_t> w(s.id.size(), -1);
    for (size_t d = 0; d < D; ++d) {
      const uint64_t w0 = word_begin[d], w1 = word_begin[d + 1];
      if (w0 == w1) continue;
      uint64_t k = w0;
      for (uint64_t t = s.begin[d]; t < s.begin[d + 1]; ++t) {
        const uint32_t b = s.b[t];
        if (k > w0 && b < rec.byte_begin[k]) k = w0;  // spans may go back (overlapping pieces)
        while (k + 1 < w1 && rec.byte_begin[k + 1] <= b) ++k;
        w[t] = static_cast<int64_t>(k);
      }
    }
    return w;
  };
  for (size_t m = 0; m < M; ++m) {
    const TokenStream& s = streams.at(out.runs[m].tokenizer_id);
    const std::vector<float> tok_nll = std::move(run_nll[m]);
    const std::vector<int64_t> w = charge(s);
    std::vector<float> nll(rec.token.size(), 0.0f);
    for (size_t t = 0; t < s.id.size(); ++t)
      if (w[t] >= 0) nll[static_cast<size_t>(w[t])] += tok_nll[t];  // NaN propagates
    rec.nll.push_back(std::move(nll));
  }
  // Word positions from the baseline's windows: words since the word of the window's first token.
  rec.position.assign(rec.token.size(), 0);
  {
    const std::vector<int64_t> w = charge(bs);
    for (size_t d = 0; d < D; ++d) {
      const uint64_t w0 = word_begin[d], w1 = word_begin[d + 1];
      if (w0 == w1) continue;
      const auto tpos = window_positions(bs.begin[d + 1] - bs.begin[d], base.header.policy);
      std::vector<int64_t> first_token(w1 - w0, -1);
      for (uint64_t t = bs.begin[d]; t < bs.begin[d + 1]; ++t) {
        const size_t k = static_cast<size_t>(w[t]) - w0;
        if (first_token[k] < 0) first_token[k] = static_cast<int64_t>(t);
      }
      uint32_t prev = 0;
      for (uint64_t k = w0; k < w1; ++k) {
        const int64_t t = first_token[k - w0];
        uint32_t p = k == w0 ? 0 : prev + 1;
        if (t >= 0) {
          const uint64_t start_tok = static_cast<uint64_t>(t) - tpos[static_cast<uint64_t>(t) - bs.begin[d]];
          const uint64_t ws = static_cast<uint64_t>(w[start_tok]);
          p = ws <= k ? static_cast<uint32_t>(k - ws) : 0;
        }
        rec.position[k] = p;
        prev = p;
      }
    }
  }
  validate(rec, where);
  return out;
}

}  // namespace lossgap
