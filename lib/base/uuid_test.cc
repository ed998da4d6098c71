#include "pmemd/uuid.h"

#include <gtest/gtest.h>

namespace pmemd {
namespace {

TEST(UuidTest, FormatsLowerCaseEightFourFourFourTwelve) {
  const uint8_t u[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  EXPECT_EQ(FormatUuid(u), "12345678-9abc-def0-0123-456789abcdef");
}

TEST(UuidTest, ParseIsTheInverseOfFormatAndAcceptsUpperCase) {
  uint8_t u[16];
  ASSERT_TRUE(ParseUuid("12345678-9ABC-def0-0123-456789abcdef", u));
  EXPECT_EQ(FormatUuid(u), "12345678-9abc-def0-0123-456789abcdef");
}

TEST(UuidTest, RejectsWhatIsNotAUuid) {
  uint8_t u[16] = {};
  for (const char* bad : {"", "12345678-9abc-def0-0123-456789abcde", "12345678-9abc-def0-0123-456789abcdeg",
                          "123456789abc-def0-0123-456789abcdef0", "12345678-9abc-def0-0123-456789abcdef0"}) {
    EXPECT_FALSE(ParseUuid(bad, u)) << bad;
  }
}

TEST(UuidTest, NewUuidsAreRandomVersion4AndValid) {
  std::string u = NewUuid();
  EXPECT_TRUE(IsUuid(u)) << u;
  EXPECT_EQ(u[14], '4');                                // version 4
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // variant 10
  EXPECT_NE(NewUuid(), u);
  EXPECT_FALSE(IsUuid("0123"));
  EXPECT_FALSE(IsUuid("01234567-89ab-cdef-0123-456789abcdeg"));
}

}  // namespace
}  // namespace pmemd
