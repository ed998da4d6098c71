// WorkerLane: a pool of threads running what is posted to it, at a CPU
// priority of its own. Not a public header: lib/server only (server.cc).
//
// Thread safety: executor() may be used from any thread; Join() (and the
// destructor) from one, after which nothing may be posted.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

namespace pmemd {

// Worker threads that run requests, at a CPU priority of their own: the
// shared lane runs at a lower priority (server.cc's kSharedLaneNice) than the io
// thread and the admin lane, so that when other peers' batches keep every
// shared worker busy the kernel still gives root's requests, and the reads
// and writes of every connection, the CPU first.
class WorkerLane {
 public:
  WorkerLane(size_t threads, int nice) : work_(boost::asio::make_work_guard(io_)) {
    for (size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this, nice] {
        // Per thread on Linux; lowering needs no privilege. Best effort.
        if (nice != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
        io_.run();
      });
  }
  ~WorkerLane() { Join(); }
  WorkerLane(const WorkerLane&) = delete;
  WorkerLane& operator=(const WorkerLane&) = delete;

  boost::asio::io_context::executor_type executor() { return io_.get_executor(); }
  // Runs what was posted, then ends the threads.
  void Join() {
    work_.reset();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace pmemd
