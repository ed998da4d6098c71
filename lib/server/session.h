// The server's connections (internal to lib/server): a Session per
// connection (line framing, dispatch to a worker lane, answers with any
// descriptors a handler passes, progress notifications ahead of an answer,
// event streaming after subscribe) and the
// ConnectionManager that holds them for shutdown and the per-uid and
// buffered-bytes limits. Server::Impl (server.cc) accepts and owns them.
//
// Thread safety: every member of both is touched only on the io_context
// thread; a worker sees copies (and the CallContext's borrowed pointers
// during its request only).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

#include "pmemd/event_stream.h"
#include "pmemd/fs.h"
#include "pmemd/log.h"
#include "pmemd/log_limiter.h"
#include "pmemd/rpc.h"
#include "pmemd/server.h"
#include "server/notification_queue.h"
#include "server/worker_lane.h"

namespace pmemd {
namespace server_internal {

namespace asio = boost::asio;
using Stream = asio::local::stream_protocol;
using nlohmann::json;

inline std::shared_ptr<spdlog::logger> Log() {
  static auto log = GetLogger("server");
  return log;
}

class Session;

// Live sessions, so that shutdown can reach each one, and what they hold:
// connections per uid and buffered request bytes, for the limits.
class ConnectionManager {
 public:
  explicit ConnectionManager(const ServerOptions* options) : options_(options) {}

  void Add(std::shared_ptr<Session> s);
  void Remove(const std::shared_ptr<Session>& s);
  size_t size() const { return sessions_.size(); }
  size_t CountForUid(uid_t uid) const {
    auto it = per_uid_.find(uid);
    return it == per_uid_.end() ? 0 : it->second;
  }
  void StopAll();

  // A session's buffered bytes changed by `delta`.
  void AdjustBuffered(ptrdiff_t delta) { buffered_ = static_cast<size_t>(static_cast<ptrdiff_t>(buffered_) + delta); }
  size_t buffered() const { return buffered_; }
  // While the total is over max_buffered_bytes, drops the non-admin session
  // with the largest partial line.
  void EnforceBufferBound();

  // A warning about a peer, at most one line per uid per interval.
  void WarnAbout(uid_t uid, const std::string& message);

 private:
  const ServerOptions* options_;
  std::set<std::shared_ptr<Session>> sessions_;
  std::map<uid_t, size_t> per_uid_;
  size_t buffered_ = 0;
  LogLimiter warnings_{std::chrono::seconds(10)};
};

// One connection: waits for bytes, frames lines, hands each to a worker
// lane, writes the answer, reads on. Every member is touched only on the
// io_context thread; the worker sees copies. The pointers are borrowed from
// Server::Impl (the dispatcher from its owner), which outlives every
// session: Run() returns only after the io_context ran out of work (every
// session closed) and both worker lanes were joined.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;
  // Notifications queued ahead of an answer before the oldest is dropped.
  // More than one request's progress can fill (ProgressLimiter admits about
  // 101 per stage, and no method has more than two stages), so a peer that
  // reads loses none however the threads are scheduled; one that does not
  // read holds at most this many lines (~35 KiB) of the daemon's memory.
  static constexpr size_t kNotesQueued = 256;

  Session(Stream::socket socket, PeerCred peer, bool admin, ConnectionManager* manager,
          const Dispatcher* dispatcher, WorkerLane* lane, const ServerOptions* options,
          std::vector<char>* scratch)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), manager_(manager),
        dispatcher_(dispatcher), lane_(lane), options_(options), scratch_(scratch), admin_(admin) {
    ctx_.peer = peer;
    ctx_.fds = &fds_;
    // Called on the worker while this session waits for the answer (busy_):
    // io-thread members are not touched until the answer is posted back.
    ctx_.start_stream = [this](std::shared_ptr<EventSubscriber> sub) -> Status {
      if (pending_stream_ || stream_)
        return Status::FailedPrecondition("this connection is already subscribed; open another to subscribe again");
      pending_stream_ = std::move(sub);
      return Status::Ok();
    };
  }

  void Start() {
    // Called on the worker: queues a notification (progress) and wakes the
    // io thread when the queue was empty. It holds the queue and only a
    // weak reference to the session, so it never keeps a closed one alive.
    std::weak_ptr<Session> weak = shared_from_this();
    ctx_.notify = [weak, notes = notes_, exec = socket_.get_executor()](std::string line) {
      if (!notes->Push(std::move(line))) return;
      asio::post(exec, [weak] {
        if (auto s = weak.lock()) s->PumpNotes();
      });
    };
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    ReadLine();
  }

  // Closes at once when idle; a session with a request in flight closes after
  // writing its answer.
  void Stop() {
    stopping_ = true;
    if (stream_) {
      // Flush what is queued (the daemon's own "stopping" event among it),
      // then close; a peer that does not read gets request_timeout for it.
      if (writing_) ArmTimer(Clock::now() + options_->request_timeout, Deadline::kAnswerNotTaken);
      return PumpStream();
    }
    if (!busy_) Close();
  }

  const PeerCred& peer() const { return ctx_.peer; }
  bool admin() const { return admin_; }
  size_t buffered() const { return in_.size(); }

  // Over max_buffered_bytes and the largest: answer once and close.
  void DropForBufferBound() {
    size_t held = in_.size();
    SetBuffer({});
    manager_->WarnAbout(ctx_.peer.uid, "dropping uid " + std::to_string(ctx_.peer.uid) + " pid " +
                                           std::to_string(ctx_.peer.pid) + ": its partial line of " +
                                           std::to_string(held) + " bytes is the largest while buffers are " +
                                           "over max_buffered_bytes");
    if (busy_) return Close();  // cannot answer in the middle of another answer
    FailAndClose(Dispatcher::ErrorResponse(
        nullptr, Status::ResourceExhausted(
                     "the daemon's request buffers are full (max_buffered_bytes " +
                     std::to_string(options_->max_buffered_bytes) + "): your unfinished request of " +
                     std::to_string(held) + " bytes was the largest; send each request as one complete line")));
  }

 private:
  // Frames the next line from what is buffered, or waits for more bytes.
  void ReadLine() {
    if (closed_) return;
    if (stopping_) return Close();
    // Only the bytes not searched yet: a long line arriving in pieces costs
    // one pass, not one per piece.
    size_t nl = in_.find('\n', scanned_);
    scanned_ = nl == std::string::npos ? in_.size() : 0;
    size_t line_bytes = nl == std::string::npos ? in_.size() : nl;
    if (line_bytes > options_->max_request_bytes) {
      // The line outgrew the limit: answer once, then drop the connection.
      manager_->WarnAbout(ctx_.peer.uid, "uid " + std::to_string(ctx_.peer.uid) + " pid " +
                                             std::to_string(ctx_.peer.pid) + ": request line over " +
                                             std::to_string(options_->max_request_bytes) + " bytes, closing");
      SetBuffer({});
      return FailAndClose(Dispatcher::ErrorResponse(
          nullptr, -32600,
          "request line exceeds the limit of " + std::to_string(options_->max_request_bytes) +
              " bytes; send smaller requests (max_request_bytes)"));
    }
    if (nl != std::string::npos) {
      std::string line = in_.substr(0, nl);
      SetBuffer(in_.substr(nl + 1));  // a copy: in_ is still what the manager counted
      if (!in_.empty()) partial_since_ = Clock::now();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) return ReadLine();
      return Dispatch(std::move(line));
    }
    bool partial = !in_.empty();
    ArmTimer(partial ? partial_since_ + options_->request_timeout : Clock::now() + options_->idle_timeout,
             partial ? Deadline::kPartialLine : Deadline::kIdle);
    auto self = shared_from_this();
    socket_.async_wait(Stream::socket::wait_read, [this, self](boost::system::error_code ec) { OnReadable(ec); });
  }

  void OnReadable(boost::system::error_code ec) {
    if (closed_ || closing_after_write_) return;  // timed out or dropped meanwhile
    CancelTimer();
    if (ec) {
      if (ec != asio::error::operation_aborted) Log()->debug("uid {} pid {}: wait: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
      return Close();
    }
    // Never more than one byte past the line limit, so the check above fires.
    size_t room = options_->max_request_bytes + 1 - std::min(in_.size(), options_->max_request_bytes);
    size_t n = socket_.read_some(asio::buffer(scratch_->data(), std::min(room, scratch_->size())), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return ReadLine();
    if (ec) {
      if (ec == asio::error::eof && !in_.empty())
        Log()->debug("uid {} pid {}: disconnected mid-request ({} bytes unanswered)", ctx_.peer.uid,
                     ctx_.peer.pid, in_.size());
      else if (ec != asio::error::eof)
        Log()->debug("uid {} pid {}: read: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
      return Close();
    }
    if (in_.empty()) partial_since_ = Clock::now();
    in_.append(scratch_->data(), n);
    manager_->AdjustBuffered(static_cast<ptrdiff_t>(n));
    manager_->EnforceBufferBound();  // may drop this very session
    if (closed_ || closing_after_write_) return;
    ReadLine();
  }

  void Dispatch(std::string line) {
    busy_ = true;
    // The guard keeps io_context::run() from returning while the request
    // is on the pool, so its answer is always written, even in shutdown.
    auto self = shared_from_this();
    auto work = asio::make_work_guard(socket_.get_executor());
    asio::post(lane_->executor(), [this, self, work = std::move(work), line = std::move(line)] {
      std::string resp = dispatcher_->HandleLine(line, ctx_);
      asio::post(socket_.get_executor(), [this, self, resp = std::move(resp)]() mutable {
        busy_ = false;
        if (resp.empty()) return pending_stream_ && !closed_ ? StartStream() : ReadLine();  // notifications only
        WriteAnswer(std::move(resp));
      });
    });
  }

  // Progress notifications (CallContext::notify) go out while the request
  // runs, one write at a time; the answer follows the last of them.
  void PumpNotes() {
    if (closed_ || notes_writing_ || !out_.empty()) return;  // the answer's write takes what is queued
    std::vector<std::string> lines = notes_->Take();
    if (lines.empty()) return;
    notes_out_.clear();
    for (auto& l : lines) {
      notes_out_ += l;
      notes_out_ += '\n';
    }
    notes_writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(notes_out_), [this, self](boost::system::error_code ec, size_t) {
      notes_writing_ = false;
      notes_out_ = std::string();
      if (closed_) return;
      if (ec) {
        Log()->debug("uid {} pid {}: progress write: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
        return Close();
      }
      if (!answer_after_notes_.empty()) return WriteAnswer(std::exchange(answer_after_notes_, std::string()));
      PumpNotes();
    });
  }

  // The answer, after whatever notifications are still queued for it; when
  // some are being written, once that write is done. A peer that takes
  // neither within request_timeout is closed.
  void WriteAnswer(std::string resp) {
    if (closed_) return;
    if (notes_writing_) {
      answer_after_notes_ = std::move(resp);
      busy_ = true;
      ArmTimer(Clock::now() + options_->request_timeout, Deadline::kAnswerNotTaken);
      return;
    }
    std::string all;
    for (auto& l : notes_->Take()) {
      all += l;
      all += '\n';
    }
    Write(all.empty() ? std::move(resp) : all + resp);
  }

  void FailAndClose(const json& error) {
    closing_after_write_ = true;
    Write(error.dump());
  }

  void Write(std::string resp) {
    if (closed_) return;
    out_ = std::move(resp);
    out_ += '\n';
    busy_ = true;
    ArmTimer(Clock::now() + options_->request_timeout, Deadline::kAnswerNotTaken);
    if (!fds_.empty()) return SendWithFds();
    WriteRest();
  }

  // Descriptors a handler passes (open-lease) travel with the answer's first
  // bytes in one sendmsg (SCM_RIGHTS); the rest is written as any answer.
  // The client receives them with the line that describes them.
  void SendWithFds() {
    if (closed_) return;
    std::vector<int> raw;
    for (const auto& fd : fds_) raw.push_back(fd.get());
    std::vector<char> control(CMSG_SPACE(raw.size() * sizeof(int)), 0);
    struct iovec iov{out_.data(), out_.size()};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(raw.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), raw.data(), raw.size() * sizeof(int));
    ssize_t n = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto self = shared_from_this();
      socket_.async_wait(Stream::socket::wait_write, [this, self](boost::system::error_code ec) {
        if (ec) return Close();
        SendWithFds();
      });
      return;
    }
    if (n < 0) {
      Log()->debug("uid {} pid {}: sendmsg with descriptors: {}", ctx_.peer.uid, ctx_.peer.pid, std::strerror(errno));
      return Close();
    }
    fds_.clear();  // the peer holds them now; ours are closed
    out_.erase(0, static_cast<size_t>(n));
    WriteRest();
  }

  void WriteRest() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [this, self](boost::system::error_code ec, size_t) {
      busy_ = false;
      CancelTimer();
      out_ = std::string();
      if (ec) {
        Log()->debug("uid {} pid {}: write: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
        return Close();
      }
      if (closing_after_write_) return Close();
      if (pending_stream_) return StartStream();
      ReadLine();
    });
  }

  // Event streaming (subscribe). From here on the connection carries only
  // notifications: request lines are read and ignored (the peer ends the
  // stream by closing), no idle timeout applies, and the publisher never
  // waits for this peer: it queues into the subscriber's bounded queue, and
  // the session is woken by a post to the io thread.
  void StartStream() {
    stream_ = std::move(pending_stream_);
    SetBuffer({});
    CancelTimer();
    std::weak_ptr<Session> weak = shared_from_this();
    auto exec = socket_.get_executor();
    stream_->SetWake([weak, exec] {
      asio::post(exec, [weak] {
        if (auto s = weak.lock()) s->PumpStream();
      });
    });
    WatchStreamPeer();
    PumpStream();
  }

  // Reads and discards whatever the peer sends; its close ends the stream.
  void WatchStreamPeer() {
    auto self = shared_from_this();
    socket_.async_wait(Stream::socket::wait_read, [this, self](boost::system::error_code ec) {
      if (closed_) return;
      if (ec) return Close();
      boost::system::error_code rec;
      size_t n = socket_.read_some(asio::buffer(scratch_->data(), scratch_->size()), rec);
      if (rec == asio::error::would_block || rec == asio::error::try_again) return WatchStreamPeer();
      if (rec || n == 0) return Close();
      WatchStreamPeer();
    });
  }

  void PumpStream() {
    if (closed_ || writing_ || !stream_) return;
    constexpr size_t kChunkBytes = 256 * 1024;
    std::vector<std::string> lines = stream_->TakeLines(kChunkBytes);
    if (lines.empty()) {
      if (stopping_) Close();
      return;  // woken when the next line is queued
    }
    out_.clear();
    for (auto& l : lines) {
      out_ += l;
      out_ += '\n';
    }
    writing_ = true;
    if (stopping_) ArmTimer(Clock::now() + options_->request_timeout, Deadline::kAnswerNotTaken);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [this, self](boost::system::error_code ec, size_t) {
      writing_ = false;
      if (stopping_) CancelTimer();
      if (ec) {
        Log()->debug("uid {} pid {}: event stream write: {}", ctx_.peer.uid, ctx_.peer.pid, ec.message());
        return Close();
      }
      PumpStream();
    });
  }

  enum class Deadline { kIdle, kPartialLine, kAnswerNotTaken };

  // One deadline at a time. A timer that expired just as its wait or write
  // finished may already have its handler queued, which cancel() cannot
  // recall: the generation tells that handler it is stale.
  void ArmTimer(Clock::time_point at, Deadline what) {
    auto self = shared_from_this();
    uint64_t gen = ++deadline_gen_;
    timer_.expires_at(at);
    timer_.async_wait([this, self, what, gen](boost::system::error_code ec) {
      if (ec || closed_ || gen != deadline_gen_) return;  // cancelled or superseded
      OnDeadline(what);
    });
  }
  void CancelTimer() {
    ++deadline_gen_;
    timer_.cancel();
  }

  void OnDeadline(Deadline what) {
    switch (what) {
      case Deadline::kIdle:
        Log()->debug("uid {} pid {}: idle for {} ms (idle_timeout_ms), closing", ctx_.peer.uid, ctx_.peer.pid,
                     options_->idle_timeout.count());
        return Close();
      case Deadline::kAnswerNotTaken:
        Log()->debug("uid {} pid {}: answer not taken within {} ms (request_timeout_ms), closing",
                     ctx_.peer.uid, ctx_.peer.pid, options_->request_timeout.count());
        return Close();
      case Deadline::kPartialLine: {
        Log()->debug("uid {} pid {}: request incomplete after {} ms (request_timeout_ms), closing",
                     ctx_.peer.uid, ctx_.peer.pid, options_->request_timeout.count());
        size_t held = in_.size();
        SetBuffer({});
        return FailAndClose(Dispatcher::ErrorResponse(
            nullptr, -32600,
            "request incomplete: " + std::to_string(held) + " bytes without a newline after " +
                std::to_string(options_->request_timeout.count()) +
                " ms (request_timeout_ms); send each request as one line ending in \\n"));
      }
    }
  }

  // Replaces the buffered bytes, keeping the manager's total in step and
  // giving back the memory of a large line once it is gone.
  void SetBuffer(std::string in) {
    manager_->AdjustBuffered(static_cast<ptrdiff_t>(in.size()) - static_cast<ptrdiff_t>(in_.size()));
    in_ = std::move(in);
    scanned_ = 0;
    if (in_.empty() && in_.capacity() > 4096) in_ = std::string();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    SetBuffer({});
    fds_.clear();
    boost::system::error_code ignored;
    CancelTimer();
    socket_.shutdown(Stream::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (stream_) stream_->Close();  // pending_stream_ may still be the worker's: it goes with the session
    manager_->Remove(shared_from_this());
  }

  Stream::socket socket_;
  asio::steady_timer timer_;
  ConnectionManager* manager_;
  const Dispatcher* dispatcher_;
  WorkerLane* lane_;               // the shared workers, or the admin lane
  const ServerOptions* options_;
  std::vector<char>* scratch_;     // the io thread's read buffer, shared by all sessions
  const bool admin_;
  CallContext ctx_;
  std::string in_;                 // bytes read and not yet framed: at most max_request_bytes + 1
  size_t scanned_ = 0;             // in_[0, scanned_) holds no newline
  Clock::time_point partial_since_;  // when the first byte of the partial line in in_ arrived
  uint64_t deadline_gen_ = 0;        // bumped by every ArmTimer and CancelTimer
  std::string out_;
  std::vector<UniqueFd> fds_;      // passed with the next answer (CallContext::fds)
  // Notifications the worker queues ahead of the answer (CallContext::notify).
  std::shared_ptr<NotificationQueue> notes_ = std::make_shared<NotificationQueue>(kNotesQueued);
  std::string notes_out_;          // notifications being written
  std::string answer_after_notes_;  // the answer, when it came during that write
  bool notes_writing_ = false;
  std::shared_ptr<EventSubscriber> pending_stream_;  // set by subscribe on the worker, taken after its answer
  std::shared_ptr<EventSubscriber> stream_;          // streaming: the connection carries only these lines
  bool writing_ = false;                             // a stream write is in flight
  bool busy_ = false;
  bool stopping_ = false;
  bool closing_after_write_ = false;
  bool closed_ = false;
};

}  // namespace server_internal
}  // namespace pmemd
