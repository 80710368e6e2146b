// errors_bindings.cpp - mintlane's exception classes (all ValueError subclasses) and argument
// conversion. Messages come from the engine and never contain the certificate.
#include <pybind11/pybind11.h>

#include <cmath>
#include <string_view>

#include "bindings/common.hpp"

namespace mintlane::py_bindings {

namespace {
// Handles (deliberately never released): the classes live as long as the interpreter, and a
// static py::object would be destroyed after it.
py::handle g_base, g_invalid, g_credentials, g_channel, g_uid, g_account, g_expire, g_role, g_decode;

py::handle make_class(py::module_& m, const char* name, py::handle base, const char* doc) {
  py::object cls = py::reinterpret_steal<py::object>(
      PyErr_NewExceptionWithDoc((std::string("mintlane._core.") + name).c_str(), doc, base.ptr(), nullptr));
  if (!cls) throw py::error_already_set();
  m.attr(name) = cls;
  return cls.release();
}

py::handle class_for(std::string_view field) {
  auto has = [&](std::string_view s) { return field.find(s) != std::string_view::npos; };
  if (field == "app_id" || field == "app_certificate") return g_credentials;
  if (has("channel")) return g_channel;
  if (field == "uid" || field == "uids") return g_uid;
  if (has("expire") || field == "issue_ts") return g_expire;
  if (field == "role") return g_role;
  if (has("account") || has("user") || has("uuid")) return g_account;
  return g_invalid;
}
}  // namespace

[[noreturn]] void raise_invalid(const std::string& field, const std::string& message) {
  py::handle cls = class_for(field);
  py::object exc = cls(message);
  exc.attr("field") = field;
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw py::error_already_set();
}

std::int64_t as_int64(const py::handle& value, const char* field) {
  if (PyBool_Check(value.ptr()))
    raise_invalid(field, std::string(field) + ": expected an integer, got a bool");
  if (!PyLong_Check(value.ptr())) {
    if (PyFloat_Check(value.ptr())) {
      const double d = value.cast<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
      raise_invalid(field, std::string(field) + ": expected a whole number of seconds or an integer id, got " +
                               py::str(py::repr(value)).cast<std::string>().substr(0, 40));
    }
    throw py::type_error(std::string(field) + ": expected an int, got " +
                         std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0)
    raise_invalid(field, std::string(field) + ": " + py::str(value).cast<std::string>().substr(0, 40) +
                             " is out of range");
  return v;
}

std::optional<std::uint32_t> as_opt_u32(const py::handle& value, const char* field) {
  if (value.is_none()) return std::nullopt;
  const std::int64_t v = as_int64(value, field);
  if (v < 0 || v > 0xffffffffLL)
    raise_invalid(field, std::string(field) + ": " + std::to_string(v) + " is out of range (0..4294967295)");
  return static_cast<std::uint32_t>(v);
}

std::string as_text(const py::handle& value, const char* field) {
  if (!PyUnicode_Check(value.ptr()))
    throw py::type_error(std::string(field) + ": expected str, got " +
                         std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    raise_invalid(field, std::string(field) + ": not encodable as UTF-8 (lone surrogate?)");
  }
  return std::string(data, static_cast<std::size_t>(size));
}

std::string as_user(const py::handle& value, const char* field) {
  if (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr())) {
    const std::int64_t v = as_int64(value, field);
    if (v < 0 || v > 0xffffffffLL)
      raise_invalid(field, std::string(field) + ": " + std::to_string(v) + " is out of range (a uid is 0..4294967295; 0 means any user)");
    return v == 0 ? std::string() : std::to_string(v);
  }
  return as_text(value, field);
}

RtcRole as_role(const py::handle& value, const char* field) {
  try {
    if (PyUnicode_Check(value.ptr())) return parse_role(as_text(value, field), field);
    if (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr())) return check_role(as_int64(value, field), field);
  } catch (const InvalidArgument& e) {
    raise_invalid(e.field(), e.what());
  }
  throw py::type_error(std::string(field) + ": expected \"publisher\"/\"subscriber\" or 1/2, got " +
                       std::string(py::str(py::type::handle_of(value).attr("__name__"))));
}

std::int64_t as_expire(const py::handle& value, std::int64_t fallback, const char* field) {
  return value.is_none() ? fallback : as_int64(value, field);
}

void register_errors(py::module_& m) {
  g_base = make_class(m, "MintlaneError", PyExc_ValueError, "Base class of mintlane's errors (a ValueError).");
  g_invalid = make_class(m, "InvalidArgumentError", g_base, "An argument breaks a rule; .field names it.");
  g_credentials = make_class(m, "InvalidCredentialsError", g_invalid, "App id or certificate is not 32 hex characters.");
  g_channel = make_class(m, "InvalidChannelError", g_invalid, "Channel name too long, empty or outside Agora's character set.");
  g_uid = make_class(m, "InvalidUidError", g_invalid, "uid outside 0..4294967295.");
  g_account = make_class(m, "InvalidAccountError", g_invalid, "User account / user id empty, too long or outside the character set.");
  g_expire = make_class(m, "InvalidExpireError", g_invalid, "Expiry negative, zero, over 24 h or an absolute timestamp.");
  g_role = make_class(m, "InvalidRoleError", g_invalid, "Unknown role.");
  g_decode = make_class(m, "DecodeError", g_base, "The token could not be decoded.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      py::object exc = class_for(e.field())(e.what());
      exc.attr("field") = e.field();
      PyErr_SetObject(class_for(e.field()).ptr(), exc.ptr());
    } catch (const DecodeError& e) {
      py::object exc = g_decode(e.what());
      exc.attr("stage") = e.stage();
      exc.attr("offset") = e.offset();
      PyErr_SetObject(g_decode.ptr(), exc.ptr());
    }
  });
}

}  // namespace mintlane::py_bindings
