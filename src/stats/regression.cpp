// The gap regression (regression.h): builds each row on the fly from the columns, so no design
// matrix is stored.
#include "stats/regression.h"

#include <cmath>

#include "core/error.h"

namespace lossgap {

OlsResult gap_regression(const Records& r, size_t model_a, size_t model_b, const RegressionInputs& in) {
  LG_CHECK(model_a < r.n_models() && model_b < r.n_models(), "model index out of range");
  const size_t N = r.n_tokens();
  for (const auto& c : in.indicators) LG_CHECK(c.members.size() == N, "indicator '" + c.name + "' has another size");
  std::vector<std::string> names;
  for (const auto& c : in.indicators) names.push_back(c.name);
  for (const char* n : {"difficulty", "log_freq", "log_pos"}) names.emplace_back(n);
  if (in.continuation) names.emplace_back("continuation");
  names.emplace_back("local_reuse");
  names.emplace_back("log_prev_dist");
  const float* A = r.nll[model_a].data();
  const float* B = r.nll[model_b].data();
  const size_t n_ind = in.indicators.size();
  return ols_cluster(names, r.doc_begin, [&](size_t i, double* x, double& y) {
    if (!std::isfinite(A[i]) || !std::isfinite(B[i])) return false;
    const double a = A[i], b = B[i];
    y = a - b;
    size_t j = 0;
    for (; j < n_ind; ++j) x[j] = in.indicators[j].members.test(i) ? 1.0 : 0.0;
    x[j++] = 0.5 * (a + b);
    x[j++] = std::log(static_cast<double>(in.context.token_count[static_cast<size_t>(r.token[i])]));
    x[j++] = std::log1p(static_cast<double>(r.position[i]));
    if (in.continuation) x[j++] = in.continuation->test(i) ? 1.0 : 0.0;
    x[j++] = std::log1p(static_cast<double>(in.copy.type_count[i]));
    x[j++] = in.copy.prev_dist[i] > 0 ? std::log(static_cast<double>(in.copy.prev_dist[i])) : 0.0;
    return true;
  });
}

}  // namespace lossgap
