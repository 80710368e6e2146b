// inputs.cpp - what a pool is made of: format and token-kind names, the channels x users
// generator, validated request rows from files, and the partition function shared by local runs,
// Dask workers and mintlane.distributed.
#include <charconv>
#include <string>

#include "mintlane/bulk.hpp"
#include "mintlane/errors.hpp"

namespace mintlane::bulk {

namespace {

unsigned digits(std::uint64_t v) noexcept {
  unsigned n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

[[noreturn]] void bad(const char* field, const std::string& what) {
  throw InvalidArgument(field, std::string(field) + ": " + what);
}

}  // namespace

Format parse_format(std::string_view name) {
  if (name == "csv") return Format::kCsv;
  if (name == "jsonl" || name == "ndjson") return Format::kJsonl;
  if (name == "k6" || name == "json") return Format::kK6;
  if (name == "vegeta") return Format::kVegeta;
  if (name == "locust") return Format::kLocust;
  bad("format", "unknown format '" + std::string(name.substr(0, 32)) + "' (use csv, jsonl, k6, vegeta or locust)");
}

const char* format_name(Format f) noexcept {
  switch (f) {
    case Format::kCsv: return "csv";
    case Format::kJsonl: return "jsonl";
    case Format::kK6: return "k6";
    case Format::kVegeta: return "vegeta";
    case Format::kLocust: return "locust";
  }
  return "?";
}

TokenKind parse_token_kind(std::string_view name) {
  if (name == "rtc") return TokenKind::kRtc;
  if (name == "rtc-rtm" || name == "rtc_rtm") return TokenKind::kRtcRtm;
  bad("token_type", "unknown token type '" + std::string(name.substr(0, 32)) + "' (use rtc or rtc-rtm)");
}

const char* token_kind_name(TokenKind k) noexcept { return k == TokenKind::kRtc ? "rtc" : "rtc-rtm"; }

const char* role_name(RtcRole r) noexcept { return r == RtcRole::kPublisher ? "publisher" : "subscriber"; }

// ---- Generator ------------------------------------------------------------------------------------
void Generator::validate() const {
  if (channels == 0) bad("channels", "must be at least 1");
  if (users_per_channel == 0) bad("users_per_channel", "must be at least 1");
  if (channels > (std::uint64_t{1} << 62) / users_per_channel)
    bad("channels", "channels x users_per_channel is too large");
  if (publishers_per_channel > users_per_channel)
    bad("publishers", std::to_string(publishers_per_channel) + " publishers per channel but only " +
                          std::to_string(users_per_channel) + " users per channel");
  check_expire(expire);
  if (channel_start > (std::uint64_t{1} << 62)) bad("channel_start", "is too large");
  const std::uint64_t last_channel = channel_start + channels - 1;
  if (channel_digits != 0 && digits(last_channel) > channel_digits)
    bad("channel_digits", "channel number " + std::to_string(last_channel) + " has more than " +
                              std::to_string(channel_digits) + " digits");
  check_channel(channel_name(0), "channel_prefix");
  check_channel(channel_name(channels - 1), "channel_prefix");
  const std::uint64_t last_user = uid_start + (uids_restart_per_channel ? users_per_channel : size()) - 1;
  if (kind == TokenKind::kRtcRtm && !accounts)
    bad("accounts", "token type rtc-rtm needs string accounts (the RTM user id), not numeric uids");
  if (accounts) {
    check_account(account_prefix + std::to_string(uid_start), "account_prefix");
    check_account(account_prefix + std::to_string(last_user), "account_prefix");
  } else if (uid_start > 0xffffffffULL || last_user > 0xffffffffULL) {
    bad("uid_start", "the pool's uids would run from " + std::to_string(uid_start) + " to " +
                         std::to_string(last_user) + " (a uid is 0..4294967295)");
  }
}

std::string Generator::channel_name(std::uint64_t channel_index) const {
  const std::uint64_t number = channel_start + channel_index;
  const unsigned width = channel_digits != 0 ? channel_digits : digits(channel_start + channels - 1);
  std::string out = channel_prefix;
  const unsigned d = digits(number);
  if (d < width) out.append(width - d, '0');
  out += std::to_string(number);
  return out;
}

std::uint64_t Generator::user_number(std::uint64_t row) const noexcept {
  return uid_start + (uids_restart_per_channel ? row % users_per_channel : row);
}

RtcRole Generator::role(std::uint64_t row) const noexcept {
  return row % users_per_channel < publishers_per_channel ? RtcRole::kPublisher : RtcRole::kSubscriber;
}

// ---- Requests ------------------------------------------------------------------------------------
std::string Requests::add(std::string_view channel, std::string_view user, bool is_account, std::string_view role,
                          std::int64_t expire, std::uint64_t id) {
  std::uint32_t uid = 0;
  RtcRole r;
  std::uint32_t e;
  try {
    check_channel(channel);
    if (is_account) {
      check_account(user);
    } else {
      if (kind_ == TokenKind::kRtcRtm)
        bad("uid", "token type rtc-rtm needs an account (the RTM user id), not a numeric uid");
      std::uint64_t v = 0;
      const auto [ptr, ec] = std::from_chars(user.data(), user.data() + user.size(), v);
      if (user.empty() || ec == std::errc::invalid_argument || ptr != user.data() + user.size())
        bad("uid", "'" + std::string(user.substr(0, 40)) + "' is not a whole number (a uid is 0..4294967295)");
      if (ec == std::errc::result_out_of_range || v > 0xffffffffULL)
        bad("uid", std::string(user.substr(0, 40)) + " is out of range (a uid is 0..4294967295)");
      uid = static_cast<std::uint32_t>(v);
    }
    r = parse_role(role);
    e = check_expire(expire);
  } catch (const InvalidArgument& err) {
    return err.what();
  }
  channels_.emplace_back(channel);
  users_.emplace_back(is_account ? std::string(user) : std::to_string(uid));
  is_account_.push_back(is_account ? 1 : 0);
  uids_.push_back(uid);
  roles_.push_back(static_cast<std::uint8_t>(r));
  expires_.push_back(e);
  ids_.push_back(id);
  return {};
}

void Requests::clear() noexcept {
  channels_.clear();
  users_.clear();
  is_account_.clear();
  uids_.clear();
  roles_.clear();
  expires_.clear();
  ids_.clear();
}

// ---- partitions ----------------------------------------------------------------------------------
std::pair<std::uint64_t, std::uint64_t> partition_range(std::uint64_t total, std::uint64_t parts, std::uint64_t p) {
  if (parts == 0) bad("partitions", "must be at least 1");
  if (p >= parts) bad("partition", std::to_string(p) + " is not below the partition count " + std::to_string(parts));
  if (parts > 0xffffffffULL) bad("partitions", "must be at most 4294967295");
  // total * k / parts without overflow: (q * parts + r) * k / parts = q * k + r * k / parts, with
  // r * k < parts^2 < 2^64.
  const std::uint64_t q = total / parts, r = total % parts;
  const auto at = [&](std::uint64_t k) { return q * k + r * k / parts; };
  return {at(p), at(p + 1)};
}

}  // namespace mintlane::bulk
