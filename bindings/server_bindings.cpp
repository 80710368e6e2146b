// server_bindings.cpp - pybind11 bindings of the token server (engine/include/mintlane/server.hpp).
// Blocking calls (start, stop, wait) run without the GIL; the server threads never take it.
#include "bindings/server_bindings.hpp"

#include <pybind11/stl.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <system_error>

#include "mintlane/server.hpp"

namespace py = pybind11;

namespace mintlane {
namespace {

using server::ConfigError;
using server::HandlerConfig;
using server::RequestHandler;
using server::Server;
using server::ServerConfig;

std::chrono::milliseconds seconds_arg(double s, const char* name) {
  if (!std::isfinite(s) || s <= 0 || s > 86400.0 * 365) {
    throw ConfigError(std::string(name) + " must be a positive number of seconds");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000.0)) > 0
                                       ? static_cast<std::int64_t>(std::llround(s * 1000.0))
                                       : 1);
}

std::string bytes_or_str(const py::handle& h, const char* name) {
  if (PyBytes_Check(h.ptr())) return h.cast<std::string>();
  if (PyUnicode_Check(h.ptr())) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
    if (p == nullptr) throw py::error_already_set();
    return std::string(p, static_cast<std::size_t>(n));
  }
  throw py::type_error(std::string(name) + ": expected str or bytes");
}

std::optional<std::string> opt_bytes_or_str(const py::handle& h, const char* name) {
  if (h.is_none()) return std::nullopt;
  return bytes_or_str(h, name);
}

std::optional<std::string> non_empty(std::optional<std::string> s) {
  if (s && s->empty()) return std::nullopt;
  return s;
}

// Keyword overrides shared by Server(...) and Server.from_env(...). None = keep.
struct Overrides {
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<int> threads;
  std::optional<std::string> cors_allow_origin;
  std::optional<std::string> auth_token;
  std::optional<std::size_t> body_limit, header_limit, max_connections;
  std::optional<double> header_read_timeout, body_read_timeout, idle_timeout, write_timeout;
  std::optional<bool> access_log;
  std::optional<std::string> access_log_path;
  std::optional<bool> metrics_route;

  void apply(ServerConfig& c) const {
    if (host) c.host = *host;
    if (port) {
      if (*port < 0 || *port > 65535) throw ConfigError("port must be in 0..65535");
      c.port = static_cast<std::uint16_t>(*port);
    }
    if (threads) {
      if (*threads < 0 || *threads > 1024) throw ConfigError("threads must be in 0..1024 (0 = one per core)");
      c.threads = static_cast<unsigned>(*threads);
    }
    if (cors_allow_origin) c.handler.cors_allow_origin = non_empty(*cors_allow_origin);
    if (auth_token) c.handler.auth_token = non_empty(*auth_token);
    if (body_limit) c.handler.body_limit = *body_limit;
    if (header_limit) c.header_limit = *header_limit;
    if (max_connections) c.max_connections = *max_connections;
    if (header_read_timeout) c.header_read_timeout = seconds_arg(*header_read_timeout, "header_read_timeout");
    if (body_read_timeout) c.body_read_timeout = seconds_arg(*body_read_timeout, "body_read_timeout");
    if (idle_timeout) c.idle_timeout = seconds_arg(*idle_timeout, "idle_timeout");
    if (write_timeout) c.write_timeout = seconds_arg(*write_timeout, "write_timeout");
    if (access_log) c.access_log = *access_log;
    if (access_log_path) {
      c.access_log_path = *access_log_path;
      if (!access_log) c.access_log = true;
    }
    if (metrics_route) c.handler.metrics_route = *metrics_route;
  }
};

#define MINTLANE_OVERRIDE_ARGS                                                                  \
  py::arg("host") = py::none(), py::arg("port") = py::none(), py::arg("threads") = py::none(), \
      py::arg("cors_allow_origin") = py::none(), py::arg("auth_token") = py::none(),           \
      py::arg("body_limit") = py::none(), py::arg("header_limit") = py::none(),                \
      py::arg("max_connections") = py::none(), py::arg("header_read_timeout") = py::none(),    \
      py::arg("body_read_timeout") = py::none(), py::arg("idle_timeout") = py::none(),         \
      py::arg("write_timeout") = py::none(), py::arg("access_log") = py::none(),               \
      py::arg("access_log_path") = py::none(), py::arg("metrics_route") = py::none()

#define MINTLANE_OVERRIDE_PARAMS                                                              \
  std::optional<std::string> host, std::optional<int> port, std::optional<int> threads,       \
      std::optional<std::string> cors_allow_origin, std::optional<std::string> auth_token,     \
      std::optional<std::size_t> body_limit, std::optional<std::size_t> header_limit,          \
      std::optional<std::size_t> max_connections, std::optional<double> header_read_timeout,   \
      std::optional<double> body_read_timeout, std::optional<double> idle_timeout,             \
      std::optional<double> write_timeout, std::optional<bool> access_log,                     \
      std::optional<std::string> access_log_path, std::optional<bool> metrics_route

#define MINTLANE_OVERRIDE_VALUES                                                            \
  Overrides {                                                                               \
    host, port, threads, cors_allow_origin, auth_token, body_limit, header_limit,           \
        max_connections, header_read_timeout, body_read_timeout, idle_timeout, write_timeout, \
        access_log, access_log_path, metrics_route                                          \
  }

// The Python object: the engine's Server plus what repr/url need.
class PyServer {
 public:
  PyServer(const std::string& app_id, const std::string& cert, ServerConfig config)
      : server_(std::make_unique<Server>(app_id, cert, std::move(config))) {}

  void start() {
    try {
      py::gil_scoped_release nogil;
      server_->start();
    } catch (const std::system_error& e) {
      // OSError with errno, e.g. EADDRINUSE; the message names the address.
      PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), std::string(e.what())).ptr());
      throw py::error_already_set();
    }
  }

  std::size_t stop(double timeout) {
    if (!std::isfinite(timeout) || timeout < 0) throw ConfigError("timeout must be >= 0 seconds");
    py::gil_scoped_release nogil;
    return server_->stop(std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000.0)));
  }

  // Waits for the server to stop, waking every 50 ms to let Python run its signal handlers
  // (an exception they raise propagates from here).
  bool wait(std::optional<double> timeout) {
    const auto deadline = timeout ? std::chrono::steady_clock::now() +
                                        std::chrono::microseconds(static_cast<std::int64_t>(*timeout * 1e6))
                                  : std::chrono::steady_clock::time_point::max();
    for (;;) {
      bool stopped;
      {
        py::gil_scoped_release nogil;
        auto slice = std::chrono::milliseconds(50);
        if (timeout) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          if (left < slice) slice = std::max(left, std::chrono::milliseconds(0));
        }
        stopped = server_->wait_for(slice);
      }
      if (stopped || !running_or_starting()) return true;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (timeout && std::chrono::steady_clock::now() >= deadline) return false;
    }
  }

  bool running_or_starting() const { return server_->running(); }
  Server& server() { return *server_; }

  std::string url() const {
    const std::string& h = server_->config().host;
    std::string host = h.empty() || h == "::" || h == "0.0.0.0" ? "127.0.0.1" : h;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(server_->port());
  }

  std::string repr() const {
    const auto& c = server_->config();
    std::string r = "<mintlane.Server ";
    r += server_->running() ? url() + " running" : std::string("stopped");
    r += " threads=" + std::to_string(server_->threads());
    if (c.handler.auth_token) r += " auth=on";
    r += ">";
    return r;
  }

 private:
  std::unique_ptr<Server> server_;
};

py::tuple to_py(const server::HttpResponse& r) {
  py::list headers;
  for (const auto& [k, v] : r.headers) headers.append(py::make_tuple(k, v));
  return py::make_tuple(r.status, headers, py::bytes(r.body));
}

}  // namespace

void register_server(py::module_& m) {
  py::register_exception<ConfigError>(m, "ServerConfigError", PyExc_ValueError);

  py::class_<PyServer>(m, "Server", R"doc(
The native token server (TOKEN_SERVER.md routes, deviations D1-D10) on Boost.Beast.

    Server(app_id, app_certificate, *, host="127.0.0.1", port=0, threads=0, ...)
    Server.from_env(env_file=".env", environ=None, **overrides)   # APP_ID, SERVER_PORT, ...

start() binds and returns once connections are accepted; port is the bound port (an ephemeral
one for port=0). stop(timeout) drains requests in flight and joins the threads. The server
threads never hold the GIL.)doc")
      .def(py::init([](const std::string& app_id, const std::string& app_certificate,
                       MINTLANE_OVERRIDE_PARAMS) {
             ServerConfig c;
             c.host = "127.0.0.1";  // embedding default: loopback only
             c.port = 0;
             MINTLANE_OVERRIDE_VALUES.apply(c);
             return std::make_unique<PyServer>(app_id, app_certificate, std::move(c));
           }),
           py::arg("app_id"), py::arg("app_certificate"), py::kw_only(), MINTLANE_OVERRIDE_ARGS)
      .def_static(
          "from_env",
          [](const std::string& env_file, std::optional<std::map<std::string, std::string>> environ,
             MINTLANE_OVERRIDE_PARAMS) {
            server::EnvSettings env = server::load_server_config_from_env(env_file, environ);
            MINTLANE_OVERRIDE_VALUES.apply(env.config);
            auto s = std::make_unique<PyServer>(env.app_id, env.app_certificate, std::move(env.config));
            std::fill(env.app_certificate.begin(), env.app_certificate.end(), '\0');
            return s;
          },
          py::arg("env_file") = ".env", py::arg("environ") = py::none(), py::kw_only(),
          MINTLANE_OVERRIDE_ARGS,
          "Reads APP_ID, APP_CERTIFICATE, SERVER_PORT/PORT, CORS_ALLOW_ORIGIN, MINTLANE_AUTH_TOKEN "
          "from `environ` (default: the process environment) over `env_file`; raises "
          "ServerConfigError (a ValueError) naming the variable. Keyword overrides win.")
      .def("start", &PyServer::start)
      .def("stop", &PyServer::stop, py::arg("timeout") = 10.0,
           "Graceful shutdown; returns the number of connections closed forcibly at the timeout.")
      .def("wait", &PyServer::wait, py::arg("timeout") = py::none(),
           "Blocks until the server stops; True when stopped, False at the timeout. Signal "
           "handlers run while waiting.")
      .def("metrics", [](PyServer& s) { return s.server().metrics_text(); })
      .def_property_readonly("port", [](PyServer& s) { return s.server().port(); })
      .def_property_readonly("url", &PyServer::url)
      .def_property_readonly("host", [](PyServer& s) { return s.server().config().host; })
      .def_property_readonly("threads", [](PyServer& s) { return s.server().threads(); })
      .def_property_readonly("running", [](PyServer& s) { return s.server().running(); })
      .def_property_readonly("active_connections",
                             [](PyServer& s) { return s.server().active_connections(); })
      .def("__enter__", [](PyServer& s) -> PyServer& {
             if (!s.server().running()) s.start();
             return s;
           }, py::return_value_policy::reference)
      .def("__exit__", [](PyServer& s, py::args) { s.stop(10.0); })
      .def("__repr__", &PyServer::repr);

  py::class_<RequestHandler>(m, "RequestHandler", R"doc(
The token server's routes without a socket (used by mintlane.asgi): the same router, rules and
responses as Server.

    handle(method, target, origin=None, authorization=None, body=b"") -> (status, headers, body)
)doc")
      .def(py::init([](const std::string& app_id, const std::string& app_certificate,
                       std::optional<std::string> cors_allow_origin,
                       std::optional<std::string> auth_token, std::size_t body_limit,
                       bool metrics_route) {
             HandlerConfig c;
             c.cors_allow_origin = non_empty(cors_allow_origin);
             c.auth_token = non_empty(auth_token);
             c.body_limit = body_limit;
             c.metrics_route = metrics_route;
             return std::make_unique<RequestHandler>(app_id, app_certificate, c);
           }),
           py::arg("app_id"), py::arg("app_certificate"), py::kw_only(),
           py::arg("cors_allow_origin") = py::none(), py::arg("auth_token") = py::none(),
           py::arg("body_limit") = 64 * 1024, py::arg("metrics_route") = true)
      .def_static(
          "from_env",
          [](const std::string& env_file, std::optional<std::map<std::string, std::string>> environ,
             std::optional<std::string> cors_allow_origin, std::optional<std::string> auth_token) {
            server::EnvSettings env = server::load_server_config_from_env(env_file, environ);
            HandlerConfig c = env.config.handler;
            if (cors_allow_origin) c.cors_allow_origin = non_empty(cors_allow_origin);
            if (auth_token) c.auth_token = non_empty(auth_token);
            auto h = std::make_unique<RequestHandler>(env.app_id, env.app_certificate, c);
            std::fill(env.app_certificate.begin(), env.app_certificate.end(), '\0');
            return h;
          },
          py::arg("env_file") = ".env", py::arg("environ") = py::none(), py::kw_only(),
          py::arg("cors_allow_origin") = py::none(), py::arg("auth_token") = py::none())
      .def(
          "handle",
          [](const RequestHandler& h, const std::string& method, const py::object& target,
             const py::object& origin, const py::object& authorization, const py::object& body) {
            const std::string t = bytes_or_str(target, "target");
            const std::optional<std::string> o = opt_bytes_or_str(origin, "origin");
            const std::optional<std::string> a = opt_bytes_or_str(authorization, "authorization");
            const std::string b = body.is_none() ? std::string() : bytes_or_str(body, "body");
            std::optional<std::string_view> ov, av;
            if (o) ov = std::string_view(*o);
            if (a) av = std::string_view(*a);
            return to_py(h.handle(method, t, ov, av, b));
          },
          py::arg("method"), py::arg("target"), py::arg("origin") = py::none(),
          py::arg("authorization") = py::none(), py::arg("body") = py::bytes())
      .def("handle_raw",
           [](const RequestHandler& h, const py::bytes& raw) {
             return py::bytes(h.handle_raw(raw.cast<std::string>()));
           },
           py::arg("raw"), "Parses raw HTTP/1.x request bytes; returns the serialized response.")
      .def("metrics", &RequestHandler::metrics_text)
      .def("__repr__", [](const RequestHandler&) { return std::string("<mintlane.RequestHandler>"); });
}

}  // namespace mintlane
