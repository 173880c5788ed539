// Whole forward passes of each transformer family (Model::load + score) on small random
// checkpoints written by bench/random_checkpoint.h, against a plain double-precision forward
// written out in this file from hf-architectures.md (§1.2-1.6, §1.12, §2.1-2.4): pre-norm and
// Olmo post-norm templates, QK-norm per head and over the projection, GQA, head_dim != H/heads,
// biases, sliding windows shorter than the text, default/llama3/yarn RoPE with per-layer-type
// tables, tied and untied heads, BF16 and F32 weights. Parity with transformers itself is
// tests/golden/run_model_parity.cpp (fixtures made by transformers).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

#include <unistd.h>

#include "../../bench/random_checkpoint.h"
#include "model/model.h"

namespace lossgap {
namespace {

using json = nlohmann::json;
using Values = std::map<std::string, std::vector<float>>;
using Mat = std::vector<std::vector<double>>;  // [T][n]

// The semantics the reference forward needs, read from the test's own config (not lossgap's).
struct Family {
  bool post_norm = false;  // Olmo template O
  enum { kNone, kPerHead, kFull } qk_norm = kNone;
};

Mat linear(const Mat& x, const Values& w, const std::string& name, int64_t out, bool bias) {
  const std::vector<float>& W = w.at(name + ".weight");
  const int64_t in = static_cast<int64_t>(x[0].size());
  Mat y(x.size(), std::vector<double>(out, 0.0));
  for (size_t t = 0; t < x.size(); ++t)
    for (int64_t o = 0; o < out; ++o) {
      double acc = bias ? w.at(name + ".bias")[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) acc += x[t][i] * W[o * in + i];
      y[t][o] = acc;
    }
  return y;
}

// RMSNorm over groups of g = weight size.
Mat rms(const Mat& x, const std::vector<float>& w, double eps) {
  const size_t g = w.size();
  Mat y = x;
  for (auto& row : y)
    for (size_t s = 0; s < row.size(); s += g) {
      double ss = 0;
      for (size_t c = 0; c < g; ++c) ss += row[s + c] * row[s + c];
      const double r = 1.0 / std::sqrt(ss / g + eps);
      for (size_t c = 0; c < g; ++c) row[s + c] = w[c] * row[s + c] * r;
    }
  return y;
}

// inv_freq and attention factor straight from the spec's formulas, in double.
std::pair<std::vector<double>, double> inv_freq(const json& rope, double theta, int64_t d) {
  std::vector<double> inv(d / 2);
  for (int64_t i = 0; i < d / 2; ++i) inv[i] = 1.0 / std::pow(theta, 2.0 * i / d);
  const std::string type = rope.is_null() ? "default" : rope.value("rope_type", "default");
  if (type == "llama3") {
    const double f = rope["factor"], lo = rope["low_freq_factor"], hi = rope["high_freq_factor"];
    const double L0 = rope["original_max_position_embeddings"];
    for (double& v : inv) {
      const double wl = 2 * std::numbers::pi / v;
      if (wl > L0 / lo) {
        v /= f;
      } else if (wl >= L0 / hi) {
        const double s = (L0 / wl - lo) / (hi - lo);
        v = (1 - s) * v / f + s * v;
      }
    }
    return {inv, 1.0};
  }
  if (type == "yarn") {
    const double f = rope["factor"], L0 = rope["original_max_position_embeddings"];
    auto cd = [&](double rot) { return d * std::log(L0 / (rot * 2 * std::numbers::pi)) / (2 * std::log(theta)); };
    double low = std::max(std::floor(cd(32.0)), 0.0), high = std::min(std::ceil(cd(1.0)), d - 1.0);
    if (low == high) high += 0.001;
    for (int64_t i = 0; i < d / 2; ++i) {
      const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      inv[i] = inv[i] / f * ramp + inv[i] * (1 - ramp);
    }
    return {inv, 0.1 * std::log(f) + 1.0};
  }
  return {inv, 1.0};
}

void apply_rope(Mat& x, int64_t heads, int64_t d, const std::vector<double>& inv, double attn) {
  for (size_t t = 0; t < x.size(); ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < d / 2; ++i) {
        const double phi = static_cast<double>(t) * inv[i];
        const double c = std::cos(phi) * attn, s = std::sin(phi) * attn;
        double& x1 = x[t][h * d + i];
        double& x2 = x[t][h * d + d / 2 + i];
        const double a = x1, b = x2;
        x1 = a * c - b * s;
        x2 = b * c + a * s;
      }
}

struct Reference {
  std::vector<double> logprob, entropy;
  std::vector<std::vector<double>> logits;  // [T-1][V]
};

Reference reference_forward(const json& c, const Family& fam, const Values& w,
                            const std::vector<int32_t>& ids) {
  const int64_t T = static_cast<int64_t>(ids.size()), H = c["hidden_size"], V = c["vocab_size"];
  const int64_t Hq = c["num_attention_heads"], Hkv = c["num_key_value_heads"];
  const int64_t d = c.value("head_dim", H / Hq), I = c["intermediate_size"];
  const double eps = c["rms_norm_eps"];
  const bool abias = c.value("attention_bias", false), mbias = c.value("mlp_bias", false);
  Mat h(T, std::vector<double>(H));
  const std::vector<float>& E = w.at("model.embed_tokens.weight");
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H; ++i) h[t][i] = E[ids[t] * H + i];
  for (int64_t il = 0; il < c["num_hidden_layers"].get<int64_t>(); ++il) {
    const std::string p = "model.layers." + std::to_string(il) + ".";
    const std::string kind = c.contains("layer_types") ? c["layer_types"][il] : "full_attention";
    const bool sliding = kind == "sliding_attention";
    auto attention = [&](const Mat& x) {
      Mat q = linear(x, w, p + "self_attn.q_proj", Hq * d, abias);
      Mat k = linear(x, w, p + "self_attn.k_proj", Hkv * d, abias);
      Mat v = linear(x, w, p + "self_attn.v_proj", Hkv * d, abias);
      if (fam.qk_norm != Family::kNone) {  // per head: weight [d] over each head; full: [H*d]
        q = rms(q, w.at(p + "self_attn.q_norm.weight"), eps);
        k = rms(k, w.at(p + "self_attn.k_norm.weight"), eps);
      }
      // olmo3: sliding layers default RoPE, full layers the configured scaling (spec §2.4).
      const json scaling = sliding || !c.contains("rope_scaling") ? json() : c["rope_scaling"];
      const auto [inv, attn] = inv_freq(scaling, c["rope_theta"], d);
      apply_rope(q, Hq, d, inv, attn);
      apply_rope(k, Hkv, d, inv, attn);
      Mat o(T, std::vector<double>(Hq * d, 0.0));
      const int64_t W = sliding ? c["sliding_window"].get<int64_t>() : T;
      for (int64_t hh = 0; hh < Hq; ++hh) {
        const int64_t kv = hh / (Hq / Hkv);
        for (int64_t i = 0; i < T; ++i) {
          std::vector<double> s;
          const int64_t j0 = std::max<int64_t>(0, i - W + 1);
          for (int64_t j = j0; j <= i; ++j) {
            double dot = 0;
            for (int64_t e = 0; e < d; ++e) dot += q[i][hh * d + e] * k[j][kv * d + e];
            s.push_back(dot / std::sqrt(static_cast<double>(d)));
          }
          const double m = *std::max_element(s.begin(), s.end());
          double z = 0;
          for (double& x : s) z += (x = std::exp(x - m));
          for (int64_t j = j0; j <= i; ++j)
            for (int64_t e = 0; e < d; ++e) o[i][hh * d + e] += s[j - j0] / z * v[j][kv * d + e];
        }
      }
      return linear(o, w, p + "self_attn.o_proj", H, abias);
    };
    auto mlp = [&](const Mat& x) {
      Mat g = linear(x, w, p + "mlp.gate_proj", I, mbias);
      const Mat u = linear(x, w, p + "mlp.up_proj", I, mbias);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < I; ++i) g[t][i] = g[t][i] / (1 + std::exp(-g[t][i])) * u[t][i];
      return linear(g, w, p + "mlp.down_proj", H, mbias);
    };
    auto add = [&](const Mat& b) {
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < H; ++i) h[t][i] += b[t][i];
    };
    if (fam.post_norm) {
      add(rms(attention(h), w.at(p + "post_attention_layernorm.weight"), eps));
      add(rms(mlp(h), w.at(p + "post_feedforward_layernorm.weight"), eps));
    } else {
      add(attention(rms(h, w.at(p + "input_layernorm.weight"), eps)));
      add(mlp(rms(h, w.at(p + "post_attention_layernorm.weight"), eps)));
    }
  }
  const Mat hn = rms(h, w.at("model.norm.weight"), eps);
  const bool tied = c.value("tie_word_embeddings", false);
  const std::vector<float>& L = w.at(tied ? "model.embed_tokens.weight" : "lm_head.weight");
  Reference r;
  for (int64_t t = 0; t + 1 < T; ++t) {
    std::vector<double> l(V);
    for (int64_t v = 0; v < V; ++v) {
      double acc = 0;
      for (int64_t i = 0; i < H; ++i) acc += hn[t][i] * L[v * H + i];
      l[v] = acc;
    }
    const double m = *std::max_element(l.begin(), l.end());
    double z = 0;
    for (double x : l) z += std::exp(x - m);
    const double lz = m + std::log(z);
    double ent = 0;
    for (double x : l) ent -= std::exp(x - lz) * (x - lz);
    r.logprob.push_back(l[ids[t + 1]] - lz);
    r.entropy.push_back(ent);
    r.logits.push_back(std::move(l));
  }
  return r;
}

json base_config(const std::string& model_type) {
  return {{"model_type", model_type}, {"vocab_size", 300},       {"hidden_size", 64},
          {"intermediate_size", 96},  {"num_hidden_layers", 3},  {"num_attention_heads", 4},
          {"num_key_value_heads", 2}, {"max_position_embeddings", 256}, {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},    {"hidden_act", "silu"},    {"tie_word_embeddings", false}};
}

struct Case {
  std::string name;
  json config;
  Family family;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  std::vector<Case> cs;
  json llama = base_config("llama");  // llama3 RoPE over all three wavelength bands, biases, tied
  llama["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                           {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  llama["attention_bias"] = true;
  llama["mlp_bias"] = true;
  llama["tie_word_embeddings"] = true;
  cs.push_back({"llama", llama, {}});
  json qwen3 = base_config("qwen3");  // head_dim 24 != 64 / 4, per-head QK-norm
  qwen3["head_dim"] = 24;
  qwen3["rope_theta"] = 1000000.0;
  cs.push_back({"qwen3", qwen3, {false, Family::kPerHead}});
  json olmo2 = base_config("olmo2");
  olmo2["rope_theta"] = 500000.0;
  cs.push_back({"olmo2", olmo2, {true, Family::kFull}});
  json olmo3 = base_config("olmo3");  // 3 sliding (window 7) + 1 full with yarn
  olmo3["num_hidden_layers"] = 4;
  olmo3["num_key_value_heads"] = 1;
  olmo3["layer_types"] = {"sliding_attention", "sliding_attention", "sliding_attention", "full_attention"};
  olmo3["sliding_window"] = 7;
  olmo3["rope_theta"] = 500000.0;
  // max_position_embeddings = factor * original, so either reading of yarn's factor agrees.
  olmo3["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 8.0}, {"original_max_position_embeddings", 32}};
  cs.push_back({"olmo3", olmo3, {true, Family::kFull}});
  return cs;
}

class ForwardVsReference : public ::testing::TestWithParam<std::tuple<Case, DType>> {};

TEST_P(ForwardVsReference, PerTokenStatistics) {
  const auto& [cs, dtype] = GetParam();
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("lossgap_forward_" + cs.name + "_" + dtype_name(dtype) + "_" +
                                     std::to_string(::getpid()));
  bench::RandomInit init;
  init.seed = 7;
  init.stddev = 0.15f;
  init.norm_mean = 1.0f;
  init.norm_std = 0.2f;
  init.final_norm_mean = 4.0f;  // sharp predictive distributions
  const Values w = bench::write_random_checkpoint(dir, cs.config, dtype, init);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> tok(0, cs.config["vocab_size"].get<int32_t>() - 1);
  std::vector<int32_t> ids(150);  // > 2 attention query blocks of 64, > the sliding window
  for (int32_t& t : ids) t = tok(rng);

  const std::unique_ptr<Model> model = Model::load(dir);
  const std::vector<TokenScore> got = model->score(ids, 1);
  const Reference want = reference_forward(cs.config, cs.family, w, ids);
  ASSERT_EQ(got.size(), want.logprob.size());
  double max_err = 0;
  int sharp = 0;
  for (size_t t = 0; t < got.size(); ++t) {
    max_err = std::max(max_err, std::fabs(got[t].logprob - want.logprob[t]));
    EXPECT_NEAR(got[t].logprob, want.logprob[t], 1e-4) << cs.name << " target " << t + 1;
    EXPECT_NEAR(got[t].entropy, want.entropy[t], 1e-4) << cs.name << " target " << t + 1;
    // Rank and top-1 from the double logits; ids within 1e-4 of the compared logit are ties
    // that fp32 rounding may order either way.
    const std::vector<double>& l = want.logits[t];
    const double lt = l[ids[t + 1]], lmax = *std::max_element(l.begin(), l.end());
    int32_t surely_larger = 0, maybe_larger = 0;
    for (size_t v = 0; v < l.size(); ++v) {
      if (static_cast<int32_t>(v) == ids[t + 1]) continue;
      surely_larger += l[v] > lt + 1e-4 ? 1 : 0;
      maybe_larger += l[v] > lt - 1e-4 ? 1 : 0;
    }
    EXPECT_GE(got[t].rank, 1 + surely_larger) << cs.name << " target " << t + 1;
    EXPECT_LE(got[t].rank, 1 + maybe_larger) << cs.name << " target " << t + 1;
    EXPECT_GE(l.at(got[t].top1_id), lmax - 1e-4) << cs.name << " target " << t + 1;
    EXPECT_NEAR(got[t].top1_logprob, lmax - (lt - want.logprob[t]), 1e-4) << cs.name;
    sharp += want.entropy[t] < 0.5 * std::log(300.0) ? 1 : 0;
  }
  // The comparison means something only if the distributions are far from uniform.
  EXPECT_GT(sharp, static_cast<int>(got.size()) / 2) << cs.name;
  // A later first_target scores a suffix of the same records (equal up to the scoring head's
  // sgemm blocking, which depends on the number of rows).
  const std::vector<TokenScore> tail = model->score(ids, 100);
  ASSERT_EQ(tail.size(), ids.size() - 100);
  for (size_t j = 0; j < tail.size(); ++j) EXPECT_NEAR(tail[j].logprob, got[99 + j].logprob, 1e-5);
  std::filesystem::remove_all(dir);
  RecordProperty("max_abs_logprob_error", std::to_string(max_err));
}

INSTANTIATE_TEST_SUITE_P(Families, ForwardVsReference,
                         ::testing::Combine(::testing::ValuesIn(cases()),
                                            ::testing::Values(DType::F32, DType::BF16)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  dtype_name(std::get<1>(info.param));
                         });

TEST(ModelInfo, CountsLayersParametersAndBytes) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("lossgap_info_" + std::to_string(::getpid()));
  const json c = cases()[3].config;  // olmo3
  const Values w = bench::write_random_checkpoint(dir, c, DType::BF16, {});
  const ModelInfo info = Model::load(dir)->info();
  EXPECT_EQ(info.model_type, "olmo3");
  EXPECT_EQ(info.layer_kinds, c["layer_types"].get<std::vector<std::string>>());
  int64_t n = 0;
  for (const auto& [name, v] : w) n += static_cast<int64_t>(v.size());
  EXPECT_EQ(info.n_parameters, n);
  EXPECT_EQ(info.bytes_by_dtype.at("BF16"), 2 * n);
  std::filesystem::remove_all(dir);
}

TEST(ModelScore, TokenOutsideTheVocabularyIsAnInputError) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("lossgap_vocab_" + std::to_string(::getpid()));
  bench::write_random_checkpoint(dir, base_config("llama"), DType::F32, {});
  const std::unique_ptr<Model> m = Model::load(dir);
  const std::vector<int32_t> ids = {1, 2, 300};
  try {
    m->score(ids, 1);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lossgap
