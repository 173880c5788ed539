// Benchmark of hybrid models against their transformer twin on the CPU backend: Model::score
// tokens/s of random-weight models of about the same size (hidden 768, vocab 32000, BF16
// weights), at windows of 1024 and 8192 tokens:
//   olmo3        12 layers, attention (3 sliding : 1 full, window 4096) + SwiGLU 2048 — the reference;
//   olmo_hybrid  12 layers, 9 Gated DeltaNet + 3 attention (NoPE), SwiGLU 2048, GDN sizes from
//                olmo_hybrid's defaults (heads = attention heads, dk = 0.75 hidden / heads, dv = 2 dk);
//   nemotron_h   24 single-mixer layers "M-M-M-*-" x 3: 9 Mamba-2 (24 heads of 64, 1 group,
//                state 128) + 3 attention + 12 relu² MLPs of 2560.
// Per model and window: median seconds, tokens/s, the ratio of its tokens/s to olmo3's at the same
// window (olmo3 timed in the same rounds), and the fraction of the hardware limit: dense FLOPs
// (2 x non-embedding parameters x T, plus 2 V H per target for the head and 4 head_dim Hq per
// visible (query, key) pair of each attention layer; the recurrences' own arithmetic is not
// counted, so this is a lower bound for the hybrids) per second over OpenBLAS cblas_sgemm FLOP/s
// measured right before each round (M = T, N = 2048, K = 768; the median over the rounds).
// Prints one JSON object. Each timing: one warm-up round, then the median of --runs rounds. The
// recurrent ops alone, step form against chunked form: bench_model_recurrent_forms.
//
//   bench_score_hybrid_cpu [--runs N] [--threads N] [--contexts 1024,8192] [--models olmo3,...]
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "model/model.h"
#include "random_checkpoint.h"

namespace {

using lossgap::bench::median;
using lossgap::bench::sgemm_flops;
using lossgap::bench::split_commas;

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int64_t kVocab = 32000, kHidden = 768, kHeads = 12, kHeadDim = 64;

json common_config() {
  return {{"vocab_size", kVocab},          {"hidden_size", kHidden},
          {"intermediate_size", 2048},     {"num_hidden_layers", 12},
          {"num_attention_heads", kHeads}, {"num_key_value_heads", kHeads},
          {"max_position_embeddings", 8192}, {"rms_norm_eps", 1e-6},
          {"hidden_act", "silu"},          {"tie_word_embeddings", false},
          {"eos_token_id", 0},             {"pad_token_id", 1}};
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

json nemotron_h_config() {
  json block_types = json::array();
  for (int r = 0; r < 3; ++r) {
    for (const char* k : {"mamba", "mlp", "mamba", "mlp", "mamba", "mlp", "attention", "mlp"})
      block_types.push_back(k);
  }
  return {{"model_type", "nemotron_h"},
          {"vocab_size", kVocab},
          {"hidden_size", kHidden},
          {"layers_block_type", block_types},
          {"num_attention_heads", kHeads},
          {"num_key_value_heads", kHeads},
          {"head_dim", kHeadDim},
          {"intermediate_size", 2560},
          {"mlp_hidden_act", "relu2"},
          {"mamba_num_heads", 24},
          {"mamba_head_dim", 64},
          {"n_groups", 1},
          {"ssm_state_size", 128},
          {"conv_kernel", 4},
          {"expand", 2},
          {"chunk_size", 128},
          {"use_conv_bias", true},
          {"use_bias", false},
          {"mlp_bias", false},
          {"attention_bias", false},
          {"layer_norm_epsilon", 1e-5},
          {"residual_in_fp32", false},
          {"time_step_min", 0.001},
          {"time_step_max", 0.1},
          {"time_step_floor", 1e-4},
          {"max_position_embeddings", 8192},
          {"tie_word_embeddings", false},
          {"eos_token_id", 0},
          {"pad_token_id", 1}};
}

// Visible (query, key) pairs of a causal window of T tokens with a sliding window W (0: full).
double pairs(int64_t T, int64_t W) {
  if (W <= 0 || W >= T) return double(T) * (T + 1) / 2;
  return double(W) * (W + 1) / 2 + double(T - W) * W;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3, threads = 0;
  std::vector<int64_t> contexts = {1024, 8192};
  std::vector<std::string> names = {"olmo3", "olmo_hybrid", "nemotron_h"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--runs" && has_value) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--contexts" && has_value) {
      contexts.clear();
      for (const std::string& c : split_commas(argv[++i])) contexts.push_back(std::stoll(c));
    } else if (a == "--models" && has_value) {
      names = split_commas(argv[++i]);
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--runs N] [--threads N] [--contexts 1024,8192] [--models olmo3,olmo_hybrid,nemotron_h]\n";
      return 2;
    }
  }
  if (names.empty() || names.front() != "olmo3") {
    std::cerr << argv[0] << ": --models must start with olmo3 (the reference of every ratio)\n";
    return 2;
  }
  // Attention layers and their windows, per model (for the dense FLOP count).
  const std::map<std::string, std::pair<json, std::vector<int64_t>>> models = {
      {"olmo3", {olmo3_config(), {4096, 4096, 4096, 0, 4096, 4096, 4096, 0, 4096, 4096, 4096, 0}}},
      {"olmo_hybrid", {olmo_hybrid_config(), {0, 0, 0}}},
      {"nemotron_h", {nemotron_h_config(), {0, 0, 0}}}};
  for (const std::string& n : names) {
    if (!models.count(n)) {
      std::cerr << argv[0] << ": unknown model " << n << " (olmo3, olmo_hybrid, nemotron_h)\n";
      return 2;
    }
  }
  lossgap::set_num_threads(threads);
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("lossgap_bench_hybrid_" + std::to_string(::getpid()));
  json out;
  out["benchmark"] = "score_hybrid_cpu";
  out["threads"] = threads > 0 ? threads : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  out["runs"] = runs;
  out["weights"] = "BF16, random (bench/random_checkpoint.h)";
  out["sgemm_shape"] = {{"M", "context"}, {"N", 2048}, {"K", kHidden}};

  // All models are loaded first and timed in turn within each round (olmo3, then the others,
  // --runs rounds after a warm-up round), so a change of load on a shared machine falls on every
  // model alike; the sgemm reference is measured right before each round.
  struct Loaded {
    std::string name;
    std::unique_ptr<lossgap::Model> model;
    double dense_params;
  };
  std::vector<Loaded> loaded;
  for (const std::string& name : names) {
    const auto dir = root / name;
    lossgap::bench::write_random_checkpoint(dir, models.at(name).first, lossgap::DType::BF16, {});
    auto model = lossgap::Model::load(dir);
    const double dense = double(model->info().n_parameters) - 2.0 * kVocab * kHidden;
    loaded.push_back({name, std::move(model), dense});
  }
  json results = json::array();
  std::mt19937 rng(3);
  for (int64_t T : contexts) {
    std::vector<int32_t> ids(T);
    std::uniform_int_distribution<int32_t> tok(0, int32_t(kVocab) - 1);
    for (int32_t& id : ids) id = tok(rng);
    std::vector<std::vector<double>> secs(loaded.size());
    std::vector<double> refs;
    for (int r = -1; r < runs; ++r) {  // round -1: warm-up
      if (r >= 0) refs.push_back(sgemm_flops(int(T), 2048, int(kHidden), 1));
      for (size_t m = 0; m < loaded.size(); ++m) {
        const auto t0 = Clock::now();
        loaded[m].model->score(ids, 1);
        if (r >= 0) secs[m].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      }
    }
    const double ref = median(refs);
    const double ref_tps = double(T) / median(secs[0]);
    for (size_t m = 0; m < loaded.size(); ++m) {
      const double s = median(secs[m]);
      double flops = 2 * loaded[m].dense_params * T + 2.0 * kVocab * kHidden * (T - 1);
      for (int64_t W : models.at(loaded[m].name).second) flops += 4.0 * kHeadDim * kHeads * pairs(T, W);
      const double tps = double(T) / s;
      results.push_back({{"model", loaded[m].name},
                         {"n_parameters", loaded[m].model->info().n_parameters},
                         {"context", T},
                         {"seconds", s},
                         {"seconds_each_round", secs[m]},
                         {"tokens_per_s", tps},
                         {"tokens_per_s_vs_olmo3", tps / ref_tps},
                         {"dense_flops_per_s", flops / s},
                         {"sgemm_flops_per_s", ref},
                         {"fraction_of_sgemm", flops / s / ref}});
      std::cerr << loaded[m].name << " T=" << T << ": " << tps << " tokens/s (" << tps / ref_tps
                << "x olmo3)\n";
    }
  }
  out["results"] = results;
  std::filesystem::remove_all(root);
  std::cout << out.dump(2) << "\n";
  return 0;
}
