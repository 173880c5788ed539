// `lossgap inspect`: what a checkpoint directory is — architecture, layer kinds, sizes, RoPE,
// special ids, parameter count, bytes by dtype, and the result of the strict tensor-plan check
// (by loading the model), or with --config-only just what config.json declares.
// Not a benchmark and not a tokenizer check (see `lossgap tokenize`).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/util.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"

namespace lossgap::cli {

namespace {

struct InspectOptions {
  std::string model_dir;
  bool config_only = false;
};

// "0-2 sliding_attention, 3 full_attention": runs of equal kinds.
std::string layer_runs(const std::vector<std::string>& kinds) {
  std::string s;
  size_t i = 0;
  while (i < kinds.size()) {
    size_t j = i;
    while (j + 1 < kinds.size() && kinds[j + 1] == kinds[i]) ++j;
    if (!s.empty()) s += ", ";
    s += std::to_string(i) + (j > i ? "-" + std::to_string(j) : "") + " " + kinds[i];
    i = j + 1;
  }
  return s;
}

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v);
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    out += digits[i];
    if ((n - 1 - i) % 3 == 0 && i + 1 < n) out += ',';
  }
  return out;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void print_config(const ModelConfig& c) {
  std::string arch;
  for (const auto& a : c.architectures) arch += (arch.empty() ? "" : ", ") + a;
  std::printf("model_type               %s%s\n", c.model_type.c_str(), arch.empty() ? "" : (" (" + arch + ")").c_str());
  std::printf("layers                   %lld: %s\n", static_cast<long long>(c.num_hidden_layers),
              layer_runs(c.layer_types).c_str());
  std::printf("hidden_size              %lld (intermediate_size %lld, hidden_act %s, rms_norm_eps %s)\n",
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.intermediate_size),
              c.hidden_act.c_str(), fmt(c.rms_norm_eps).c_str());
  std::printf("attention heads          %lld (key/value heads %lld, head_dim %lld)%s\n",
              static_cast<long long>(c.num_attention_heads), static_cast<long long>(c.num_key_value_heads),
              static_cast<long long>(c.head_dim),
              c.sliding_window ? (", sliding_window " + std::to_string(*c.sliding_window)).c_str() : "");
  for (const auto& [type, r] : c.rope_parameters) {
    std::string extra;
    if (r.rope_type != "default") extra += ", factor " + fmt(r.factor);
    if (r.original_max_position_embeddings > 0)
      extra += ", original_max_position_embeddings " + std::to_string(r.original_max_position_embeddings);
    if (r.partial_rotary_factor != 1.0) extra += ", partial_rotary_factor " + fmt(r.partial_rotary_factor);
    if (r.attention_factor != 1.0) extra += ", attention_factor " + fmt(r.attention_factor);
    std::printf("rope %-19s %s, rope_theta %s%s\n", type.c_str(), r.rope_type.c_str(), fmt(r.rope_theta).c_str(),
                extra.c_str());
  }
  std::printf("vocab_size               %lld (tie_word_embeddings %s)\n", static_cast<long long>(c.vocab_size),
              c.tie_word_embeddings ? "true" : "false");
  std::printf("max_position_embeddings  %lld\n", static_cast<long long>(c.max_position_embeddings));
  std::string eos;
  for (int64_t e : c.eos_token_id) eos += (eos.empty() ? "" : ",") + std::to_string(e);
  std::printf("special ids              bos %s, eos %s, pad %s\n",
              c.bos_token_id ? std::to_string(*c.bos_token_id).c_str() : "none", eos.empty() ? "none" : eos.c_str(),
              c.pad_token_id ? std::to_string(*c.pad_token_id).c_str() : "none");
}

void run_inspect(const InspectOptions& o) {
  require_model_dir(o.model_dir);
  if (o.config_only) {
    const ModelConfig config = load_config_dir(o.model_dir);
    std::printf("config                   %s\n", config.path.string().c_str());
    print_config(config);
    std::printf("tensor plan              not checked (--config-only)\n");
    return;
  }
  const std::unique_ptr<Model> model = Model::load(o.model_dir);
  const ModelInfo info = model->info();
  const Checkpoint ckpt = Checkpoint::open(o.model_dir);
  std::printf("config                   %s\n", model->config().path.string().c_str());
  print_config(model->config());
  std::printf("layer kinds              %s\n", layer_runs(info.layer_kinds).c_str());
  std::printf("parameters               %s\n", with_commas(info.n_parameters).c_str());
  std::string bytes;
  int64_t total = 0;
  for (const auto& [dtype, n] : info.bytes_by_dtype) {
    bytes += (bytes.empty() ? "" : ", ") + dtype + " " + human_bytes(static_cast<double>(n));
    total += n;
  }
  std::printf("bytes by dtype           %s (total %s)\n", bytes.c_str(), human_bytes(static_cast<double>(total)).c_str());
  const SafetensorsSet& w = ckpt.weights();
  std::printf("weights                  %zu tensors in %zu file%s%s\n", w.size(), w.files().size(),
              w.files().size() == 1 ? "" : "s", w.sharded() ? (" (" + w.index_path().filename().string() + ")").c_str() : "");
  std::printf("tensor plan              OK: every planned tensor present with the expected shape and dtype, none unused\n");
  const ModelIdentity id = ckpt.identity();
  std::printf("sha256 config.json       %s\n", id.config.c_str());
  std::printf("sha256 tokenizer.json    %s\n", id.tokenizer.empty() ? "(no tokenizer.json)" : id.tokenizer.c_str());
  std::printf("sha256 weights index     %s\n", id.weights.c_str());
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Describe a checkpoint: architecture, layer kinds, parameters, bytes by dtype, tensor-plan check.");
  cmd->add_option("MODEL_DIR", o->model_dir, "Hugging Face checkpoint directory")->required();
  cmd->add_flag("--config-only", o->config_only, "Read config.json only (no weights, no tensor-plan check)");
  cmd->callback([o] { run_inspect(*o); });
}

}  // namespace lossgap::cli
