// file_sink.cpp - streaming SHA-256 (FIPS 180-4 padding over the engine's active compression
// kernel, crypto/sha256.hpp) and the sink that hashes and write(2)s a pool file's bytes.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "crypto/sha256.hpp"
#include "mintlane/bulk.hpp"

namespace mintlane::bulk {

// ---- Sha256 ---------------------------------------------------------------------------------------
Sha256::Sha256() noexcept { std::memcpy(state_, crypto::kSha256Init, sizeof state_); }

void Sha256::update(const void* data, std::size_t n) noexcept {
  const auto* p = static_cast<const std::uint8_t*>(data);
  const crypto::CompressFn compress = crypto::sha256_active().compress;
  total_ += n;
  if (buf_len_ != 0) {
    const std::size_t take = std::min(n, 64 - buf_len_);
    std::memcpy(buf_ + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    n -= take;
    if (buf_len_ < 64) return;
    compress(state_, buf_, 1);
    buf_len_ = 0;
  }
  if (n >= 64) {
    compress(state_, p, n / 64);
    p += n / 64 * 64;
    n %= 64;
  }
  std::memcpy(buf_, p, n);
  buf_len_ = n;
}

void Sha256::digest(std::uint8_t out[32]) const noexcept {
  std::uint32_t st[8];
  std::memcpy(st, state_, sizeof st);
  std::uint8_t tail[128] = {};
  std::memcpy(tail, buf_, buf_len_);
  tail[buf_len_] = 0x80;
  const std::size_t blocks = buf_len_ + 9 <= 64 ? 1 : 2;
  const std::uint64_t bits = total_ * 8;
  for (int i = 0; i < 8; ++i) tail[blocks * 64 - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  crypto::sha256_active().compress(st, tail, blocks);
  for (int i = 0; i < 8; ++i)
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(st[i] >> (24 - 8 * b));
}

std::string Sha256::hexdigest() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint8_t d[32];
  digest(d);
  std::string s(64, '0');
  for (int i = 0; i < 32; ++i) {
    s[2 * i] = kHex[d[i] >> 4];
    s[2 * i + 1] = kHex[d[i] & 15];
  }
  return s;
}

// ---- FileSink -------------------------------------------------------------------------------------
struct FileSink::Hash {
  Sha256 sha;
};

FileSink::FileSink(int fd) : fd_(fd), hash_(std::make_unique<Hash>()) {}
FileSink::~FileSink() = default;

void FileSink::write(std::string_view bytes) {
  // Hash and write in pieces that stay in cache between the two passes.
  constexpr std::size_t kPiece = 128 * 1024;
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const std::size_t piece = std::min(left, kPiece);
    hash_->sha.update(p, piece);
    std::size_t done = 0;
    while (done < piece) {
      const ssize_t n = ::write(fd_, p + done, piece - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "write");
      }
      done += static_cast<std::size_t>(n);
    }
    p += piece;
    left -= piece;
  }
  bytes_ += bytes.size();
}

void FileSink::write(const Chunk& chunk) {
  for (std::size_t i = 0; i < chunk.blocks(); ++i) write(chunk.block(i));
}

std::string FileSink::hexdigest() const { return hash_->sha.hexdigest(); }

}  // namespace mintlane::bulk
