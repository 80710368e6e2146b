// minter.cpp - single-token minting and the batch engine (DESIGN.md "Per batch", "Per token",
// "Batch"): S1 once per batch, a byte template per layout, salts from one CSPRNG call per chunk,
// the signatures of a whole chunk in interleaved SHA-NI streams, chunks taken with one atomic
// counter, results in a pooled arena. Fast-mode batches of templated layouts compress with a
// deflate::TemplatePlan of the template (~50 ns per token instead of compress_fast's ~160 ns,
// cached per Minter): their bytes differ from single-call tokens (same payloads), and depend on
// the layout and the token only, never on how tokens are grouped into batches.
#include "mintlane/minter.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <pthread.h>

#include "base64/base64.hpp"
#include "batch/arena.hpp"
#include "batch/thread_pool.hpp"
#include "batch/token_template.hpp"
#include "crypto/hmac.hpp"
#include "crypto/sha256.hpp"
#include "deflate/deflate.hpp"
#include "deflate/template_plan.hpp"
#include "mintlane/errors.hpp"
#include "token/finish.hpp"
#include "token/pack.hpp"
#include "wire/packer.hpp"

namespace mintlane {

std::uint32_t unix_now() noexcept {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  return static_cast<std::uint32_t>(s);
}

std::vector<std::pair<std::string, std::string>> active_kernels() {
  return {{"sign", crypto::sign_active().name},
          {"sha256", crypto::sha256_active().name},
          {"base64", base64::active().name}};
}

// ---- TokenBatch ---------------------------------------------------------------------
// One pooled buffer holds everything: [starts: n x u64][lengths: n x u32][pad][token chars]. A
// batch therefore touches no fresh page once the pool is warm (std::vector storage of this size
// would be mmap'd and page-faulted anew for every batch).
struct TokenBatch::Storage {
  std::shared_ptr<batch::ArenaPool> pool;
  batch::ArenaPool::Buffer buffer;
  std::size_t count = 0;
  std::uint64_t* starts = nullptr;
  std::uint32_t* lengths = nullptr;
  char* chars = nullptr;
  std::size_t total = 0;
  std::uint32_t issue_ts = 0;
  ~Storage() {
    if (pool) pool->release(std::move(buffer));
  }
};

std::size_t TokenBatch::size() const noexcept { return storage_ ? storage_->count : 0; }
std::string_view TokenBatch::operator[](std::size_t i) const noexcept {
  return {storage_->chars + storage_->starts[i], storage_->lengths[i]};
}
std::size_t TokenBatch::total_chars() const noexcept { return storage_ ? storage_->total : 0; }
std::uint32_t TokenBatch::issue_ts() const noexcept { return storage_ ? storage_->issue_ts : 0; }
const char* TokenBatch::arena() const noexcept { return storage_ ? storage_->chars : nullptr; }
std::span<const std::uint64_t> TokenBatch::starts() const noexcept {
  return storage_ ? std::span<const std::uint64_t>(storage_->starts, storage_->count) : std::span<const std::uint64_t>();
}
std::span<const std::uint32_t> TokenBatch::lengths() const noexcept {
  return storage_ ? std::span<const std::uint32_t>(storage_->lengths, storage_->count) : std::span<const std::uint32_t>();
}
void TokenBatch::join(char* out, std::string_view sep) const noexcept {
  const std::size_t n = size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view t = (*this)[i];
    std::memcpy(out, t.data(), t.size());
    out += t.size();
    std::memcpy(out, sep.data(), sep.size());
    out += sep.size();
  }
}

// ---- Minter -------------------------------------------------------------------------
namespace {

std::atomic<std::uint64_t> g_minter_ids{1};

// Tokens per unit of work: big enough to amortise one RAND_bytes call and to fill the
// interleaved SHA lanes, small enough that a chunk's scratch stays in L2.
constexpr std::size_t kChunk = 512;
// Below this many tokens a batch runs on the calling thread (waking workers costs more).
constexpr std::size_t kInlineBelow = 2 * kChunk;
// Plans of this many recent layouts are kept per Minter: building one costs ~5 µs, and a caller
// minting many small batches (the bulk writer: one per role and expiry per block) reuses a few.
constexpr std::size_t kPlanCache = 8;
// A plan specialised to a batch's shared channel / account codes those bytes once instead of per
// token (~13 ns per token for a 32-byte channel) and writes the same bytes; specialising costs
// ~0.7 µs, so small batches skip it.
constexpr std::size_t kSpecializeFrom = 64;

// u32 -> decimal with the uid rule (0 -> ""). Returns the length.
std::size_t uid_digits(std::uint32_t v, char* out) noexcept {
  if (v == 0) return 0;
  char tmp[10];
  std::size_t n = 0;
  while (v != 0) {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

// Per-thread state of single-token minting: the last S1 (keyed by minter and issue_ts) and
// reusable buffers, so a steady stream of mint() calls allocates only the returned string.
struct SingleScratch {
  std::uint64_t minter = 0;
  std::uint32_t issue_ts = 0;
  std::uint8_t k1[32];
  std::string info;
  std::vector<std::uint8_t> payload, compressed;
};
thread_local SingleScratch t_single;

// Salts for single mints, drawn 256 at a time: one RAND_bytes call costs ~0.8 us here (its
// getpid, parameter lookup and locks), about half of a whole single mint. Salts are public (they
// travel in the token), so holding a few ahead is harmless; what must never happen is a forked
// child reusing its parent's pool, so a fork bumps the generation and the child refills.
constexpr std::size_t kSaltPool = 256;
std::atomic<std::uint64_t> g_fork_generation{0};
void after_fork_in_child() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct SaltPool {
  std::uint64_t generation = ~std::uint64_t{0};
  std::size_t next = kSaltPool;
  std::uint32_t salts[kSaltPool];
};
thread_local SaltPool t_salts;

std::uint32_t next_salt() {
  static const int registered = pthread_atfork(nullptr, nullptr, after_fork_in_child);
  (void)registered;
  SaltPool& p = t_salts;
  // Relaxed: the child handler runs in the child's only thread before it returns from fork().
  const std::uint64_t gen = g_fork_generation.load(std::memory_order_relaxed);
  if (p.next == kSaltPool || p.generation != gen) {
    random_u32(p.salts, kSaltPool);
    p.next = 0;
    p.generation = gen;
  }
  return p.salts[p.next++];
}

}  // namespace

struct Minter::Impl {
  std::uint64_t id = g_minter_ids.fetch_add(1, std::memory_order_relaxed);  // unique, never reused
  std::shared_ptr<batch::ArenaPool> pool = std::make_shared<batch::ArenaPool>();
  batch::ThreadPool threads;
  // Recently used plans by TokenTemplate::key(), most recent last. A batch holds its plan through
  // the shared_ptr, so eviction by a concurrent batch is harmless.
  std::mutex plans_mutex;
  std::vector<std::pair<std::string, std::shared_ptr<const deflate::TemplatePlan>>> plans;
  explicit Impl(unsigned n) : threads(n) {}

  std::shared_ptr<const deflate::TemplatePlan> plan_for(const batch::TokenTemplate& t) {
    std::string key = t.key();
    {
      const std::lock_guard<std::mutex> lock(plans_mutex);
      for (auto it = plans.begin(); it != plans.end(); ++it) {
        if (it->first != key) continue;
        std::rotate(it, it + 1, plans.end());  // now the most recent
        return plans.back().second;
      }
    }
    // Built outside the lock; two racing batches build the same plan, and either copy serves.
    auto plan = std::make_shared<const deflate::TemplatePlan>(deflate::TemplatePlan::make(t.plan_parts()));
    const std::lock_guard<std::mutex> lock(plans_mutex);
    if (plans.size() >= kPlanCache) plans.erase(plans.begin());
    plans.emplace_back(std::move(key), plan);
    return plan;
  }
};

Minter::Minter(std::string_view app_id, std::string_view app_certificate, MinterOptions options)
    : credentials_(app_id, app_certificate), options_(options) {
  unsigned n = options.threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  if (n > 1024) throw InvalidArgument("threads", "threads: " + std::to_string(n) + " is too many (0 = all cores, at most 1024)");
  impl_ = std::make_unique<Impl>(n);
}

Minter::~Minter() = default;

unsigned Minter::threads() const noexcept { return impl_->threads.size(); }

std::string Minter::mint(const TokenSpec& spec, std::optional<std::uint32_t> salt,
                         std::optional<std::uint32_t> issue_ts) const {
  if (spec.services.empty())
    throw InvalidArgument("services", "services: a token needs at least one service");
  const std::uint32_t ts = issue_ts.value_or(unix_now());
  const std::uint32_t s = salt ? *salt : next_salt();
  SingleScratch& sc = t_single;
  token::pack_signing_info_into(sc.info, credentials_.app_id(), ts, spec.expire, s, spec.services);
  if (sc.minter != impl_->id || sc.issue_ts != ts) {
    crypto::signing_key_step1(credentials_.certificate(), ts, sc.k1);
    sc.minter = impl_->id;
    sc.issue_ts = ts;
  }
  const std::size_t n = 34 + sc.info.size();
  sc.payload.resize(n);
  sc.payload[0] = 32;
  sc.payload[1] = 0;
  std::memcpy(sc.payload.data() + 34, sc.info.data(), sc.info.size());
  const std::uint8_t* msg = sc.payload.data() + 34;
  const std::size_t len = sc.info.size();
  std::uint8_t sig[1][32];
  crypto::sign007_many(sc.k1, &s, &msg, &len, sig, 1);
  std::memcpy(sc.payload.data() + 2, sig[0], 32);
  sc.compressed.resize(deflate::compress_bound(n));
  std::string out(token::max_token_chars(n), '\0');
  out.resize(token::finish_007(sc.payload.data(), n, options_.compression, sc.compressed.data(), out.data()));
  return out;
}

std::string Minter::mint_006(std::string_view channel, std::string_view uid,
                             const std::vector<std::pair<std::uint16_t, std::uint32_t>>& privileges,
                             std::uint32_t ts, std::optional<std::uint32_t> salt) const {
  AccessToken006 t;
  t.app_id.assign(credentials_.app_id());
  t.channel.assign(channel);
  t.uid.assign(uid);
  t.ts = ts;
  t.privileges = privileges;
  if (salt) t.salt = *salt; else random_u32(&t.salt, 1);
  return encode_006(t, credentials_.certificate());
}

namespace {

// Everything a worker needs to mint tokens [begin, end) of a batch.
struct BatchJob {
  const BatchColumns* cols;
  const batch::TokenTemplate* tmpl;  // null: build each spec with the factory
  const deflate::TemplatePlan* plan;  // non-null: compress with it (fast mode, templated layout)
  const SpecFactory* factory;
  std::string_view app_id;
  std::uint32_t issue_ts;
  const std::uint8_t* k1;
  Compression compression;
  std::size_t max_payload;   // bound on a token's payload bytes
  std::size_t slot_chars;    // bytes reserved per token in the arena
  char* arena;
  std::uint64_t* starts;
  std::uint32_t* lengths;
};

std::string_view channel_of(const BatchColumns& c, std::size_t i) noexcept {
  if (c.channels.empty()) return {};
  return c.channels.size() == 1 ? std::string_view(c.channels[0]) : std::string_view(c.channels[i]);
}

// The user string of token i; numeric uids are formatted into buf.
std::string_view user_of(const BatchColumns& c, std::size_t i, char* buf) noexcept {
  if (!c.uids.empty()) return {buf, uid_digits(c.uids[i], buf)};
  if (c.uid_start) return {buf, uid_digits(static_cast<std::uint32_t>(*c.uid_start + i), buf)};
  if (!c.accounts.empty()) return c.accounts.size() == 1 ? c.accounts[0] : c.accounts[i];
  return {};
}

struct WorkerScratch {
  std::vector<std::uint8_t> payloads;   // kChunk * max_payload
  std::vector<std::size_t> lens;
  std::vector<const std::uint8_t*> msgs;
  std::vector<std::uint32_t> salts;
  std::vector<std::uint8_t> sigs;       // kChunk * 32
  std::vector<std::uint8_t> compressed;
  std::string info;
};

void mint_chunk(const BatchJob& job, std::size_t begin, std::size_t end, WorkerScratch& ws) {
  const BatchColumns& c = *job.cols;
  const std::size_t n = end - begin;
  ws.salts.resize(n);
  if (!c.salts.empty())
    std::memcpy(ws.salts.data(), c.salts.data() + begin, n * sizeof(std::uint32_t));
  else
    random_u32(ws.salts.data(), n);  // one CSPRNG call per chunk
  ws.payloads.resize(kChunk * job.max_payload);
  ws.lens.resize(n);
  ws.msgs.resize(n);
  ws.sigs.resize(kChunk * 32);
  ws.compressed.resize(deflate::compress_bound(job.max_payload));
  char ubuf[16];
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = begin + k;
    std::uint8_t* p = ws.payloads.data() + k * job.max_payload;
    std::size_t info_len;
    if (job.tmpl) {
      info_len = job.tmpl->render(p + 34, channel_of(c, i), user_of(c, i, ubuf), ws.salts[k]);
    } else {
      const TokenSpec spec = (*job.factory)(channel_of(c, i), user_of(c, i, ubuf));
      token::pack_signing_info_into(ws.info, job.app_id, job.issue_ts, spec.expire, ws.salts[k], spec.services);
      if (34 + ws.info.size() > job.max_payload)
        throw std::logic_error("batch: a token's payload outgrew the bound computed for the batch");
      std::memcpy(p + 34, ws.info.data(), ws.info.size());
      info_len = ws.info.size();
    }
    p[0] = 32;
    p[1] = 0;
    ws.msgs[k] = p + 34;
    ws.lens[k] = info_len;
  }
  crypto::sign007_many(job.k1, ws.salts.data(), ws.msgs.data(), ws.lens.data(),
                       reinterpret_cast<std::uint8_t(*)[32]>(ws.sigs.data()), n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = begin + k;
    std::uint8_t* p = ws.payloads.data() + k * job.max_payload;
    std::memcpy(p + 2, ws.sigs.data() + 32 * k, 32);
    char* out = job.arena + i * job.slot_chars;
    job.starts[i] = i * job.slot_chars;
    if (job.plan != nullptr) {
      // ws.compressed holds compress_bound(max_payload) >= max_compressed + 8 bytes: the plan's
      // unchecked fast path.
      const Result r = job.plan->compress(p, 34 + ws.lens[k], ws.compressed.data(), ws.compressed.size());
      if (!r.ok())  // only a payload that does not follow the template: an engine bug
        throw std::logic_error(std::string("batch: template compression failed: ") + errc_message(r.code));
      job.lengths[i] = static_cast<std::uint32_t>(token::finish_007_zlib(ws.compressed.data(), r.count, out));
    } else {
      job.lengths[i] = static_cast<std::uint32_t>(
          token::finish_007(p, 34 + ws.lens[k], job.compression, ws.compressed.data(), out));
    }
  }
}

}  // namespace

TokenBatch Minter::mint_batch(const SpecFactory& factory, const BatchColumns& cols) const {
  const std::size_t n = cols.count;
  auto shape = [&](const char* field, std::size_t got, bool allow_one) {
    if (got != n && !(allow_one && got == 1))
      throw InvalidArgument(field, std::string(field) + ": has " + std::to_string(got) + " entries but the batch has " +
                                       std::to_string(n) + " tokens" + (allow_one ? " (give 1 or one per token)" : ""));
  };
  if (!cols.channels.empty()) shape("channels", cols.channels.size(), true);
  const int user_columns = !cols.uids.empty() + cols.uid_start.has_value() + !cols.accounts.empty();
  if (user_columns > 1) throw InvalidArgument("uids", "uids: give one of uids, a uid range or accounts, not several");
  if (!cols.uids.empty()) shape("uids", cols.uids.size(), false);
  if (!cols.accounts.empty()) shape("accounts", cols.accounts.size(), true);
  if (!cols.salts.empty()) shape("salts", cols.salts.size(), false);
  if (cols.uid_start && (*cols.uid_start + (n ? n - 1 : 0)) > 0xffffffffULL)
    throw InvalidArgument("uids", "uids: the range ends above 4294967295 (uids are 32-bit)");

  auto storage = std::make_shared<TokenBatch::Storage>();
  storage->issue_ts = cols.issue_ts.value_or(unix_now());
  storage->count = n;
  if (n == 0) return TokenBatch(storage);

  std::size_t max_channel = 0, max_user = 10;
  for (const std::string& ch : cols.channels) max_channel = std::max(max_channel, ch.size());
  for (const std::string& a : cols.accounts) max_user = std::max(max_user, a.size());
  if (max_channel > 0xffff || max_user > 0xffff)
    throw InvalidArgument(max_channel > 0xffff ? "channels" : "accounts",
                          "batch: a value is over 65535 bytes (the token format's string limit)");

  const auto tmpl = batch::TokenTemplate::make(factory, credentials_.app_id(), storage->issue_ts);
  std::size_t max_payload;
  if (tmpl) {
    max_payload = 34 + tmpl->size(max_channel, max_user);
  } else {
    // Derived fields: bound the payload with the longest values through the factory itself.
    std::string info;
    const TokenSpec probe = factory(std::string(max_channel, 'c'), std::string(max_user, 'u'));
    token::pack_signing_info_into(info, credentials_.app_id(), storage->issue_ts, probe.expire, 0, probe.services);
    max_payload = 34 + info.size() + 64;
  }
  const std::size_t slot = token::max_token_chars(max_payload);

  // Fast mode compresses templated layouts with the layout's plan, specialised to the values
  // every token of this batch shares when the batch is big enough (same bytes either way).
  std::shared_ptr<const deflate::TemplatePlan> base_plan;
  std::optional<deflate::TemplatePlan> batch_plan;
  const deflate::TemplatePlan* plan = nullptr;
  if (tmpl && options_.compression == Compression::kFast) {
    base_plan = impl_->plan_for(*tmpl);
    plan = base_plan.get();
    std::optional<std::string_view> channel, user;
    if (cols.channels.size() == 1) channel = cols.channels[0];
    if (cols.channels.empty()) channel = std::string_view();
    if (cols.accounts.size() == 1) user = cols.accounts[0];
    if (cols.accounts.empty() && cols.uids.empty() && !cols.uid_start) user = std::string_view();
    if (n >= kSpecializeFrom && (channel || user)) {
      batch_plan = plan->specialize(tmpl->plan_values(channel, user));
      plan = &*batch_plan;
    }
  }

  const std::size_t chars_at = (n * (sizeof(std::uint64_t) + sizeof(std::uint32_t)) + 63) & ~std::size_t{63};
  storage->pool = impl_->pool;
  storage->buffer = impl_->pool->acquire(chars_at + n * slot);
  char* base = storage->buffer.data.get();
  storage->starts = reinterpret_cast<std::uint64_t*>(base);
  storage->lengths = reinterpret_cast<std::uint32_t*>(base + n * sizeof(std::uint64_t));
  storage->chars = base + chars_at;

  std::uint8_t k1[32];
  crypto::signing_key_step1(credentials_.certificate(), storage->issue_ts, k1);
  BatchJob job{&cols, tmpl ? &*tmpl : nullptr, plan, &factory, credentials_.app_id(), storage->issue_ts, k1,
               options_.compression, max_payload, slot, storage->chars, storage->starts, storage->lengths};

  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  // One atomic counter hands out chunks; relaxed order suffices because each chunk's outputs are
  // disjoint and ThreadPool::run's mutex hand-off publishes them to the caller.
  std::atomic<std::size_t> next{0};
  auto work = [&](unsigned) {
    // Scratch lives as long as the thread, so its pages stay warm across batches.
    thread_local WorkerScratch ws;
    for (;;) {
      const std::size_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) break;
      mint_chunk(job, c * kChunk, std::min(n, (c + 1) * kChunk), ws);
    }
  };
  if (n < kInlineBelow || impl_->threads.size() == 1)
    work(0);
  else
    impl_->threads.run(work);

  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += storage->lengths[i];
  storage->total = total;
  return TokenBatch(std::move(storage));
}

}  // namespace mintlane
