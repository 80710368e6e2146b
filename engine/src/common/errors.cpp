// errors.cpp - the one table that turns Errc codes into words (STYLE.md §5).
#include "mintlane/errors.hpp"

namespace mintlane {

const char* errc_message(Errc code) noexcept {
  switch (code) {
    case Errc::kOk: return "ok";
    case Errc::kBadBase64Char: return "invalid base64 character";
    case Errc::kBadBase64Length: return "base64 length is not a multiple of 4";
    case Errc::kBadBase64Padding: return "misplaced base64 padding or non-zero padding bits";
    case Errc::kBadZlibHeader: return "not a zlib stream (bad RFC 1950 header; raw deflate and gzip are not accepted)";
    case Errc::kBadDeflate: return "corrupt deflate data";
    case Errc::kTruncatedZlib: return "zlib stream is truncated";
    case Errc::kBadAdler32: return "zlib Adler-32 checksum mismatch";
    case Errc::kOutputTooLarge: return "decompressed data exceeds the size limit";
    case Errc::kOutputTooSmall: return "output buffer too small";
    case Errc::kInternal: return "internal library error";
  }
  return "unknown error";
}

}  // namespace mintlane
