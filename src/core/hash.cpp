// SHA-256 through OpenSSL's EVP interface (see hash.h).
#include "core/hash.h"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

#include "core/error.h"

namespace lossgap {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  bool finished = false;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  LG_CHECK(impl_->ctx != nullptr, "EVP_MD_CTX_new failed");
  LG_CHECK(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex failed");
}

Sha256::~Sha256() {
  if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void Sha256::update(const void* data, size_t n) {
  LG_CHECK(impl_ && !impl_->finished, "Sha256::update after hex_digest");
  if (n == 0) return;
  LG_CHECK(EVP_DigestUpdate(impl_->ctx, data, n) == 1, "EVP_DigestUpdate failed");
}

std::string Sha256::hex_digest() {
  LG_CHECK(impl_ && !impl_->finished, "Sha256::hex_digest called twice");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  LG_CHECK(EVP_DigestFinal_ex(impl_->ctx, md, &len) == 1, "EVP_DigestFinal_ex failed");
  impl_->finished = true;
  static const char* hex = "0123456789abcdef";
  std::string out(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 0xf];
  }
  return out;
}

std::string sha256_bytes(const void* data, size_t n) {
  Sha256 h;
  h.update(data, n);
  return h.hex_digest();
}

std::string sha256_bytes(std::string_view bytes) { return sha256_bytes(bytes.data(), bytes.size()); }

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the file for reading");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize got = in.gcount();
    if (got > 0) h.update(buf.data(), static_cast<size_t>(got));
  }
  if (in.bad()) throw InputError(path.string(), "read error while hashing the file");
  return h.hex_digest();
}

}  // namespace lossgap
