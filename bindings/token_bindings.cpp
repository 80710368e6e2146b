// token_bindings.cpp - Service, decode(), verify(), the low-level encoders (used by the compat
// modules) and the kernel test hooks.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "base64/base64.hpp"
#include "bindings/common.hpp"
#include "crypto/hmac.hpp"
#include "crypto/sha256.hpp"
#include "mintlane/minter.hpp"
#include "mintlane/token.hpp"

namespace mintlane::py_bindings {

namespace {

py::bytes as_bytes(const std::string& s) { return py::bytes(s.data(), s.size()); }

std::string field_or(const Service& s, std::string_view name) {
  const auto names = service_field_names(s.type);
  for (std::size_t i = 0; i < names.size() && i < s.fields.size(); ++i)
    if (names[i] == name) return s.fields[i];
  return {};
}

py::object field_attr(const Service& s, std::string_view name) {
  const auto names = service_field_names(s.type);
  for (std::size_t i = 0; i < names.size() && i < s.fields.size(); ++i)
    if (names[i] == name) return py::str(s.fields[i]);
  return py::none();
}

py::dict service_dict(const Service& s) {
  py::dict d;
  d["type"] = s.type;
  d["name"] = service_name(s.type);
  py::list privs;
  for (const auto& [id, v] : s.privileges) privs.append(py::make_tuple(id, v));
  d["privileges"] = privs;
  const auto names = service_field_names(s.type);
  for (std::size_t i = 0; i < names.size() && i < s.fields.size(); ++i) d[py::str(std::string(names[i]))] = s.fields[i];
  if (s.type == kServiceApaas) d["role"] = s.role;
  if (s.type == kServiceRtm2) {
    py::list perms;
    for (const Rtm2Grant& g : s.permissions) perms.append(py::make_tuple(g.resource_type, g.permission_type, g.resources));
    d["permissions"] = perms;
  }
  return d;
}

std::vector<Rtm2Grant> as_permissions(const py::handle& value) {
  std::vector<Rtm2Grant> out;
  if (value.is_none()) return out;
  for (const py::handle item : py::iter(value)) {
    py::tuple t = py::tuple(py::reinterpret_borrow<py::object>(item));
    if (t.size() != 3)
      raise_invalid("permissions", "permissions: each entry is (resource_type, permission_type, [resources])");
    Rtm2Grant g;
    const std::int64_t rt = as_int64(t[0], "permissions"), pt = as_int64(t[1], "permissions");
    if (rt < 0 || rt > 0xffff || pt < 0 || pt > 0xffff)
      raise_invalid("permissions", "permissions: resource and permission types are 0..65535");
    g.resource_type = static_cast<std::uint16_t>(rt);
    g.permission_type = static_cast<std::uint16_t>(pt);
    if (PyUnicode_Check(t[2].ptr()))
      throw py::type_error("permissions: resources must be a list of str, not a single str");
    for (const py::handle r : py::iter(t[2])) g.resources.push_back(as_text(r, "permissions"));
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<std::pair<std::uint16_t, std::uint32_t>> as_privileges(const py::handle& value, const char* field) {
  std::vector<std::pair<std::uint16_t, std::uint32_t>> out;
  if (value.is_none()) return out;
  py::object items = py::hasattr(value, "items") ? value.attr("items")() : py::reinterpret_borrow<py::object>(value);
  for (const py::handle item : py::iter(items)) {
    py::tuple t = py::tuple(py::reinterpret_borrow<py::object>(item));
    if (t.size() != 2) raise_invalid(field, std::string(field) + ": entries are (privilege_id, value) pairs");
    const std::int64_t id = as_int64(t[0], field), v = as_int64(t[1], field);
    if (id < 0 || id > 0xffff) raise_invalid(field, std::string(field) + ": privilege ids are 0..65535");
    if (v < 0 || v > 0xffffffffLL) raise_invalid(field, std::string(field) + ": privilege values are 0..4294967295");
    out.emplace_back(static_cast<std::uint16_t>(id), static_cast<std::uint32_t>(v));
  }
  return out;
}

Service make_service(std::int64_t type, const py::handle& privileges, const py::args& fields, std::int64_t role,
                     const py::handle& permissions) {
  if (!is_known_service_type(static_cast<std::uint16_t>(type)) || type < 0 || type > 0xffff)
    raise_invalid("service_type", "service_type: " + std::to_string(type) + " is unknown (1..10)");
  Service s;
  s.type = static_cast<std::uint16_t>(type);
  const std::size_t want = service_field_count(s.type);
  if (fields.size() != want)
    raise_invalid("services", std::string("services: a ") + service_name(s.type) + " service takes " +
                                  std::to_string(want) + " string fields, got " + std::to_string(fields.size()));
  const auto names = service_field_names(s.type);
  for (std::size_t i = 0; i < want; ++i) {
    const std::string fname(names[i]);
    s.fields.push_back(as_text(fields[i], fname.c_str()));
  }
  for (const auto& [id, v] : as_privileges(privileges, "privileges")) s.set_privilege(id, v);
  if (role < -32768 || role > 32767) raise_invalid("role", "role: an APaaS role is a signed 16-bit integer");
  s.role = static_cast<std::int16_t>(role);
  for (Rtm2Grant& g : as_permissions(permissions)) s.set_permission(g.resource_type, g.permission_type, std::move(g.resources));
  return s;
}

py::object verify_py(const std::string& token, const py::handle& cert, const py::handle& now, const py::handle& channel,
                     const py::handle& uid, const py::handle& account, const py::handle& privilege) {
  const std::string certificate = as_text(cert, "app_certificate");
  VerifyOptions o;
  if (!now.is_none()) {
    const std::int64_t v = as_int64(now, "now");
    if (v < 0) raise_invalid("now", "now: must be a Unix time in seconds (>= 0)");
    o.now = static_cast<std::uint64_t>(v);
  }
  if (!channel.is_none()) o.channel = as_text(channel, "channel");
  if (!uid.is_none()) {
    const std::int64_t v = as_int64(uid, "uid");
    o.uid = check_uid(v);
  }
  if (!account.is_none()) o.account = as_text(account, "account");
  if (!privilege.is_none()) o.privilege = as_text(privilege, "privilege");
  VerifyResult r;
  {
    py::gil_scoped_release nogil;
    r = verify_token(token, certificate, o);
  }
  return py::make_tuple(r.ok(), verify_status_name(r.status), r.reason);
}

}  // namespace

void register_tokens(py::module_& m) {
  py::class_<Service>(m, "Service", "One service record of a 007 token (TOKEN_FORMAT.md §2.3).")
      .def(py::init([](std::int64_t type, py::args fields, py::object privileges, std::int64_t role,
                       py::object permissions) { return make_service(type, privileges, fields, role, permissions); }),
           py::arg("service_type"), py::kw_only(), py::arg("privileges") = py::none(), py::arg("role") = -1,
           py::arg("permissions") = py::none())
      .def_property_readonly("type", [](const Service& s) { return s.type; })
      .def_property_readonly("name", [](const Service& s) { return service_name(s.type); })
      .def_property_readonly("privileges", [](const Service& s) {
        py::dict d;
        for (const auto& [id, v] : s.privileges) d[py::int_(id)] = v;
        return d;
      })
      .def_property_readonly("channel_name", [](const Service& s) { return field_attr(s, "channel_name"); })
      .def_property_readonly("uid", [](const Service& s) { return field_attr(s, "uid"); })
      .def_property_readonly("account", [](const Service& s) { return field_attr(s, "account"); })
      .def_property_readonly("user_id", [](const Service& s) { return field_attr(s, "user_id"); })
      .def_property_readonly("room_uuid", [](const Service& s) { return field_attr(s, "room_uuid"); })
      .def_property_readonly("user_uuid", [](const Service& s) { return field_attr(s, "user_uuid"); })
      .def_property_readonly("role", [](const Service& s) -> py::object {
        return s.type == kServiceApaas ? py::int_(s.role) : py::object(py::none());
      })
      .def_property_readonly("permissions", [](const Service& s) {
        py::list perms;
        for (const Rtm2Grant& g : s.permissions) perms.append(py::make_tuple(g.resource_type, g.permission_type, g.resources));
        return perms;
      })
      .def("to_dict", &service_dict)
      .def("__eq__", [](const Service& a, const Service& b) { return a == b; })
      .def("__repr__", [](const Service& s) {
        std::string r = std::string("Service(") + service_name(s.type);
        for (const auto& name : service_field_names(s.type)) r += ", " + std::string(name) + "=" + py::repr(py::str(field_or(s, name))).cast<std::string>();
        r += ", privileges={";
        for (std::size_t i = 0; i < s.privileges.size(); ++i)
          r += (i ? ", " : "") + std::to_string(s.privileges[i].first) + ": " + std::to_string(s.privileges[i].second);
        return r + "})";
      });

  m.def("_decode_007", [](const std::string& token) {
        Decoded007 d;
        {
          py::gil_scoped_release nogil;
          d = decode_007(token);
        }
        py::dict out;
        out["version"] = "007";
        out["app_id"] = d.token.app_id;
        out["issue_ts"] = d.token.issue_ts;
        out["expire"] = d.token.expire;
        out["salt"] = d.token.salt;
        out["signature"] = as_bytes(d.signature);
        out["signing_info"] = as_bytes(d.signing_info);
        out["services"] = d.token.services;
        out["services_declared"] = d.services_declared;
        out["unknown_service_type"] = d.stopped_at_unknown ? py::object(py::int_(d.unknown_type)) : py::object(py::none());
        out["trailing_bytes"] = d.trailing_bytes;
        return out;
      }, py::arg("token"));
  m.def("_decode_006", [](const std::string& token) {
        const Decoded006 d = decode_006(token);
        py::dict out;
        out["version"] = "006";
        out["app_id"] = d.app_id;
        out["signature"] = as_bytes(d.signature);
        out["crc_channel"] = d.crc_channel;
        out["crc_uid"] = d.crc_uid;
        out["salt"] = d.salt;
        out["ts"] = d.ts;
        py::dict privs;
        for (const auto& [id, v] : d.privileges) privs[py::int_(id)] = v;
        out["privileges"] = privs;
        out["message"] = as_bytes(d.message);
        return out;
      }, py::arg("token"));
  m.def("_verify", &verify_py, py::arg("token"), py::arg("app_certificate"), py::kw_only(),
        py::arg("now") = py::none(), py::arg("channel") = py::none(), py::arg("uid") = py::none(),
        py::arg("account") = py::none(), py::arg("privilege") = py::none());

  m.def("encode_007", [](const py::handle& app_id, const py::handle& cert, const std::vector<Service>& services,
                         const py::handle& issue_ts, const py::handle& expire, const py::handle& salt,
                         const std::string& compression) {
        AccessToken2 t;
        t.app_id = as_text(app_id, "app_id");
        const std::string certificate = as_text(cert, "app_certificate");
        t.issue_ts = as_opt_u32(issue_ts, "issue_ts").value_or(unix_now());
        t.expire = as_opt_u32(expire, "expire").value_or(0);
        if (auto s = as_opt_u32(salt, "salt")) t.salt = *s; else random_u32(&t.salt, 1);
        t.services = services;
        const Compression c = parse_compression(compression);
        return encode_007(t, certificate, c);
      }, py::arg("app_id"), py::arg("app_certificate"), py::arg("services"), py::kw_only(),
      py::arg("issue_ts") = py::none(), py::arg("expire") = py::none(), py::arg("salt") = py::none(),
      py::arg("compression") = "isal",
      "Low level: a 007 token from explicit services, with only the wire format's checks.");
  m.def("encode_006", [](const py::handle& app_id, const py::handle& cert, const py::handle& channel,
                         const py::handle& uid, const py::handle& privileges, const py::handle& ts,
                         const py::handle& salt) {
        AccessToken006 t;
        t.app_id = as_text(app_id, "app_id");
        const std::string certificate = as_text(cert, "app_certificate");
        t.channel = as_text(channel, "channel");
        t.uid = as_text(uid, "uid");
        t.privileges = as_privileges(privileges, "privileges");
        t.ts = as_opt_u32(ts, "ts").value_or(unix_now() + 86400);
        if (auto s = as_opt_u32(salt, "salt")) t.salt = *s; else random_u32(&t.salt, 1);
        return encode_006(t, certificate);
      }, py::arg("app_id"), py::arg("app_certificate"), py::arg("channel"), py::arg("uid"), py::arg("privileges"),
      py::kw_only(), py::arg("ts") = py::none(), py::arg("salt") = py::none(),
      "Low level: a 006 token (absolute timestamps), with only the wire format's checks.");
  m.def("_pack_signing_info", [](const std::string& app_id, std::uint32_t issue_ts, std::uint32_t expire,
                                 std::uint32_t salt, const std::vector<Service>& services) {
        AccessToken2 t{app_id, issue_ts, expire, salt, services};
        return as_bytes(pack_signing_info(t));
      });
  m.def("md5_hex", [](const std::string& s) { return md5_hex(s); });

  // Test and diagnostics hooks (STYLE.md §4, pybase64 _set_simd_path).
  m.def("_active_kernels", [] {
    py::dict d;
    for (const auto& [k, v] : active_kernels()) d[py::str(k)] = v;
    d["cpu_features"] = cpu::describe(cpu::detect());
    return d;
  });
  m.def("_supported_kernels", [](const std::string& kind) {
    py::list out;
    if (kind == "base64") {
      for (const auto& k : base64::kernels()) if (cpu::supports(k.required)) out.append(k.name);
    } else if (kind == "sign") {
      for (const auto& k : crypto::sign_kernels()) if (cpu::supports(k.required)) out.append(k.name);
    } else if (kind == "sha256") {
      for (const auto& k : crypto::sha256_kernels()) if (cpu::supports(k.required)) out.append(k.name);
    } else {
      throw py::value_error("kind: expected 'base64', 'sign' or 'sha256'");
    }
    return out;
  }, py::arg("kind"));
  m.def("_force_kernel", [](const std::string& kind, const std::string& name) {
    bool ok = false;
    std::string previous;
    if (kind == "base64") { previous = base64::active().name; ok = base64::force(name); }
    else if (kind == "sign") { previous = crypto::sign_active().name; ok = crypto::sign_force(name); }
    else if (kind == "sha256") { previous = crypto::sha256_active().name; ok = crypto::sha256_force(name); }
    else throw py::value_error("kind: expected 'base64', 'sign' or 'sha256'");
    if (!ok) throw py::value_error(kind + " kernel '" + name + "' is unknown or not supported by this CPU");
    return previous;
  }, py::arg("kind"), py::arg("name"));
}

}  // namespace mintlane::py_bindings
