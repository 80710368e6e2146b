// gzip_isal.hpp - gzip members (RFC 1952) from ISA-L igzip, for pool files.
#pragma once
#include <cstddef>

#include "bulk/byte_buffer.hpp"

namespace mintlane::bulk {

// Throws InvalidArgument naming "gzip_level" unless 0 <= level <= 3 (ISA-L's levels; 0 still
// compresses, with a one-probe hash).
void check_gzip_level(int level);

// Appends one complete gzip member (header, deflate stream, CRC-32 and size trailer) holding
// in[0..n) to `out`, compressed at `level` (checked by the caller). Thread-safe: every thread has
// its own stream and level buffer, allocated on its first call. Throws std::runtime_error if ISA-L
// reports a failure.
void gzip_member(const char* in, std::size_t n, int level, ByteBuffer& out);

}  // namespace mintlane::bulk
