// metrics.cpp - per-thread counters and Prometheus text rendering
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "server/metrics.hpp"

#include <cstdio>

namespace mintlane::server {
namespace {

std::size_t status_slot(int status) noexcept {
  for (std::size_t i = 0; i < kTrackedStatuses.size(); ++i) {
    if (kTrackedStatuses[i] == status) return i;
  }
  return kTrackedStatuses.size();
}

void line(std::string& out, const char* fmt, auto... args) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
}

}  // namespace

void MetricsSlot::record(RouteId route, int status, std::uint64_t latency_ns, unsigned rtc,
                         unsigned rtm, unsigned chat) noexcept {
  add(requests_[static_cast<std::size_t>(route)][status_slot(status)], 1);
  if (rtc) add(tokens_[kTokenRtc], rtc);
  if (rtm) add(tokens_[kTokenRtm], rtm);
  if (chat) add(tokens_[kTokenChat], chat);
  std::size_t b = 0;
  while (b < kLatencyBoundsNs.size() && latency_ns > kLatencyBoundsNs[b]) ++b;
  add(buckets_[b], 1);
  add(sum_ns_, latency_ns);
}

Metrics::Metrics(std::size_t thread_slots) {
  slots_.reserve(thread_slots + 1);
  for (std::size_t i = 0; i < thread_slots; ++i) slots_.push_back(std::make_unique<MetricsSlot>(false));
  slots_.push_back(std::make_unique<MetricsSlot>(true));
}

std::string Metrics::render(const ConnectionStats* connections) const {
  std::string out;
  out.reserve(4096);
  out.append(
      "# HELP mintlane_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE mintlane_http_requests_total counter\n");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t s = 0; s < kStatusSlots; ++s) {
      std::uint64_t n = 0;
      for (const auto& slot : slots_) n += slot->requests(r, s);
      if (n == 0) continue;
      const char* route = route_label(static_cast<RouteId>(r));
      if (s < kTrackedStatuses.size()) {
        line(out, "mintlane_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", route,
             kTrackedStatuses[s], static_cast<unsigned long long>(n));
      } else {
        line(out, "mintlane_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", route,
             static_cast<unsigned long long>(n));
      }
    }
  }
  out.append(
      "# HELP mintlane_tokens_minted_total Tokens minted, by kind.\n"
      "# TYPE mintlane_tokens_minted_total counter\n");
  static constexpr const char* kKinds[kTokenKinds] = {"rtc", "rtm", "chat"};
  for (std::size_t k = 0; k < kTokenKinds; ++k) {
    std::uint64_t n = 0;
    for (const auto& slot : slots_) n += slot->tokens(k);
    line(out, "mintlane_tokens_minted_total{kind=\"%s\"} %llu\n", kKinds[k],
         static_cast<unsigned long long>(n));
  }
  out.append(
      "# HELP mintlane_http_request_duration_seconds Time from a complete request to its "
      "response being written.\n"
      "# TYPE mintlane_http_request_duration_seconds histogram\n");
  std::uint64_t cumulative = 0;
  std::uint64_t sum_ns = 0;
  for (const auto& slot : slots_) sum_ns += slot->latency_sum_ns();
  for (std::size_t b = 0; b <= kLatencyBoundsNs.size(); ++b) {
    for (const auto& slot : slots_) cumulative += slot->bucket(b);
    if (b < kLatencyBoundsNs.size()) {
      line(out, "mintlane_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
           static_cast<double>(kLatencyBoundsNs[b]) / 1e9, static_cast<unsigned long long>(cumulative));
    } else {
      line(out, "mintlane_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
           static_cast<unsigned long long>(cumulative));
    }
  }
  line(out, "mintlane_http_request_duration_seconds_sum %.9f\n", static_cast<double>(sum_ns) / 1e9);
  line(out, "mintlane_http_request_duration_seconds_count %llu\n",
       static_cast<unsigned long long>(cumulative));
  if (connections != nullptr) {
    line(out,
         "# HELP mintlane_http_connections_active Open client connections.\n"
         "# TYPE mintlane_http_connections_active gauge\n"
         "mintlane_http_connections_active %llu\n",
         static_cast<unsigned long long>(connections->active.load(std::memory_order_relaxed)));
    line(out,
         "# HELP mintlane_http_connections_accepted_total Connections accepted.\n"
         "# TYPE mintlane_http_connections_accepted_total counter\n"
         "mintlane_http_connections_accepted_total %llu\n",
         static_cast<unsigned long long>(connections->accepted.load(std::memory_order_relaxed)));
    line(out,
         "# HELP mintlane_http_connections_rejected_total Connections refused over the limit.\n"
         "# TYPE mintlane_http_connections_rejected_total counter\n"
         "mintlane_http_connections_rejected_total %llu\n",
         static_cast<unsigned long long>(connections->rejected.load(std::memory_order_relaxed)));
    line(out,
         "# HELP mintlane_http_connections_timed_out_total Connections closed by a timeout.\n"
         "# TYPE mintlane_http_connections_timed_out_total counter\n"
         "mintlane_http_connections_timed_out_total %llu\n",
         static_cast<unsigned long long>(connections->timed_out.load(std::memory_order_relaxed)));
  }
  return out;
}

}  // namespace mintlane::server
