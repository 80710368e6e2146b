// bench_deflate.cpp - token compression, strict inflate and Adler-32 on the PERF_NOTES workload, with zlib baselines (Google Benchmark).
//
// Rows (input: the 156-byte payload of an RTC publisher token, PERF_NOTES "Workload"; here the
// vector g007-rtc-account-002, whose issue_ts and salt are fixed):
//   deflate/fast, deflate/fast/<kernel>   fixed-Huffman encoder (dispatch, then each kernel forced)
//   deflate/template_plan, .../<kernel>   TemplatePlan of the workload's layout, specialised to its
//                                         channel as a one-channel batch does (dispatch, then each
//                                         kernel forced); what the batch engine runs per token
//   deflate/template_plan/base            the same plan, channel still a hole (no specialisation)
//   deflate/template_plan/make, .../specialize   building the plan (per layout, cached by the
//                                         Minter) and specialising it (per batch of >= 64 tokens)
//   deflate/isal                          ISA-L level 0, static table
//   deflate/exact                         zlib level 6 (reference bytes)
//   deflate/zlib-level1                   baseline: zlib level 1 on a reused stream
//   inflate/isal                          inflate_zlib of deflate/fast's output
//   inflate/zlib                          baseline: zlib inflate on a reused stream
//   adler32, adler32/<kernel>, adler32/zlib
// Each deflate row reports the stream size in the counter `bytes_out`. Larger inputs
// (/420, /4096, /65536: token payloads concatenated) show how the rows scale.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.hpp"
#include "deflate/adler32_kernels.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/deflate.hpp"
#include "deflate/template_plan.hpp"
#include "deflate/template_plan_kernels.hpp"

namespace {

namespace deflate = mintlane::deflate;
using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(const char* hex) {
  Bytes out;
  for (const char* p = hex; p[0] != '\0' && p[1] != '\0'; p += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(p, 2), nullptr, 16)));
  return out;
}

// g007-rtc-account-002: app id 970CA35de60c44645bbae8a215061b33, channel
// 7d72365eb983485397e3e3f9d460bdda, account "2882341273", publisher (4 privileges), expire 3600.
const Bytes& workload() {
  static const Bytes p = from_hex(
      "20006f0b8182441f71845eb9299556e8c14dfd295f458e118d44d4e2fad2548e44e12000393730434133356465363063343436343562"
      "626165386132313530363162333347f41000100e0000010000000100010004000100100e00000200100e00000300100e00000400100e"
      "0000200037643732333635656239383334383533393765336533663964343630626464610a0032383832333431323733");
  return p;
}

// n == 156: the workload; otherwise the workload repeated with a changing salt byte (so repeats
// are not whole-payload copies at one distance only) and cut to n bytes.
Bytes input(std::size_t n) {
  if (n == workload().size()) return workload();
  Bytes out;
  for (std::uint8_t k = 0; out.size() < n; ++k) {
    Bytes p = workload();
    for (std::size_t i = 2; i < 34; ++i) p[i] = static_cast<std::uint8_t>(p[i] * 31 + k);  // new signature
    p[76] = k;                                                                           // new salt
    out.insert(out.end(), p.begin(), p.end());
  }
  out.resize(n);
  return out;
}

void sizes(benchmark::internal::Benchmark* b) { b->Arg(156)->Arg(420)->Arg(4096)->Arg(64 << 10); }

using CompressFn = mintlane::Result (*)(const std::uint8_t*, std::size_t, std::uint8_t*, std::size_t) noexcept;

void compress_with(benchmark::State& state, CompressFn fn, const char* kernel) {
  const char* saved = deflate::fixed::active().name;
  if (kernel != nullptr && !deflate::fixed::force(kernel)) {
    state.SkipWithError("kernel not supported");
    return;
  }
  const Bytes in = input(static_cast<std::size_t>(state.range(0)));
  Bytes out(deflate::compress_bound(in.size()));
  std::size_t produced = 0;
  for (auto _ : state) {
    const mintlane::Result r = fn(in.data(), in.size(), out.data(), out.size());
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();  // the stores to `out` count as observed
    produced = r.count;
  }
  if (kernel != nullptr) deflate::fixed::force(saved);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["bytes_out"] = static_cast<double>(produced);
}

// Baseline: zlib level 1 with a reused stream (deflateReset), PERF_NOTES' cheapest zlib setting.
void compress_zlib_level1(benchmark::State& state) {
  const Bytes in = input(static_cast<std::size_t>(state.range(0)));
  Bytes out(deflateBound(nullptr, static_cast<uLong>(in.size())) + 64);
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
  std::size_t produced = 0;
  for (auto _ : state) {
    deflateReset(&z);
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    benchmark::DoNotOptimize(::deflate(&z, Z_FINISH));  // zlib's, not the namespace alias
    benchmark::ClobberMemory();
    produced = z.total_out;
  }
  deflateEnd(&z);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["bytes_out"] = static_cast<double>(produced);
}

// ---- TemplatePlan rows (156-byte workload only: a plan belongs to one layout) --------------------

// The workload's layout as plan parts, as batch::TokenTemplate::plan_parts() cuts it: signature
// and salt holes, channel and account length-prefixed holes, the rest constant.
std::vector<deflate::PlanPart> workload_parts() {
  using deflate::PlanPart;
  const Bytes& w = workload();
  const auto bytes = [&](std::size_t a, std::size_t b) { return std::string(w.begin() + a, w.begin() + b); };
  const std::size_t account = w.size() - 12, channel = account - 34;  // "0a00" + 10 digits, "2000" + 32 chars
  return {PlanPart::constant(bytes(0, 2)),         PlanPart::fixed_hole(32), PlanPart::constant(bytes(34, 76)),
          PlanPart::fixed_hole(4),                 PlanPart::constant(bytes(80, channel)),
          PlanPart::prefixed_hole(32),             PlanPart::prefixed_hole(10)};
}

std::vector<std::optional<std::string_view>> workload_channel() {
  const Bytes& w = workload();
  std::vector<std::optional<std::string_view>> values(workload_parts().size());
  values[5] = std::string_view(reinterpret_cast<const char*>(w.data()) + w.size() - 12 - 32, 32);
  return values;
}

void compress_plan(benchmark::State& state, bool specialised, const char* kernel) {
  const char* saved = deflate::plan::active().name;
  if (kernel != nullptr && !deflate::plan::force(kernel)) {
    state.SkipWithError("kernel not supported");
    return;
  }
  const deflate::TemplatePlan base = deflate::TemplatePlan::make(workload_parts());
  std::optional<deflate::TemplatePlan> special;
  if (specialised) special = base.specialize(workload_channel());
  const deflate::TemplatePlan& plan = special ? *special : base;
  const Bytes& in = workload();
  Bytes out(deflate::compress_bound(in.size()));  // the batch engine's buffer: the unchecked path
  std::size_t produced = 0;
  for (auto _ : state) {
    const mintlane::Result r = plan.compress(in.data(), in.size(), out.data(), out.size());
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
    produced = r.count;
  }
  if (kernel != nullptr) deflate::plan::force(saved);
  if (produced == 0) state.SkipWithError("compress failed");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["bytes_out"] = static_cast<double>(produced);
}

void make_plan(benchmark::State& state) {
  const std::vector<deflate::PlanPart> parts = workload_parts();
  for (auto _ : state) benchmark::DoNotOptimize(deflate::TemplatePlan::make(parts));
}

void specialize_plan(benchmark::State& state) {
  const deflate::TemplatePlan base = deflate::TemplatePlan::make(workload_parts());
  const auto values = workload_channel();
  for (auto _ : state) benchmark::DoNotOptimize(base.specialize(values));
}

Bytes fast_stream(const Bytes& in) {
  Bytes z(deflate::compress_bound(in.size()));
  z.resize(deflate::compress_fast(in.data(), in.size(), z.data(), z.size()).count);
  return z;
}

void inflate_isal(benchmark::State& state) {
  const Bytes in = input(static_cast<std::size_t>(state.range(0)));
  const Bytes z = fast_stream(in);
  Bytes out(in.size());
  for (auto _ : state) {
    const mintlane::Result r = deflate::inflate_zlib(z.data(), z.size(), out.data(), out.size());
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
    if (!r.ok() || r.count != in.size()) {
      state.SkipWithError("inflate_zlib rejected compress_fast's output");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["bytes_in"] = static_cast<double>(z.size());
}

// Baseline: zlib inflate with a reused stream (inflateReset), header and Adler-32 checked.
void inflate_zlib_baseline(benchmark::State& state) {
  const Bytes in = input(static_cast<std::size_t>(state.range(0)));
  const Bytes z = fast_stream(in);
  Bytes out(in.size());
  z_stream s{};
  inflateInit(&s);
  for (auto _ : state) {
    inflateReset(&s);
    s.next_in = const_cast<Bytef*>(z.data());
    s.avail_in = static_cast<uInt>(z.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    const int ret = inflate(&s, Z_FINISH);
    benchmark::DoNotOptimize(ret);
    benchmark::ClobberMemory();
    if (ret != Z_STREAM_END) {
      state.SkipWithError("zlib rejected compress_fast's output");
      break;
    }
  }
  inflateEnd(&s);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["bytes_in"] = static_cast<double>(z.size());
}

void adler_with(benchmark::State& state, deflate::Adler32Fn fn) {
  const Bytes in = input(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(fn(1, in.data(), in.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

void adler_zlib(benchmark::State& state) {
  const Bytes in = input(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(::adler32(1, in.data(), static_cast<uInt>(in.size())));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

// Registered during static initialisation, before benchmark_main parses its flags; cpu::detect()
// and the kernel tables are constant-initialised, so they are usable this early.
[[maybe_unused]] const bool kRegistered = [] {
  sizes(benchmark::RegisterBenchmark("deflate/fast", compress_with, deflate::compress_fast, nullptr));
  for (const deflate::fixed::Kernel& k : deflate::fixed::kernels())
    if (mintlane::cpu::supports(k.required))
      sizes(benchmark::RegisterBenchmark((std::string("deflate/fast/") + k.name).c_str(), compress_with,
                                         deflate::compress_fast, k.name));
  benchmark::RegisterBenchmark("deflate/template_plan", compress_plan, true, nullptr)->Arg(156);
  for (const deflate::plan::Kernel& k : deflate::plan::kernels())
    if (mintlane::cpu::supports(k.required))
      benchmark::RegisterBenchmark((std::string("deflate/template_plan/") + k.name).c_str(), compress_plan, true, k.name)
          ->Arg(156);
  benchmark::RegisterBenchmark("deflate/template_plan/base", compress_plan, false, nullptr)->Arg(156);
  benchmark::RegisterBenchmark("deflate/template_plan/make", make_plan)->Arg(156);
  benchmark::RegisterBenchmark("deflate/template_plan/specialize", specialize_plan)->Arg(156);
  sizes(benchmark::RegisterBenchmark("deflate/isal", compress_with, deflate::compress_isal, nullptr));
  sizes(benchmark::RegisterBenchmark("deflate/exact", compress_with, deflate::compress_exact, nullptr));
  sizes(benchmark::RegisterBenchmark("deflate/zlib-level1", compress_zlib_level1));
  sizes(benchmark::RegisterBenchmark("inflate/isal", inflate_isal));
  sizes(benchmark::RegisterBenchmark("inflate/zlib", inflate_zlib_baseline));
  sizes(benchmark::RegisterBenchmark("adler32", adler_with, deflate::adler32));
  for (const deflate::Adler32Kernel& k : deflate::adler32_kernels())
    if (mintlane::cpu::supports(k.required))
      sizes(benchmark::RegisterBenchmark((std::string("adler32/") + k.name).c_str(), adler_with, k.fn));
  sizes(benchmark::RegisterBenchmark("adler32/zlib", adler_zlib));
  return true;
}();

}  // namespace
