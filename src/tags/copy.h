// The copy tagger: for each token, the longest n-gram ending at it that already occurred earlier
// in the tokens the model could see (its scoring window), and how far back. Rolling hashes with
// a bounded n (kCopyMaxN), linear in the number of tokens. Reads token ids and positions only;
// it never sees text or a model. docs/taggers.md has the definitions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tags/record.h"

namespace lossgap {

// n-grams longer than this are not looked for: copy_len saturates at kCopyMaxN.
inline constexpr uint32_t kCopyMaxN = 32;

// Per token [N]. The *visible window* of token i is tokens [i - position[i], i) of its document
// (Records). An n-gram "ending at i" is tokens [i-n+1, i]; it must itself lie in the visible
// window plus i, and so must its earlier occurrence (which may overlap it).
struct CopyTags {
  // Longest n <= kCopyMaxN such that the n-gram ending at i occurred (ended at some j < i)
  // earlier in the visible window; 0 when the token id itself is new in the window.
  std::vector<uint8_t> copy_len;
  // i - j for the most recent such j of the copy_len-gram; 0 when copy_len == 0.
  std::vector<uint32_t> copy_dist;
  // Distance to the most recent earlier occurrence of the same token id in the visible window;
  // 0 when there is none (then copy_len == 0).
  std::vector<uint32_t> prev_dist;
  // Number of earlier occurrences of the same token id in the visible window.
  std::vector<uint32_t> type_count;
};

// Tags every document of r (documents in parallel; the result does not depend on threads).
// Throws InputError("records", ...) when a position exceeds the tokens before it.
CopyTags tag_copy(const Records& r);

// Tags one document's tokens: ids [n] and position [n] as in Records (position[i] <= i is
// checked with LG_CHECK; validate() guarantees it for Records). Writes elements
// [offset, offset + n) of out's columns, which must already have that size.
void tag_copy_document(std::span<const int32_t> ids, std::span<const uint32_t> position,
                       CopyTags& out, size_t offset);

// NO-COPY: copy_len == 0 (completes no repeated n-gram for any n <= 4, i.e. the token id is new
// in the visible window). COPY-n: copy_len >= n ("completes a repeated n-gram": a repeated
// longer n-gram contains the repeated n-gram ending at the same token), so COPY-5 = copy_len >= 5.
TokenMask no_copy_mask(const CopyTags& t);
TokenMask copy_at_least_mask(const CopyTags& t, uint32_t n);

}  // namespace lossgap
