// Benchmark of the Gated DeltaNet hybrid against its transformer twin on the CPU backend:
// Model::score tokens/s of a random-weight ~100M olmo_hybrid-style model (9 GDN layers, 3
// attention layers, NoPE, GDN sizes from olmo_hybrid's defaults: heads = attention heads,
// dk = 0.75 hidden / heads, dv = 2 dk) next to an olmo3-style model of the same size (3 sliding :
// 1 full attention, window 4096), BF16 weights, at windows of 1024 and 8192 tokens; and the gated
// delta rule op alone at the hybrid's layer shape, step form against chunked form.
// Prints one JSON object. Each timing: one warm-up call, then the median of --runs calls.
//
//   bench_score_hybrid_cpu [--runs N] [--threads N] [--contexts 1024,8192] [--op-tokens 8192]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "model/model.h"
#include "random_checkpoint.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

template <class F>
double median_seconds(int runs, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

json common_config() {
  return {{"vocab_size", 32000},          {"hidden_size", 768},
          {"intermediate_size", 2048},    {"num_hidden_layers", 12},
          {"num_attention_heads", 12},    {"num_key_value_heads", 12},
          {"max_position_embeddings", 8192}, {"rms_norm_eps", 1e-6},
          {"hidden_act", "silu"},         {"tie_word_embeddings", false},
          {"eos_token_id", 0},            {"pad_token_id", 1}};
}

json olmo3_config() {
  json c = common_config();
  c["model_type"] = "olmo3";
  c["sliding_window"] = 4096;
  c["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 500000.0}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 500000.0}}}};
  return c;
}

json olmo_hybrid_config() {
  json c = common_config();
  c["model_type"] = "olmo_hybrid";
  c["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", nullptr}};
  c["linear_conv_kernel_dim"] = 4;
  c["linear_allow_neg_eigval"] = true;
  return c;
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3, threads = 0;
  std::vector<int64_t> contexts = {1024, 8192};
  int64_t op_tokens = 8192;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--runs") runs = std::stoi(v);
    else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--contexts") contexts = parse_list(v);
    else if (a == "--op-tokens") op_tokens = std::stoll(v);
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  lossgap::set_num_threads(threads);
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("lossgap_bench_hybrid_" + std::to_string(::getpid()));
  json out;
  out["threads"] = threads;
  out["runs"] = runs;
  out["weights"] = "BF16, random (bench/random_checkpoint.h)";

  json models = json::array();
  std::mt19937 rng(3);
  for (const auto& [name, cfg] : {std::pair{"olmo3", olmo3_config()},
                                  std::pair{"olmo_hybrid", olmo_hybrid_config()}}) {
    const auto dir = root / name;
    lossgap::bench::write_random_checkpoint(dir, cfg, lossgap::DType::BF16, {});
    const auto model = lossgap::Model::load(dir);
    const lossgap::ModelInfo info = model->info();
    for (int64_t T : contexts) {
      std::vector<int32_t> ids(T);
      std::uniform_int_distribution<int32_t> tok(0, 31999);
      for (int32_t& id : ids) id = tok(rng);
      const double s = median_seconds(runs, [&] { model->score(ids, 1); });
      models.push_back({{"model", name},
                        {"n_parameters", info.n_parameters},
                        {"context", T},
                        {"seconds", s},
                        {"tokens_per_s", static_cast<double>(T) / s}});
      std::cerr << name << " T=" << T << ": " << static_cast<double>(T) / s << " tokens/s\n";
    }
  }
  out["score"] = models;
  std::filesystem::remove_all(root);

  // The gated delta rule alone, at the hybrid's layer shape (Hk = Hv = 12, dk 48, dv 96).
  {
    auto be = lossgap::make_cpu_backend();
    const lossgap::DeltaShape shape{12, 12, 48, 96};
    const int64_t T = op_tokens, kd = 12 * 48, vd = 12 * 96;
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> q(T * kd), k(T * kd), v(T * vd), g(T * 12), beta(T * 12);
    for (auto* x : {&q, &k, &v}) for (float& y : *x) y = n(rng);
    for (size_t i = 0; i < q.size(); i += 48) {  // unit-norm heads (q then scaled by dk^-1/2)
      for (auto* x : {&q, &k}) {
        double ss = 0;
        for (int c = 0; c < 48; ++c) ss += double((*x)[i + c]) * (*x)[i + c];
        const double sc = (x == &q ? 1.0 / std::sqrt(48.0) : 1.0) / std::sqrt(ss);
        for (int c = 0; c < 48; ++c) (*x)[i + c] = float((*x)[i + c] * sc);
      }
    }
    for (float& y : g) y = std::log(0.5f + 0.5f * u(rng));
    for (float& y : beta) y = 2.0f * u(rng);
    lossgap::Buf qb = be->from_host(q.data(), T, kd), kb = be->from_host(k.data(), T, kd),
                 vb = be->from_host(v.data(), T, vd), gb = be->from_host(g.data(), T, 12),
                 bb = be->from_host(beta.data(), T, 12), ob = be->alloc(T, vd);
    const double step = median_seconds(runs, [&] {
      be->gated_delta_rule(qb, kb, vb, gb, bb, shape, lossgap::DeltaForm::Step, ob);
    });
    const double chunked = median_seconds(runs, [&] {
      be->gated_delta_rule(qb, kb, vb, gb, bb, shape, lossgap::DeltaForm::Chunked, ob);
    });
    out["gated_delta_rule"] = {{"tokens", T},
                               {"n_heads", 12},
                               {"k_dim", 48},
                               {"v_dim", 96},
                               {"step_seconds", step},
                               {"chunked_seconds", chunked},
                               {"chunked_speedup", step / chunked}};
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
