// bulk_bindings.cpp - mintlane._core's pool classes: argument conversion, the GIL released around
// every chunk-sized call, write errors raised as OSError. The Python layer (mintlane.bulk) owns
// files, manifests, progress and scheduling; everything per token happens in engine/src/bulk.
#include "bindings/bulk_bindings.hpp"

#include <pybind11/stl.h>

#include <cstring>
#include <system_error>

#include "bindings/common.hpp"
#include "mintlane/bulk.hpp"

namespace mintlane::py_bindings {

namespace {

// A list argument's length, with a clear error when it does not match the others.
std::size_t same_length(const py::list& l, std::size_t n, const char* field) {
  if (static_cast<std::size_t>(py::len(l)) != n)
    raise_invalid(field, std::string(field) + ": has " + std::to_string(py::len(l)) + " entries, expected " +
                             std::to_string(n));
  return n;
}

// str -> UTF-8 view (valid while the str lives; the callers copy before releasing the GIL).
std::string_view utf8_view(const py::handle& v, const char* field) {
  if (!PyUnicode_Check(v.ptr()))
    throw py::type_error(std::string(field) + ": expected str, got " +
                         std::string(py::str(py::type::handle_of(v).attr("__name__"))));
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(v.ptr(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    raise_invalid(field, std::string(field) + ": not encodable as UTF-8 (lone surrogate?)");
  }
  return {data, static_cast<std::size_t>(size)};
}

// A write(2) failure as the matching OSError subclass (OSError(errno, strerror) picks it).
[[noreturn]] void raise_os(const std::system_error& e) {
  const int code = e.code().value();
  PyErr_SetObject(PyExc_OSError, py::make_tuple(code, std::string(std::strerror(code))).ptr());
  throw py::error_already_set();
}

}  // namespace

void register_bulk(py::module_& m) {
  using namespace mintlane::bulk;

  py::class_<Generator>(m, "_BulkGenerator", "channels x users pool layout (validated on creation).")
      .def(py::init([](const std::string& token_type, std::uint64_t channels, std::uint64_t users_per_channel,
                       const std::string& channel_prefix, unsigned channel_digits, std::uint64_t channel_start,
                       std::uint64_t uid_start, bool restart, bool accounts, const std::string& account_prefix,
                       std::uint64_t publishers_per_channel, std::int64_t expire) {
             Generator g;
             g.kind = parse_token_kind(token_type);
             g.channels = channels;
             g.users_per_channel = users_per_channel;
             g.channel_prefix = channel_prefix;
             g.channel_digits = channel_digits;
             g.channel_start = channel_start;
             g.uid_start = uid_start;
             g.uids_restart_per_channel = restart;
             g.accounts = accounts;
             g.account_prefix = account_prefix;
             g.publishers_per_channel = publishers_per_channel;
             g.expire = check_expire(expire);
             g.validate();
             return g;
           }),
           py::kw_only(), py::arg("token_type") = "rtc", py::arg("channels"), py::arg("users_per_channel"),
           py::arg("channel_prefix") = "channel-", py::arg("channel_digits") = 0, py::arg("channel_start") = 1,
           py::arg("uid_start") = 1, py::arg("uids_restart_per_channel") = false, py::arg("accounts") = false,
           py::arg("account_prefix") = "user-", py::arg("publishers_per_channel") = 0, py::arg("expire") = 3600)
      .def("__len__", &Generator::size)
      .def("channel_name", [](const Generator& g, std::uint64_t c) {
        if (c >= g.channels) throw py::index_error("channel index out of range");
        return g.channel_name(c);
      })
      .def("user", [](const Generator& g, std::uint64_t row) {
        if (row >= g.size()) throw py::index_error("row out of range");
        const std::uint64_t n = g.user_number(row);
        return g.accounts ? g.account_prefix + std::to_string(n) : std::to_string(n);
      }, "The user of a row: decimal uid or account.")
      .def("role", [](const Generator& g, std::uint64_t row) {
        if (row >= g.size()) throw py::index_error("row out of range");
        return std::string(role_name(g.role(row)));
      });

  py::class_<Requests>(m, "_BulkRequests", "Validated request rows (columnar).")
      .def(py::init([](const std::string& token_type) { return Requests(parse_token_kind(token_type)); }),
           py::arg("token_type") = "rtc")
      .def("__len__", &Requests::size)
      .def("clear", &Requests::clear)
      .def("extend", [](Requests& r, const py::list& channels, const py::list& users, const py::list& is_account,
                        const py::list& roles, const py::list& expires, const py::list& ids) {
             const std::size_t n = static_cast<std::size_t>(py::len(channels));
             same_length(users, n, "users");
             same_length(is_account, n, "is_account");
             same_length(roles, n, "roles");
             same_length(expires, n, "expires");
             same_length(ids, n, "ids");
             py::list errors;
             for (std::size_t i = 0; i < n; ++i) {
               const std::string msg = r.add(utf8_view(channels[i], "channels"), utf8_view(users[i], "users"),
                                             py::cast<bool>(is_account[i]), utf8_view(roles[i], "roles"),
                                             as_int64(expires[i], "expires"), py::cast<std::uint64_t>(ids[i]));
               if (!msg.empty()) errors.append(py::make_tuple(i, msg));
             }
             return errors;
           },
           py::arg("channels"), py::arg("users"), py::arg("is_account"), py::arg("roles"), py::arg("expires"),
           py::arg("ids"),
           "Validates and appends rows; returns [(position, message)] for the rows it refused.");

  py::class_<Chunk>(m, "_PoolChunk", "Reusable output of one chunk.")
      .def(py::init<>())
      .def_property_readonly("rows", &Chunk::rows)
      .def_property_readonly("bytes", &Chunk::bytes)
      .def_property_readonly("text_bytes", &Chunk::text_bytes)
      .def_property_readonly("issue_ts", &Chunk::issue_ts)
      .def_property_readonly("blocks", &Chunk::blocks)
      .def("tobytes", [](const Chunk& c) {
        std::string out;
        for (std::size_t i = 0; i < c.blocks(); ++i) out += c.block(i);
        return py::bytes(out);
      }, "Every block's bytes, concatenated (tests; the writer streams them instead).");

  py::class_<PoolWriter>(m, "_PoolWriter", "Mints, formats and compresses chunks of a pool.")
      .def(py::init([](const Minter& minter, const std::string& format, const py::handle& gzip_level,
                       const py::handle& issue_ts, const py::handle& salt_seed, const std::string& vegeta_method,
                       const std::string& vegeta_url, const std::vector<std::pair<std::string, std::string>>& headers,
                       unsigned threads, std::size_t block_rows) {
             PoolOptions o;
             o.format = parse_format(format);
             o.gzip_level = gzip_level.is_none() ? -1 : static_cast<int>(as_int64(gzip_level, "gzip_level"));
             if (!gzip_level.is_none() && (o.gzip_level < 0 || o.gzip_level > 3))
               raise_invalid("gzip_level", "gzip_level: must be in 0..3 (ISA-L igzip levels), got " +
                                               std::to_string(as_int64(gzip_level, "gzip_level")));
             o.issue_ts = as_opt_u32(issue_ts, "issue_ts");
             if (!salt_seed.is_none()) o.salt_seed = py::cast<std::uint64_t>(salt_seed);
             o.vegeta.method = vegeta_method;
             o.vegeta.url = vegeta_url;
             o.vegeta.headers = headers;
             o.threads = threads;
             o.block_rows = block_rows;
             return std::make_unique<PoolWriter>(minter, std::move(o));
           }),
           py::arg("minter"), py::kw_only(), py::arg("format") = "csv", py::arg("gzip_level") = py::none(),
           py::arg("issue_ts") = py::none(), py::arg("salt_seed") = py::none(), py::arg("vegeta_method") = "GET",
           py::arg("vegeta_url") = "", py::arg("vegeta_headers") = std::vector<std::pair<std::string, std::string>>(),
           py::arg("threads") = 0, py::arg("block_rows") = 4096)
      .def("header", [](const PoolWriter& w) { return py::bytes(w.header()); })
      .def("footer", [](const PoolWriter& w) { return py::bytes(w.footer()); })
      .def_property_readonly("columns", &PoolWriter::columns)
      .def_property_readonly("threads", &PoolWriter::threads)
      .def("fill_generator", [](PoolWriter& w, const Generator& g, std::uint64_t begin, std::uint64_t end,
                                std::uint64_t rows_before, Chunk& out) {
             py::gil_scoped_release nogil;
             w.fill(g, begin, end, rows_before, out);
           },
           py::arg("generator"), py::arg("begin"), py::arg("end"), py::arg("rows_before"), py::arg("chunk"))
      .def("fill_requests", [](PoolWriter& w, const Requests& r, std::size_t begin, std::size_t end,
                               std::uint64_t rows_before, Chunk& out) {
             py::gil_scoped_release nogil;
             w.fill(r, begin, end, rows_before, out);
           },
           py::arg("requests"), py::arg("begin"), py::arg("end"), py::arg("rows_before"), py::arg("chunk"));

  py::class_<FileSink>(m, "_FileSink", "Writes bytes to an fd while hashing them (SHA-256).")
      .def(py::init<int>(), py::arg("fd"))
      .def("write_chunk", [](FileSink& s, const Chunk& c) {
        try {
          py::gil_scoped_release nogil;  // reacquired on unwind, before the handler runs
          s.write(c);
        } catch (const std::system_error& e) {
          raise_os(e);
        }
      }, py::arg("chunk"))
      .def("write", [](FileSink& s, const py::bytes& b) {
        const std::string data = b;
        try {
          py::gil_scoped_release nogil;
          s.write(data);
        } catch (const std::system_error& e) {
          raise_os(e);
        }
      }, py::arg("data"))
      .def_property_readonly("bytes", &FileSink::bytes)
      .def("hexdigest", &FileSink::hexdigest);

  py::class_<PoolVerifier>(m, "_PoolVerifier", "Checks pool rows; keeps (channel, user) keys for duplicates.")
      .def(py::init([](const py::handle& cert, const py::handle& app_id, const py::handle& now, unsigned threads) {
             std::optional<std::string> id;
             if (!app_id.is_none()) id = as_text(app_id, "app_id");
             std::optional<std::uint64_t> t;
             if (!now.is_none()) t = static_cast<std::uint64_t>(as_int64(now, "now"));
             return std::make_unique<PoolVerifier>(as_text(cert, "app_certificate"), id, t, threads);
           }),
           py::arg("app_certificate"), py::kw_only(), py::arg("app_id") = py::none(), py::arg("now") = py::none(),
           py::arg("threads") = 0)
      .def("check", [](PoolVerifier& v, const py::list& tokens, const py::list& channels, const py::list& users,
                       const py::list& is_account, const py::list& roles, const py::list& issued_at,
                       const py::list& expires_at) {
             const std::size_t n = static_cast<std::size_t>(py::len(tokens));
             same_length(channels, n, "channels");
             same_length(users, n, "users");
             same_length(is_account, n, "is_account");
             same_length(roles, n, "roles");
             same_length(issued_at, n, "issued_at");
             same_length(expires_at, n, "expires_at");
             // Copy the text into one buffer so the check can run without the GIL.
             std::string text;
             std::vector<std::size_t> offs;
             offs.reserve(3 * n + 1);
             std::vector<PoolRow> rows(n);
             for (std::size_t i = 0; i < n; ++i) {
               for (const auto& [col, name] : {std::pair{&tokens, "tokens"}, {&channels, "channels"}, {&users, "users"}}) {
                 offs.push_back(text.size());
                 text += utf8_view((*col)[i], name);
               }
               rows[i].is_account = py::cast<bool>(is_account[i]);
               rows[i].role = static_cast<int>(as_int64(roles[i], "roles"));
               rows[i].issued_at = as_int64(issued_at[i], "issued_at");
               rows[i].expires_at = as_int64(expires_at[i], "expires_at");
             }
             offs.push_back(text.size());
             for (std::size_t i = 0; i < n; ++i) {
               auto view = [&](std::size_t k) {
                 return std::string_view(text.data() + offs[k], offs[k + 1] - offs[k]);
               };
               rows[i].token = view(3 * i);
               rows[i].channel = view(3 * i + 1);
               rows[i].user = view(3 * i + 2);
             }
             std::vector<RowProblem> problems;
             {
               py::gil_scoped_release nogil;
               problems = v.check(rows);
             }
             py::list out;
             for (const RowProblem& p : problems) out.append(py::make_tuple(p.index, p.status, p.reason));
             return out;
           },
           py::arg("tokens"), py::arg("channels"), py::arg("users"), py::arg("is_account"), py::arg("roles"),
           py::arg("issued_at"), py::arg("expires_at"),
           "Checks rows; returns [(position, status, reason)] for the rows that fail.")
      .def("duplicate_keys", [](PoolVerifier& v) {
        std::vector<std::uint64_t> k;
        {
          py::gil_scoped_release nogil;
          k = v.duplicate_keys();
        }
        return k;
      })
      .def_property_readonly("rows_checked", &PoolVerifier::rows_checked)
      .def_static("pair_key", [](const std::string& channel, const std::string& user, bool is_account) {
        return PoolVerifier::pair_key(channel, user, is_account);
      }, py::arg("channel"), py::arg("user"), py::arg("is_account"));

  m.def("_partition_range", &partition_range, py::arg("total"), py::arg("parts"), py::arg("index"),
        "Rows [first, last) of partition `index` of `parts` over `total` rows.");
}

}  // namespace mintlane::py_bindings
