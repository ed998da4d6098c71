#include "pmemd/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>

#include <boost/asio.hpp>

#include "pmemd/fs.h"
#include "pmemd/log.h"

namespace pmemd {

namespace asio = boost::asio;
using Stream = asio::local::stream_protocol;
using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("server");
  return log;
}

PeerCred ReadPeerCred(int fd) {
  PeerCred p;
  struct ucred uc{};
  socklen_t len = sizeof uc;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
    p.known = true;
    p.pid = uc.pid;
    p.uid = uc.uid;
    p.gid = uc.gid;
  }
  return p;
}

}  // namespace

class Session;

// Live sessions, so that shutdown can reach each one.
class ConnectionManager {
 public:
  void Add(std::shared_ptr<Session> s) { sessions_.insert(std::move(s)); }
  void Remove(const std::shared_ptr<Session>& s) { sessions_.erase(s); }
  size_t size() const { return sessions_.size(); }
  void StopAll();

 private:
  std::set<std::shared_ptr<Session>> sessions_;
};

// One connection: reads lines, hands each to the worker pool, writes the
// answer, reads the next. All members are touched only on the io_context
// thread; the worker sees copies.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Stream::socket socket, ConnectionManager* manager, const Dispatcher* dispatcher,
          asio::thread_pool* pool, size_t max_line)
      : socket_(std::move(socket)), manager_(manager), dispatcher_(dispatcher), pool_(pool),
        buf_(max_line + 1), max_line_(max_line) {
    ctx_.peer = ReadPeerCred(socket_.native_handle());
  }

  void Start() { ReadLine(); }

  // Closes at once when idle; a session with a request in flight closes after
  // writing its answer.
  void Stop() {
    stopping_ = true;
    if (!busy_) Close();
  }

 private:
  void ReadLine() {
    if (stopping_) return Close();
    auto self = shared_from_this();
    asio::async_read_until(socket_, buf_, '\n', [this, self](boost::system::error_code ec, size_t n) {
      if (ec == asio::error::not_found) {
        // The line outgrew the buffer: answer once, then drop the connection.
        Log()->warn("uid {} pid {}: request line over {} bytes, closing", ctx_.peer.uid, ctx_.peer.pid,
                    max_line_);
        closing_after_write_ = true;
        return Write(Dispatcher::ErrorResponse(nullptr, -32600,
                                               "request line exceeds the limit of " + std::to_string(max_line_) +
                                                   " bytes; send smaller requests (max_request_bytes)")
                         .dump());
      }
      if (ec) {
        if (ec != asio::error::eof && ec != asio::error::operation_aborted)
          Log()->debug("uid {} pid {}: read: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
        else if (ec == asio::error::eof && buf_.size() > 0)
          Log()->debug("uid {} pid {}: disconnected mid-request ({} bytes unanswered)", ctx_.peer.uid,
                       ctx_.peer.pid, buf_.size());
        return Close();
      }
      std::string line(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n - 1);
      buf_.consume(n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) return ReadLine();
      busy_ = true;
      // The guard keeps io_context::run() from returning while the request
      // is on the pool, so its answer is always written, even in shutdown.
      auto work = asio::make_work_guard(socket_.get_executor());
      asio::post(*pool_, [this, self, work = std::move(work), line = std::move(line)] {
        std::string resp = dispatcher_->HandleLine(line, ctx_);
        asio::post(socket_.get_executor(), [this, self, resp = std::move(resp)]() mutable {
          busy_ = false;
          if (resp.empty()) return ReadLine();  // notifications only
          Write(std::move(resp));
        });
      });
    });
  }

  void Write(std::string resp) {
    auto self = shared_from_this();
    out_ = std::move(resp);
    out_ += '\n';
    busy_ = true;
    asio::async_write(socket_, asio::buffer(out_), [this, self](boost::system::error_code ec, size_t) {
      busy_ = false;
      if (ec) {
        Log()->debug("uid {} pid {}: write: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
        return Close();
      }
      if (closing_after_write_) return Close();
      ReadLine();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Stream::socket::shutdown_both, ignored);
    socket_.close(ignored);
    manager_->Remove(shared_from_this());
  }

  Stream::socket socket_;
  ConnectionManager* manager_;
  const Dispatcher* dispatcher_;
  asio::thread_pool* pool_;
  asio::streambuf buf_;
  size_t max_line_;
  CallContext ctx_;
  std::string out_;
  bool busy_ = false;
  bool stopping_ = false;
  bool closing_after_write_ = false;
  bool closed_ = false;
};

void ConnectionManager::StopAll() {
  // Stop() may remove the session from the set: iterate over a copy.
  auto copy = sessions_;
  for (auto& s : copy) s->Stop();
}

class Server::Impl {
 public:
  Impl(ServerOptions o, const Dispatcher* d, ServerHooks h)
      : options_(std::move(o)), dispatcher_(d), hooks_(std::move(h)), pool_(options_.worker_threads),
        acceptor_(io_), signals_(io_, SIGTERM, SIGINT, SIGHUP) {}

  ~Impl() { RemoveSocket(); }
  Status Listen();
  void Run();
  void Stop() {
    asio::post(io_, [this] { DoStop(); });
  }

 private:
  void Accept();
  void WaitSignal();
  void DoStop();
  Status ClearStaleSocket();
  void RemoveSocket();

  ServerOptions options_;
  const Dispatcher* dispatcher_;
  ServerHooks hooks_;
  asio::io_context io_;
  asio::thread_pool pool_;
  Stream::acceptor acceptor_;
  asio::signal_set signals_;
  ConnectionManager manager_;
  bool stopping_ = false;
  ino_t socket_ino_ = 0;
};

Status Server::Impl::ClearStaleSocket() {
  const std::string& path = options_.socket_path;
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FromErrno(errno, "stat " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    return Status::FailedPrecondition(path + " exists and is not a socket; remove it or choose another --socket");
  // A socket file: is a daemon answering on it?
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno(errno, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    PeerCred peer = ReadPeerCred(fd.get());
    return Status::AlreadyExists("another pmemd" + (peer.known ? " (pid " + std::to_string(peer.pid) + ")" : std::string()) +
                                 " is already serving " + path + "; stop it first, or choose another --socket");
  }
  if (errno != ECONNREFUSED)
    return Status::FromErrno(errno, "probe existing socket " + path);
  if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "remove stale socket " + path);
  Log()->info("removed stale socket {} left by an earlier run", path);
  return Status::Ok();
}

Status Server::Impl::Listen() {
  const std::string& path = options_.socket_path;
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) PMEMD_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  PMEMD_RETURN_IF_ERROR(ClearStaleSocket());
  boost::system::error_code ec;
  acceptor_.open(Stream(), ec);
  if (ec) return Status::IoError("open socket: " + ec.message());
  // The socket is created with the final mode: no window where it is
  // world-writable.
  mode_t old = ::umask(static_cast<mode_t>(~options_.socket_mode & 0777));
  acceptor_.bind(Stream::endpoint(path), ec);
  ::umask(old);
  if (ec) return Status::FromErrno(ec.value(), "bind " + path);
  if (options_.socket_gid && ::chown(path.c_str(), static_cast<uid_t>(-1), *options_.socket_gid) != 0)
    return Status::FromErrno(errno, "chown " + path + " to gid " + std::to_string(*options_.socket_gid) +
                                        " (is pmemd a member of the socket_group?)");
  if (::chmod(path.c_str(), options_.socket_mode) != 0) return Status::FromErrno(errno, "chmod " + path);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("listen on " + path + ": " + ec.message());
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) socket_ino_ = st.st_ino;
  Log()->info("listening on {} (mode {:o})", path, options_.socket_mode);
  return Status::Ok();
}

void Server::Impl::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, Stream::socket socket) {
    if (!acceptor_.is_open()) return;
    if (ec) {
      Log()->warn("accept: {}", ec.message());
      // Out of descriptors: back off briefly instead of spinning.
      if (ec == asio::error::no_descriptors) {
        auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
        t->async_wait([this, t](boost::system::error_code) { Accept(); });
        return;
      }
      return Accept();
    }
    if (manager_.size() >= options_.max_connections) {
      PeerCred p = ReadPeerCred(socket.native_handle());
      Log()->warn("refusing connection from uid {} pid {}: {} connections open (max_connections)", p.uid,
                  p.pid, manager_.size());
      std::string msg = Dispatcher::ErrorResponse(nullptr, RpcErrorCode(Code::kUnavailable),
                                                  "too many connections (" + std::to_string(manager_.size()) +
                                                      "); retry later")
                            .dump() + "\n";
      boost::system::error_code ignored;
      asio::write(socket, asio::buffer(msg), ignored);
      socket.close(ignored);
    } else {
      auto s = std::make_shared<Session>(std::move(socket), &manager_, dispatcher_, &pool_,
                                         options_.max_request_bytes);
      manager_.Add(s);
      s->Start();
    }
    Accept();
  });
}

void Server::Impl::WaitSignal() {
  signals_.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      Log()->info("SIGHUP: reloading");
      if (hooks_.on_reload) hooks_.on_reload();
      return WaitSignal();
    }
    Log()->info("{}: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    DoStop();
  });
}

void Server::Impl::DoStop() {
  if (stopping_) return;
  stopping_ = true;
  if (hooks_.on_stopping) hooks_.on_stopping();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  signals_.cancel(ignored);
  manager_.StopAll();
}

void Server::Impl::Run() {
  Accept();
  WaitSignal();
  io_.run();  // returns once every session is closed and nothing is pending
  pool_.join();
  RemoveSocket();
  Log()->info("stopped");
}

void Server::Impl::RemoveSocket() {
  if (socket_ino_ == 0) return;
  // Only if it is still ours, not one a newer daemon has bound since.
  struct stat st{};
  if (::stat(options_.socket_path.c_str(), &st) == 0 && st.st_ino == socket_ino_)
    ::unlink(options_.socket_path.c_str());
  socket_ino_ = 0;
}

Server::Server(ServerOptions options, const Dispatcher* dispatcher, ServerHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher, std::move(hooks))) {}
Server::~Server() = default;
Status Server::Listen() { return impl_->Listen(); }
void Server::Run() { impl_->Run(); }
void Server::Stop() { impl_->Stop(); }

}  // namespace pmemd
