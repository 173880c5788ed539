// Small helpers shared by the subcommands: argument checks that must fail as InputError (one
// line, exit 1) rather than as CLI11 usage errors, and output files. Not a command.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

namespace lossgap::cli {

// Throws InputError(dir, ...) unless dir is an existing directory.
void require_model_dir(const std::filesystem::path& dir);

// The whole content of a file. Throws InputError naming the file.
std::string read_file(const std::filesystem::path& path);

// An output stream: the file at `path`, or stdout when path is empty. close() flushes and
// throws InputError naming the file if any write failed.
class Output {
 public:
  explicit Output(const std::filesystem::path& path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  FILE* get() const { return f_; }
  void write(const std::string& s);
  void close();

 private:
  std::string name_;
  FILE* f_ = nullptr;
  bool owned_ = false;
};

// "1.2 MB", "834 B": human-readable byte counts.
std::string human_bytes(double bytes);

}  // namespace lossgap::cli
