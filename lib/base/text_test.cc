#include "pmemd/text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pmemd {
namespace {

TEST(Utf8, AcceptsWellFormedTextAndRefusesEveryKindOfMalformedSequence) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9t\xc3\xa9"));           // été
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));                 // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));             // U+1F600
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));         // NUL is valid UTF-8
  EXPECT_FALSE(IsValidUtf8("\xff"));                        // never valid
  EXPECT_FALSE(IsValidUtf8("\xc3"));                        // cut short
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                    // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));                // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));            // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));                        // lone continuation byte
}

TEST(Utf8, InvalidBytesAreShownAsEscapesAndValidTextIsKept) {
  EXPECT_EQ(ToValidUtf8("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(ToValidUtf8("\xc3\xa9\xc3"), "\xc3\xa9\\xc3");
  EXPECT_EQ(ToValidUtf8("ok"), "ok");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xed\xa0\x80\xf8\xfe")));
}

TEST(Utf8, ExcerptCutsOnlyAtCharacterBoundaries) {
  std::string s = "a";
  for (int i = 0; i < 30; ++i) s += "\xc3\xa9";  // é, two bytes each
  for (size_t max = 0; max < s.size() + 2; ++max) {
    std::string e = Excerpt(s, max);
    EXPECT_TRUE(IsValidUtf8(e)) << "max " << max;
    EXPECT_LE(e.size(), max + 30);
  }
  EXPECT_EQ(Excerpt(s, 4), "a\xc3\xa9...(61 bytes)");  // 4 bytes would split the second é
  EXPECT_EQ(Excerpt("short", 64), "short");
  EXPECT_EQ(Excerpt("\xff\xff\xff", 5), "\\xff...(3 bytes)");
  EXPECT_EQ(Quote("x"), "'x'");
}

TEST(Utf8, DumpJsonNeverThrowsOnInvalidText) {
  nlohmann::json j = {{"message", std::string("bad \xff byte")}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);  // what DumpJson guards against
  std::string out;
  EXPECT_NO_THROW(out = DumpJson(j));
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_NE(out.find("bad"), std::string::npos);
}

}  // namespace
}  // namespace pmemd
