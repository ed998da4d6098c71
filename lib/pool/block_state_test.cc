// The memory-block state machine: every legal and illegal transition.
#include <set>

#include <gtest/gtest.h>

#include "pmemd/pool.h"

namespace pmemd {
namespace {

constexpr BlockState kAll[] = {BlockState::kOffline, BlockState::kGoingOnline, BlockState::kOnline,
                               BlockState::kGoingOffline};

TEST(BlockStateTest, TransitionTableIsExactlyTheKernels) {
  using B = BlockState;
  const std::set<std::pair<B, B>> legal = {
      {B::kOffline, B::kGoingOnline},  {B::kGoingOnline, B::kOnline},   {B::kGoingOnline, B::kOffline},
      {B::kOnline, B::kGoingOffline}, {B::kGoingOffline, B::kOffline}, {B::kGoingOffline, B::kOnline}};
  int n_legal = 0;
  for (B from : kAll)
    for (B to : kAll) {
      bool want = legal.count({from, to}) != 0;
      EXPECT_EQ(IsLegalTransition(from, to), want) << BlockStateName(from) << " -> " << BlockStateName(to);
      Status s = CheckTransition(7, from, to);
      EXPECT_EQ(s.ok(), want);
      if (!want) {
        EXPECT_EQ(s.code(), Code::kFailedPrecondition);
        EXPECT_NE(s.message().find("block 7: " + std::string(BlockStateName(from)) + " -> " +
                                   std::string(BlockStateName(to))),
                  std::string::npos)
            << s.message();
      }
      n_legal += want;
    }
  EXPECT_EQ(n_legal, 6);
}

TEST(BlockStateTest, IllegalTransitionNamesTheLegalOnes) {
  Status s = CheckTransition(3, BlockState::kOnline, BlockState::kGoingOnline);
  EXPECT_NE(s.message().find("from online a block goes going-offline"), std::string::npos) << s.message();
  s = CheckTransition(3, BlockState::kGoingOffline, BlockState::kGoingOnline);
  EXPECT_NE(s.message().find("goes offline or online"), std::string::npos) << s.message();
}

TEST(BlockStateTest, CrashRollsBackToTheLastStableState) {
  EXPECT_EQ(StableStateOf(BlockState::kGoingOnline), BlockState::kOffline);
  EXPECT_EQ(StableStateOf(BlockState::kGoingOffline), BlockState::kOnline);
  EXPECT_EQ(StableStateOf(BlockState::kOnline), BlockState::kOnline);
  EXPECT_EQ(StableStateOf(BlockState::kOffline), BlockState::kOffline);
}

TEST(BlockStateTest, NamesRoundTrip) {
  for (BlockState s : kAll) {
    auto p = ParseBlockState(BlockStateName(s));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, s);
  }
  EXPECT_EQ(ParseBlockState("onlined").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace pmemd
