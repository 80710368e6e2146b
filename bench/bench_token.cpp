// bench_token.cpp - ns/token for whole 007 tokens (Google Benchmark), on the PERF_NOTES.md
// workload: RTC token, app id 970CA35de60c44645bbae8a215061b33, certificate
// 5CFd2fd1755d40ecb72977518be15d3b, channel 7d72365eb983485397e3e3f9d460bdda, uid 2882341273,
// publisher (4 privileges), expire 3600, a fresh CSPRNG salt per token (signed part 122 B,
// compressor input 156 B). How to run and read the rows: bench/README.md.
//
// Rows (only kernels the CPU supports are registered):
//   token/single/<compression>                     Minter::mint in a loop, one thread (the
//                                                  single-call C++ API); .../salt:given and
//                                                  .../with_spec isolate the CSPRNG call and the
//                                                  validated builder
//   batch/<sign kernel>/<compression>/threads:<n>  Minter::mint_batch, 65,536 tokens (exact:
//                                                  8,192) over a uid range, n = 1 and all cores
//   batch/base64:<kernel>/fast/threads:1           the same batch with each base64 kernel forced
//   batch/plan:<kernel>/fast/threads:1             ... and each deflate::TemplatePlan kernel (fast
//                                                  batches of templated layouts compress with it)
//   token/single/fast/deflate:<kernel>             single calls (salt given) on each compress_fast
//                                                  kernel (single calls do not use plans)
//   length/<compression>_vs_exact/issue_ts:64      not timed: token length minus the reference's
//                                                  over 64 clock values (gap_mean/min/max)
// Counters: items_per_second (tokens/s), ns_per_token, cpu_ns_per_token (batch rows: process CPU
// time of every pool thread per token), chars_per_token (average token length), chars_over_exact
// (average length minus that of the zlib-level-6 reference strings).
// Batch rows use real time (the work runs on the Minter's pool, not on the benchmark thread).
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base64/base64.hpp"
#include "cpu/cpu.hpp"
#include "crypto/hmac.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/template_plan_kernels.hpp"
#include "mintlane/builders.hpp"
#include "mintlane/minter.hpp"
#include "mintlane/token.hpp"
#include "token/spec_detail.hpp"

namespace {

using namespace mintlane;

constexpr std::string_view kAppId = "970CA35de60c44645bbae8a215061b33";
constexpr std::string_view kCert = "5CFd2fd1755d40ecb72977518be15d3b";
constexpr std::string_view kChannel = "7d72365eb983485397e3e3f9d460bdda";
constexpr std::int64_t kUid = 2882341273;
constexpr std::size_t kBatch = 65536;
constexpr std::size_t kExactBatch = 8192;  // zlib level 6 is ~40x slower: keep an iteration short

benchmark::Counter per_item(double items_per_iteration) {
  return benchmark::Counter(items_per_iteration,
                            benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// CPU time of the whole process (every pool thread), in seconds.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

unsigned all_cores() { return std::max(1u, std::thread::hardware_concurrency()); }

// One Minter per (compression, threads), created on first use (not during static init) and kept
// for the process, so its pool threads and arenas are warm in every repetition.
const Minter& minter(Compression c, unsigned threads) {
  static std::map<std::pair<int, unsigned>, std::unique_ptr<Minter>> minters;
  auto& m = minters[{static_cast<int>(c), threads}];
  if (!m) m = std::make_unique<Minter>(kAppId, kCert, MinterOptions{c, threads});
  return *m;
}

const TokenSpec& workload_spec() {
  static const TokenSpec spec = rtc_uid_spec(kChannel, kUid, RtcRole::kPublisher, 3600);
  return spec;
}

// The batch layout of the workload: RTC publisher, one channel, uid = start + i.
const SpecFactory& workload_factory() {
  static const SpecFactory f = [](std::string_view ch, std::string_view user) {
    return detail::rtc(ch, user, RtcRole::kPublisher, 3600, 3600);
  };
  return f;
}

BatchColumns workload_columns(std::size_t n) {
  BatchColumns c;
  c.count = n;
  c.channels = {std::string(kChannel)};
  c.uid_start = kUid - n / 2;  // ten-digit uids around the workload's
  return c;  // salts: CSPRNG per token; issue_ts: now
}

// Average length of the reference strings (zlib level 6) for this workload at one issue_ts (the
// length of every compressor depends a little on the clock bytes: see the length/ rows), over
// 4,096 tokens with CSPRNG salts; cached per issue_ts.
double exact_chars_per_token(std::uint32_t issue_ts) {
  static std::map<std::uint32_t, double> cache;
  auto it = cache.find(issue_ts);
  if (it == cache.end()) {
    BatchColumns c = workload_columns(4096);
    c.issue_ts = issue_ts;
    const TokenBatch b = minter(Compression::kExact, 1).mint_batch(workload_factory(), c);
    it = cache.emplace(issue_ts, static_cast<double>(b.total_chars()) / static_cast<double>(b.size())).first;
  }
  return it->second;
}

void set_length_counters(benchmark::State& state, double chars_per_token, std::uint32_t issue_ts) {
  state.counters["chars_per_token"] = chars_per_token;
  state.counters["chars_over_exact"] = chars_per_token - exact_chars_per_token(issue_ts);
}

// ---- batch API -----------------------------------------------------------------------------

// Forces kernels for the duration of one benchmark and restores the previous choice after.
class ForcedKernels {
 public:
  ForcedKernels(const char* sign, const char* b64, const char* fixed, const char* plan)
      : sign_(crypto::sign_active().name),
        b64_(base64::active().name),
        fixed_(deflate::fixed::active().name),
        plan_(deflate::plan::active().name) {
    ok_ = (!sign || crypto::sign_force(sign)) && (!b64 || base64::force(b64)) &&
          (!fixed || deflate::fixed::force(fixed)) && (!plan || deflate::plan::force(plan));
  }
  ~ForcedKernels() {
    crypto::sign_force(sign_);
    base64::force(b64_);
    deflate::fixed::force(fixed_);
    deflate::plan::force(plan_);
  }
  bool ok() const { return ok_; }

 private:
  std::string sign_, b64_, fixed_, plan_;
  bool ok_ = false;
};

std::string kernel_label() {
  return std::string("sign=") + crypto::sign_active().name + " base64=" + base64::active().name +
         " deflate=" + deflate::fixed::active().name + " plan=" + deflate::plan::active().name;
}

struct BatchArgs {
  const char* sign = nullptr;   // nullptr: the dispatcher's choice
  const char* b64 = nullptr;
  const char* fixed = nullptr;  // compress_fast kernel (single calls, non-templated layouts)
  const char* plan = nullptr;   // TemplatePlan kernel (fast batches of templated layouts)
  Compression compression = Compression::kFast;
  unsigned threads = 1;         // 0: all cores
};

// ---- single-call API -------------------------------------------------------------------------

enum class SingleMode { kPlain, kSaltGiven, kWithSpec };

void bm_single(benchmark::State& state, Compression c, SingleMode mode, const char* fixed) {
  const ForcedKernels forced(nullptr, nullptr, fixed, nullptr);
  if (!forced.ok()) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const Minter& m = minter(c, 1);
  const TokenSpec& spec = workload_spec();
  std::uint32_t salt = 1;
  std::size_t chars = 0, tokens = 0;
  for (auto _ : state) {
    std::string t;
    switch (mode) {
      case SingleMode::kPlain: t = m.mint(spec); break;                      // CSPRNG salt, clock
      case SingleMode::kSaltGiven: t = m.mint(spec, salt++, 1700000000); break;
      case SingleMode::kWithSpec:  // what one Python m.rtc(...) call does in C++
        t = m.mint(rtc_uid_spec(kChannel, kUid, RtcRole::kPublisher, 3600));
        break;
    }
    chars += t.size();
    ++tokens;
    benchmark::DoNotOptimize(t.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ns_per_token"] = per_item(1);
  if (tokens)
    set_length_counters(state, static_cast<double>(chars) / static_cast<double>(tokens),
                        mode == SingleMode::kSaltGiven ? 1700000000u : unix_now());
  state.SetLabel(kernel_label());
}

void bm_batch(benchmark::State& state, BatchArgs a) {
  const ForcedKernels forced(a.sign, a.b64, a.fixed, a.plan);
  if (!forced.ok()) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const unsigned threads = a.threads == 0 ? all_cores() : a.threads;
  const Minter& m = minter(a.compression, threads);
  const std::size_t n = a.compression == Compression::kExact ? kExactBatch : kBatch;
  const BatchColumns cols = workload_columns(n);
  { const TokenBatch warm = m.mint_batch(workload_factory(), cols); }  // pool, arena and scratch pages
  std::size_t chars = 0, tokens = 0;
  std::uint32_t issue_ts = 0;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    const TokenBatch b = m.mint_batch(workload_factory(), cols);
    chars += b.total_chars();
    tokens += b.size();
    issue_ts = b.issue_ts();
    benchmark::DoNotOptimize(b.arena());
  }
  const double cpu = process_cpu_seconds() - cpu0;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["ns_per_token"] = per_item(static_cast<double>(n));
  // CPU time of all pool threads per token: the per-core cost, robust to other load on the host
  // (wall time is not when other processes compete for the cores).
  if (tokens) state.counters["cpu_ns_per_token"] = cpu * 1e9 / static_cast<double>(tokens);
  state.counters["pool_threads"] = threads;
  state.counters["batch"] = static_cast<double>(n);
  if (tokens) set_length_counters(state, static_cast<double>(chars) / static_cast<double>(tokens), issue_ts);
  state.SetLabel(kernel_label());
}

// ---- token length against the reference strings ---------------------------------------------

// Not a timing row: the average length of `c` tokens minus that of zlib level 6 tokens with the
// same salts, uid and issue_ts, for 64 issue_ts values over three years (2,048 tokens each),
// because the clock bytes change what a compressor finds to match. Counters: gap_mean,
// gap_min, gap_max (characters per token), chars_mean.
void bm_length(benchmark::State& state, Compression c) {
  const Minter& m = minter(c, 1);
  const Minter& e = minter(Compression::kExact, 1);
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;  // fixed sequence: every run sees the same 64 clocks
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  double sum = 0, lo = 1e9, hi = -1e9, chars = 0;
  int samples = 0;
  for (auto _ : state) {
    for (int k = 0; k < 64; ++k) {
      BatchColumns cols = workload_columns(2048);
      cols.issue_ts = 1700000000u + static_cast<std::uint32_t>(next() % (3u * 365 * 86400));
      std::vector<std::uint32_t> salts(cols.count);
      for (std::uint32_t& s : salts) s = static_cast<std::uint32_t>(next());
      cols.salts = salts;
      const TokenBatch a = m.mint_batch(workload_factory(), cols), b = e.mint_batch(workload_factory(), cols);
      const double avg = static_cast<double>(a.total_chars()) / static_cast<double>(a.size());
      const double gap = avg - static_cast<double>(b.total_chars()) / static_cast<double>(b.size());
      sum += gap;
      chars += avg;
      lo = std::min(lo, gap);
      hi = std::max(hi, gap);
      ++samples;
    }
  }
  state.counters["gap_mean"] = sum / samples;
  state.counters["gap_min"] = lo;
  state.counters["gap_max"] = hi;
  state.counters["chars_mean"] = chars / samples;
}

template <class Table>
std::vector<const char*> supported(const Table& table) {
  std::vector<const char*> out;
  for (const auto& k : table)
    if (cpu::supports(k.required)) out.push_back(k.name);
  return out;
}

// Registered during static initialisation (as bench_base64.cpp): the kernel tables and
// cpu::detect() are usable this early; Minters are created only when a row runs.
[[maybe_unused]] const bool kRegistered = [] {
  const std::pair<Compression, const char*> compressions[] = {
      {Compression::kFast, "fast"}, {Compression::kIsal, "isal"}, {Compression::kExact, "exact"}};
  for (const auto& [c, name] : compressions)
    benchmark::RegisterBenchmark((std::string("token/single/") + name).c_str(), bm_single, c, SingleMode::kPlain,
                                 nullptr);
  benchmark::RegisterBenchmark("token/single/fast/salt:given", bm_single, Compression::kFast, SingleMode::kSaltGiven,
                               nullptr);
  benchmark::RegisterBenchmark("token/single/fast/with_spec", bm_single, Compression::kFast, SingleMode::kWithSpec,
                               nullptr);
  for (const char* fixed : supported(deflate::fixed::kernels()))
    benchmark::RegisterBenchmark((std::string("token/single/fast/deflate:") + fixed).c_str(), bm_single,
                                 Compression::kFast, SingleMode::kSaltGiven, fixed);

  for (const char* sign : supported(crypto::sign_kernels()))
    for (const auto& [c, name] : compressions)
      for (unsigned t : {1u, 0u}) {
        BatchArgs a;
        a.sign = sign;
        a.compression = c;
        a.threads = t;
        const std::string row = std::string("batch/") + sign + "/" + name + "/threads:" +
                                (t == 0 ? std::to_string(all_cores()) : std::to_string(t));
        benchmark::RegisterBenchmark(row.c_str(), bm_batch, a)->UseRealTime();
      }
  for (const char* b64 : supported(base64::kernels())) {
    BatchArgs a;
    a.b64 = b64;
    benchmark::RegisterBenchmark((std::string("batch/base64:") + b64 + "/fast/threads:1").c_str(), bm_batch, a)
        ->UseRealTime();
  }
  for (const char* plan : supported(deflate::plan::kernels())) {
    BatchArgs a;
    a.plan = plan;
    benchmark::RegisterBenchmark((std::string("batch/plan:") + plan + "/fast/threads:1").c_str(), bm_batch, a)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("length/fast_vs_exact/issue_ts:64", bm_length, Compression::kFast)->Iterations(1);
  benchmark::RegisterBenchmark("length/isal_vs_exact/issue_ts:64", bm_length, Compression::kIsal)->Iterations(1);
  return true;
}();

}  // namespace
