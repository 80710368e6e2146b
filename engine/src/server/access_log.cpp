// access_log.cpp - JSON-lines access log writer (see access_log.hpp).
#include "server/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "mintlane/server.hpp"

namespace mintlane::server {

AccessLog::AccessLog(const std::string& path) {
  if (path.empty() || path == "-") return;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    throw ConfigError("access log: cannot open " + path + ": " + std::strerror(errno));
  }
  owned_ = true;
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::write(const AccessRecord& rec, std::string& scratch) const noexcept {
  try {
    const std::time_t secs = static_cast<std::time_t>(rec.unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[96];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(rec.unix_ms % 1000));
    char tail[160];
    std::snprintf(tail, sizeof tail,
                  "\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"bytes\":%llu,"
                  "\"duration_us\":%llu}\n",
                  method_name(rec.method), route_label(rec.route), rec.status,
                  static_cast<unsigned long long>(rec.bytes),
                  static_cast<unsigned long long>(rec.duration_us));
    scratch.assign("{\"ts\":\"");
    scratch.append(ts);
    scratch.append("\",\"remote\":\"");
    scratch.append(rec.remote);  // formatted from the socket address: digits, '.', ':', '[', ']'
    scratch.append(tail);
    const char* p = scratch.data();
    std::size_t left = scratch.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  } catch (...) {
    // logging must never take the server down
  }
}

}  // namespace mintlane::server
