// The sparse MoE feed-forward; see moe.h. Names as transformers' Qwen3NextSparseMoeBlock reads
// released checkpoints (one tensor per expert; transformers 5 fuses them only in memory).
#include "model/blocks/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace lossgap {

Routing route_top_k(const std::vector<float>& logits, int64_t T, int64_t E, int64_t k,
                    bool renormalise) {
  LG_CHECK(static_cast<int64_t>(logits.size()) == T * E && k >= 1 && k <= E, "route_top_k");
  Routing r;
  r.expert_rows.resize(E);
  r.expert_weights.resize(E);
  std::vector<float> p(E);
  std::vector<int32_t> order(E);
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits.data() + t * E;
    const float m = *std::max_element(l, l + E);
    double sum = 0;
    for (int64_t e = 0; e < E; ++e) sum += std::exp(static_cast<double>(l[e]) - m);
    for (int64_t e = 0; e < E; ++e)
      p[e] = static_cast<float>(std::exp(static_cast<double>(l[e]) - m) / sum);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return p[a] > p[b] || (p[a] == p[b] && a < b);
    });
    float top_sum = 0;
    for (int64_t j = 0; j < k; ++j) top_sum += p[order[j]];
    for (int64_t j = 0; j < k; ++j) {
      const int32_t e = order[j];
      r.expert_rows[e].push_back(static_cast<int32_t>(t));
      r.expert_weights[e].push_back(renormalise ? p[e] / top_sum : p[e]);
    }
  }
  return r;
}

void SparseMoe::plan(TensorPlan& plan, const std::string& p, const MoeSpec& s) {
  plan.require(p + "gate.weight", {s.num_experts, s.hidden_size});
  for (int64_t e = 0; e < s.num_experts; ++e) {
    SwiGluMlp::plan(plan, p + "experts." + std::to_string(e) + ".", s.hidden_size,
                    s.moe_intermediate_size, false);
  }
  SwiGluMlp::plan(plan, p + "shared_expert.", s.hidden_size, s.shared_expert_intermediate_size,
                  false);
  plan.require(p + "shared_expert_gate.weight", {1, s.hidden_size});
}

SparseMoe::SparseMoe(const PlanBinding& w, Backend& be, const std::string& p, MoeSpec s)
    : s_(s),
      router_(be.weight(w.get(p + "gate.weight"))),
      shared_(w, be, p + "shared_expert.", false),
      shared_gate_(be.weight(w.get(p + "shared_expert_gate.weight"))) {
  experts_.reserve(s_.num_experts);
  for (int64_t e = 0; e < s_.num_experts; ++e)
    experts_.emplace_back(w, be, p + "experts." + std::to_string(e) + ".", false);
}

void SparseMoe::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), H = x.cols(), E = s_.num_experts;
  Buf logits = be.alloc(T, E);  // [T, E] router logits
  be.linear(x, router_, nullptr, logits);
  std::vector<float> host_logits(T * E);
  be.to_host(logits, host_logits.data());
  const Routing r = route_top_k(host_logits, T, E, s_.num_experts_per_tok, s_.norm_topk_prob);

  const std::vector<float> zeros(static_cast<size_t>(T * H), 0.0f);
  Buf acc = be.from_host(zeros.data(), T, H);  // [T, H] the routed experts' weighted sum
  for (int64_t e = 0; e < E; ++e) {
    const std::vector<int32_t>& rows = r.expert_rows[e];
    if (rows.empty()) continue;
    const int64_t n = static_cast<int64_t>(rows.size());
    Buf xe = be.alloc(n, H);  // [n, H] this expert's tokens
    Buf ye = be.alloc(n, H);  // [n, H]
    be.gather_rows(x, rows, xe);
    experts_[e].forward(ctx, xe, ye);
    be.add_rows_scaled(ye, rows, r.expert_weights[e], acc);
  }

  // Shared expert, scaled per token by sigmoid(shared_expert_gate(x)).
  Buf gate = be.alloc(T, 1);  // [T, 1]
  be.linear(x, shared_gate_, nullptr, gate);
  std::vector<float> g(T);
  be.to_host(gate, g.data());
  for (float& v : g) v = 1.0f / (1.0f + std::exp(-v));
  std::vector<int32_t> all(T);
  std::iota(all.begin(), all.end(), 0);
  shared_.forward(ctx, x, out);
  be.add_rows_scaled(out, all, g, acc);
  const ColBlock whole[] = {{0, H}};
  be.gather_cols(acc, whole, out);
}

}  // namespace lossgap
