// `lossgap tokenize`: what the checkpoint's tokenizer makes of a text, exactly as
// transformers' `tokenizer(text)` (special tokens and BOS/EOS by the checkpoint's rules):
// JSON {"ids": [...], "offsets": [[start, end], ...]} (byte offsets) or a table.
// Not the scoring path (score encodes with add_special_tokens = false; see docs/cli.md).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/util.h"
#include "tokenizer/tokenizer.h"

namespace lossgap::cli {

namespace {

struct TokenizeOptions {
  std::string model_dir;
  std::string file;
  std::string text;
  bool json = false;
};

void run_tokenize(const TokenizeOptions& o) {
  require_model_dir(o.model_dir);
  const std::string text = o.file.empty() ? o.text : read_file(o.file);
  const Tokenizer tok = Tokenizer::from_dir(o.model_dir);
  const Encoding enc = tok.encode(text, /*add_special_tokens=*/true);
  std::string out;
  if (o.json) {
    out = "{\"ids\": [";
    for (size_t i = 0; i < enc.ids.size(); ++i) out += (i ? ", " : "") + std::to_string(enc.ids[i]);
    out += "], \"offsets\": [";
    for (size_t i = 0; i < enc.offsets.size(); ++i) {
      out += (i ? ", [" : "[") + std::to_string(enc.offsets[i].first) + ", " + std::to_string(enc.offsets[i].second) + "]";
    }
    out += "]}\n";
  } else {
    // Pieces and text are JSON-quoted so whitespace and control characters stay visible.
    const auto dump = [](const std::string& s) {
      return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    char buf[64];
    std::snprintf(buf, sizeof buf, "%6s %8s %8s %8s  %s\n", "index", "id", "start", "end", "piece / text");
    out += buf;
    for (size_t i = 0; i < enc.ids.size(); ++i) {
      const auto [s, e] = enc.offsets[i];
      std::snprintf(buf, sizeof buf, "%6zu %8d %8u %8u  ", i, enc.ids[i], s, e);
      out += buf + dump(tok.id_to_token(enc.ids[i])) + " / " + dump(text.substr(s, e - s)) + "\n";
    }
    out += std::to_string(enc.ids.size()) + " tokens, " + std::to_string(text.size()) + " bytes\n";
  }
  Output stdout_out("");
  stdout_out.write(out);
  stdout_out.close();
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Tokenize a text with a checkpoint's tokenizer, as transformers' tokenizer(text) does.");
  cmd->add_option("MODEL_DIR", o->model_dir, "Directory with tokenizer.json (and tokenizer_config.json)")->required();
  auto* file = cmd->add_option("--file", o->file, "Tokenize this file's whole content as one text");
  auto* text = cmd->add_option("--text", o->text, "Tokenize this string");
  file->excludes(text);
  cmd->add_flag("--json", o->json, "Print {\"ids\": [...], \"offsets\": [[start, end], ...]} (UTF-8 byte offsets)");
  cmd->callback([o, cmd] {
    if (cmd->count("--file") + cmd->count("--text") != 1)
      throw CLI::ValidationError("tokenize", "give exactly one of --file FILE or --text STRING");
    run_tokenize(*o);
  });
}

}  // namespace lossgap::cli
