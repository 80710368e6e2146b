// http_server.cpp - the network server: one io_context and thread per core, one acceptor handing
// connections round-robin to the workers, keep-alive sessions with a reused buffer, parser state
// and response string, timeouts enforced by a per-thread sweep (no timer operation per request),
// graceful drain on stop(). The only file in the engine that starts threads for the server.
// References: Boost.Beast/Asio 1.81 docs; RFC 9112 (HTTP/1.1 message syntax, persistence).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "mintlane/minter.hpp"
#include "mintlane/server.hpp"
#include "server/access_log.hpp"
#include "server/handlers.hpp"
#include "server/http_parser.hpp"
#include "server/metrics.hpp"

namespace mintlane::server {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

std::int64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t ms_to_ns(std::chrono::milliseconds ms) noexcept {
  return static_cast<std::int64_t>(ms.count()) * 1'000'000;
}

// "1.2.3.4:80" or "[::1]:80".
std::string format_endpoint(const asio::ip::address& addr, std::uint16_t port) {
  std::string out;
  const bool v6 = addr.is_v6();
  if (v6) out.push_back('[');
  out.append(addr.to_string());
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::int64_t kLingerNs = 1'000'000'000;  // read-and-discard after an error response

class Session;

}  // namespace

// One thread, one io_context, its sessions and its metrics slot.
struct Worker {
  Worker(Server::Impl& s, std::size_t i, MetricsSlot& m) : server(s), index(i), metrics(m) {}

  Server::Impl& server;
  std::size_t index;
  MetricsSlot& metrics;
  // Declared before the io_context: sessions unlink themselves in their destructors, which may
  // run while the io_context destroys its pending handlers.
  Session* sessions = nullptr;
  bool draining = false;
  std::int64_t date_second = -1;
  char date[40] = {};
  std::size_t date_len = 0;
  std::string log_scratch;
  asio::io_context ioc{1};  // one thread runs it
  asio::steady_timer sweep{ioc};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{ioc.get_executor()};
  std::thread thread;

  std::string_view http_date() noexcept {
    timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != date_second) {
      date_second = ts.tv_sec;
      date_len = format_http_date(ts.tv_sec, date);
    }
    return {date, date_len};
  }
};

struct Server::Impl {
  Impl(std::string_view app_id, std::string_view cert, ServerConfig cfg)
      : config(std::move(cfg)),
        threads(config.threads != 0 ? config.threads
                                    : std::max(1u, std::thread::hardware_concurrency())),
        minter(app_id, cert, MinterOptions{Compression::kFast, 1}),
        metrics(threads),
        handlers(minter, config.handler, &metrics, &connections) {
    if (config.access_log) access_log = std::make_unique<AccessLog>(config.access_log_path);
  }

  ServerConfig config;
  unsigned threads;
  Minter minter;
  Metrics metrics;
  ConnectionStats connections;
  Handlers handlers;
  std::unique_ptr<AccessLog> access_log;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::size_t next_worker = 0;  // used only on worker 0's thread (the accept loop)
  std::uint16_t port = 0;
  std::int64_t sweep_ns = 250'000'000;

  enum class State { kNew, kRunning, kStopping, kStopped };
  mutable std::mutex mu;
  std::condition_variable cv;
  State state = State::kNew;
  std::atomic<bool> running{false};
  std::size_t forced = 0;

  void accept_next();
  void on_accept(const error_code& ec, tcp::socket socket, std::size_t target);
  void schedule_sweep(Worker& w);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class State { kIdle, kHeader, kBody, kContinue, kWriting, kLinger, kClosed };

  Session(Worker& w, tcp::socket socket)
      : w_(w),
        srv_(w.server),
        socket_(std::move(socket)),
        buffer_(srv_.config.header_limit + 16384 + 1024) {
    // Link into the worker's list (this thread only).
    next_ = w_.sessions;
    if (next_ != nullptr) next_->prev_ = this;
    w_.sessions = this;
  }

  ~Session() {
    if (prev_ != nullptr) prev_->next_ = next_;
    else if (w_.sessions == this) w_.sessions = next_;
    if (next_ != nullptr) next_->prev_ = prev_;
    // Relaxed: a statistic and the drain condition polled by stop(); nothing is published with it.
    srv_.connections.active.fetch_sub(1, std::memory_order_relaxed);
  }

  Session* next() const noexcept { return next_; }

  void start() {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    if (srv_.access_log) {
      tcp::endpoint ep = socket_.remote_endpoint(ec);
      if (!ec) {
        remote_ = format_endpoint(ep.address(), ep.port());
      }
    }
    out_.reserve(1024);
    to_idle(mono_ns());
    if (w_.draining) close_after_ = true;
    do_read();
  }

  // Sweep: close connections past their deadline.
  void check_deadline(std::int64_t now) {
    if (state_ == State::kClosed || now < deadline_) return;
    if (state_ != State::kIdle && state_ != State::kLinger) {
      srv_.connections.timed_out.fetch_add(1, std::memory_order_relaxed);
    }
    close();
  }

  // Drain: idle connections close now; others finish their request and then close.
  void drain() {
    close_after_ = true;
    if (state_ == State::kIdle && buffer_.size() == 0) {
      error_code ec;
      if (socket_.available(ec) == 0 || ec) close();
    }
  }

  void close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);  // cancels the pending operation; its handler releases this session
  }

 private:
  void to_idle(std::int64_t now) {
    state_ = State::kIdle;
    deadline_ = now + ms_to_ns(srv_.config.idle_timeout);
  }

  void do_read() {
    std::size_t room = buffer_.max_size() - buffer_.size();
    if (room == 0) return fail_request(431);
    auto space = buffer_.prepare(std::min<std::size_t>(room, 16384));
    socket_.async_read_some(space, [self = shared_from_this()](const error_code& ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (ec || state_ == State::kClosed) return close();
    buffer_.commit(n);
    if (state_ == State::kLinger) {
      buffer_.consume(buffer_.size());
      return do_read();
    }
    if (state_ == State::kIdle) {
      state_ = State::kHeader;
      deadline_ = mono_ns() + ms_to_ns(srv_.config.header_read_timeout);
    }
    parse_buffered();
  }

  void parse_buffered() {
    if (!parser_) {
      parser_.emplace(data_, static_cast<std::uint32_t>(srv_.config.header_limit),
                      srv_.config.handler.body_limit);
      parser_->eager(true);
    }
    while (buffer_.size() > 0) {
      error_code ec;
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == boost::beast::http::error::need_more) break;
      if (ec) return fail_request(status_for_parse_error(ec));
      if (parser_->is_done()) return on_request();
      if (parser_->is_header_done() && state_ == State::kHeader) {
        state_ = State::kBody;
        deadline_ = mono_ns() + ms_to_ns(srv_.config.body_read_timeout);
        if (data_.expect_continue) return send_continue();
      }
      if (used == 0) break;
    }
    if (parser_->is_header_done() && state_ == State::kHeader) {
      state_ = State::kBody;
      deadline_ = mono_ns() + ms_to_ns(srv_.config.body_read_timeout);
      if (data_.expect_continue) return send_continue();
    }
    do_read();
  }

  void send_continue() {
    state_ = State::kContinue;
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](const error_code& ec, std::size_t) {
                        if (ec || self->state_ == State::kClosed) return self->close();
                        self->state_ = State::kBody;
                        self->do_read();
                      });
  }

  void on_request() {
    const std::int64_t start = mono_ns();
    request_start_ = start;
    method_ = data_.method;
    srv_.handlers.handle(data_.view(), resp_, scratch_);
    const bool keep_alive = parser_->keep_alive() && !resp_.close && !close_after_ && !w_.draining;
    parser_.reset();
    respond(keep_alive, start);
  }

  void fail_request(int status) {
    request_start_ = mono_ns();
    method_ = data_.method;
    srv_.handlers.http_error(status, resp_);
    parser_.reset();
    respond(false, request_start_);
  }

  void respond(bool keep_alive, std::int64_t now) {
    keep_alive_ = keep_alive;
    out_.clear();
    write_response(resp_, keep_alive, w_.http_date(), out_);
    state_ = State::kWriting;
    deadline_ = now + ms_to_ns(srv_.config.write_timeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const error_code& ec, std::size_t n) {
                        self->on_written(ec, n);
                      });
  }

  void on_written(const error_code& ec, std::size_t n) {
    const std::int64_t now = mono_ns();
    const std::uint64_t latency = static_cast<std::uint64_t>(now - request_start_);
    w_.metrics.record(resp_.route, resp_.status, latency, resp_.tokens_rtc, resp_.tokens_rtm,
                      resp_.tokens_chat);
    if (srv_.access_log) {
      AccessRecord rec;
      timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      rec.unix_ms = static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
      rec.remote = remote_;
      rec.method = method_;
      rec.route = resp_.route;
      rec.status = resp_.status;
      rec.bytes = n;
      rec.duration_us = latency / 1000;
      srv_.access_log->write(rec, w_.log_scratch);
    }
    if (ec || state_ == State::kClosed) return close();
    if (!keep_alive_) return linger(now);
    to_idle(now);
    if (buffer_.size() > 0) {  // a pipelined request is already here
      state_ = State::kHeader;
      deadline_ = now + ms_to_ns(srv_.config.header_read_timeout);
      return parse_buffered();
    }
    do_read();
  }

  // After the last response: stop sending, then read and discard until the client closes (or a
  // short deadline), so unread request bytes do not turn our close into a reset that destroys
  // the response in flight.
  void linger(std::int64_t now) {
    state_ = State::kLinger;
    deadline_ = now + kLingerNs;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    buffer_.consume(buffer_.size());
    do_read();
  }

  Worker& w_;
  Server::Impl& srv_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  RequestData data_;
  std::optional<RequestParser> parser_;
  HandlerScratch scratch_;
  Response resp_;
  std::string out_;
  std::string remote_;
  State state_ = State::kIdle;
  Method method_ = Method::kGet;
  std::int64_t deadline_ = 0;
  std::int64_t request_start_ = 0;
  bool keep_alive_ = true;
  bool close_after_ = false;
  Session* prev_ = nullptr;
  Session* next_ = nullptr;
};

}  // namespace

void Server::Impl::schedule_sweep(Worker& w) {
  w.sweep.expires_after(std::chrono::nanoseconds(sweep_ns));
  w.sweep.async_wait([this, &w](const error_code& ec) {
    if (ec) return;
    const std::int64_t now = mono_ns();
    for (Session* s = w.sessions; s != nullptr;) {
      Session* next = s->next();  // close() does not unlink; the destructor runs later
      s->check_deadline(now);
      s = next;
    }
    schedule_sweep(w);
  });
}

void Server::Impl::accept_next() {
  const std::size_t target = next_worker;
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(workers[target]->ioc,
                         [this, target](const error_code& ec, tcp::socket socket) {
                           on_accept(ec, std::move(socket), target);
                         });
}

void Server::Impl::on_accept(const error_code& ec, tcp::socket socket, std::size_t target) {
  if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
  if (ec) {
    // EMFILE and friends: back off briefly instead of spinning.
    auto timer = std::make_shared<asio::steady_timer>(workers[0]->ioc, std::chrono::milliseconds(50));
    timer->async_wait([this, timer](const error_code& e) {
      if (!e && acceptor->is_open()) accept_next();
    });
    return;
  }
  connections.accepted.fetch_add(1, std::memory_order_relaxed);
  // Relaxed: an admission estimate; a few connections over the limit under a race are harmless.
  if (connections.active.load(std::memory_order_relaxed) >= config.max_connections) {
    connections.rejected.fetch_add(1, std::memory_order_relaxed);
    static constexpr std::string_view k503 =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Connection: close\r\nContent-Length: 23\r\n\r\ntoo many connections.\r\n";
    error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(k503.data(), k503.size()), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    accept_next();
    return;
  }
  connections.active.fetch_add(1, std::memory_order_relaxed);
  Worker& w = *workers[target];
  asio::post(w.ioc, [&w, s = std::move(socket)]() mutable {
    std::make_shared<Session>(w, std::move(s))->start();
  });
  accept_next();
}

Server::Server(std::string_view app_id, std::string_view app_certificate, ServerConfig config) {
  validate_server_config(config);
  impl_ = std::make_unique<Impl>(app_id, app_certificate, std::move(config));
  const auto shortest = std::min({impl_->config.header_read_timeout, impl_->config.body_read_timeout,
                                  impl_->config.idle_timeout, impl_->config.write_timeout});
  impl_->sweep_ns = std::clamp<std::int64_t>(ms_to_ns(shortest) / 4, 10'000'000, 250'000'000);
}

Server::~Server() {
  if (impl_) stop(std::chrono::milliseconds(0));
}

void Server::start() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.state != Impl::State::kNew) throw std::logic_error("Server.start(): already started");
  }
  for (unsigned i = 0; i < s.threads; ++i) {
    s.workers.push_back(std::make_unique<Worker>(s, i, s.metrics.slot(i)));
  }
  tcp::endpoint ep;
  if (s.config.host.empty() || s.config.host == "::") {
    ep = tcp::endpoint(tcp::v6(), s.config.port);
  } else {
    ep = tcp::endpoint(asio::ip::make_address(s.config.host), s.config.port);
  }
  const std::string where = format_endpoint(ep.address(), s.config.port);
  auto acceptor = std::make_unique<tcp::acceptor>(s.workers[0]->ioc);
  error_code ec;
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) acceptor->set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(static_cast<int>(s.config.listen_backlog), ec);
  if (ec) {
    s.workers.clear();
    throw std::system_error(ec, "cannot listen on " + where);
  }
  s.port = acceptor->local_endpoint().port();
  s.acceptor = std::move(acceptor);
  asio::post(s.workers[0]->ioc, [&s] { s.accept_next(); });
  for (auto& wp : s.workers) {
    Worker& w = *wp;
    s.schedule_sweep(w);
    w.thread = std::thread([&w] {
      for (;;) {
        try {
          w.ioc.run();
          return;
        } catch (const std::exception& e) {
          // A handler threw (should not happen: handlers catch everything). Keep serving.
          std::fprintf(stderr, "mintlane serve: internal error in worker %zu: %s\n", w.index, e.what());
        }
      }
    });
  }
  std::lock_guard<std::mutex> lock(s.mu);
  s.state = Impl::State::kRunning;
  s.running.store(true, std::memory_order_release);
}

std::size_t Server::stop(std::chrono::milliseconds drain_timeout) {
  Impl& s = *impl_;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (s.state == Impl::State::kNew) {
      s.state = Impl::State::kStopped;
      s.cv.notify_all();
      return 0;
    }
    if (s.state != Impl::State::kRunning) {
      s.cv.wait(lock, [&] { return s.state == Impl::State::kStopped; });
      return s.forced;
    }
    s.state = Impl::State::kStopping;
  }
  // 1. Stop accepting.
  std::promise<void> closed;
  asio::post(s.workers[0]->ioc, [&s, &closed] {
    error_code ec;
    s.acceptor->close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  // 2. Idle connections close now; busy ones finish their request and close.
  for (auto& wp : s.workers) {
    Worker& w = *wp;
    asio::post(w.ioc, [&w] {
      w.draining = true;
      for (Session* x = w.sessions; x != nullptr;) {
        Session* next = x->next();
        x->drain();
        x = next;
      }
    });
  }
  // 3. Wait for the drain, then close what is left.
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  while (s.connections.active.load(std::memory_order_acquire) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::size_t forced = s.connections.active.load(std::memory_order_acquire);
  for (auto& wp : s.workers) {
    wp->ioc.stop();
  }
  for (auto& wp : s.workers) {
    if (wp->thread.joinable()) wp->thread.join();
  }
  s.acceptor.reset();
  for (auto& wp : s.workers) {
    wp->guard.reset();
  }
  s.workers.clear();  // destroys pending handlers: leftover sessions close their sockets
  std::lock_guard<std::mutex> lock(s.mu);
  s.forced = forced;
  s.state = Impl::State::kStopped;
  s.running.store(false, std::memory_order_release);
  s.cv.notify_all();
  return forced;
}

void Server::wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->state == Impl::State::kStopped; });
}

bool Server::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->state == Impl::State::kStopped; });
}

bool Server::running() const noexcept { return impl_->running.load(std::memory_order_acquire); }
std::uint16_t Server::port() const noexcept { return impl_->port; }
const ServerConfig& Server::config() const noexcept { return impl_->config; }
unsigned Server::threads() const noexcept { return impl_->threads; }
std::size_t Server::active_connections() const noexcept {
  return impl_->connections.active.load(std::memory_order_relaxed);
}
std::string Server::metrics_text() const { return impl_->metrics.render(&impl_->connections); }

}  // namespace mintlane::server
