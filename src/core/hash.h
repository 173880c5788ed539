// SHA-256 helpers (OpenSSL) for identity hashes of models, tokenizers and corpora.
// Not a general crypto API: only the digests the run store records, as lowercase hex.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace lossgap {

// SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string sha256_bytes(std::string_view bytes);
std::string sha256_bytes(const void* data, size_t n);

// SHA-256 of the whole content of `path`, as 64 lowercase hex digits (read in blocks; any size).
// Throws InputError naming the file when it cannot be opened or read.
std::string sha256_file(const std::filesystem::path& path);

// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, size_t n);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  std::string hex_digest();  // finalises; calling update() afterwards is an InternalError

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lossgap
