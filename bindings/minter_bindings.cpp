// minter_bindings.cpp - mintlane._core.Minter (one method per builder, single and batch) and
// TokenBatch (a view over the engine's arena; Python str objects only when asked for).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>

#include "bindings/arena_cache.hpp"
#include "bindings/common.hpp"
#include "mintlane/minter.hpp"
#include "token/spec_detail.hpp"

namespace mintlane::py_bindings {

namespace {

// ---- TokenBatch view ---------------------------------------------------------------
struct PyBatch {
  TokenBatch batch;
  std::size_t start = 0;
  std::ptrdiff_t step = 1;
  std::size_t count = 0;
  std::string joined;  // lazily built for the buffer protocol
  bool joined_ready = false;

  std::string_view at(std::size_t i) const noexcept {
    return batch[static_cast<std::size_t>(static_cast<std::ptrdiff_t>(start) + step * static_cast<std::ptrdiff_t>(i))];
  }
  std::size_t index(std::ptrdiff_t i) const {
    if (i < 0) i += static_cast<std::ptrdiff_t>(count);
    if (i < 0 || static_cast<std::size_t>(i) >= count) throw py::index_error("TokenBatch index out of range");
    return static_cast<std::size_t>(i);
  }
};

py::str to_str(std::string_view t) {
  // Tokens are ASCII: build the str directly (PyUnicode_New + memcpy, PERF_NOTES "Python boundary").
  PyObject* s = PyUnicode_New(static_cast<Py_ssize_t>(t.size()), 127);
  if (s == nullptr) throw py::error_already_set();
  std::memcpy(PyUnicode_DATA(s), t.data(), t.size());
  return py::reinterpret_steal<py::str>(s);
}

py::list tolist(const PyBatch& b) {
  if (b.count >= 4096) ensure_arena_cache();  // PERF_NOTES: fresh pymalloc arenas fault per page
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(b.count));
  if (list == nullptr) throw py::error_already_set();
  for (std::size_t i = 0; i < b.count; ++i) {
    const std::string_view t = b.at(i);
    PyObject* s = PyUnicode_New(static_cast<Py_ssize_t>(t.size()), 127);
    if (s == nullptr) {
      Py_DECREF(list);
      throw py::error_already_set();
    }
    std::memcpy(PyUnicode_DATA(s), t.data(), t.size());
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), s);
  }
  return py::reinterpret_steal<py::list>(list);
}

py::bytes tobytes(const PyBatch& b, const std::string& sep) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < b.count; ++i) total += b.at(i).size() + sep.size();
  PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(total));
  if (out == nullptr) throw py::error_already_set();
  char* p = PyBytes_AS_STRING(out);
  {
    py::gil_scoped_release nogil;
    for (std::size_t i = 0; i < b.count; ++i) {
      const std::string_view t = b.at(i);
      std::memcpy(p, t.data(), t.size());
      p += t.size();
      std::memcpy(p, sep.data(), sep.size());
      p += sep.size();
    }
  }
  return py::reinterpret_steal<py::bytes>(out);
}

// ---- batch columns -------------------------------------------------------------------
enum class TextRule { kChannel, kAccount, kUtf8 };

std::vector<std::string> text_column(const py::handle& seq, const char* field, TextRule rule, std::size_t max_bytes) {
  if (PyUnicode_Check(seq.ptr()))
    throw py::type_error(std::string(field) + ": expected a sequence of str, got a single str");
  std::vector<std::string> out;
  if (PySequence_Check(seq.ptr())) out.reserve(static_cast<std::size_t>(std::max<Py_ssize_t>(0, PySequence_Size(seq.ptr()))));
  std::size_t i = 0;
  for (const py::handle item : py::iter(seq)) {
    std::string v = as_text(item, field);
    try {
      switch (rule) {
        case TextRule::kChannel: check_channel(v, field); break;
        case TextRule::kAccount: check_account(v, field, max_bytes); break;
        case TextRule::kUtf8: check_text(v, field, 1, max_bytes); break;
      }
    } catch (const InvalidArgument& e) {
      raise_invalid(e.field(), std::string(e.what()) + " (item " + std::to_string(i) + ")");
    }
    out.push_back(std::move(v));
    ++i;
  }
  return out;
}

// uids: range (no copy), a buffer of integers, or any iterable of ints.
void uid_column(const py::handle& uids, BatchColumns& c, std::vector<std::uint32_t>& storage) {
  if (PyObject_TypeCheck(uids.ptr(), &PyRange_Type)) {
    const std::int64_t start = as_int64(uids.attr("start"), "uids"), step = as_int64(uids.attr("step"), "uids");
    const std::int64_t n = static_cast<std::int64_t>(py::len(uids));
    if (step == 1) {
      if (n > 0) {
        check_uid(start, "uids");
        check_uid(start + n - 1, "uids");
      }
      c.uid_start = static_cast<std::uint64_t>(n > 0 ? start : 0);
      c.count = static_cast<std::size_t>(n);
      return;
    }
  }
  if (PyObject_CheckBuffer(uids.ptr()) && !PyBytes_Check(uids.ptr()) && !PyByteArray_Check(uids.ptr())) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(uids).request();
    if (info.ndim != 1) throw py::type_error("uids: expected a 1-D buffer of integers, got " + std::to_string(info.ndim) + "-D");
    const char kind = info.format.empty() ? '?' : info.format.back();
    const bool is_signed = kind == 'b' || kind == 'h' || kind == 'i' || kind == 'l' || kind == 'q';
    const bool is_unsigned = kind == 'B' || kind == 'H' || kind == 'I' || kind == 'L' || kind == 'Q';
    if (!is_signed && !is_unsigned)
      throw py::type_error("uids: expected a buffer of integers, got format '" + info.format + "'");
    storage.resize(static_cast<std::size_t>(info.size));
    const auto* base = static_cast<const char*>(info.ptr);
    for (py::ssize_t i = 0; i < info.size; ++i) {
      const char* p = base + i * info.strides[0];
      std::int64_t v = 0;
      if (is_signed) {
        switch (info.itemsize) {
          case 1: v = *reinterpret_cast<const std::int8_t*>(p); break;
          case 2: { std::int16_t x; std::memcpy(&x, p, 2); v = x; break; }
          case 4: { std::int32_t x; std::memcpy(&x, p, 4); v = x; break; }
          default: { std::int64_t x; std::memcpy(&x, p, 8); v = x; break; }
        }
        if (v < 0 || v > 0xffffffffLL) check_uid(v, "uids");
      } else {
        std::uint64_t u = 0;
        std::memcpy(&u, p, static_cast<std::size_t>(info.itemsize));
        if (u > 0xffffffffULL) raise_invalid("uids", "uids: " + std::to_string(u) + " at index " + std::to_string(i) + " is out of range (0..4294967295)");
        v = static_cast<std::int64_t>(u);
      }
      storage[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(v);
    }
  } else {
    std::size_t i = 0;
    for (const py::handle item : py::iter(uids)) {
      const std::int64_t v = as_int64(item, "uids");
      if (v < 0 || v > 0xffffffffLL)
        raise_invalid("uids", "uids: " + std::to_string(v) + " at index " + std::to_string(i) + " is out of range (a uid is 0..4294967295)");
      storage.push_back(static_cast<std::uint32_t>(v));
      ++i;
    }
  }
  c.uids = storage;
  c.count = storage.size();
}

std::vector<std::uint32_t> u32_column(const py::handle& seq, const char* field) {
  std::vector<std::uint32_t> out;
  std::size_t i = 0;
  for (const py::handle item : py::iter(seq)) {
    const std::int64_t v = as_int64(item, field);
    if (v < 0 || v > 0xffffffffLL)
      raise_invalid(field, std::string(field) + ": " + std::to_string(v) + " at index " + std::to_string(i) + " is out of range (0..4294967295)");
    out.push_back(static_cast<std::uint32_t>(v));
    ++i;
  }
  return out;
}

enum class UserKind { kNone, kUidOrAccount, kAccount, kUtf8 };

// Runs a batch: `channel`/`channels` and `uids`/`accounts`/`count` per the layout's needs.
std::unique_ptr<PyBatch> run_batch(const Minter& m, const SpecFactory& factory, bool wants_channel, UserKind users,
                                   std::size_t user_max_bytes, const py::handle& channel, const py::handle& channels,
                                   const py::handle& uids, const py::handle& accounts, const py::handle& count,
                                   const py::handle& salts, const py::handle& issue_ts) {
  BatchColumns c;
  std::vector<std::uint32_t> uid_storage, salt_storage;
  bool sized = false;
  if (wants_channel) {
    if (!channel.is_none() && !channels.is_none()) raise_invalid("channel", "channel: give channel= or channels=, not both");
    if (channel.is_none() && channels.is_none()) raise_invalid("channel", "channel: required (channel= for one, channels= for one per token)");
    if (!channel.is_none()) {
      std::string ch = as_text(channel, "channel");
      check_channel(ch);
      c.channels.push_back(std::move(ch));
    } else {
      c.channels = text_column(channels, "channels", TextRule::kChannel, kMaxChannelBytes);
      c.count = c.channels.size();
      sized = true;
    }
  } else if (!channel.is_none() || !channels.is_none()) {
    raise_invalid("channel", "channel: this token type has no channel");
  }
  if (users == UserKind::kNone) {
    if (!uids.is_none() || !accounts.is_none()) raise_invalid("uids", "uids: this token type has no per-token user");
  } else {
    if (!uids.is_none() && !accounts.is_none()) raise_invalid("uids", "uids: give uids= or accounts=, not both");
    if (!uids.is_none()) {
      if (users != UserKind::kUidOrAccount) raise_invalid("uids", "uids: this token type takes string user ids, not numeric uids");
      const std::size_t before = c.count;
      uid_column(uids, c, uid_storage);
      if (sized && c.count != before)
        raise_invalid("uids", "uids: has " + std::to_string(c.count) + " entries but channels has " + std::to_string(before));
      sized = true;
    } else if (!accounts.is_none()) {
      c.accounts = text_column(accounts, users == UserKind::kUtf8 ? "user_uuids" : "accounts",
                               users == UserKind::kUtf8 ? TextRule::kUtf8 : TextRule::kAccount, user_max_bytes);
      if (sized && c.accounts.size() != c.count)
        raise_invalid("accounts", "accounts: has " + std::to_string(c.accounts.size()) + " entries but channels has " + std::to_string(c.count));
      c.count = c.accounts.size();
      sized = true;
    } else if (!sized) {
      raise_invalid("uids", "uids: required (uids= for numeric uids or accounts= for user accounts)");
    }
  }
  if (!count.is_none()) {
    const std::int64_t n = as_int64(count, "count");
    if (n < 0) raise_invalid("count", "count: must not be negative");
    if (sized && static_cast<std::size_t>(n) != c.count)
      raise_invalid("count", "count: " + std::to_string(n) + " does not match the " + std::to_string(c.count) + " inputs");
    c.count = static_cast<std::size_t>(n);
    sized = true;
  }
  if (!salts.is_none()) {
    salt_storage = u32_column(salts, "salts");
    c.salts = salt_storage;
    if (!sized) {
      c.count = salt_storage.size();
      sized = true;
    }
  }
  if (!sized) raise_invalid("count", "count: required when no per-token column is given");
  c.issue_ts = as_opt_u32(issue_ts, "issue_ts");
  auto out = std::make_unique<PyBatch>();
  {
    py::gil_scoped_release nogil;
    out->batch = m.mint_batch(factory, c);
  }
  out->count = out->batch.size();
  return out;
}

std::string user_from(const py::handle& uid, const py::handle& account, bool account_required_if_no_uid = false) {
  if (!account.is_none()) {
    if (!uid.is_none()) raise_invalid("uid", "uid: give uid= or account=, not both");
    std::string a = as_text(account, "account");
    check_account(a);
    return a;
  }
  if (uid.is_none()) {
    if (account_required_if_no_uid) raise_invalid("account", "account: required");
    return std::string();
  }
  if (PyUnicode_Check(uid.ptr()))
    throw py::type_error("uid: expected an int (use account= for string user accounts)");
  return uid_string(check_uid(as_int64(uid, "uid")));
}

#define MINT_ARGS py::kw_only(), py::arg("salt") = py::none(), py::arg("issue_ts") = py::none()
#define BATCH_ARGS                                                                                         \
  py::arg("count") = py::none(), py::arg("salts") = py::none(), py::arg("issue_ts") = py::none()

std::string mint(const Minter& m, const TokenSpec& spec, const py::handle& salt, const py::handle& issue_ts) {
  return m.mint(spec, as_opt_u32(salt, "salt"), as_opt_u32(issue_ts, "issue_ts"));
}

}  // namespace

void register_minter(py::module_& m) {
  py::class_<PyBatch>(m, "TokenBatch", py::buffer_protocol(),
                      "N tokens in one engine buffer. Indexing, iteration and tolist() create str objects; "
                      "len(), slicing, tobytes() and the buffer protocol do not.")
      .def("__len__", [](const PyBatch& b) { return b.count; })
      .def("__getitem__", [](const PyBatch& b, std::ptrdiff_t i) { return to_str(b.at(b.index(i))); })
      .def("__getitem__", [](const PyBatch& b, const py::slice& s) {
        py::ssize_t start = 0, stop = 0, step = 0, len = 0;
        if (!s.compute(static_cast<py::ssize_t>(b.count), &start, &stop, &step, &len)) throw py::error_already_set();
        auto out = std::make_unique<PyBatch>();
        out->batch = b.batch;
        out->start = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(b.start) + b.step * start);
        out->step = b.step * step;
        out->count = static_cast<std::size_t>(len);
        return out;
      })
      .def("__iter__", [](const PyBatch& b) {
        py::list l = tolist(b);  // one pass; the list is the iterator's storage
        return py::iter(l);
      })
      .def("tolist", &tolist, "All tokens as a list of str.")
      .def("tobytes", &tobytes, py::arg("sep") = std::string("\n"),
           "All tokens as ASCII bytes, each followed by sep (default newline).")
      .def_property_readonly("issue_ts", [](const PyBatch& b) { return b.batch.issue_ts(); })
      .def_property_readonly("nbytes", [](const PyBatch& b) {
        std::size_t total = 0;
        for (std::size_t i = 0; i < b.count; ++i) total += b.at(i).size();
        return total;
      }, "Total characters of all tokens.")
      .def_buffer([](PyBatch& b) {
        if (!b.joined_ready) {
          for (std::size_t i = 0; i < b.count; ++i) b.joined.append(b.at(i)).push_back('\n');
          b.joined_ready = true;
        }
        return py::buffer_info(b.joined.data(), 1, "B", 1, {static_cast<py::ssize_t>(b.joined.size())}, {1}, true);
      })
      .def("__repr__", [](const PyBatch& b) {
        return "<TokenBatch of " + std::to_string(b.count) + " tokens, issue_ts=" + std::to_string(b.batch.issue_ts()) + ">";
      });

  py::class_<Minter>(m, "Minter", "Mints Agora tokens for one app id + certificate.")
      .def(py::init([](const py::handle& app_id, const py::handle& cert, const std::string& compression,
                       const py::handle& threads) {
             const std::int64_t t = threads.is_none() ? 0 : as_int64(threads, "threads");
             if (t < 0) raise_invalid("threads", "threads: must be >= 0 (0 = all cores)");
             return std::make_unique<Minter>(as_text(app_id, "app_id"), as_text(cert, "app_certificate"),
                                             MinterOptions{parse_compression(compression), static_cast<unsigned>(t)});
           }),
           py::arg("app_id"), py::arg("app_certificate"), py::kw_only(), py::arg("compression") = "fast",
           py::arg("threads") = py::none())
      .def_property_readonly("app_id", [](const Minter& m) { return std::string(m.app_id()); })
      .def_property_readonly("compression", [](const Minter& m) { return compression_name(m.compression()); })
      .def_property_readonly("threads", &Minter::threads)
      .def("__repr__", [](const Minter& m) {
        return "Minter(app_id='" + std::string(m.app_id()) + "', compression='" + compression_name(m.compression()) +
               "', threads=" + std::to_string(m.threads()) + ")";
      })
      // --- RTC ---
      .def("rtc", [](const Minter& m, const py::handle& channel, const py::handle& uid, const py::handle& account,
                     const py::handle& role, const py::handle& expire, const py::handle& privilege_expire,
                     const py::handle& salt, const py::handle& issue_ts) {
             const std::string ch = as_text(channel, "channel");
             check_channel(ch);
             const std::string user = user_from(uid, account);
             const std::int64_t e = as_expire(expire, 3600, "expire");
             const std::int64_t pe = as_expire(privilege_expire, -1, "privilege_expire");
             TokenSpec spec = account.is_none() ? rtc_uid_spec(ch, uid.is_none() ? 0 : as_int64(uid, "uid"), as_role(role), e, pe)
                                                : rtc_account_spec(ch, user, as_role(role), e, pe);
             return mint(m, spec, salt, issue_ts);
           },
           py::arg("channel"), py::arg("uid") = py::none(), py::kw_only(), py::arg("account") = py::none(),
           py::arg("role") = "publisher", py::arg("expire") = 3600, py::arg("privilege_expire") = py::none(),
           py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "RTC token by uid (0 = any) or account; publisher: join + publish, subscriber: join only.")
      .def("rtc_with_privileges", [](const Minter& m, const py::handle& channel, const py::handle& uid,
                                     const py::handle& account, const py::handle& expire, const py::handle& join,
                                     const py::handle& audio, const py::handle& video, const py::handle& data,
                                     const py::handle& salt, const py::handle& issue_ts) {
             const std::int64_t e = as_expire(expire, 3600, "expire");
             const TokenSpec spec = rtc_privileges_spec(as_text(channel, "channel"), user_from(uid, account), e,
                                                        as_expire(join, e, "join_channel"), as_expire(audio, e, "publish_audio"),
                                                        as_expire(video, e, "publish_video"), as_expire(data, e, "publish_data"));
             return mint(m, spec, salt, issue_ts);
           },
           py::arg("channel"), py::arg("uid") = py::none(), py::kw_only(), py::arg("account") = py::none(),
           py::arg("expire") = 3600, py::arg("join_channel") = py::none(), py::arg("publish_audio") = py::none(),
           py::arg("publish_video") = py::none(), py::arg("publish_data") = py::none(), py::arg("salt") = py::none(),
           py::arg("issue_ts") = py::none(),
           "RTC token with one expiry per privilege (each defaults to expire; 0 = no separate limit).")
      .def("rtc_rtm", [](const Minter& m, const py::handle& channel, const py::handle& account, const py::handle& role,
                         const py::handle& expire, const py::handle& privilege_expire, const py::handle& salt,
                         const py::handle& issue_ts) {
             const TokenSpec spec = rtc_rtm_spec(as_text(channel, "channel"), as_text(account, "account"), as_role(role),
                                                 as_expire(expire, 3600, "expire"),
                                                 as_expire(privilege_expire, -1, "privilege_expire"));
             return mint(m, spec, salt, issue_ts);
           },
           py::arg("channel"), py::arg("account"), py::kw_only(), py::arg("role") = "publisher", py::arg("expire") = 3600,
           py::arg("privilege_expire") = py::none(), py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "RTC + RTM token for one account (RTM login = expire).")
      .def("rtc_rtm2", [](const Minter& m, const py::handle& channel, const py::handle& rtc_account,
                          const py::handle& rtm_user_id, const py::handle& role, const py::handle& rtc_expire,
                          const py::handle& join, const py::handle& audio, const py::handle& video,
                          const py::handle& data, const py::handle& rtm_expire, const py::handle& salt,
                          const py::handle& issue_ts) {
             const std::int64_t e = as_expire(rtc_expire, 3600, "rtc_expire");
             const TokenSpec spec = rtc_rtm2_spec(as_text(channel, "channel"), as_user(rtc_account, "rtc_account"), as_role(role), e,
                                                  as_expire(join, e, "join_channel"), as_expire(audio, e, "publish_audio"),
                                                  as_expire(video, e, "publish_video"), as_expire(data, e, "publish_data"),
                                                  as_text(rtm_user_id, "rtm_user_id"), as_expire(rtm_expire, e, "rtm_expire"));
             return mint(m, spec, salt, issue_ts);
           },
           py::arg("channel"), py::arg("rtc_account"), py::arg("rtm_user_id"), py::kw_only(), py::arg("role") = "publisher",
           py::arg("rtc_expire") = 3600, py::arg("join_channel") = py::none(), py::arg("publish_audio") = py::none(),
           py::arg("publish_video") = py::none(), py::arg("publish_data") = py::none(), py::arg("rtm_expire") = py::none(),
           py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "RTC (per-privilege expiries) + RTM token with its own expiry (build_token_with_rtm2).")
      // --- RTM / Chat ---
      .def("rtm", [](const Minter& m, const py::handle& user_id, const py::handle& expire, const py::handle& salt,
                     const py::handle& issue_ts) {
             return mint(m, rtm_spec(as_text(user_id, "user_id"), as_expire(expire, 3600, "expire")), salt, issue_ts);
           },
           py::arg("user_id"), py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(),
           py::arg("issue_ts") = py::none(), "RTM login token.")
      .def("rtm2", [](const Minter& m, const py::handle& user_id, const py::handle& permissions, const py::handle& expire,
                      const py::handle& salt, const py::handle& issue_ts) {
             std::vector<Rtm2Grant> grants;
             for (const py::handle item : py::iter(permissions)) {
               py::tuple t = py::tuple(py::reinterpret_borrow<py::object>(item));
               if (t.size() != 3) raise_invalid("permissions", "permissions: each entry is (resource_type, permission_type, [resources])");
               Rtm2Grant g;
               const std::int64_t rt = as_int64(t[0], "permissions"), pt = as_int64(t[1], "permissions");
               if (rt < 0 || rt > 0xffff || pt < 0 || pt > 0xffff) raise_invalid("permissions", "permissions: types are small integers (resource 0..4, permission 0..1)");
               g.resource_type = static_cast<std::uint16_t>(rt);
               g.permission_type = static_cast<std::uint16_t>(pt);
               if (PyUnicode_Check(t[2].ptr())) throw py::type_error("permissions: resources must be a list of str");
               for (const py::handle r : py::iter(t[2])) g.resources.push_back(as_text(r, "permissions"));
               grants.push_back(std::move(g));
             }
             return mint(m, rtm2_spec(as_text(user_id, "user_id"), grants, as_expire(expire, 3600, "expire")), salt, issue_ts);
           },
           py::arg("user_id"), py::arg("permissions"), py::kw_only(), py::arg("expire") = 3600,
           py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "RTM2 token with a permissions block: [(resource_type, permission_type, [resources]), ...].")
      .def("chat_user", [](const Minter& m, const py::handle& user_id, const py::handle& expire, const py::handle& salt,
                           const py::handle& issue_ts) {
             return mint(m, chat_user_spec(as_text(user_id, "user_id"), as_expire(expire, 3600, "expire")), salt, issue_ts);
           },
           py::arg("user_id"), py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(),
           py::arg("issue_ts") = py::none(), "Chat user token.")
      .def("chat_app", [](const Minter& m, const py::handle& expire, const py::handle& salt, const py::handle& issue_ts) {
             return mint(m, chat_app_spec(as_expire(expire, 3600, "expire")), salt, issue_ts);
           },
           py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "Chat app token.")
      // --- APaaS / Education, FPA ---
      .def("apaas_room_user", [](const Minter& m, const py::handle& room_uuid, const py::handle& user_uuid,
                                 const py::handle& role, const py::handle& expire, const py::handle& salt,
                                 const py::handle& issue_ts) {
             return mint(m, apaas_room_user_spec(as_text(room_uuid, "room_uuid"), as_text(user_uuid, "user_uuid"),
                                                 as_int64(role, "role"), as_expire(expire, 3600, "expire")),
                         salt, issue_ts);
           },
           py::arg("room_uuid"), py::arg("user_uuid"), py::arg("role"), py::kw_only(), py::arg("expire") = 3600,
           py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "Education/APaaS room-user token (APaaS + RTM + Chat(md5(user_uuid))).")
      .def("apaas_user", [](const Minter& m, const py::handle& user_uuid, const py::handle& expire, const py::handle& salt,
                            const py::handle& issue_ts) {
             return mint(m, apaas_user_spec(as_text(user_uuid, "user_uuid"), as_expire(expire, 3600, "expire")), salt, issue_ts);
           },
           py::arg("user_uuid"), py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(),
           py::arg("issue_ts") = py::none(), "Education/APaaS user token.")
      .def("apaas_app", [](const Minter& m, const py::handle& expire, const py::handle& salt, const py::handle& issue_ts) {
             return mint(m, apaas_app_spec(as_expire(expire, 3600, "expire")), salt, issue_ts);
           },
           py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(), py::arg("issue_ts") = py::none(),
           "Education/APaaS app token.")
      .def("fpa", [](const Minter& m, const py::handle& salt, const py::handle& issue_ts) {
             return mint(m, fpa_spec(), salt, issue_ts);
           },
           MINT_ARGS, "FPA token (expire fixed at 86400, login privilege 0, as the references).")
      // --- ConvoAI (9) / STT (10) ---
      .def("_agent", [](const Minter& m, int type, const py::handle& channel, const py::handle& rtc_account,
                        const py::handle& rtm_user_id, const py::handle& role, const py::handle& rtc_expire,
                        const py::handle& join, const py::handle& audio, const py::handle& video, const py::handle& data,
                        const py::handle& rtm_expire, const py::handle& salt, const py::handle& issue_ts) {
             const std::int64_t e = as_expire(rtc_expire, 3600, "rtc_expire");
             const TokenSpec spec = agent_spec(static_cast<std::uint16_t>(type), as_text(channel, "channel"),
                                               as_user(rtc_account, "rtc_account"), as_role(role), e,
                                               as_expire(join, e, "join_channel"), as_expire(audio, e, "publish_audio"),
                                               as_expire(video, e, "publish_video"), as_expire(data, e, "publish_data"),
                                               as_text(rtm_user_id, "rtm_user_id"), as_expire(rtm_expire, e, "rtm_expire"));
             return mint(m, spec, salt, issue_ts);
           },
           py::arg("service_type"), py::arg("channel"), py::arg("rtc_account"), py::arg("rtm_user_id"), py::kw_only(),
           py::arg("role") = "publisher", py::arg("rtc_expire") = 3600, py::arg("join_channel") = py::none(),
           py::arg("publish_audio") = py::none(), py::arg("publish_video") = py::none(),
           py::arg("publish_data") = py::none(), py::arg("rtm_expire") = py::none(), py::arg("salt") = py::none(),
           py::arg("issue_ts") = py::none())
      // --- general builder ---
      .def("token", [](const Minter& m, const std::vector<Service>& services, const py::handle& expire,
                       const py::handle& salt, const py::handle& issue_ts) {
             if (services.empty()) raise_invalid("services", "services: a token needs at least one service");
             TokenSpec spec{check_expire(as_expire(expire, 3600, "expire")), services};
             return mint(m, spec, salt, issue_ts);
           },
           py::arg("services"), py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(),
           py::arg("issue_ts") = py::none(),
           "General builder: a token holding the given Service records (expire 1..86400 s).")
      // --- legacy 006 ---
      .def("rtc_006", [](const Minter& m, const py::handle& channel, const py::handle& uid, const py::handle& account,
                         const py::handle& role, const py::handle& expire, const py::handle& salt, const py::handle& now) {
             const std::string ch = as_text(channel, "channel");
             check_channel(ch);
             const std::string user = user_from(uid, account);
             const RtcRole r = as_role(role);
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             const std::uint32_t t = as_opt_u32(now, "now").value_or(unix_now());
             std::vector<std::pair<std::uint16_t, std::uint32_t>> privs{{1, t + e}};
             if (r == RtcRole::kPublisher) privs.insert(privs.end(), {{2, t + e}, {3, t + e}, {4, t + e}});
             return m.mint_006(ch, user, privs, t + 86400, as_opt_u32(salt, "salt"));
           },
           py::arg("channel"), py::arg("uid") = py::none(), py::kw_only(), py::arg("account") = py::none(),
           py::arg("role") = "publisher", py::arg("expire") = 3600, py::arg("salt") = py::none(), py::arg("now") = py::none(),
           "Legacy 006 RTC token; expire is seconds from now (written as absolute timestamps).")
      .def("rtm_006", [](const Minter& m, const py::handle& account, const py::handle& expire, const py::handle& salt,
                         const py::handle& now) {
             const std::string a = as_text(account, "account");
             check_account(a, "account", kMaxUserIdBytes);
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             const std::uint32_t t = as_opt_u32(now, "now").value_or(unix_now());
             return m.mint_006(a, "", {{1000, t + e}}, t + 86400, as_opt_u32(salt, "salt"));
           },
           py::arg("account"), py::kw_only(), py::arg("expire") = 3600, py::arg("salt") = py::none(),
           py::arg("now") = py::none(), "Legacy 006 RTM token (account in the channel slot).")
      // --- batches ---
      .def("rtc_batch", [](const Minter& m, const py::handle& channel, const py::handle& channels, const py::handle& uids,
                           const py::handle& accounts, const py::handle& role, const py::handle& expire,
                           const py::handle& privilege_expire, const py::handle& count, const py::handle& salts,
                           const py::handle& issue_ts) {
             const RtcRole r = as_role(role);
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             const std::int64_t pe_in = as_expire(privilege_expire, -1, "privilege_expire");
             const std::uint32_t pe = pe_in < 0 ? e : check_privilege_expire(pe_in, "privilege_expire");
             SpecFactory f = [=](std::string_view ch, std::string_view user) { return detail::rtc(ch, user, r, e, pe); };
             return run_batch(m, f, true, UserKind::kUidOrAccount, kMaxAccountBytes, channel, channels, uids, accounts,
                              count, salts, issue_ts);
           },
           py::kw_only(), py::arg("channel") = py::none(), py::arg("channels") = py::none(), py::arg("uids") = py::none(),
           py::arg("accounts") = py::none(), py::arg("role") = "publisher", py::arg("expire") = 3600,
           py::arg("privilege_expire") = py::none(), BATCH_ARGS,
           "N RTC tokens: one channel (channel=) or one per token (channels=), uids= (range, buffer or sequence) "
           "or accounts=.")
      .def("rtc_with_privileges_batch", [](const Minter& m, const py::handle& channel, const py::handle& channels,
                                           const py::handle& uids, const py::handle& accounts, const py::handle& expire,
                                           const py::handle& join, const py::handle& audio, const py::handle& video,
                                           const py::handle& data, const py::handle& count, const py::handle& salts,
                                           const py::handle& issue_ts) {
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             const std::uint32_t j = check_privilege_expire(as_expire(join, e, "join_channel"), "join_channel"),
                                 a = check_privilege_expire(as_expire(audio, e, "publish_audio"), "publish_audio"),
                                 v = check_privilege_expire(as_expire(video, e, "publish_video"), "publish_video"),
                                 d = check_privilege_expire(as_expire(data, e, "publish_data"), "publish_data");
             SpecFactory f = [=](std::string_view ch, std::string_view user) {
               return detail::rtc_privileges(ch, user, e, j, a, v, d);
             };
             return run_batch(m, f, true, UserKind::kUidOrAccount, kMaxAccountBytes, channel, channels, uids, accounts,
                              count, salts, issue_ts);
           },
           py::kw_only(), py::arg("channel") = py::none(), py::arg("channels") = py::none(), py::arg("uids") = py::none(),
           py::arg("accounts") = py::none(), py::arg("expire") = 3600, py::arg("join_channel") = py::none(),
           py::arg("publish_audio") = py::none(), py::arg("publish_video") = py::none(),
           py::arg("publish_data") = py::none(), BATCH_ARGS)
      .def("rtc_rtm_batch", [](const Minter& m, const py::handle& channel, const py::handle& channels,
                               const py::handle& accounts, const py::handle& role, const py::handle& expire,
                               const py::handle& privilege_expire, const py::handle& count, const py::handle& salts,
                               const py::handle& issue_ts) {
             const RtcRole r = as_role(role);
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             const std::int64_t pe_in = as_expire(privilege_expire, -1, "privilege_expire");
             const std::uint32_t pe = pe_in < 0 ? e : check_privilege_expire(pe_in, "privilege_expire");
             SpecFactory f = [=](std::string_view ch, std::string_view user) { return detail::rtc_rtm(ch, user, r, e, pe); };
             return run_batch(m, f, true, UserKind::kAccount, kMaxAccountBytes, channel, channels, py::none(), accounts,
                              count, salts, issue_ts);
           },
           py::kw_only(), py::arg("channel") = py::none(), py::arg("channels") = py::none(),
           py::arg("accounts") = py::none(), py::arg("role") = "publisher", py::arg("expire") = 3600,
           py::arg("privilege_expire") = py::none(), BATCH_ARGS)
      .def("rtm_batch", [](const Minter& m, const py::handle& user_ids, const py::handle& expire, const py::handle& count,
                           const py::handle& salts, const py::handle& issue_ts) {
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             SpecFactory f = [=](std::string_view, std::string_view user) { return detail::rtm(user, e); };
             return run_batch(m, f, false, UserKind::kAccount, kMaxUserIdBytes, py::none(), py::none(), py::none(),
                              user_ids, count, salts, issue_ts);
           },
           py::kw_only(), py::arg("user_ids"), py::arg("expire") = 3600, BATCH_ARGS)
      .def("chat_user_batch", [](const Minter& m, const py::handle& user_ids, const py::handle& expire,
                                 const py::handle& count, const py::handle& salts, const py::handle& issue_ts) {
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             SpecFactory f = [=](std::string_view, std::string_view user) { return detail::chat_user(user, e); };
             return run_batch(m, f, false, UserKind::kAccount, kMaxUserIdBytes, py::none(), py::none(), py::none(),
                              user_ids, count, salts, issue_ts);
           },
           py::kw_only(), py::arg("user_ids"), py::arg("expire") = 3600, BATCH_ARGS)
      .def("chat_app_batch", [](const Minter& m, const py::handle& expire, const py::handle& count,
                                const py::handle& salts, const py::handle& issue_ts) {
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             SpecFactory f = [=](std::string_view, std::string_view) { return detail::chat_app(e); };
             return run_batch(m, f, false, UserKind::kNone, 0, py::none(), py::none(), py::none(), py::none(), count,
                              salts, issue_ts);
           },
           py::kw_only(), py::arg("expire") = 3600, BATCH_ARGS)
      .def("apaas_room_user_batch", [](const Minter& m, const py::handle& room_uuid, const py::handle& user_uuids,
                                       const py::handle& role, const py::handle& expire, const py::handle& count,
                                       const py::handle& salts, const py::handle& issue_ts) {
             const std::string room = as_text(room_uuid, "room_uuid");
             check_text(room, "room_uuid", 1, kMaxAccountBytes);
             const std::int64_t rl = as_int64(role, "role");
             if (rl < -32768 || rl > 32767) raise_invalid("role", "role: an APaaS role is a signed 16-bit integer");
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             SpecFactory f = [=](std::string_view, std::string_view user) {
               return detail::apaas_room_user(room, user, static_cast<std::int16_t>(rl), e);
             };
             return run_batch(m, f, false, UserKind::kUtf8, kMaxAccountBytes, py::none(), py::none(), py::none(),
                              user_uuids, count, salts, issue_ts);
           },
           py::kw_only(), py::arg("room_uuid"), py::arg("user_uuids"), py::arg("role"), py::arg("expire") = 3600, BATCH_ARGS)
      .def("apaas_user_batch", [](const Minter& m, const py::handle& user_uuids, const py::handle& expire,
                                  const py::handle& count, const py::handle& salts, const py::handle& issue_ts) {
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             SpecFactory f = [=](std::string_view, std::string_view user) { return detail::apaas_user(user, e); };
             return run_batch(m, f, false, UserKind::kUtf8, kMaxAccountBytes, py::none(), py::none(), py::none(),
                              user_uuids, count, salts, issue_ts);
           },
           py::kw_only(), py::arg("user_uuids"), py::arg("expire") = 3600, BATCH_ARGS)
      .def("apaas_app_batch", [](const Minter& m, const py::handle& expire, const py::handle& count,
                                 const py::handle& salts, const py::handle& issue_ts) {
             const std::uint32_t e = check_expire(as_expire(expire, 3600, "expire"));
             SpecFactory f = [=](std::string_view, std::string_view) { return detail::apaas_app(e); };
             return run_batch(m, f, false, UserKind::kNone, 0, py::none(), py::none(), py::none(), py::none(), count,
                              salts, issue_ts);
           },
           py::kw_only(), py::arg("expire") = 3600, BATCH_ARGS)
      .def("fpa_batch", [](const Minter& m, const py::handle& count, const py::handle& salts, const py::handle& issue_ts) {
             SpecFactory f = [](std::string_view, std::string_view) { return detail::fpa(); };
             return run_batch(m, f, false, UserKind::kNone, 0, py::none(), py::none(), py::none(), py::none(), count,
                              salts, issue_ts);
           },
           py::kw_only(), BATCH_ARGS)
      .def("_agent_batch", [](const Minter& m, int type, const py::handle& channel, const py::handle& channels,
                              const py::handle& rtc_accounts, const py::handle& rtm_user_id, const py::handle& role,
                              const py::handle& rtc_expire, const py::handle& rtm_expire, const py::handle& count,
                              const py::handle& salts, const py::handle& issue_ts) {
             if (type != kServiceConvoAI && type != kServiceStt) raise_invalid("service_type", "service_type: 9 or 10");
             const RtcRole r = as_role(role);
             const std::uint32_t e = check_expire(as_expire(rtc_expire, 3600, "rtc_expire"));
             const std::uint32_t re = check_expire(as_expire(rtm_expire, e, "rtm_expire"));
             const std::string rtm_user = as_text(rtm_user_id, "rtm_user_id");
             check_account(rtm_user, "rtm_user_id");
             SpecFactory f = [=](std::string_view ch, std::string_view user) {
               return detail::agent(static_cast<std::uint16_t>(type), ch, user, r, e, e, e, e, e, rtm_user, re);
             };
             return run_batch(m, f, true, UserKind::kUidOrAccount, kMaxAccountBytes, channel, channels, py::none(),
                              rtc_accounts, count, salts, issue_ts);
           },
           py::arg("service_type"), py::kw_only(), py::arg("channel") = py::none(), py::arg("channels") = py::none(),
           py::arg("rtc_accounts") = py::none(), py::arg("rtm_user_id"), py::arg("role") = "publisher",
           py::arg("rtc_expire") = 3600, py::arg("rtm_expire") = py::none(), BATCH_ARGS);
}

}  // namespace mintlane::py_bindings
