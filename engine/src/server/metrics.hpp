// metrics.hpp - request counters and the latency histogram, one slot per server thread, rendered
// in the Prometheus text exposition format 0.0.4. Each thread writes only its own slot (relaxed
// atomic load + store, no read-modify-write, no lock); a scrape sums the slots.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/route_id.hpp"

namespace mintlane::server {

inline constexpr std::array<int, 13> kTrackedStatuses = {200, 204, 301, 307, 400, 401, 403,
                                                          404, 408, 413, 431, 500, 503};
inline constexpr std::size_t kStatusSlots = kTrackedStatuses.size() + 1;  // + "other"
// Histogram upper bounds in nanoseconds (the +Inf bucket is implicit).
inline constexpr std::array<std::uint64_t, 13> kLatencyBoundsNs = {
    50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000,
    10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000};

enum TokenKind : std::size_t { kTokenRtc = 0, kTokenRtm = 1, kTokenChat = 2, kTokenKinds = 3 };

class alignas(64) MetricsSlot {
 public:
  // `shared` = several threads may write this slot (then updates use fetch_add).
  explicit MetricsSlot(bool shared = false) noexcept : shared_(shared) {}

  void record(RouteId route, int status, std::uint64_t latency_ns, unsigned rtc, unsigned rtm,
              unsigned chat) noexcept;

  std::uint64_t requests(std::size_t route, std::size_t status_slot) const noexcept {
    return requests_[route][status_slot].load(std::memory_order_relaxed);
  }
  std::uint64_t tokens(std::size_t kind) const noexcept {
    return tokens_[kind].load(std::memory_order_relaxed);
  }
  std::uint64_t bucket(std::size_t i) const noexcept {
    return buckets_[i].load(std::memory_order_relaxed);
  }
  std::uint64_t latency_sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }

 private:
  void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    // Relaxed suffices: the counters are independent monotonic statistics; a scrape may see any
    // recent value of each. With one writer, load+store avoids a locked instruction.
    if (shared_) {
      c.fetch_add(n, std::memory_order_relaxed);
    } else {
      c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
  }

  bool shared_;
  std::atomic<std::uint64_t> requests_[kRouteCount][kStatusSlots]{};
  std::atomic<std::uint64_t> tokens_[kTokenKinds]{};
  std::atomic<std::uint64_t> buckets_[kLatencyBoundsNs.size() + 1]{};  // non-cumulative
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Connection statistics of a network server (written with relaxed fetch_add; per connection, not
// per request).
struct ConnectionStats {
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};   // over max_connections
  std::atomic<std::uint64_t> timed_out{0};  // closed by a read/idle/write timeout
};

class Metrics {
 public:
  // `thread_slots` single-writer slots plus one shared slot.
  explicit Metrics(std::size_t thread_slots);
  MetricsSlot& slot(std::size_t i) noexcept { return *slots_[i]; }
  MetricsSlot& shared() noexcept { return *slots_.back(); }

  // Prometheus text of the summed slots (plus connection stats when given).
  std::string render(const ConnectionStats* connections = nullptr) const;

 private:
  std::vector<std::unique_ptr<MetricsSlot>> slots_;
};

}  // namespace mintlane::server
