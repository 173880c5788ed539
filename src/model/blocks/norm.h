// The RMSNorm block (hf-architectures.md §1.2, N-A/N-B/N-C in fp32) bound to its checkpoint
// weight: a thin named wrapper over Backend::rms_norm shared by every architecture. Not the
// gated variants (G1-G4 come with the recurrent mixers).
#pragma once

#include <string>

#include "backend/backend.h"
#include "model/tensor_plan.h"

namespace lossgap {

struct RmsNorm {
  Weight weight;  // [size] (the normalised group width)
  float eps = 0;
  NormWeight kind = NormWeight::Scale;

  // Adds `name` [size] to the plan.
  static void plan(TensorPlan& plan, const std::string& name, int64_t size) {
    plan.require(name, {size});
  }
  static RmsNorm bind(const PlanBinding& w, Backend& be, const std::string& name, double eps,
                      NormWeight kind) {
    return RmsNorm{be.weight(w.get(name)), static_cast<float>(eps), kind};
  }
  // y = norm(x), over groups of `size` values of each row; y may be x.
  void operator()(Backend& be, const Buf& x, Buf& y) const { be.rms_norm(x, weight, eps, kind, y); }
};

}  // namespace lossgap
