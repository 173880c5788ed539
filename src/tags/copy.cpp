// The copy tagger (copy.h): rolling hashes of the n-grams (n <= kCopyMaxN) ending at each token,
// in an open-addressing table per scoring window, holding each n-gram's most recent end. Every
// hit is verified token by token; a hash collision falls back to a direct scan for that token,
// so results are exact. Cost: O(kCopyMaxN) table operations per token and per window holding it.
#include "tags/copy.h"

#include <algorithm>
#include <array>

#include "core/error.h"

namespace lossgap {
namespace {

inline uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Open addressing, linear probing. A slot is empty unless its generation is the current one,
// so a reset between windows costs nothing unless the table must grow.
class NgramTable {
 public:
  struct Slot {
    uint64_t key;
    uint32_t last_end;  // most recent end (document-relative token index) of the n-gram
    uint32_t count;     // occurrences so far (used for unigrams)
    uint32_t gen;
  };
  void reset(size_t max_entries) {
    size_t cap = 16;
    while (cap < 2 * max_entries) cap <<= 1;
    if (slots_.size() < cap || ++gen_ == 0) {
      slots_.assign(std::max(cap, slots_.size()), Slot{0, 0, 0, 0});
      gen_ = 1;
    }
    mask_ = cap - 1;
  }
  const Slot* find(uint64_t key) const {
    for (size_t s = key & mask_;; s = (s + 1) & mask_) {
      if (slots_[s].gen != gen_) return nullptr;
      if (slots_[s].key == key) return &slots_[s];
    }
  }
  void insert(uint64_t key, uint32_t end) {
    for (size_t s = key & mask_;; s = (s + 1) & mask_) {
      Slot& x = slots_[s];
      if (x.gen != gen_) {
        x = Slot{key, end, 1, gen_};
        return;
      }
      if (x.key == key) {
        x.last_end = end;
        ++x.count;
        return;
      }
    }
  }

 private:
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  uint32_t gen_ = 0;
};

// keys[n-1] = hash of the n-gram ending at i, for n = 1 .. n_max (requires i + 1 >= n_max).
void ngram_keys(std::span<const int32_t> ids, size_t i, uint32_t n_max,
                std::array<uint64_t, kCopyMaxN>& keys) {
  uint64_t h = 0;
  for (uint32_t n = 1; n <= n_max; ++n) {
    h = h * 0x9e3779b97f4a7c15ULL + mix64(static_cast<uint64_t>(ids[i - n + 1]) + 0x632be59bd9b4e019ULL);
    keys[n - 1] = mix64(h ^ (static_cast<uint64_t>(n) << 56));
  }
}

bool same_ngram(std::span<const int32_t> ids, size_t i, size_t j, uint32_t n) {
  for (uint32_t k = 0; k < n; ++k)
    if (ids[i - k] != ids[j - k]) return false;
  return true;
}

struct Result {
  uint8_t len;
  uint32_t dist, prev_dist, type_count;
};

// The direct definition, used when a hash hit does not verify: O(window * n) for this token.
Result scan(std::span<const int32_t> ids, size_t vb, size_t i) {
  Result r{0, 0, 0, 0};
  for (size_t j = vb; j < i; ++j)
    if (ids[j] == ids[i]) {
      ++r.type_count;
      r.prev_dist = static_cast<uint32_t>(i - j);
    }
  const uint32_t n_max = static_cast<uint32_t>(std::min<size_t>(kCopyMaxN, i - vb));
  for (uint32_t n = n_max; n >= 1; --n)
    for (size_t j = i - 1; j + 1 >= vb + n; --j)
      if (same_ngram(ids, i, j, n)) return Result{static_cast<uint8_t>(n), static_cast<uint32_t>(i - j), r.prev_dist, r.type_count};
  return r;
}

}  // namespace

void tag_copy_document(std::span<const int32_t> ids, std::span<const uint32_t> position,
                       CopyTags& out, size_t offset) {
  LG_CHECK(ids.size() == position.size(), "ids and positions differ in length");
  const size_t n = ids.size();
  LG_CHECK(out.copy_len.size() >= offset + n && out.copy_dist.size() >= offset + n &&
               out.prev_dist.size() >= offset + n && out.type_count.size() >= offset + n,
           "output columns too short");
  NgramTable table;
  std::array<uint64_t, kCopyMaxN> keys{};
  size_t s = 0;
  while (s < n) {
    // One run of tokens scored in the same window: the same first visible token vb.
    LG_CHECK(position[s] <= s, "position exceeds the tokens before it");
    const size_t vb = s - position[s];
    size_t e = s + 1;
    while (e < n && position[e] <= e && e - position[e] == vb) ++e;
    table.reset(static_cast<size_t>(kCopyMaxN) * (e - vb));
    auto insert_all = [&](size_t j, uint32_t n_max) {
      for (uint32_t m = 1; m <= n_max; ++m) table.insert(keys[m - 1], static_cast<uint32_t>(j));
    };
    for (size_t j = vb; j < s; ++j) {  // the window's context before its first target
      const uint32_t n_max = static_cast<uint32_t>(std::min<size_t>(kCopyMaxN, j - vb + 1));
      ngram_keys(ids, j, n_max, keys);
      insert_all(j, n_max);
    }
    uint32_t prev_len = kCopyMaxN;  // copy_len of the previous token in this run
    for (size_t i = s; i < e; ++i) {
      const uint32_t n_keys = static_cast<uint32_t>(std::min<size_t>(kCopyMaxN, i - vb + 1));
      ngram_keys(ids, i, n_keys, keys);
      Result r{0, 0, 0, 0};
      bool exact = true;
      if (const auto* uni = table.find(keys[0])) {
        if (ids[uni->last_end] != ids[i]) {
          exact = false;
        } else {
          r = Result{1, static_cast<uint32_t>(i - uni->last_end), static_cast<uint32_t>(i - uni->last_end), uni->count};
          // A repeat of length m at i implies one of length m-1 at i-1 in the same window, so
          // copy_len[i] <= copy_len[i-1] + 1: searching down from there is linear overall.
          const uint32_t n0 = static_cast<uint32_t>(
              std::min<size_t>({i - vb, static_cast<size_t>(prev_len) + 1, kCopyMaxN}));
          for (uint32_t m = n0; m >= 2; --m) {
            const auto* hit = table.find(keys[m - 1]);
            if (!hit) continue;
            if (!same_ngram(ids, i, hit->last_end, m)) {
              exact = false;
              break;
            }
            r.len = static_cast<uint8_t>(m);
            r.dist = static_cast<uint32_t>(i - hit->last_end);
            break;
          }
        }
      }
      if (!exact) r = scan(ids, vb, i);
      out.copy_len[offset + i] = r.len;
      out.copy_dist[offset + i] = r.dist;
      out.prev_dist[offset + i] = r.prev_dist;
      out.type_count[offset + i] = r.type_count;
      prev_len = r.len;
      insert_all(i, n_keys);
    }
    s = e;
  }
}

CopyTags tag_copy(const Records& r) {
  const size_t N = r.n_tokens();
  CopyTags t;
  t.copy_len.assign(N, 0);
  t.copy_dist.assign(N, 0);
  t.prev_dist.assign(N, 0);
  t.type_count.assign(N, 0);
  const auto D = static_cast<int64_t>(r.n_docs());
  for (size_t d = 0; d < r.n_docs(); ++d)  // checked here: nothing may throw inside the parallel loop
    for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i)
      if (r.position[i] > i - r.doc_begin[d])
        throw InputError("records", "document " + r.doc_id[d] + " token " + std::to_string(i - r.doc_begin[d]) +
                                        ": position " + std::to_string(r.position[i]) +
                                        " exceeds the tokens before it");
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t d = 0; d < D; ++d) {
    const size_t b = r.doc_begin[d], e = r.doc_begin[d + 1];
    tag_copy_document(std::span(r.token).subspan(b, e - b), std::span(r.position).subspan(b, e - b), t, b);
  }
  return t;
}

TokenMask no_copy_mask(const CopyTags& t) {
  TokenMask m(t.copy_len.size());
  for (size_t i = 0; i < t.copy_len.size(); ++i)
    if (t.copy_len[i] == 0) m.set(i);
  return m;
}

TokenMask copy_at_least_mask(const CopyTags& t, uint32_t n) {
  TokenMask m(t.copy_len.size());
  for (size_t i = 0; i < t.copy_len.size(); ++i)
    if (t.copy_len[i] >= n) m.set(i);
  return m;
}

}  // namespace lossgap
