// RoPE frequency and cos/sin tables (hf-architectures.md §1.5) computed the way transformers
// computes them in fp32: inv_freq per rope type (default, linear, llama3, yarn), angle = one fp32
// product float(p) * inv_freq, cos/sin of that angle evaluated in double and rounded, times the
// attention factor. Device-independent host code: the tables go to a backend as buffers. Not the
// rotation itself (Backend::rope).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace lossgap {

// inv_freq [d_rot / 2] for one RopeParams and head_dim (d_rot = p.rotary_dim(head_dim)).
std::vector<float> rope_inv_freq(const RopeParams& p, int64_t head_dim);

// YaRN's correction range (low, high) over the d_rot / 2 frequency indices, before the ramp's
// low == high adjustment: floor/ceil of the correction dims when p.truncate, clamped to [0, d_rot-1].
struct YarnRange {
  double low = 0;
  double high = 0;
};
YarnRange yarn_correction_range(const RopeParams& p, int64_t head_dim);

// cos and sin for positions 0..n_pos-1: each [n_pos, d_rot] row-major, emb = concat(phi, phi).
struct RopeTable {
  int64_t d_rot = 0;
  std::vector<float> cos;
  std::vector<float> sin;
};
RopeTable rope_table(const RopeParams& p, int64_t head_dim, int64_t n_pos);

}  // namespace lossgap
