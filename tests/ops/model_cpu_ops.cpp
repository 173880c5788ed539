// Each CPU backend op against a plain double-precision computation written out in this file,
// over sizes that cross the backend's blocks (attention query blocks of 64 rows, weight row
// chunks of 16 MiB, logits blocks of 32 MiB) and realistic value ranges. Not a parity test
// against transformers (tests/golden/run_model_parity.cpp is).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"

namespace lossgap {
namespace {

constexpr int64_t kQueryBlock = 64;  // the backend's attention query block (cpu_backend.cpp)

// A tensor stored in a dtype, with the fp32 values it represents (exactly) kept beside it.
struct StoredTensor {
  std::vector<uint16_t> half;
  std::vector<float> f32;    // the storage when dtype is F32
  std::vector<double> value;  // what each stored element means
  TensorView view;
};

uint16_t f32_to_bf16(float f) {  // round to nearest even
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b += 0x7fff + ((b >> 16) & 1);
  return static_cast<uint16_t>(b >> 16);
}

uint16_t f32_to_f16(float f) {  // values used here are normal halves: truncate the mantissa
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint32_t sign = (b >> 16) & 0x8000;
  const int32_t exp = static_cast<int32_t>((b >> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return static_cast<uint16_t>(sign);
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | ((b >> 13) & 0x3ff));
}

StoredTensor make_tensor(DType dt, std::vector<int64_t> shape, std::mt19937& rng, float stddev) {
  StoredTensor t;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::normal_distribution<float> dist(0.0f, stddev);
  t.value.resize(n);
  if (dt == DType::F32) {
    t.f32.resize(n);
    for (int64_t i = 0; i < n; ++i) t.value[i] = t.f32[i] = dist(rng);
    t.view.data = t.f32.data();
  } else {
    t.half.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      t.half[i] = dt == DType::BF16 ? f32_to_bf16(dist(rng)) : f32_to_f16(dist(rng));
      t.value[i] = dt == DType::BF16 ? bf16_to_f32(t.half[i]) : f16_to_f32(t.half[i]);
    }
    t.view.data = t.half.data();
  }
  t.view.name = "test.weight";
  t.view.dtype = dt;
  t.view.shape = std::move(shape);
  return t;
}

std::vector<float> random_vec(int64_t n, std::mt19937& rng, float stddev) {
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> to_host(Backend& be, const Buf& b) {
  std::vector<float> v(b.numel());
  be.to_host(b, v.data());
  return v;
}

// max |a - b| / (atol + rtol |b|) <= 1, reporting the first offender.
void expect_close(const std::vector<float>& got, const std::vector<double>& want, double atol,
                  double rtol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - want[i]);
    if (err > atol + rtol * std::fabs(want[i])) {
      FAIL() << what << ": element " << i << " got " << got[i] << " want " << want[i];
    }
  }
}

std::vector<int64_t> block_sizes(int64_t block) {
  return {1, block - 1, block, block + 1, 3 * block + 5};
}

class CpuOps : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> be = make_cpu_backend();
  std::mt19937 rng{1234};
};

TEST_F(CpuOps, LinearAllDtypesAndSizes) {
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    for (int64_t T : block_sizes(kQueryBlock)) {
      const int64_t in = 96, out = 80;
      StoredTensor w = make_tensor(dt, {out, in}, rng, 0.1f);
      StoredTensor b = make_tensor(dt, {out}, rng, 0.5f);
      std::vector<float> x = random_vec(T * in, rng, 1.0f);
      Buf xb = be->from_host(x.data(), T, in), yb = be->alloc(T, out);
      Weight wb = be->weight(w.view), bb = be->weight(b.view);
      be->linear(xb, wb, &bb, yb);
      std::vector<double> want(T * out);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t o = 0; o < out; ++o) {
          double acc = b.value[o];
          for (int64_t i = 0; i < in; ++i) acc += x[t * in + i] * w.value[o * in + i];
          want[t * out + o] = acc;
        }
      expect_close(to_host(*be, yb), want, 1e-5, 1e-5,
                   std::string("linear ") + dtype_name(dt) + " T=" + std::to_string(T));
    }
  }
}

// A BF16 weight larger than one widening chunk (16 MiB of fp32 rows): rows 1024 per chunk at
// in = 4096, so out = 3 * 1024 + 5 crosses three chunk boundaries.
TEST_F(CpuOps, LinearCrossesWeightChunks) {
  const int64_t in = 4096, chunk = (int64_t{16} << 20) / (in * 4), out = 3 * chunk + 5, T = 3;
  StoredTensor w = make_tensor(DType::BF16, {out, in}, rng, 0.02f);
  std::vector<float> x = random_vec(T * in, rng, 1.0f);
  Buf xb = be->from_host(x.data(), T, in), yb = be->alloc(T, out);
  be->linear(xb, be->weight(w.view), nullptr, yb);
  std::vector<double> want(T * out);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < out; ++o) {
      double acc = 0;
      for (int64_t i = 0; i < in; ++i) acc += x[t * in + i] * w.value[o * in + i];
      want[t * out + o] = acc;
    }
  expect_close(to_host(*be, yb), want, 1e-4, 1e-5, "linear chunked");
}

TEST_F(CpuOps, EmbedWidensRows) {
  StoredTensor table = make_tensor(DType::BF16, {50, 24}, rng, 1.0f);
  std::vector<int32_t> ids = {0, 49, 7, 7, 23};
  Buf out = be->alloc(5, 24);
  be->embed(be->weight(table.view), ids, out);
  std::vector<double> want;
  for (int32_t id : ids)
    for (int64_t c = 0; c < 24; ++c) want.push_back(table.value[id * 24 + c]);
  expect_close(to_host(*be, out), want, 0, 0, "embed");
}

TEST_F(CpuOps, RmsNormGroupsAndKinds) {
  for (NormWeight kind : {NormWeight::Scale, NormWeight::OnePlus}) {
    for (int64_t g : {int64_t{16}, int64_t{48}}) {
      const int64_t T = 7, cols = 48;
      StoredTensor w = make_tensor(DType::F32, {g}, rng, 0.5f);
      std::vector<float> x = random_vec(T * cols, rng, 3.0f);
      const float eps = 1e-6f;
      Buf xb = be->from_host(x.data(), T, cols);
      be->rms_norm(xb, be->weight(w.view), eps, kind, xb);  // in place
      std::vector<double> want(T * cols);
      for (int64_t i = 0; i < T * cols / g; ++i) {
        double ss = 0;
        for (int64_t c = 0; c < g; ++c) ss += double(x[i * g + c]) * x[i * g + c];
        const double r = 1.0 / std::sqrt(ss / g + eps);
        for (int64_t c = 0; c < g; ++c) {
          const double wc = kind == NormWeight::OnePlus ? 1.0 + w.value[c] : w.value[c];
          want[i * g + c] = wc * x[i * g + c] * r;
        }
      }
      expect_close(to_host(*be, xb), want, 1e-6, 1e-5, "rms_norm g=" + std::to_string(g));
    }
  }
}

TEST_F(CpuOps, RopeRotatesHalvesOfTheRotaryPart) {
  const int64_t T = 9, n_heads = 3, head_dim = 16;
  for (int64_t d_rot : {int64_t{16}, int64_t{8}}) {  // full and partial rotary
    std::vector<float> x = random_vec(T * n_heads * head_dim, rng, 1.0f);
    std::vector<float> c = random_vec(T * d_rot, rng, 1.0f), s = random_vec(T * d_rot, rng, 1.0f);
    Buf xb = be->from_host(x.data(), T, n_heads * head_dim);
    be->rope(xb, n_heads, head_dim, be->from_host(c.data(), T, d_rot),
             be->from_host(s.data(), T, d_rot));
    std::vector<double> want(x.begin(), x.end());
    const int64_t half = d_rot / 2;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < n_heads; ++h)
        for (int64_t i = 0; i < d_rot; ++i) {
          const int64_t base = t * n_heads * head_dim + h * head_dim;
          // x * cos + rotate_half(x) * sin, rotate_half(x) = (-x2, x1)
          const double rot = i < half ? -double(x[base + i + half]) : double(x[base + i - half]);
          want[base + i] = double(x[base + i]) * c[t * d_rot + i] + rot * s[t * d_rot + i];
        }
    expect_close(to_host(*be, xb), want, 1e-6, 1e-6, "rope d_rot=" + std::to_string(d_rot));
  }
}

// Naive causal attention in double: every score, the mask by definition, softmax, weighted sum.
std::vector<double> naive_attention(const std::vector<float>& q, const std::vector<float>& k,
                                    const std::vector<float>& v, int64_t T, const AttnShape& a) {
  const int64_t Hq = a.n_heads, Hkv = a.n_kv_heads, d = a.head_dim;
  std::vector<double> out(T * Hq * d, 0.0);
  for (int64_t h = 0; h < Hq; ++h) {
    const int64_t kvh = h / (Hq / Hkv);
    for (int64_t i = 0; i < T; ++i) {
      std::vector<double> p(T, 0.0);
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < T; ++j) {
        const bool visible = j <= i && (a.window == 0 || i - j <= a.window - 1);
        if (!visible) {
          p[j] = -std::numeric_limits<double>::infinity();
          continue;
        }
        double dot = 0;
        for (int64_t c = 0; c < d; ++c)
          dot += double(q[i * Hq * d + h * d + c]) * k[j * Hkv * d + kvh * d + c];
        p[j] = a.scale * dot;
        m = std::max(m, p[j]);
      }
      double z = 0;
      for (int64_t j = 0; j < T; ++j) z += p[j] == -std::numeric_limits<double>::infinity() ? 0 : std::exp(p[j] - m);
      for (int64_t j = 0; j < T; ++j) {
        if (p[j] == -std::numeric_limits<double>::infinity()) continue;
        const double w = std::exp(p[j] - m) / z;
        for (int64_t c = 0; c < d; ++c) out[i * Hq * d + h * d + c] += w * v[j * Hkv * d + kvh * d + c];
      }
    }
  }
  return out;
}

TEST_F(CpuOps, AttentionCausalGqaWindows) {
  struct Case {
    int64_t hq, hkv, d, window;
  };
  for (const Case& cs : {Case{4, 2, 16, 0}, Case{3, 1, 8, 5}, Case{2, 2, 32, 1},
                         Case{4, 1, 16, kQueryBlock}, Case{2, 1, 8, 100}}) {
    for (int64_t T : block_sizes(kQueryBlock)) {
      AttnShape a{cs.hq, cs.hkv, cs.d, 1.0f / std::sqrt(float(cs.d)), cs.window};
      // Logits of a few units (sharp attention, as trained models have).
      std::vector<float> q = random_vec(T * cs.hq * cs.d, rng, 1.5f);
      std::vector<float> k = random_vec(T * cs.hkv * cs.d, rng, 1.5f);
      std::vector<float> v = random_vec(T * cs.hkv * cs.d, rng, 1.0f);
      Buf out = be->alloc(T, cs.hq * cs.d);
      be->attention(be->from_host(q.data(), T, cs.hq * cs.d), be->from_host(k.data(), T, cs.hkv * cs.d),
                    be->from_host(v.data(), T, cs.hkv * cs.d), a, out);
      expect_close(to_host(*be, out), naive_attention(q, k, v, T, a), 2e-6, 1e-5,
                   "attention T=" + std::to_string(T) + " window=" + std::to_string(cs.window) +
                       " Hq/Hkv=" + std::to_string(cs.hq) + "/" + std::to_string(cs.hkv));
    }
  }
}

TEST_F(CpuOps, SwigluAndAdd) {
  const int64_t n = 1000;
  std::vector<float> g = random_vec(n, rng, 4.0f), u = random_vec(n, rng, 1.0f);
  g[0] = -120.0f;  // exp overflow side of silu
  g[1] = 95.0f;
  Buf gb = be->from_host(g.data(), 10, 100), ub = be->from_host(u.data(), 10, 100);
  Buf ob = be->alloc(10, 100);
  be->swiglu(gb, ub, ob);
  std::vector<double> want(n);
  for (int64_t i = 0; i < n; ++i) want[i] = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
  expect_close(to_host(*be, ob), want, 1e-7, 1e-6, "swiglu");
  be->add(gb, ub);
  for (int64_t i = 0; i < n; ++i) want[i] = double(g[i]) + u[i];
  expect_close(to_host(*be, ub), want, 1e-6, 1e-7, "add");
}

// Scoring head with float data: log-probs and entropies against a double log-softmax, over
// vocabularies that cross the backend's vocabulary blocks.
TEST_F(CpuOps, TokenScoresMatchNaiveLogSoftmax) {
  for (DType dt : {DType::BF16, DType::F32}) {
    for (int64_t n : {int64_t{1}, int64_t{5}}) {
      const int64_t H = 4096, vc = (int64_t{16} << 20) / (H * 4), V = 3 * vc + 5;
      StoredTensor w = make_tensor(dt, {V, H}, rng, 0.05f);
      std::vector<float> x = random_vec(n * H, rng, 1.0f);  // logits with stddev ~3
      std::vector<int32_t> targets(n);
      std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(V - 1));
      for (int32_t& t : targets) t = pick(rng);
      targets[0] = static_cast<int32_t>(V - 1);
      std::vector<TokenScore> got(n);
      be->token_scores(be->from_host(x.data(), n, H), be->weight(w.view), targets, got);
      for (int64_t t = 0; t < n; ++t) {
        std::vector<double> l(V);
        for (int64_t v = 0; v < V; ++v) {
          double acc = 0;
          for (int64_t c = 0; c < H; ++c) acc += x[t * H + c] * w.value[v * H + c];
          l[v] = acc;
        }
        const double m = *std::max_element(l.begin(), l.end());
        double z = 0;
        for (double lv : l) z += std::exp(lv - m);
        const double log_z = m + std::log(z);
        double ent = 0;
        for (double lv : l) ent -= std::exp(lv - log_z) * (lv - log_z);
        const int64_t top = std::max_element(l.begin(), l.end()) - l.begin();
        EXPECT_NEAR(got[t].logprob, l[targets[t]] - log_z, 1e-4) << dtype_name(dt) << " t=" << t;
        EXPECT_NEAR(got[t].entropy, ent, 1e-4) << dtype_name(dt) << " t=" << t;
        EXPECT_EQ(got[t].top1_id, top) << dtype_name(dt) << " t=" << t;
        EXPECT_NEAR(got[t].top1_logprob, m - log_z, 1e-4) << dtype_name(dt) << " t=" << t;
        int64_t larger = 0;
        for (double lv : l) larger += lv > l[targets[t]] ? 1 : 0;
        EXPECT_EQ(got[t].rank, 1 + larger) << dtype_name(dt) << " t=" << t;
      }
    }
  }
}

// Integer-valued inputs make every logit exact, so ties are real: the top-1 is the lowest tied
// id (also across vocabulary blocks) and the rank counts strictly larger logits only.
TEST_F(CpuOps, TokenScoresTiesAreExact) {
  const int64_t H = 4096, vc = (int64_t{16} << 20) / (H * 4), V = 2 * vc + 7, n = 4;
  std::uniform_int_distribution<int> small(-2, 2);
  std::vector<float> wv(V * H, 0.0f), x(n * H, 0.0f);
  for (int64_t v = 0; v < V; ++v) wv[v * H + (v % 3)] = static_cast<float>(small(rng));
  for (int64_t v : {int64_t{5}, vc + 3, 2 * vc + 1}) {  // tied maxima in three blocks: 8 x[3]
    wv[v * H + (v % 3)] = 0.0f;
    wv[v * H + 3] = 8.0f;
  }
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < 4; ++c) x[t * H + c] = static_cast<float>(small(rng) == 0 ? 1 : 2);
  TensorView view{"lm_head.weight", DType::F32, {V, H}, wv.data()};
  std::vector<int32_t> targets = {0, 5, static_cast<int32_t>(vc + 3), static_cast<int32_t>(V - 1)};
  std::vector<TokenScore> got(n);
  be->token_scores(be->from_host(x.data(), n, H), be->weight(view), targets, got);
  for (int64_t t = 0; t < n; ++t) {
    std::vector<double> l(V);
    for (int64_t v = 0; v < V; ++v) {
      double acc = 0;
      for (int64_t c = 0; c < 4; ++c) acc += double(x[t * H + c]) * wv[v * H + c];
      l[v] = acc;
    }
    int64_t top = 0, larger = 0;
    for (int64_t v = 1; v < V; ++v)
      if (l[v] > l[top]) top = v;
    for (double lv : l) larger += lv > l[targets[t]] ? 1 : 0;
    EXPECT_EQ(got[t].top1_id, top) << "t=" << t;
    EXPECT_EQ(got[t].rank, 1 + larger) << "t=" << t;
  }
}

}  // namespace
}  // namespace lossgap
