#include "pmemd/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

namespace pmemd {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::NotFound("region 'region9' does not exist; known: region0");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: region 'region9' does not exist; known: region0");
}

TEST(StatusTest, FromErrnoMapsCodeAndKeepsErrno) {
  Status s = Status::FromErrno(ENOENT, "open /nonexistent");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.sys_errno(), ENOENT);
  EXPECT_EQ(s.message(), "open /nonexistent: No such file or directory");
  EXPECT_EQ(Status::FromErrno(EBUSY, "x").code(), Code::kBusy);
  EXPECT_EQ(Status::FromErrno(EIO, "x").code(), Code::kIoError);
}

TEST(StatusTest, AnnotatePrefixesContextAndKeepsCode) {
  Status s = Status::FromErrno(EACCES, "open f").Annotate("load config");
  // The OS refusing pmemd is not pmemd refusing the caller (issue 9, defect 7).
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ(s.sys_errno(), EACCES);
  EXPECT_EQ(s.message(), "load config: open f: Permission denied");
  EXPECT_TRUE(Status::Ok().Annotate("ignored").ok());
}

TEST(StatusTest, CodeNamesAreStable) {
  // These strings are part of the JSON API (error.data.code); never rename.
  EXPECT_EQ(CodeName(Code::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(CodeName(Code::kBusy), "busy");
  EXPECT_EQ(CodeName(Code::kInternal), "internal");
  EXPECT_EQ(CodeName(Code::kResourceExhausted), "resource_exhausted");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  PMEMD_ASSIGN_OR_RETURN(int h, Half(x));
  PMEMD_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  PMEMD_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  EXPECT_TRUE(r.status().ok());
  Result<int> e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
}

TEST(ResultTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(1).ok());
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace pmemd
