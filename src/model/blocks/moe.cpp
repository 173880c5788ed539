// The sparse MoE feed-forward parts; see moe.h. Expert tensor names are those of the released
// checkpoints: one tensor per expert for qwen3_next, jamba and nemotron_h (transformers 5 fuses
// them only in memory), granite's fused [E, ...] tensors as stored.
#include "model/blocks/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "model/blocks/mlp.h"
#include "model/blocks/mlp_variants.h"

namespace lossgap {
namespace {

// The indices of the k largest values of v[0..n) (ties: lower index first), largest first.
std::vector<int32_t> top_k_indices(const float* v, int64_t n, int64_t k) {
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return v[a] > v[b] || (v[a] == v[b] && a < b);
  });
  order.resize(k);
  return order;
}

Routing empty_routing(int64_t E) {
  Routing r;
  r.expert_rows.resize(E);
  r.expert_weights.resize(E);
  return r;
}

// Expert e of granite's fused tensors: the [e] slice of a [E, rows, cols] tensor as a 2-D view.
TensorView expert_slice(const TensorView& v, int64_t e) {
  LG_CHECK(v.shape.size() == 3 && e >= 0 && e < v.shape[0], "expert_slice " + v.name);
  TensorView s;
  s.name = v.name + "[" + std::to_string(e) + "]";
  s.dtype = v.dtype;
  s.shape = {v.shape[1], v.shape[2]};
  s.data = static_cast<const char*>(v.data) + static_cast<size_t>(e) * s.nbytes();
  return s;
}

// One granite expert: output_linear[e](silu(g) * u), [g | u] = input_linear[e](x).
class FusedSwiGluExpert final : public FeedForward {
 public:
  FusedSwiGluExpert(Weight in, Weight out) : in_(std::move(in)), out_(std::move(out)) {}
  void forward(ForwardContext& ctx, const Buf& x, Buf& out) const override {
    Backend& be = ctx.backend();
    const int64_t T = x.rows(), I = out_.view.shape[1];
    Buf gu = be.alloc(T, 2 * I);  // [T, 2I] = [gate | up]
    be.linear(x, in_, nullptr, gu);
    Buf gate = be.alloc(T, I);  // [T, I]
    Buf up = be.alloc(T, I);    // [T, I]
    const ColBlock g{0, I}, u{I, I};
    be.gather_cols(gu, {&g, 1}, gate);
    be.gather_cols(gu, {&u, 1}, up);
    be.swiglu(gate, up, gate);
    be.linear(gate, out_, nullptr, out);
  }

 private:
  Weight in_, out_;  // [2I, H], [H, I]
};

std::string expert_prefix(const std::string& p, int64_t e) {
  return p + "experts." + std::to_string(e) + ".";
}

MlpVariantSpec relu2_spec(const MoeSpec& s, int64_t width, bool bias) {
  MlpVariantSpec m;
  m.kind = MlpVariant::Relu2;
  m.hidden_size = s.hidden_size;
  m.intermediate_size = width;
  m.bias = bias;
  return m;
}

MlpVariantSpec granite_shared_spec(const MoeSpec& s) {
  MlpVariantSpec m;
  m.kind = MlpVariant::GraniteFused;
  m.hidden_size = s.hidden_size;
  m.intermediate_size = s.shared_expert_intermediate_size;
  return m;
}

std::string router_name(const std::string& p, MoeFamily f) {
  switch (f) {
    case MoeFamily::Jamba: return p + "router.weight";
    case MoeFamily::Granite: return p + "block_sparse_moe.router.layer.weight";
    case MoeFamily::Qwen3Next:
    case MoeFamily::NemotronH: break;
  }
  return p + "gate.weight";
}

}  // namespace

Routing route_top_k(const std::vector<float>& logits, int64_t T, int64_t E, int64_t k,
                    bool renormalise) {
  LG_CHECK(static_cast<int64_t>(logits.size()) == T * E && k >= 1 && k <= E, "route_top_k");
  Routing r = empty_routing(E);
  std::vector<float> p(E);
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits.data() + t * E;
    const float m = *std::max_element(l, l + E);
    double sum = 0;
    for (int64_t e = 0; e < E; ++e) sum += std::exp(static_cast<double>(l[e]) - m);
    for (int64_t e = 0; e < E; ++e)
      p[e] = static_cast<float>(std::exp(static_cast<double>(l[e]) - m) / sum);
    const std::vector<int32_t> top = top_k_indices(p.data(), E, k);
    float top_sum = 0;
    for (int32_t e : top) top_sum += p[e];
    for (int32_t e : top) {
      r.expert_rows[e].push_back(static_cast<int32_t>(t));
      r.expert_weights[e].push_back(renormalise ? p[e] / top_sum : p[e]);
    }
  }
  return r;
}

Routing route_top_k_softmax(const std::vector<float>& logits, int64_t T, int64_t E, int64_t k) {
  LG_CHECK(static_cast<int64_t>(logits.size()) == T * E && k >= 1 && k <= E,
           "route_top_k_softmax");
  Routing r = empty_routing(E);
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits.data() + t * E;
    const std::vector<int32_t> top = top_k_indices(l, E, k);
    const double m = l[top[0]];
    double sum = 0;
    for (int32_t e : top) sum += std::exp(static_cast<double>(l[e]) - m);
    for (int32_t e : top) {
      r.expert_rows[e].push_back(static_cast<int32_t>(t));
      r.expert_weights[e].push_back(static_cast<float>(std::exp(static_cast<double>(l[e]) - m) / sum));
    }
  }
  return r;
}

Routing route_grouped_sigmoid(const std::vector<float>& logits, const std::vector<float>& bias,
                              int64_t T, int64_t E, int64_t k, int64_t n_group,
                              int64_t topk_group, bool normalise, float scaling) {
  LG_CHECK(static_cast<int64_t>(logits.size()) == T * E && static_cast<int64_t>(bias.size()) == E &&
               n_group >= 1 && E % n_group == 0 && E / n_group >= 2 && topk_group >= 1 &&
               topk_group <= n_group && k >= 1 && k <= topk_group * (E / n_group),
           "route_grouped_sigmoid");
  const int64_t per_group = E / n_group;
  Routing r = empty_routing(E);
  std::vector<float> s(E), c(E), group_score(n_group), allowed;
  std::vector<int32_t> allowed_ids;
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits.data() + t * E;
    for (int64_t e = 0; e < E; ++e) {
      s[e] = 1.0f / (1.0f + std::exp(-l[e]));
      c[e] = s[e] + bias[e];
    }
    for (int64_t g = 0; g < n_group; ++g) {
      const std::vector<int32_t> two = top_k_indices(c.data() + g * per_group, per_group, 2);
      group_score[g] = c[g * per_group + two[0]] + c[g * per_group + two[1]];
    }
    std::vector<int32_t> groups = top_k_indices(group_score.data(), n_group, topk_group);
    std::sort(groups.begin(), groups.end());
    allowed.clear();
    allowed_ids.clear();
    for (int32_t g : groups) {
      for (int64_t j = 0; j < per_group; ++j) {
        allowed_ids.push_back(static_cast<int32_t>(g * per_group + j));
        allowed.push_back(c[g * per_group + j]);
      }
    }
    const std::vector<int32_t> top = top_k_indices(allowed.data(), static_cast<int64_t>(allowed.size()), k);
    float denom = 0;
    for (int32_t i : top) denom += s[allowed_ids[i]];
    denom += 1e-20f;
    for (int32_t i : top) {
      const int32_t e = allowed_ids[i];
      r.expert_rows[e].push_back(static_cast<int32_t>(t));
      r.expert_weights[e].push_back((normalise ? s[e] / denom : s[e]) * scaling);
    }
  }
  return r;
}

void SparseMoe::plan(TensorPlan& plan, const std::string& p, const MoeSpec& s) {
  const int64_t E = s.num_experts, H = s.hidden_size, I = s.moe_intermediate_size;
  plan.require(router_name(p, s.family), {E, H});
  switch (s.family) {
    case MoeFamily::Qwen3Next:
      for (int64_t e = 0; e < E; ++e) SwiGluMlp::plan(plan, expert_prefix(p, e), H, I, false);
      SwiGluMlp::plan(plan, p + "shared_expert.", H, s.shared_expert_intermediate_size, false);
      plan.require(p + "shared_expert_gate.weight", {1, H});
      break;
    case MoeFamily::Jamba:
      for (int64_t e = 0; e < E; ++e) SwiGluMlp::plan(plan, expert_prefix(p, e), H, I, false);
      break;
    case MoeFamily::Granite:
      plan.require(p + "block_sparse_moe.input_linear.weight", {E, 2 * I, H});
      plan.require(p + "block_sparse_moe.output_linear.weight", {E, H, I});
      VariantMlp::plan(plan, p + "shared_mlp.", granite_shared_spec(s));
      break;
    case MoeFamily::NemotronH:
      plan.require(p + "gate.e_score_correction_bias", {E});
      for (int64_t e = 0; e < E; ++e) VariantMlp::plan(plan, expert_prefix(p, e), relu2_spec(s, I, false));
      VariantMlp::plan(plan, p + "shared_experts.",
                       relu2_spec(s, s.shared_expert_intermediate_size, s.shared_bias));
      break;
  }
}

SparseMoe::SparseMoe(const PlanBinding& w, Backend& be, const std::string& p, MoeSpec s)
    : s_(s), router_(be.weight(w.get(router_name(p, s.family)))) {
  const int64_t E = s_.num_experts;
  experts_.reserve(E);
  switch (s_.family) {
    case MoeFamily::Qwen3Next:
      for (int64_t e = 0; e < E; ++e) experts_.push_back(std::make_unique<SwiGluMlp>(w, be, expert_prefix(p, e), false));
      shared_ = std::make_unique<SwiGluMlp>(w, be, p + "shared_expert.", false);
      shared_gate_ = be.weight(w.get(p + "shared_expert_gate.weight"));
      break;
    case MoeFamily::Jamba:
      for (int64_t e = 0; e < E; ++e) experts_.push_back(std::make_unique<SwiGluMlp>(w, be, expert_prefix(p, e), false));
      break;
    case MoeFamily::Granite: {
      const TensorView& in = w.get(p + "block_sparse_moe.input_linear.weight");
      const TensorView& out = w.get(p + "block_sparse_moe.output_linear.weight");
      for (int64_t e = 0; e < E; ++e) {
        experts_.push_back(std::make_unique<FusedSwiGluExpert>(be.weight(expert_slice(in, e)),
                                                               be.weight(expert_slice(out, e))));
      }
      shared_ = std::make_unique<VariantMlp>(w, be, p + "shared_mlp.", granite_shared_spec(s_));
      break;
    }
    case MoeFamily::NemotronH: {
      const TensorView& bias = w.get(p + "gate.e_score_correction_bias");
      score_bias_.resize(E);
      to_f32(bias, 0, E, score_bias_.data());
      for (int64_t e = 0; e < E; ++e) {
        experts_.push_back(std::make_unique<VariantMlp>(w, be, expert_prefix(p, e),
                                                        relu2_spec(s_, s_.moe_intermediate_size, false)));
      }
      shared_ = std::make_unique<VariantMlp>(
          w, be, p + "shared_experts.", relu2_spec(s_, s_.shared_expert_intermediate_size, s_.shared_bias));
      break;
    }
  }
}

Routing SparseMoe::route(Backend& be, const Buf& x) const {
  const int64_t T = x.rows(), E = s_.num_experts, k = s_.num_experts_per_tok;
  Buf logits = be.alloc(T, E);  // [T, E] router logits (fp32)
  be.linear(x, router_, nullptr, logits);
  std::vector<float> host(T * E);
  be.to_host(logits, host.data());
  switch (s_.family) {
    case MoeFamily::Qwen3Next: return route_top_k(host, T, E, k, s_.norm_topk_prob);
    case MoeFamily::Jamba: return route_top_k(host, T, E, k, false);
    case MoeFamily::Granite: return route_top_k_softmax(host, T, E, k);
    case MoeFamily::NemotronH: break;
  }
  return route_grouped_sigmoid(host, score_bias_, T, E, k, s_.n_group, s_.topk_group,
                               s_.norm_topk_prob, static_cast<float>(s_.routed_scaling_factor));
}

void SparseMoe::forward(ForwardContext& ctx, const Buf& x, Buf& out) const {
  Backend& be = ctx.backend();
  const int64_t T = x.rows(), H = x.cols(), E = s_.num_experts;
  const Routing r = route(be, x);

  const std::vector<float> zeros(static_cast<size_t>(T * H), 0.0f);
  Buf acc = be.from_host(zeros.data(), T, H);  // [T, H] the routed experts' weighted sum
  for (int64_t e = 0; e < E; ++e) {
    const std::vector<int32_t>& rows = r.expert_rows[e];
    if (rows.empty()) continue;
    const int64_t n = static_cast<int64_t>(rows.size());
    Buf xe = be.alloc(n, H);  // [n, H] this expert's tokens
    Buf ye = be.alloc(n, H);  // [n, H]
    be.gather_rows(x, rows, xe);
    experts_[e]->forward(ctx, xe, ye);
    be.add_rows_scaled(ye, rows, r.expert_weights[e], acc);
  }

  if (shared_) {
    shared_->forward(ctx, x, out);  // [T, H]
    if (shared_gate_) {  // qwen3_next: scaled per token by sigmoid(shared_expert_gate(x))
      Buf gate = be.alloc(T, 1);  // [T, 1]
      be.linear(x, *shared_gate_, nullptr, gate);
      std::vector<float> g(T);
      be.to_host(gate, g.data());
      for (float& v : g) v = 1.0f / (1.0f + std::exp(-v));
      std::vector<int32_t> all(T);
      std::iota(all.begin(), all.end(), 0);
      be.add_rows_scaled(out, all, g, acc);
    } else {
      be.add(out, acc);
    }
  }
  const ColBlock whole[] = {{0, H}};
  be.gather_cols(acc, whole, out);
}

}  // namespace lossgap
