#include "server/http_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "pmemd/log.h"
#include "server/unix_socket.h"

namespace pmemd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
// TCP and Unix sockets alike: one acceptor and one connection type for both.
using any_stream = asio::generic::stream_protocol;

namespace {

constexpr size_t kMaxConnections = 64;
constexpr auto kRequestTimeout = std::chrono::seconds(10);

constexpr std::string_view kUnixPrefix = "unix:";

struct Address {
  any_stream::endpoint endpoint;
  std::string path;  // a Unix socket's; "" for TCP
};

// "127.0.0.1:9464", "[::1]:9464" (loopback only), "unix:/run/pmemd/metrics.sock"
// (an absolute path) -> an endpoint.
Result<Address> ParseAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("metrics_listen '" + text + "': " + why +
                                   "; use a loopback address and a port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\", "
                                   "or a Unix socket's absolute path, e.g. \"unix:/run/pmemd/metrics.sock\"");
  };
  if (text.compare(0, kUnixPrefix.size(), kUnixPrefix) == 0) {
    std::string path = text.substr(kUnixPrefix.size());
    if (path.empty() || path[0] != '/') return bad("'" + path + "' is not an absolute path");
    if (path.size() >= sizeof(sockaddr_un::sun_path)) return bad("the path is longer than a Unix socket's 107 bytes");
    if (path.back() == '/') return bad("'" + path + "' names a directory");
    return Address{any_stream::endpoint(local::endpoint(path)), path};
  }
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return bad("no port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) return bad("'" + host + "' is not an IP address");
  if (!addr.is_loopback()) return bad("'" + host + "' is not a loopback address (pmemd serves metrics to this host only)");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    return bad("'" + port + "' is not a port number");
  return Address{any_stream::endpoint(tcp::endpoint(addr, static_cast<unsigned short>(std::stoul(port)))), ""};
}

}  // namespace

struct HttpMetrics::Impl {
  Impl(const Dispatcher* d) : dispatcher(d), acceptor(io) {}

  // One request per connection, then close: Prometheus reconnects cheaply
  // and nothing idles here.
  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(any_stream::socket s, Impl* impl) : stream(std::move(s)), impl(impl) {}
    beast::basic_stream<any_stream> stream;
    beast::flat_buffer buffer{8192};
    http::request_parser<http::empty_body> parser;
    http::response<http::string_body> response;
    Impl* impl;

    void Start() {
      parser.header_limit(8192);
      stream.expires_after(kRequestTimeout);
      http::async_read(stream, buffer, parser, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->Answer();
      });
    }
    void Answer() {
      const auto& req = parser.get();
      response.version(req.version());
      response.keep_alive(false);
      response.set(http::field::server, "pmemd");
      const std::string target(req.target());
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        Reply(http::status::method_not_allowed, "text/plain", "only GET and HEAD\n");
        response.set(http::field::allow, "GET, HEAD");
      } else if (target == "/metrics") {
        json r = impl->Call("metrics");
        if (r.contains("result"))
          Reply(http::status::ok, r["result"].value("content_type", "text/plain; version=0.0.4"),
                r["result"].value("text", ""));
        else
          Reply(http::status::internal_server_error, "text/plain", r.dump() + "\n");
      } else if (target == "/healthz") {
        json r = impl->Call("version");
        bool ok = r.contains("result");
        Reply(ok ? http::status::ok : http::status::service_unavailable, "text/plain", ok ? "ok\n" : r.dump() + "\n");
      } else {
        Reply(http::status::not_found, "text/plain", "not found: GET /metrics or /healthz\n");
      }
      if (req.method() == http::verb::head) response.body().clear();
      response.prepare_payload();
      http::async_write(stream, response, [self = shared_from_this()](beast::error_code, size_t) { self->Close(); });
    }
    void Reply(http::status status, const std::string& type, std::string body) {
      response.result(status);
      response.set(http::field::content_type, type);
      response.body() = std::move(body);
    }
    void Close() {
      beast::error_code ignored;
      stream.socket().shutdown(asio::socket_base::shutdown_both, ignored);
      stream.close();
      --impl->connections;
    }
  };

  using json = nlohmann::json;
  json Call(const std::string& method) {
    CallContext ctx;  // no peer: a read, as any client may ask
    return dispatcher->HandleRequest({{"jsonrpc", "2.0"}, {"method", method}, {"id", 1}}, ctx);
  }

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, any_stream::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (connections >= kMaxConnections) {
          beast::error_code ignored;
          s.close(ignored);
        } else {
          ++connections;
          std::make_shared<Conn>(std::move(s), this)->Start();
        }
      }
      Accept();
    });
  }

  const Dispatcher* dispatcher;
  asio::io_context io;
  asio::basic_socket_acceptor<any_stream> acceptor;
  std::string path;  // a Unix socket's, "" for TCP
  ino_t socket_ino = 0;  // of the socket at `path` this listener bound
  size_t connections = 0;  // io thread only
  std::thread thread;
};

Result<std::unique_ptr<HttpMetrics>> HttpMetrics::Listen(const std::string& address, const Dispatcher* dispatcher) {
  PMEMD_ASSIGN_OR_RETURN(Address a, ParseAddress(address));
  auto impl = std::make_unique<Impl>(dispatcher);
  if (!a.path.empty()) PMEMD_RETURN_IF_ERROR(server_internal::ClearStaleSocket(a.path, "metrics_listen"));
  beast::error_code ec;
  impl->acceptor.open(a.endpoint.protocol(), ec);
  if (!ec && a.path.empty()) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    // A Unix socket is readable and writable by every local user, as a
    // loopback port is: the metrics are the host's to see, and only reads
    // are served. Created with that mode: no window with another.
    mode_t old = a.path.empty() ? 0 : ::umask(0111);
    impl->acceptor.bind(a.endpoint, ec);
    if (!a.path.empty()) ::umask(old);
  }
  if (!ec && !a.path.empty()) {
    impl->path = a.path;
    impl->socket_ino = server_internal::SocketInode(a.path);
  }
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kIoError, "metrics_listen " + address + ": " + ec.message(), ec.value());
  return std::unique_ptr<HttpMetrics>(new HttpMetrics(std::move(impl)));
}

Status HttpMetrics::CheckAddress(const std::string& address) {
  if (address.empty()) return Status::Ok();
  return ParseAddress(address).status();
}

HttpMetrics::HttpMetrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpMetrics::~HttpMetrics() {
  Stop();
  server_internal::RemoveOwnSocket(impl_->path, impl_->socket_ino);
}

void HttpMetrics::Start() {
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  GetLogger("server")->info("metrics over HTTP on {} (GET /metrics, /healthz)", where());
}

void HttpMetrics::Stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  impl_->thread.join();
}

unsigned short HttpMetrics::port() const {
  if (!impl_->path.empty()) return 0;
  const any_stream::endpoint ep = impl_->acceptor.local_endpoint();
  return ntohs(reinterpret_cast<const sockaddr_in*>(ep.data())->sin_port);  // same offset in sockaddr_in6
}

std::string HttpMetrics::where() const {
  if (!impl_->path.empty()) return "unix:" + impl_->path;
  const any_stream::endpoint ep = impl_->acceptor.local_endpoint();
  const auto* sa = ep.data();
  char host[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, host, sizeof host);
  else
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host, sizeof host);
  const std::string h = sa->sa_family == AF_INET6 ? "[" + std::string(host) + "]" : std::string(host);
  return h + ":" + std::to_string(port());
}

}  // namespace pmemd
