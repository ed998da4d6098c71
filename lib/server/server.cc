#include "pmemd/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include <sys/resource.h>

#include <thread>

#include <boost/asio.hpp>

#include "pmemd/event_stream.h"
#include "pmemd/fs.h"
#include "pmemd/log.h"
#include "pmemd/log_limiter.h"
#include "server/session.h"
#include "server/unix_socket.h"
#include "server/worker_lane.h"

namespace pmemd {

namespace asio = boost::asio;
using Stream = asio::local::stream_protocol;
using nlohmann::json;
using server_internal::ConnectionManager;
using server_internal::Log;
using server_internal::Session;

using server_internal::ReadPeerCred;

// Non-admin requests run this much nicer than the rest of the daemon.
constexpr int kSharedLaneNice = 10;

class Server::Impl {
 public:
  Impl(ServerOptions o, const Dispatcher* d, ServerHooks h)
      : options_(std::move(o)), dispatcher_(d), hooks_(std::move(h)), pool_(options_.worker_threads, kSharedLaneNice),
        admin_lane_(1, 0), acceptor_(io_), signals_(io_, SIGTERM, SIGINT, SIGHUP), manager_(&options_),
        scratch_(64 * 1024) {}

  ~Impl() { RemoveSocket(); }
  Status Listen();
  void Run();
  void Stop() {
    asio::post(io_, [this] { DoStop(); });
  }

 private:
  void Accept();
  // Why a new connection from `peer` must be refused, or "" to take it.
  std::string AdmissionRefusal(const PeerCred& peer, bool admin) const;
  void Refuse(Stream::socket socket, const PeerCred& peer, const std::string& why);
  void WaitSignal();
  void DoStop();
  void RemoveSocket();

  ServerOptions options_;
  const Dispatcher* dispatcher_;
  ServerHooks hooks_;
  asio::io_context io_;
  WorkerLane pool_;        // shared by non-admin connections, at a lower CPU priority
  WorkerLane admin_lane_;  // one worker only admin connections use
  Stream::acceptor acceptor_;
  asio::signal_set signals_;
  ConnectionManager manager_;
  std::vector<char> scratch_;  // the one read buffer; sessions copy out of it on the io thread
  bool stopping_ = false;
  ino_t socket_ino_ = 0;
};

Status Server::Impl::Listen() {
  const std::string& path = options_.socket_path;
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) PMEMD_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  PMEMD_RETURN_IF_ERROR(server_internal::ClearStaleSocket(path, "--socket"));
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
  socket_ino_ = server_internal::SocketInode(path);
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
    PeerCred peer = ReadPeerCred(socket.native_handle());
    bool admin = dispatcher_->policy().IsAdmin(peer);
    if (std::string why = AdmissionRefusal(peer, admin); !why.empty()) {
      Refuse(std::move(socket), peer, why);
    } else {
      auto s = std::make_shared<Session>(std::move(socket), peer, admin, &manager_, dispatcher_,
                                         admin ? &admin_lane_ : &pool_, &options_, &scratch_);
      manager_.Add(s);
      s->Start();
    }
    Accept();
  });
}

std::string Server::Impl::AdmissionRefusal(const PeerCred& peer, bool admin) const {
  size_t open = manager_.size();
  if (open >= options_.max_connections)
    return "too many connections: all " + std::to_string(options_.max_connections) +
           " are open (max_connections); retry later";
  if (admin) return "";
  if (open + options_.reserved_admin_connections >= options_.max_connections)
    return "too many connections: the " +
           std::to_string(options_.max_connections - options_.reserved_admin_connections) +
           " that non-admin peers may use are open (max_connections " + std::to_string(options_.max_connections) +
           " less reserved_admin_connections " + std::to_string(options_.reserved_admin_connections) +
           " kept for root and the admin group); retry later";
  if (size_t mine = manager_.CountForUid(peer.uid); mine >= options_.max_connections_per_uid)
    return "too many connections: uid " + std::to_string(peer.uid) + " already has " + std::to_string(mine) +
           " open (max_connections_per_uid); close some before opening more";
  return "";
}

void Server::Impl::Refuse(Stream::socket socket, const PeerCred& peer, const std::string& why) {
  manager_.WarnAbout(peer.uid, "refusing connection from uid " + std::to_string(peer.uid) + " pid " +
                                   std::to_string(peer.pid) + ": " + why);
  std::string msg = Dispatcher::ErrorResponse(nullptr, Status::Unavailable(why)).dump() + "\n";
  // One small line into an empty socket buffer: never blocks, and a peer
  // that has gone loses nothing it wanted.
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  asio::write(socket, asio::buffer(msg), ignored);
  socket.close(ignored);
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
  pool_.Join();
  admin_lane_.Join();
  RemoveSocket();
  Log()->info("stopped");
}

void Server::Impl::RemoveSocket() {
  server_internal::RemoveOwnSocket(options_.socket_path, socket_ino_);
  socket_ino_ = 0;
}

Server::Server(ServerOptions options, const Dispatcher* dispatcher, ServerHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher, std::move(hooks))) {}
Server::~Server() = default;
Status Server::Listen() { return impl_->Listen(); }
void Server::Run() { impl_->Run(); }
void Server::Stop() { impl_->Stop(); }

}  // namespace pmemd
