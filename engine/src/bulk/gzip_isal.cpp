// gzip_isal.cpp - gzip members from ISA-L igzip (isa-l/igzip_lib.h, RFC 1952). The only bulk
// file that includes ISA-L. Each member is compressed in one stateful isal_deflate pass with
// gzip_flag = IGZIP_GZIP and end_of_stream set, so ISA-L writes the header and the CRC-32/ISIZE
// trailer itself. Concatenated members are one valid gzip file (RFC 1952 §2.2).
#include "bulk/gzip_isal.hpp"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "mintlane/errors.hpp"

namespace mintlane::bulk {
namespace {

// Level buffer sizes: ISA-L's "default" size per level (levels >= 1 need one; level 0 does not).
constexpr std::size_t kLevelBuf[4] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
                                      ISAL_DEF_LVL3_DEFAULT};

// isal_zstream embeds its history and hash table, so it lives on the heap once per thread (a
// thread_local object that large would enlarge every thread's static TLS block).
struct ThreadState {
  isal_zstream stream;
  std::unique_ptr<std::uint8_t[]> level_buf;
  std::size_t level_buf_size = 0;
};

ThreadState& thread_state() {
  thread_local std::unique_ptr<ThreadState> state;
  if (!state) state = std::make_unique<ThreadState>();
  return *state;
}

}  // namespace

void check_gzip_level(int level) {
  if (level < ISAL_DEF_MIN_LEVEL || level > ISAL_DEF_MAX_LEVEL)
    throw InvalidArgument("gzip_level", "gzip_level: must be in 0..3 (ISA-L igzip levels), got " + std::to_string(level));
}

void gzip_member(const char* in, std::size_t n, int level, ByteBuffer& out) {
  ThreadState& ts = thread_state();
  const std::size_t want = kLevelBuf[level];
  if (ts.level_buf_size < want) {
    ts.level_buf = std::make_unique<std::uint8_t[]>(want);
    ts.level_buf_size = want;
  }
  isal_zstream* z = &ts.stream;
  isal_deflate_init(z);
  z->level = static_cast<std::uint32_t>(level);
  z->level_buf = want ? ts.level_buf.get() : nullptr;
  z->level_buf_size = static_cast<std::uint32_t>(want);
  z->gzip_flag = IGZIP_GZIP;
  z->flush = NO_FLUSH;
  constexpr std::size_t kMaxIn = std::numeric_limits<std::uint32_t>::max() / 2;
  std::size_t consumed = 0;
  // ISA-L counts bytes in 32 bits: feed at most kMaxIn at a time (blocks are far smaller).
  for (;;) {
    if (z->avail_in == 0) {
      const std::size_t take = std::min(kMaxIn, n - consumed);
      // ISA-L never writes through next_in; its API just lacks the const.
      z->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(in + consumed));
      z->avail_in = static_cast<std::uint32_t>(take);
      consumed += take;
      z->end_of_stream = consumed == n ? 1 : 0;
    }
    // Room for the rest of the input when it does not compress at all, plus stored-block headers.
    const std::size_t room = std::min<std::size_t>(z->avail_in + z->avail_in / 16 + 4096, kMaxIn);
    char* dst = out.reserve_more(room);
    z->next_out = reinterpret_cast<std::uint8_t*>(dst);
    z->avail_out = static_cast<std::uint32_t>(room);
    const int ret = isal_deflate(z);
    if (ret != COMP_OK) throw std::runtime_error("gzip: ISA-L isal_deflate failed with code " + std::to_string(ret));
    out.commit(room - z->avail_out);
    if (z->internal_state.state == ZSTATE_END) break;
  }
}

}  // namespace mintlane::bulk
