// Benchmark of Model::score on the CPU backend: a random-weight ~100M-parameter llama-style
// checkpoint (bench/random_checkpoint.h) in BF16 and F32, windows of 1024 and 4096 tokens.
// Prints one JSON object: tokens/s, achieved FLOP/s (2 * matrix parameters * T for the
// projections, 2 * V * H per target for the head, 4 * d * Hq per visible (query, key) pair for
// attention) and that as a fraction of OpenBLAS cblas_sgemm FLOP/s measured in the same run at a
// matching size (M = T, N = intermediate_size, K = hidden_size) just before each timing, and
// peak RSS.
// Each timing: one warm-up call, then the median of --runs calls.
//
//   bench_score_cpu [--runs N] [--threads N] [--contexts 1024,4096] [--dtypes BF16,F32]
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "model/model.h"
#include "random_checkpoint.h"

namespace {

using lossgap::bench::median_seconds;
using lossgap::bench::sgemm_flops;
using lossgap::bench::peak_rss_mib;
using lossgap::bench::split_commas;

using json = nlohmann::json;

}  // namespace

int main(int argc, char** argv) {
  int runs = 3, threads = 0;
  std::vector<int> contexts = {1024, 4096};
  std::vector<std::string> dtypes = {"BF16", "F32"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--runs" && has_value) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--contexts" && has_value) {
      contexts.clear();
      for (const std::string& c : split_commas(argv[++i])) contexts.push_back(std::stoi(c));
    } else if (a == "--dtypes" && has_value) {
      dtypes = split_commas(argv[++i]);
      for (const std::string& dt : dtypes) {
        if (dt != "BF16" && dt != "F32") {
          std::cerr << argv[0] << ": --dtypes takes BF16 and/or F32, got " << dt << "\n";
          return 2;
        }
      }
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--runs N] [--threads N] [--contexts 1024,4096] [--dtypes BF16,F32]\n";
      return 2;
    }
  }
  const json cfg = lossgap::bench::bench_llama_config();
  const double H = cfg["hidden_size"], I = cfg["intermediate_size"], V = cfg["vocab_size"];
  const double L = cfg["num_hidden_layers"], Hq = cfg["num_attention_heads"],
               Hkv = cfg["num_key_value_heads"], d = cfg["head_dim"];
  const double layer_matrix_params = L * (H * Hq * d * 2 + H * Hkv * d * 2 + 3 * H * I);

  // The checkpoints are written by child processes first, so the writer's memory (all values as
  // floats) never counts in this process's peak RSS, and before any OpenMP/BLAS threads exist.
  const std::filesystem::path root = std::filesystem::temp_directory_path() /
                                     ("lossgap_bench_" + std::to_string(getpid()));
  for (const std::string& dt : dtypes) {
    const pid_t pid = fork();
    if (pid == 0) {
      lossgap::bench::write_random_checkpoint(
          root / dt, cfg, dt == "F32" ? lossgap::DType::F32 : lossgap::DType::BF16,
          lossgap::bench::RandomInit{});
      _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "bench_score_cpu: writing the " << dt << " checkpoint under " << root << " failed\n";
      return 1;
    }
  }
  lossgap::set_num_threads(threads);

  json out;
  out["benchmark"] = "score_cpu";
  out["model"] = cfg;
  out["layer_matrix_parameters"] = layer_matrix_params;
  out["head_parameters"] = V * H;
  out["threads"] = threads > 0 ? threads : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  out["runs"] = runs;
  out["sgemm_shape"] = {{"M", "context"}, {"N", int(I)}, {"K", int(H)}};

  json results = json::array();
  for (const std::string& dt : dtypes) {  // peak RSS is a running maximum: list BF16 first
    const auto model = lossgap::Model::load(root / dt);
    const lossgap::ModelInfo info = model->info();
    for (int T : contexts) {
      std::mt19937 rng(11);
      std::uniform_int_distribution<int32_t> tok(0, int32_t(V) - 1);
      std::vector<int32_t> ids(T);
      for (int32_t& t : ids) t = tok(rng);
      // The sgemm reference is measured right before each timing, so both see the same load
      // on a shared machine.
      const double ref = sgemm_flops(T, int(I), int(H), runs);
      const double s = median_seconds(runs, [&] { model->score(ids, 1); });
      const double pairs = double(T) * (T + 1) / 2;  // visible (query, key) pairs, causal
      const double flops =
          2 * layer_matrix_params * T + 2 * V * H * (T - 1) + L * 4 * d * Hq * pairs;
      results.push_back({{"dtype", dt},
                         {"context", T},
                         {"seconds", s},
                         {"tokens_per_s", T / s},
                         {"flops", flops / s},
                         {"sgemm_flops", ref},
                         {"fraction_of_sgemm", flops / s / ref},
                         {"peak_rss_mib", peak_rss_mib()},
                         {"n_parameters", info.n_parameters},
                         {"weight_bytes", info.bytes_by_dtype}});
    }
  }
  std::filesystem::remove_all(root);
  out["results"] = results;
  std::cout << out.dump(2) << "\n";
  return 0;
}
