// The tokenizer's working text: a normalized UTF-8 buffer in which every byte remembers the
// byte range [first, second) of the original character it came from (Hugging Face's
// NormalizedString alignments, made absolute), cut into pieces (the splits of tokenizers'
// PreTokenizedString). Normalizers and pre-tokenizers rewrite and re-cut it; the BPE model reads
// the pieces. Not a general string class.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lossgap::tok {

using Span = std::pair<uint32_t, uint32_t>;  // [start, end) byte offsets in the original text

struct Range {
  uint32_t begin = 0, end = 0;  // byte offsets into PieceList::text
};

struct PieceList {
  std::string text;          // normalized UTF-8
  std::vector<Span> align;   // [text.size()]: original span of the character each byte came from
  std::vector<Range> pieces; // ordered, non-overlapping, non-empty ranges of `text` still to encode

  // The original span HF gives a string prepended to piece `r`: that of the piece's first
  // character (tokenizers' NormalizedString::prepend).
  Span start_anchor(const Range& r) const { return align[r.begin]; }
  std::string_view view(const Range& r) const {
    return std::string_view(text).substr(r.begin, r.end - r.begin);
  }
};

// Builds a new PieceList piece by piece (normalizers and pre-tokenizers that change the text).
class PieceBuilder {
 public:
  explicit PieceBuilder(size_t reserve) {
    out_.text.reserve(reserve);
    out_.align.reserve(reserve);
  }
  void begin_piece() { start_ = static_cast<uint32_t>(out_.text.size()); }
  // Appends bytes that all map to the original span `s`.
  void append(std::string_view bytes, Span s) {
    out_.text.append(bytes);
    out_.align.insert(out_.align.end(), bytes.size(), s);
  }
  // Appends bytes copied from `src` with their own alignments.
  void copy(const PieceList& src, uint32_t b, uint32_t e) {
    out_.text.append(src.text, b, e - b);
    out_.align.insert(out_.align.end(), src.align.begin() + b, src.align.begin() + e);
  }
  void end_piece() {
    const auto end = static_cast<uint32_t>(out_.text.size());
    if (end > start_) out_.pieces.push_back({start_, end});
  }
  PieceList take() { return std::move(out_); }

 private:
  PieceList out_;
  uint32_t start_ = 0;
};

}  // namespace lossgap::tok
