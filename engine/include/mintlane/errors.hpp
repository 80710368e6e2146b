// errors.hpp - error codes (values inside the engine) and exception types (at its boundary).
// Every message names the field or position, what is wrong and the rule; none ever
// contains an app certificate.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace mintlane {

// Result codes of noexcept kernels and decoders.
enum class Errc : int {
  kOk = 0,
  kBadBase64Char,      // a byte outside the standard base64 alphabet
  kBadBase64Length,    // length not a multiple of 4
  kBadBase64Padding,   // non-zero bits after the last symbol, or '=' mid-stream
  kBadZlibHeader,      // CM != 8, CINFO > 7, FDICT set or FCHECK wrong
  kBadDeflate,         // corrupt deflate data
  kTruncatedZlib,      // the stream ends before its final block / trailer
  kBadAdler32,         // the trailer does not match the data
  kOutputTooLarge,     // inflated size above the caller's limit
  kOutputTooSmall,     // the caller's buffer cannot hold the result
  kInternal,           // a library call failed unexpectedly
};

// Short fixed description of a code, e.g. "invalid base64 character".
const char* errc_message(Errc code) noexcept;

// Kernel result: `count` is bytes written on success, the input offset of the fault on failure.
struct Result {
  Errc code = Errc::kOk;
  std::size_t count = 0;
  constexpr bool ok() const noexcept { return code == Errc::kOk; }
};

// A caller passed a bad argument. what() is the full message "<field>: <problem> (<rule>)".
class InvalidArgument : public std::invalid_argument {
 public:
  InvalidArgument(std::string field, const std::string& message)
      : std::invalid_argument(message), field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// A token could not be decoded. what() says where and why; offset() is the position in the
// stage named by stage() ("prefix", "base64", "zlib", "payload").
class DecodeError : public std::runtime_error {
 public:
  DecodeError(std::string stage, std::size_t offset, const std::string& message)
      : std::runtime_error(message), stage_(std::move(stage)), offset_(offset) {}
  const std::string& stage() const noexcept { return stage_; }
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::string stage_;
  std::size_t offset_;
};

}  // namespace mintlane
