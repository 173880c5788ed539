// Helpers shared by the subcommands (see util.h).
#include "cli/util.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace lossgap::cli {

void require_model_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) throw InputError(dir.string(), "the model directory does not exist");
  if (!std::filesystem::is_directory(dir, ec))
    throw InputError(dir.string(), "expected a model directory (config.json, *.safetensors, tokenizer.json), found a file");
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the file");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path.string(), "cannot read the file");
  return data;
}

Output::Output(const std::filesystem::path& path) {
  if (path.empty()) {
    name_ = "(standard output)";
    f_ = stdout;
    return;
  }
  name_ = path.string();
  f_ = std::fopen(name_.c_str(), "wb");
  if (!f_) throw InputError(name_, std::string("cannot create the file: ") + std::strerror(errno));
  owned_ = true;
}

Output::~Output() {
  if (owned_ && f_) std::fclose(f_);
}

void Output::write(const std::string& s) { std::fwrite(s.data(), 1, s.size(), f_); }

void Output::close() {
  bool ok = std::fflush(f_) == 0 && !std::ferror(f_);
  if (owned_) {
    ok = std::fclose(f_) == 0 && ok;
    f_ = nullptr;
    owned_ = false;
  }
  if (!ok) throw InputError(name_, "cannot write the output");
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace lossgap::cli
