// BPE model (see bpe.h). The merge loop follows tokenizers' Word::merge_all: a min-heap of
// (rank, position), stale entries skipped when the pair at that position no longer yields the
// same new id.
#include "tokenizer/bpe.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <queue>

#include "core/error.h"
#include "core/utf8.h"

namespace lossgap::tok {
namespace {

using json = nlohmann::json;

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

std::optional<std::string> opt_string(const json& m, const char* key, const std::string& where) {
  if (!m.contains(key) || m[key].is_null()) return std::nullopt;
  if (!m[key].is_string()) throw InputError(where, std::string("expected a string or null \"") + key + "\"");
  return m[key].get<std::string>();
}

constexpr size_t kCacheMaxEntries = 1 << 17;
constexpr size_t kCacheMaxWordBytes = 256;

}  // namespace

Bpe::Bpe(const json& m, const std::string& where) {
  const std::string w = where + ": model";
  if (!m.contains("vocab") || !m["vocab"].is_object()) throw InputError(w, "expected an object \"vocab\"");
  vocab_.reserve(m["vocab"].size() * 2);
  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    if (!it.value().is_number_integer())
      throw InputError(w + ".vocab", "expected an integer id for \"" + it.key() + "\"");
    vocab_.emplace(it.key(), it.value().get<int32_t>());
  }
  if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() != 0.0)
    throw InputError(w + ".dropout", "BPE dropout makes encoding random; expected null or 0");
  unk_token_ = opt_string(m, "unk_token", w);
  prefix_ = opt_string(m, "continuing_subword_prefix", w);
  suffix_ = opt_string(m, "end_of_word_suffix", w);
  // tokenizers treats an empty prefix/suffix like none.
  if (prefix_ && prefix_->empty()) prefix_.reset();
  if (suffix_ && suffix_->empty()) suffix_.reset();
  fuse_unk_ = m.value("fuse_unk", false);
  byte_fallback_ = m.value("byte_fallback", false);
  ignore_merges_ = m.value("ignore_merges", false);
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = -1;
    if (byte_fallback_) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      if (auto it = vocab_.find(name); it != vocab_.end()) byte_ids_[b] = it->second;
    }
  }
  if (!m.contains("merges") || !m["merges"].is_array()) throw InputError(w, "expected an array \"merges\"");
  const auto& merges = m["merges"];
  merges_.reserve(merges.size() * 2);
  const size_t plen = prefix_ ? prefix_->size() : 0;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& e = merges[rank];
    std::string a, b;
    if (e.is_string()) {
      const std::string s = e.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        throw InputError(w + ".merges[" + std::to_string(rank) + "]",
                         "expected \"A B\" (two tokens and one space), found \"" + s + "\"");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      throw InputError(w + ".merges[" + std::to_string(rank) + "]",
                       "expected a string \"A B\" or a pair [\"A\", \"B\"], found " + e.dump());
    }
    const auto ia = vocab_.find(a), ib = vocab_.find(b);
    if (ia == vocab_.end() || ib == vocab_.end())
      throw InputError(w + ".merges[" + std::to_string(rank) + "]",
                       "merge \"" + a + " " + b + "\" uses a token missing from the vocab");
    const std::string merged = a + b.substr(std::min(plen, b.size()));
    const auto im = vocab_.find(merged);
    if (im == vocab_.end())
      throw InputError(w + ".merges[" + std::to_string(rank) + "]",
                       "merge result \"" + merged + "\" is missing from the vocab");
    merges_.insert_or_assign(pair_key(ia->second, ib->second),
                    std::make_pair(static_cast<uint32_t>(rank), im->second));
  }
  if (unk_token_ && !vocab_.count(*unk_token_))
    throw InputError(w + ".unk_token", "unk_token \"" + *unk_token_ + "\" is not in the vocab");
}

void Bpe::encode_word(std::string_view word, std::vector<BpeToken>& out) const {
  if (ignore_merges_) {
    if (auto it = vocab_.find(std::string(word)); it != vocab_.end()) {
      out.push_back({it->second, static_cast<uint32_t>(word.size())});
      return;
    }
  }
  if (word.size() > kCacheMaxWordBytes) {
    merge_word(word, out);
    return;
  }
  const std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  merge_word(word, out);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= kCacheMaxEntries) cache_.clear();
  cache_.emplace(key, std::vector<BpeToken>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
}

void Bpe::merge_word(std::string_view w, std::vector<BpeToken>& out) const {
  struct Symbol {
    int32_t id;
    uint32_t len;
    int32_t prev, next;
  };
  std::vector<Symbol> sym;
  sym.reserve(w.size());
  auto add = [&sym](int32_t id, uint32_t len) {
    const auto n = static_cast<int32_t>(sym.size());
    sym.push_back({id, len, n - 1, -1});
    if (n > 0) sym[static_cast<size_t>(n - 1)].next = n;
  };
  int32_t unk_id = -1;  // pending unknown run: id (-1 = none) and bytes
  uint32_t unk_len = 0;
  std::string s;
  size_t pos = 0;
  while (pos < w.size()) {
    const size_t at = pos;
    pos = utf8_char_end(w, pos);
    const auto byte_len = static_cast<uint32_t>(pos - at);
    s.assign(w.substr(at, byte_len));
    if (at > 0 && prefix_) s = *prefix_ + s;
    if (pos == w.size() && suffix_) s += *suffix_;
    if (auto it = vocab_.find(s); it != vocab_.end()) {
      if (unk_id >= 0) {
        add(unk_id, unk_len);
        unk_id = -1;
      }
      add(it->second, byte_len);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char c : s) all = all && byte_ids_[c] >= 0;
      if (all) {
        for (unsigned char c : s) add(byte_ids_[c], 1);
        continue;
      }
    }
    if (unk_token_) {
      const int32_t uid = vocab_.at(*unk_token_);
      if (unk_id >= 0 && fuse_unk_) {
        unk_len += byte_len;
      } else {
        if (unk_id >= 0) add(unk_id, unk_len);
        unk_id = uid;
        unk_len = byte_len;
      }
    }
    // Without an unk_token, tokenizers drops the character.
  }
  if (unk_id >= 0) add(unk_id, unk_len);

  struct Merge {
    uint32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator>(const Merge& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Merge, std::vector<Merge>, std::greater<Merge>> q;
  auto find = [this](int32_t a, int32_t b) -> const std::pair<uint32_t, int32_t>* {
    auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  for (size_t i = 0; i + 1 < sym.size(); ++i)
    if (auto m = find(sym[i].id, sym[i + 1].id)) q.push({m->first, static_cast<int32_t>(i), m->second});
  while (!q.empty()) {
    const Merge top = q.top();
    q.pop();
    Symbol& cur = sym[static_cast<size_t>(top.pos)];
    if (cur.len == 0 || cur.next == -1) continue;
    const auto next_pos = static_cast<size_t>(cur.next);
    const Symbol right = sym[next_pos];
    const auto* m = find(cur.id, right.id);
    if (!m || m->second != top.new_id) continue;
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    sym[next_pos].len = 0;
    if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = top.pos;
    if (cur.prev >= 0)
      if (auto pm = find(sym[static_cast<size_t>(cur.prev)].id, cur.id))
        q.push({pm->first, cur.prev, pm->second});
    if (cur.next >= 0)
      if (auto nm = find(cur.id, sym[static_cast<size_t>(cur.next)].id))
        q.push({nm->first, top.pos, nm->second});
  }
  for (const Symbol& x : sym)
    if (x.len > 0) out.push_back({x.id, x.len});
}

}  // namespace lossgap::tok
