// Benchmark of the recurrent mixers' two forms on the CPU backend: the gated delta rule (GDN),
// the Mamba-2 SSD scan and the Mamba-1 selective scan, each in its step form (the reference) and
// its chunked form, at the layer shapes of the ~100M models of bench_score_hybrid_cpu
// (hidden 768: GDN 12 heads dk 48 dv 96; Mamba-2 24 heads of 64, one group, state 128; Mamba-1
// d_inner 1536, state 16), on T tokens (default 8192), random inputs in realistic ranges.
// Prints one JSON object: per op and form the median seconds, tokens/s, the chunked/step
// speed-up measured in the same run, the useful FLOP count of the chunked form's algorithm,
// and its FLOP/s as a fraction of OpenBLAS cblas_sgemm FLOP/s measured right before (M = T,
// N = K = 768). Each timing: one warm-up call, then the median of --runs calls.
//
//   bench_model_recurrent_forms [--runs N] [--threads N] [--tokens 8192] [--ops gdn,mamba2,mamba1]
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "bench_util.h"

namespace {

using lossgap::bench::median_seconds;
using lossgap::bench::sgemm_flops;
using lossgap::bench::split_commas;

using json = nlohmann::json;
using lossgap::Buf;

std::vector<float> fill(std::mt19937& g, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

struct HostWeight {
  std::vector<float> data;
  lossgap::TensorView view;
  HostWeight(std::vector<float> d, std::vector<int64_t> shape, const char* name) : data(std::move(d)) {
    view.name = name;
    view.dtype = lossgap::DType::F32;
    view.shape = std::move(shape);
    view.data = data.data();
  }
};

// Times both forms of one op (run(form) calls it), records them next to a same-run sgemm rate.
template <class Run>
json time_forms(const char* op, json shape, int64_t T, double chunked_flops, int runs,
                Run&& run) {
  const double peak = sgemm_flops(static_cast<int>(T), 768, 768, runs);
  const double step = median_seconds(runs, [&] { run(false); });
  const double chunked = median_seconds(runs, [&] { run(true); });
  std::cerr << op << " T=" << T << ": step " << step << " s, chunked " << chunked << " s ("
            << step / chunked << "x)\n";
  return {{"op", op},
          {"shape", std::move(shape)},
          {"tokens", T},
          {"step_seconds", step},
          {"chunked_seconds", chunked},
          {"step_tokens_per_s", T / step},
          {"chunked_tokens_per_s", T / chunked},
          {"chunked_speedup_over_step", step / chunked},
          {"chunked_flops", chunked_flops},
          {"sgemm_flops_per_s", peak},
          {"chunked_fraction_of_sgemm", chunked_flops / chunked / peak}};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3, threads = 0;
  int64_t T = 8192;
  std::vector<std::string> ops = {"gdn", "mamba2", "mamba1"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--runs" && has_value) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--tokens" && has_value) {
      T = std::atoll(argv[++i]);
    } else if (a == "--ops" && has_value) {
      ops = split_commas(argv[++i]);
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--runs N] [--threads N] [--tokens 8192] [--ops gdn,mamba2,mamba1]\n";
      return 2;
    }
  }
  lossgap::set_num_threads(threads);
  auto be = lossgap::make_cpu_backend();
  std::mt19937 rng(3);
  json out;
  out["benchmark"] = "model_recurrent_forms";
  out["threads"] = threads > 0 ? threads : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  out["runs"] = runs;
  out["sgemm_shape"] = {{"M", T}, {"N", 768}, {"K", 768}};
  json results = json::array();
  for (const std::string& op : ops) {
    if (op == "gdn") {
      // Unit-norm keys, queries scaled by dk^-1/2, decays exp(g) in [0.5, 1], beta in [0, 2].
      const int64_t H = 12, dk = 48, dv = 96, C = lossgap::kDeltaChunk;
      std::normal_distribution<float> n(0.0f, 1.0f);
      std::vector<float> q(T * H * dk), k(T * H * dk), v(T * H * dv);
      for (auto* x : {&q, &k, &v}) for (float& y : *x) y = n(rng);
      for (size_t i = 0; i < q.size(); i += dk) {
        for (auto* x : {&q, &k}) {
          double ss = 0;
          for (int64_t c = 0; c < dk; ++c) ss += double((*x)[i + c]) * (*x)[i + c];
          const double sc = (x == &q ? 1.0 / std::sqrt(double(dk)) : 1.0) / std::sqrt(ss);
          for (int64_t c = 0; c < dk; ++c) (*x)[i + c] = float((*x)[i + c] * sc);
        }
      }
      std::vector<float> g = fill(rng, T * H, 0.5f, 1.0f), beta = fill(rng, T * H, 0.0f, 2.0f);
      for (float& y : g) y = std::log(y);
      Buf qb = be->from_host(q.data(), T, H * dk), kb = be->from_host(k.data(), T, H * dk),
          vb = be->from_host(v.data(), T, H * dv), gb = be->from_host(g.data(), T, H),
          bb = be->from_host(beta.data(), T, H), ob = be->alloc(T, H * dv);
      const lossgap::DeltaShape shape{H, H, dk, dv};
      // Per chunk of C tokens and head: K K^T, Q K^T (C^2 dk each), the triangular solve for
      // [W | U] (C^2 (dk + dv) / 2), W S and Q S (C dk dv each), the masked QK V' (C^2 dv / 2),
      // the state update (C dk dv).
      const double flops = 2.0 * (T / C) * H *
                           (2.0 * C * C * dk + 0.5 * C * C * (dv + dk) + 3.0 * C * dk * dv +
                            0.5 * C * C * dv);
      results.push_back(time_forms("gated_delta_rule", {{"n_heads", H}, {"k_dim", dk}, {"v_dim", dv}},
                                   T, flops, runs, [&](bool chunked) {
                                     be->gated_delta_rule(qb, kb, vb, gb, bb, shape,
                                                          chunked ? lossgap::DeltaForm::Chunked
                                                                  : lossgap::DeltaForm::Step,
                                                          ob);
                                   }));
    } else if (op == "mamba2") {
      // nemotron_h-style: A_log in log [1, 16], dt softplus'd into [1e-3, 0.1].
      const int64_t H = 24, P = 64, G = 1, N = 128, L = lossgap::kSsdChunk;
      std::vector<float> x = fill(rng, T * H * P, -2, 2), dt = fill(rng, T * H, 1e-3f, 0.1f);
      std::vector<float> B = fill(rng, T * G * N, -1, 1), Cm = fill(rng, T * G * N, -1, 1);
      HostWeight A(fill(rng, H, 0.0f, std::log(16.0f)), {H}, "A_log");
      HostWeight D(fill(rng, H, -1, 1), {H}, "D");
      Buf xb = be->from_host(x.data(), T, H * P), db = be->from_host(dt.data(), T, H),
          bb = be->from_host(B.data(), T, G * N), cb = be->from_host(Cm.data(), T, G * N),
          yb = be->alloc(T, H * P);
      const lossgap::SsdShape shape{H, P, G, N};
      // Per chunk and head: C S^T (L P N), M X (L^2 P), state update (L P N); per chunk and
      // group: C B^T (L^2 N).
      const double flops = 2.0 * (T / L) * (H * (2.0 * L * P * N + L * L * P) + G * L * L * N);
      results.push_back(time_forms("ssd_scan", {{"n_heads", H}, {"head_dim", P}, {"n_groups", G},
                                                {"state_size", N}},
                                   T, flops, runs, [&](bool chunked) {
                                     be->ssd_scan(xb, db, lossgap::Weight{A.view}, bb, cb,
                                                  lossgap::Weight{D.view}, shape,
                                                  chunked ? lossgap::SsdForm::Chunked
                                                          : lossgap::SsdForm::Step,
                                                  yb);
                                   }));
    } else if (op == "mamba1") {
      // mamba-130m-style: d_inner 1536, state 16, A = -[1..16] (A_log = log n), dt in [1e-3, 0.1].
      const int64_t Ch = 1536, N = 16;
      std::vector<float> x = fill(rng, T * Ch, -2, 2), dt = fill(rng, T * Ch, 1e-3f, 0.1f);
      std::vector<float> B = fill(rng, T * N, -1, 1), Cm = fill(rng, T * N, -1, 1);
      std::vector<float> a_log(Ch * N);
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t n = 0; n < N; ++n) a_log[c * N + n] = std::log(float(n + 1));
      HostWeight A(std::move(a_log), {Ch, N}, "A_log");
      HostWeight D(fill(rng, Ch, -1, 1), {Ch}, "D");
      Buf xb = be->from_host(x.data(), T, Ch), db = be->from_host(dt.data(), T, Ch),
          bb = be->from_host(B.data(), T, N), cb = be->from_host(Cm.data(), T, N),
          yb = be->alloc(T, Ch);
      // Per token, channel and state: one exp (counted as one), 2 multiply-adds.
      const double flops = 5.0 * T * Ch * N;
      results.push_back(time_forms("selective_scan", {{"channels", Ch}, {"state_size", N}}, T,
                                   flops, runs, [&](bool chunked) {
                                     be->selective_scan(xb, db, lossgap::Weight{A.view}, bb, cb,
                                                        lossgap::Weight{D.view},
                                                        chunked ? lossgap::SsdForm::Chunked
                                                                : lossgap::SsdForm::Step,
                                                        yb);
                                   }));
    } else {
      std::cerr << argv[0] << ": unknown op " << op << " (gdn, mamba2, mamba1)\n";
      return 2;
    }
  }
  out["results"] = results;
  std::cout << out.dump(2) << "\n";
  return 0;
}
