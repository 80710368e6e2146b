// pool_writer.cpp - a chunk of a pool, minted, formatted and compressed in parallel blocks
// (bulk.hpp). Each participant of the writer's thread pool takes whole blocks from one atomic
// counter; a block is minted on a single-threaded Minter (one mint_batch per role/expiry group),
// formatted row by row into the block's reusable buffer and, for gzip output, compressed into the
// block's own gzip member. Nothing per token allocates beyond mint_batch's own columns.
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "batch/thread_pool.hpp"
#include "bulk/byte_buffer.hpp"
#include "bulk/gzip_isal.hpp"
#include "bulk/row_format.hpp"
#include "mintlane/bulk.hpp"
#include "mintlane/errors.hpp"
#include "token/spec_detail.hpp"

namespace mintlane::bulk {

// ---- Chunk ------------------------------------------------------------------------------------
// A block's rows as plain text, or (gzip output) only their gzip member: the text is then
// formatted into a per-thread scratch buffer, so a chunk holds compressed bytes alone.
struct Chunk::Block {
  ByteBuffer text;
  ByteBuffer gz;
  bool gzip = false;
  std::size_t text_size = 0;
  std::string_view view() const noexcept {
    const ByteBuffer& b = gzip ? gz : text;
    return {b.data(), b.size()};
  }
};

Chunk::Chunk() = default;
Chunk::~Chunk() = default;
Chunk::Chunk(Chunk&&) noexcept = default;
Chunk& Chunk::operator=(Chunk&&) noexcept = default;

std::size_t Chunk::bytes() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < used_; ++i) n += blocks_[i]->view().size();
  return n;
}

std::size_t Chunk::text_bytes() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < used_; ++i) n += blocks_[i]->text_size;
  return n;
}

std::string_view Chunk::block(std::size_t i) const noexcept { return blocks_[i]->view(); }

// ---- PoolWriter -----------------------------------------------------------------------------------
namespace {

// splitmix64 (Steele, Lea & Flood 2014): reproducible salts from (seed, row id) in tests.
std::uint32_t seeded_salt(std::uint64_t seed, std::uint64_t id) noexcept {
  std::uint64_t z = seed + (id + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

// One mint_batch: the rows of a block that share a role and an expiry.
struct Group {
  RtcRole role = RtcRole::kPublisher;
  std::uint32_t expire = 0;
  bool all_uids = true;          // every row has a numeric uid
  bool one_channel = true;       // every row has the same channel
  std::string_view first_channel;
  std::vector<std::size_t> rows;  // positions in the block
  BatchColumns cols;
  std::vector<std::uint32_t> uids, salts;
  TokenBatch tokens;
  std::size_t next = 0;          // next token to hand to a row
  char issued[24], expires[24];  // issued_at / expires_at as decimal text
  std::size_t issued_len = 0, expires_len = 0;
};

// Per-thread scratch, reused across blocks so its vectors keep their capacity.
struct BlockScratch {
  std::vector<Group> groups;
  std::size_t used = 0;
  std::vector<std::uint8_t> group_of;   // per row of the block
  std::vector<std::string> channel_names;  // generator: names of the block's channels
  Group& group_for(RtcRole role, std::uint32_t expire) {
    for (std::size_t g = 0; g < used; ++g)
      if (groups[g].role == role && groups[g].expire == expire) return groups[g];
    if (used == groups.size()) groups.emplace_back();
    Group& g = groups[used++];
    g.role = role;
    g.expire = expire;
    g.all_uids = true;
    g.one_channel = true;
    g.first_channel = {};
    g.rows.clear();
    g.uids.clear();
    g.salts.clear();
    g.next = 0;
    g.tokens = TokenBatch();
    return g;
  }
};

// Group index of a row (at most 255 groups per block: role x expiry combinations).
constexpr std::size_t kMaxGroups = 255;

}  // namespace

struct PoolWriter::Impl {
  PoolOptions opts;
  Minter minter;
  RowFormatter formatter;
  batch::ThreadPool pool;
  std::string header, footer;

  Impl(const Minter& m, PoolOptions o)
      : opts(std::move(o)),
        minter(m.credentials().app_id(), m.credentials().certificate(), MinterOptions{m.compression(), 1}),
        formatter(opts.format, opts.vegeta),
        pool(opts.threads != 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency())) {
    if (opts.gzip_level != -1) check_gzip_level(opts.gzip_level);
    if (opts.block_rows == 0) throw InvalidArgument("block_rows", "block_rows: must be at least 1");
    header = wrap(formatter.header());
    footer = wrap(formatter.footer());
  }

  std::string wrap(const std::string& plain) const {
    if (plain.empty() || opts.gzip_level < 0) return plain;
    ByteBuffer gz;
    gzip_member(plain.data(), plain.size(), opts.gzip_level, gz);
    return std::string(gz.data(), gz.size());
  }

  SpecFactory factory(TokenKind kind, RtcRole role, std::uint32_t expire) const {
    if (kind == TokenKind::kRtcRtm)
      return [=](std::string_view ch, std::string_view user) { return detail::rtc_rtm(ch, user, role, expire, expire); };
    return [=](std::string_view ch, std::string_view user) { return detail::rtc(ch, user, role, expire, expire); };
  }

  // Mints every group of the block.
  void mint_groups(BlockScratch& s, TokenKind kind, std::uint32_t issue_ts) const {
    for (std::size_t gi = 0; gi < s.used; ++gi) {
      Group& g = s.groups[gi];
      g.cols.count = g.rows.size();
      g.cols.uids = g.all_uids ? std::span<const std::uint32_t>(g.uids) : std::span<const std::uint32_t>();
      g.cols.uid_start.reset();
      g.cols.salts = opts.salt_seed ? std::span<const std::uint32_t>(g.salts) : std::span<const std::uint32_t>();
      g.cols.issue_ts = issue_ts;
      g.tokens = minter.mint_batch(factory(kind, g.role, g.expire), g.cols);
    }
  }

  // Formats rows [0, n) of the block; `row` fills the fields of row i except the token.
  template <class RowFn>
  void format_rows(Chunk::Block& b, BlockScratch& s, std::size_t n, bool first_of_file, std::uint32_t issue_ts,
                   RowFn&& row) const {
    b.gzip = opts.gzip_level >= 0;
    thread_local ByteBuffer gzip_text;
    ByteBuffer& text = b.gzip ? gzip_text : b.text;
    text.clear();
    for (std::size_t gi = 0; gi < s.used; ++gi) {
      Group& g = s.groups[gi];
      g.issued_len = write_u64(issue_ts, g.issued);
      g.expires_len = write_u64(std::uint64_t{issue_ts} + g.expire, g.expires);
    }
    char ubuf[24];
    for (std::size_t i = 0; i < n; ++i) {
      Group& g = s.groups[s.group_of[i]];
      RowFields f;
      row(i, f, ubuf);
      f.token = g.tokens[g.next++];
      f.issued_at = issue_ts;
      f.issued_text = std::string_view(g.issued, g.issued_len);
      f.expires_text = std::string_view(g.expires, g.expires_len);
      char* dst = text.reserve_more(formatter.bound(f));
      text.commit(formatter.format(f, first_of_file && i == 0, dst));
    }
    // Give the arenas back to the Minter's pool now, not when this thread's next block starts.
    for (std::size_t gi = 0; gi < s.used; ++gi) s.groups[gi].tokens = TokenBatch();
    b.text_size = text.size();
    if (b.gzip) {
      b.gz.clear();
      gzip_member(text.data(), text.size(), opts.gzip_level, b.gz);
    }
  }

  void generator_block(const Generator& gen, std::uint64_t lo, std::uint64_t hi, bool first_of_file,
                       std::uint32_t issue_ts, Chunk::Block& b) const {
    thread_local BlockScratch s;
    s.used = 0;
    const std::size_t n = static_cast<std::size_t>(hi - lo);
    const std::uint64_t m = gen.users_per_channel;
    const std::uint64_t c_lo = lo / m, c_hi = (hi - 1) / m;
    s.channel_names.resize(static_cast<std::size_t>(c_hi - c_lo + 1));
    for (std::uint64_t c = c_lo; c <= c_hi; ++c) s.channel_names[static_cast<std::size_t>(c - c_lo)] = gen.channel_name(c);
    s.group_of.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t r = lo + i;
      Group& g = s.group_for(gen.role(r), gen.expire);
      s.group_of[i] = static_cast<std::uint8_t>(&g - s.groups.data());
      g.rows.push_back(i);
      if (opts.salt_seed) g.salts.push_back(seeded_salt(*opts.salt_seed, r));
      if (!gen.accounts) g.uids.push_back(static_cast<std::uint32_t>(gen.user_number(r)));
    }
    for (std::size_t gi = 0; gi < s.used; ++gi) {
      Group& g = s.groups[gi];
      g.all_uids = !gen.accounts;
      g.cols.channels.clear();
      g.cols.accounts.clear();
      if (c_lo == c_hi) {
        g.cols.channels.push_back(s.channel_names[0]);
      } else {
        g.cols.channels.reserve(g.rows.size());
        for (const std::size_t i : g.rows) g.cols.channels.push_back(s.channel_names[static_cast<std::size_t>((lo + i) / m - c_lo)]);
      }
      if (gen.accounts) {
        g.cols.accounts.reserve(g.rows.size());
        for (const std::size_t i : g.rows) g.cols.accounts.push_back(gen.account_prefix + std::to_string(gen.user_number(lo + i)));
      }
    }
    mint_groups(s, gen.kind, issue_ts);
    format_rows(b, s, n, first_of_file, issue_ts, [&](std::size_t i, RowFields& f, char* ubuf) {
      const std::uint64_t r = lo + i;
      const Group& g = s.groups[s.group_of[i]];
      f.channel = s.channel_names[static_cast<std::size_t>(r / m - c_lo)];
      f.is_account = gen.accounts;
      if (gen.accounts) {
        f.user = g.cols.accounts[g.next];
      } else {
        f.user = std::string_view(ubuf, write_u64(gen.user_number(r), ubuf));
      }
      f.role = g.role;
      f.expire = g.expire;
    });
  }

  void requests_block(const Requests& req, std::size_t lo, std::size_t hi, bool first_of_file, std::uint32_t issue_ts,
                      Chunk::Block& b) const {
    thread_local BlockScratch s;
    s.used = 0;
    const std::size_t n = hi - lo;
    s.group_of.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = lo + i;
      Group& g = s.group_for(req.role(r), req.expire(r));
      if (s.used > kMaxGroups)
        throw InvalidArgument("block_rows", "block_rows: a block holds more than 255 role/expiry combinations");
      s.group_of[i] = static_cast<std::uint8_t>(&g - s.groups.data());
      if (g.rows.empty()) g.first_channel = req.channel(r);
      else if (g.one_channel && req.channel(r) != g.first_channel) g.one_channel = false;
      g.rows.push_back(i);
      if (opts.salt_seed) g.salts.push_back(seeded_salt(*opts.salt_seed, req.id(r)));
      if (req.is_account(r)) g.all_uids = false;
      g.uids.push_back(req.uid(r));
    }
    for (std::size_t gi = 0; gi < s.used; ++gi) {
      Group& g = s.groups[gi];
      g.cols.channels.clear();
      g.cols.accounts.clear();
      if (g.one_channel) {
        g.cols.channels.emplace_back(g.first_channel);
      } else {
        g.cols.channels.reserve(g.rows.size());
        for (const std::size_t i : g.rows) g.cols.channels.emplace_back(req.channel(lo + i));
      }
      if (!g.all_uids) {
        // Mixed uids and accounts: every user as the token's string (uid 0 -> "", any uid).
        g.cols.accounts.reserve(g.rows.size());
        for (const std::size_t i : g.rows)
          g.cols.accounts.push_back(req.is_account(lo + i) ? std::string(req.user(lo + i)) : uid_string(req.uid(lo + i)));
      }
    }
    mint_groups(s, req.kind(), issue_ts);
    format_rows(b, s, n, first_of_file, issue_ts, [&](std::size_t i, RowFields& f, char*) {
      const std::size_t r = lo + i;
      f.channel = req.channel(r);
      f.user = req.user(r);
      f.is_account = req.is_account(r);
      f.role = req.role(r);
      f.expire = req.expire(r);
    });
  }

  // Runs `block(k, lo, hi)` for every block of [begin, end) on the pool.
  template <class BlockFn>
  void run_blocks(std::uint64_t begin, std::uint64_t end, Chunk& out, BlockFn&& block) {
    const std::uint64_t n = end - begin;
    const std::size_t nb = static_cast<std::size_t>((n + opts.block_rows - 1) / opts.block_rows);
    while (out.blocks_.size() < nb) out.blocks_.push_back(std::make_unique<Chunk::Block>());
    out.used_ = nb;
    out.rows_ = static_cast<std::size_t>(n);
    // Relaxed: each block's output is disjoint, and ThreadPool::run's mutex hand-off publishes
    // every participant's writes to the caller.
    std::atomic<std::size_t> next{0};
    pool.run([&](unsigned) {
      for (;;) {
        const std::size_t k = next.fetch_add(1, std::memory_order_relaxed);
        if (k >= nb) break;
        const std::uint64_t lo = begin + k * opts.block_rows;
        const std::uint64_t hi = std::min(end, lo + opts.block_rows);
        block(k, lo, hi, *out.blocks_[k]);
      }
    });
  }
};

PoolWriter::PoolWriter(const Minter& minter, PoolOptions options)
    : impl_(std::make_unique<Impl>(minter, std::move(options))) {}
PoolWriter::~PoolWriter() = default;

std::string PoolWriter::header() const { return impl_->header; }
std::string PoolWriter::footer() const { return impl_->footer; }
std::vector<std::string> PoolWriter::columns() const { return impl_->formatter.columns(); }
const PoolOptions& PoolWriter::options() const noexcept { return impl_->opts; }
unsigned PoolWriter::threads() const noexcept { return impl_->pool.size(); }

void PoolWriter::fill(const Generator& g, std::uint64_t begin, std::uint64_t end, std::uint64_t rows_before,
                      Chunk& out) {
  if (begin > end || end > g.size())
    throw InvalidArgument("rows", "rows: [" + std::to_string(begin) + ", " + std::to_string(end) +
                                      ") is not inside the generator's " + std::to_string(g.size()) + " rows");
  const std::uint32_t ts = impl_->opts.issue_ts.value_or(unix_now());
  out.issue_ts_ = ts;
  impl_->run_blocks(begin, end, out, [&](std::size_t k, std::uint64_t lo, std::uint64_t hi, Chunk::Block& b) {
    impl_->generator_block(g, lo, hi, rows_before == 0 && k == 0, ts, b);
  });
}

void PoolWriter::fill(const Requests& r, std::size_t begin, std::size_t end, std::uint64_t rows_before, Chunk& out) {
  if (begin > end || end > r.size())
    throw InvalidArgument("rows", "rows: [" + std::to_string(begin) + ", " + std::to_string(end) +
                                      ") is not inside the " + std::to_string(r.size()) + " requests");
  const std::uint32_t ts = impl_->opts.issue_ts.value_or(unix_now());
  out.issue_ts_ = ts;
  impl_->run_blocks(begin, end, out, [&](std::size_t k, std::uint64_t lo, std::uint64_t hi, Chunk::Block& b) {
    impl_->requests_block(r, static_cast<std::size_t>(lo), static_cast<std::size_t>(hi), rows_before == 0 && k == 0, ts, b);
  });
}

}  // namespace mintlane::bulk
