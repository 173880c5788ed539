// Writing a checkpoint directory with random weights (config.json + model.safetensors) for the
// benchmarks and for forward tests that need no fixture: the tensors are exactly those of the
// architecture module's tensor plan for the config, so the files always load. Header-only so
// bench/*.cpp executables and tests/ops can share it. Not a general safetensors writer: one
// file, one dtype for all tensors, fresh values from a seeded generator.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "model/config.h"
#include "model/registry.h"

namespace lossgap::bench {

// How the random values are drawn: matrices N(0, stddev); norm weights (names ending in
// "norm.weight") norm_mean + N(0, norm_std), the final "model.norm.weight" final_norm_mean +
// N(0, norm_std) (a large final norm makes the predictive distributions sharp); biases N(0, stddev).
struct RandomInit {
  uint64_t seed = 1;
  float stddev = 0.02f;
  float norm_mean = 1.0f;
  float norm_std = 0.0f;
  float final_norm_mean = 1.0f;
};

inline uint16_t round_to_bf16(float f) {  // round to nearest even (finite inputs)
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b += 0x7fffu + ((b >> 16) & 1u);
  return static_cast<uint16_t>(b >> 16);
}

// Writes `config` to dir/config.json and the planned tensors, in `dtype` (F32 or BF16), to
// dir/model.safetensors. Returns each written tensor's values as stored (after rounding).
inline std::map<std::string, std::vector<float>> write_random_checkpoint(
    const std::filesystem::path& dir, const nlohmann::json& config, DType dtype,
    const RandomInit& init) {
  LG_CHECK(dtype == DType::F32 || dtype == DType::BF16, "random checkpoints are F32 or BF16");
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "config.json");
    f << config.dump(2) << "\n";
  }
  const ModelConfig cfg = parse_config(config.dump(), (dir / "config.json").string());
  const TensorPlan plan = arch_module(cfg).plan(cfg);

  std::mt19937_64 rng(init.seed);
  std::map<std::string, std::vector<float>> values;
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const TensorSpec& s : plan.specs()) {
    if (s.kind == TensorSpec::Kind::Tied) continue;
    int64_t n = 1;
    for (int64_t d : s.shape) n *= d;
    const bool is_norm = s.name.ends_with("norm.weight");
    const float mean = s.name == "model.norm.weight" ? init.final_norm_mean
                       : is_norm                     ? init.norm_mean
                                                     : 0.0f;
    std::normal_distribution<float> dist(mean, is_norm ? init.norm_std : init.stddev);
    std::vector<float>& v = values[s.name];
    v.resize(n);
    for (float& x : v) {
      x = dist(rng);
      if (dtype == DType::BF16) x = bf16_to_f32(round_to_bf16(x));
    }
    const uint64_t bytes = static_cast<uint64_t>(n) * dtype_size(dtype);
    header[s.name] = {{"dtype", dtype_name(dtype)}, {"shape", s.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // data section 8-byte aligned
  std::ofstream f(dir / "model.safetensors", std::ios::binary);
  const uint64_t hlen = h.size();
  f.write(reinterpret_cast<const char*>(&hlen), 8);  // little-endian hosts only (x86-64, arm64)
  f.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const TensorSpec& s : plan.specs()) {  // same order as the offsets above
    if (s.kind == TensorSpec::Kind::Tied) continue;
    const std::vector<float>& v = values[s.name];
    if (dtype == DType::F32) {
      f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    } else {
      std::vector<uint16_t> b(v.size());
      for (size_t i = 0; i < v.size(); ++i) b[i] = round_to_bf16(v[i]);
      f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size() * 2));
    }
  }
  if (!f) throw InputError((dir / "model.safetensors").string(), "write failed");
  return values;
}

// The benchmark model: llama-style, ~100M parameters in its matrices (hidden 768, 12 layers,
// 12 query / 4 key-value heads of 64, SwiGLU 2048, vocabulary 32000, untied head).
inline nlohmann::json bench_llama_config() {
  return {{"model_type", "llama"},
          {"architectures", {"LlamaForCausalLM"}},
          {"vocab_size", 32000},
          {"hidden_size", 768},
          {"intermediate_size", 2048},
          {"num_hidden_layers", 12},
          {"num_attention_heads", 12},
          {"num_key_value_heads", 4},
          {"head_dim", 64},
          {"max_position_embeddings", 8192},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 500000.0},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", false},
          {"bos_token_id", 1},
          {"eos_token_id", 2}};
}

}  // namespace lossgap::bench
