#include "server/notification_queue.h"

#include <thread>

#include <gtest/gtest.h>

namespace pmemd::server_internal {
namespace {

TEST(NotificationQueueTest, OnlyThePushIntoAnEmptyQueueAsksForAWake) {
  NotificationQueue q(4);
  EXPECT_TRUE(q.Push("a"));
  EXPECT_FALSE(q.Push("b")) << "a wake is already on its way";
  EXPECT_EQ(q.Take(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(q.Take().empty());
  EXPECT_TRUE(q.Push("c")) << "taken empty: the next push wakes again";
}

TEST(NotificationQueueTest, AFullQueueDropsTheOldestAndKeepsTheLastPushed) {
  NotificationQueue q(3);
  for (int i = 1; i <= 10; ++i) q.Push(std::to_string(i));
  EXPECT_EQ(q.Take(), (std::vector<std::string>{"8", "9", "10"}));
  EXPECT_EQ(q.dropped(), 7u);
}

TEST(NotificationQueueTest, AWorkerPushingWhileTheIoThreadTakesLosesOnlyCountedLinesAndNeverTheLast) {
  constexpr int kLines = 20000;
  NotificationQueue q(8);
  std::vector<std::string> got;
  std::thread worker([&] {
    for (int i = 0; i < kLines; ++i) q.Push(std::to_string(i));
  });
  while (got.empty() || got.back() != std::to_string(kLines - 1))
    for (auto& l : q.Take()) got.push_back(std::move(l));
  worker.join();
  for (auto& l : q.Take()) got.push_back(std::move(l));
  EXPECT_EQ(got.size() + q.dropped(), static_cast<size_t>(kLines));
  for (size_t i = 1; i < got.size(); ++i) ASSERT_LT(std::stoi(got[i - 1]), std::stoi(got[i])) << "in order";
}

}  // namespace
}  // namespace pmemd::server_internal
