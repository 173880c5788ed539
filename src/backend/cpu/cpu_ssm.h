// CPU implementations of the Mamba-mixer ops of backend/backend.h (scale, scale_cols, relu2,
// ssm_dt, ssd_scan and selective_scan in step and chunked form, rms_norm_gate). CpuBackend's
// overrides forward here; the contracts are the Backend ones. Not for model code: go through a
// Backend.
#pragma once

#include <cstdint>
#include <span>

#include "backend/backend.h"

namespace lossgap::cpu {

void scale(Buf& x, float s);
void scale_cols(Buf& x, std::span<const float> s);
void relu2(Buf& x);
void ssm_dt(Buf& dt, const Weight* bias, float lo, float hi);
void ssd_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B, const Buf& C,
              const Weight& D, const SsdShape& shape, SsdForm form, Buf& y);
void selective_scan(const Buf& x, const Buf& dt, const Weight& A_log, const Buf& B,
                    const Buf& C, const Weight& D, SsdForm form, Buf& y);
void rms_norm_gate(const Buf& x, const Buf& z, const Weight& w, float eps, int64_t group,
                   GateOrder order, Buf& y);

}  // namespace lossgap::cpu
