// CPU implementations of the recurrent-mixer and MoE ops of backend/backend.h (gather_cols,
// conv1d_silu, l2_norm_heads, delta_gates, gated_delta_rule in step and chunked form,
// rms_norm_gated, mul_sigmoid, gather_rows, add_rows_scaled). CpuBackend's overrides forward
// here; the contracts are the Backend ones. Not for model code: go through a Backend.
#pragma once

#include <cstdint>
#include <span>

#include "backend/backend.h"

namespace lossgap::cpu {

void gather_cols(const Buf& x, std::span<const ColBlock> blocks, Buf& out);
void conv1d_silu(const Buf& x, const Weight& w, Buf& y, const Weight* bias);
void l2_norm_heads(Buf& x, int64_t head_dim, float eps, float scale);
void delta_gates(Buf& a, Buf& b, const Weight& A_log, const Weight& dt_bias, float beta_scale);
void gated_delta_rule(const Buf& q, const Buf& k, const Buf& v, const Buf& g, const Buf& beta,
                      const DeltaShape& shape, DeltaForm form, Buf& out);
void rms_norm_gated(const Buf& x, const Buf& z, const Weight& w, float eps, Buf& y);
void mul_sigmoid(const Buf& gate, Buf& x);
void gather_rows(const Buf& x, std::span<const int32_t> rows, Buf& out);
void add_rows_scaled(const Buf& x, std::span<const int32_t> rows, std::span<const float> scale,
                     Buf& y);

}  // namespace lossgap::cpu
