#include "pmemd/mutex.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace pmemd {
namespace {

using namespace std::chrono_literals;

TEST(MutexTest, MutexLockExcludesAndMayLetGoEarly) {
  Mutex mu;
  int n = 0;
  std::thread t;
  {
    MutexLock lock(mu);
    t = std::thread([&] {
      MutexLock other(mu);
      ++n;
    });
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(n, 0);  // held here
    lock.Unlock();
    t.join();  // the other thread got it before the scope ended
    EXPECT_EQ(n, 1);
  }
}

TEST(MutexTest, ReadersShareAWriterExcludes) {
  SharedMutex mu;
  std::atomic<int> inside{0};
  {
    ReaderLock a(mu);
    std::thread t([&] {
      ReaderLock b(mu);  // would deadlock if readers excluded each other
      inside = 1;
    });
    t.join();
  }
  EXPECT_EQ(inside, 1);
  WriterLock w(mu);
  std::thread t([&] {
    ReaderLock r(mu);
    inside = 2;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(inside, 1);
  w.Unlock();
  t.join();
  EXPECT_EQ(inside, 2);
}

TEST(MutexTest, CondVarWakesAWaiterAndTimesOut) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread t([&] {
    MutexLock lock(mu);
    ready = true;
    cv.NotifyAll();
  });
  {
    MutexLock lock(mu);
    while (!ready) cv.Wait(mu);
  }
  t.join();
  MutexLock lock(mu);
  const auto deadline = std::chrono::steady_clock::now() + 10ms;
  while (cv.WaitUntil(mu, deadline)) {
  }  // true only for a spurious wake-up: nobody notifies
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

}  // namespace
}  // namespace pmemd
