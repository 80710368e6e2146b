// common.hpp - pybind11 helpers shared by the binding files: argument conversion and the
// exception mapping (engine errors -> mintlane's ValueError subclasses).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>

#include "mintlane/builders.hpp"
#include "mintlane/errors.hpp"

namespace mintlane::py_bindings {
namespace py = pybind11;

// Raises the mintlane exception class for `field` (InvalidChannelError for "channel", ...).
[[noreturn]] void raise_invalid(const std::string& field, const std::string& message);

// int -> int64 with a clear error for non-integers and huge values.
std::int64_t as_int64(const py::handle& value, const char* field);
// A uint32 override such as salt= or issue_ts= (None -> nullopt).
std::optional<std::uint32_t> as_opt_u32(const py::handle& value, const char* field);
// str (UTF-8) -> std::string; bytes are refused with TypeError naming the field.
std::string as_text(const py::handle& value, const char* field);
// A user given as str (account, verbatim) or int (uid: 0 -> "", else decimal; range-checked).
std::string as_user(const py::handle& value, const char* field);
// role: "publisher"/"subscriber" (any case) or 1/2.
RtcRole as_role(const py::handle& value, const char* field = "role");
// Expiry-like argument: None -> fallback.
std::int64_t as_expire(const py::handle& value, std::int64_t fallback, const char* field);

void register_errors(py::module_& m);
void register_tokens(py::module_& m);
void register_minter(py::module_& m);

}  // namespace mintlane::py_bindings
