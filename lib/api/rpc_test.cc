#include "pmemd/rpc.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "pmemd/events.h"
#include "pmemd/fs.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/log.h"
#include "pmemd/metrics.h"
#include "pmemd/text.h"
#include "support/echo_method.h"

namespace pmemd {
namespace {

using nlohmann::json;

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : dispatcher_(&registry_, AccessPolicy(std::nullopt)) {
    EXPECT_TRUE(registry_
                    .Add(EchoMethod("echo", {"a", "n"}))
                    .ok());
    EXPECT_TRUE(registry_
                    .Add({"create-thing", "Mutates", Access::kMutate,
                          {Param::Unsigned("size", "bytes").Required()}, schema::Any(),
                          [this](JsonReader& r, const CallContext&) -> Result<json> {
                            ++mutations_;
                            uint64_t size = 0;
                            r.Required("size", &size);
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            if (size % 4096)
                              return Status::InvalidArgument("size " + std::to_string(size) +
                                                             " is not a multiple of 4096");
                            return json{{"size", size}};
                          }})
                    .ok());
    EXPECT_TRUE(registry_
                    .Add({"busy", "Fails with busy", Access::kRead, {}, schema::Any(),
                          [](JsonReader& r, const CallContext&) -> Result<json> {
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            return Status(Code::kBusy, "block 3 holds lease a", EBUSY);
                          }})
                    .ok());
    EXPECT_TRUE(registry_
                    .Add({"throws", "Throws", Access::kRead, {}, schema::Any(),
                          [](JsonReader&, const CallContext&) -> Result<json> {
                            throw std::runtime_error("boom");
                          }})
                    .ok());
    EXPECT_TRUE(registry_
                    .Add({"blob", "Returns a string of params.bytes bytes", Access::kRead,
                          {Param::Unsigned("bytes", "how many").Default(0)}, schema::Any(),
                          [](JsonReader& r, const CallContext&) -> Result<json> {
                            uint64_t bytes = 0;
                            r.Optional("bytes", &bytes);
                            PMEMD_RETURN_IF_ERROR(r.Finish());
                            return json(std::string(bytes, 'b'));
                          }})
                    .ok());
    root_.peer = {true, 1, 0, 0};
    user_.peer = {true, 2, 12345, 12345};
  }

  json Call(const std::string& line, const CallContext& ctx) {
    std::string out = dispatcher_.HandleLine(line, ctx);
    if (out.empty()) return json();
    auto r = ParseJson(out);
    EXPECT_TRUE(r.ok()) << out;
    return r.ok() ? *r : json();
  }
  json Call(const std::string& line) { return Call(line, root_); }

  Registry registry_;
  Dispatcher dispatcher_;
  CallContext root_, user_;
  int mutations_ = 0;
};

TEST_F(DispatcherTest, SuccessEchoesIdAndResult) {
  json r = Call(R"({"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":7})");
  EXPECT_EQ(r, json::parse(R"({"jsonrpc":"2.0","result":{"a":1},"id":7})"));
  r = Call(R"({"jsonrpc":"2.0","method":"echo","id":"x"})");
  EXPECT_EQ(r["id"], "x");
  EXPECT_TRUE(r["result"].is_null());
}

TEST_F(DispatcherTest, MalformedJsonIsParseError) {
  json r = Call(R"({"jsonrpc":"2.0","method":)");
  EXPECT_EQ(r["error"]["code"], -32700);
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_NE(r["error"]["message"].get<std::string>().find("byte"), std::string::npos);
}

TEST_F(DispatcherTest, DeepNestingIsRefusedNotRecursed) {
  std::string deep(100000, '[');
  json r = Call(deep);
  EXPECT_EQ(r["error"]["code"], -32700);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("nested deeper"), std::string::npos);
}

TEST_F(DispatcherTest, NonObjectIsInvalidRequest) {
  for (const char* line : {"42", "\"list\"", "null", "true"}) {
    json r = Call(line);
    EXPECT_EQ(r["error"]["code"], -32600) << line;
    EXPECT_NE(r["error"]["message"].get<std::string>().find("JSON object"), std::string::npos);
  }
}

TEST_F(DispatcherTest, MissingJsonrpcOrMethodIsInvalidRequest) {
  json r = Call(R"({"method":"echo","id":1})");
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("\"2.0\""), std::string::npos);
  EXPECT_EQ(r["id"], 1);
  r = Call(R"({"jsonrpc":"2.0","id":1})");
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("method"), std::string::npos);
  r = Call(R"({"jsonrpc":"2.0","method":5,"id":1})");
  EXPECT_EQ(r["error"]["code"], -32600);
  r = Call(R"({"jsonrpc":"2.0","method":"echo","id":{"x":1}})");
  EXPECT_EQ(r["error"]["code"], -32600);
  r = Call(R"({"jsonrpc":"2.0","method":"echo","id":1,"extra":2})");
  EXPECT_EQ(r["error"]["code"], -32600);
}

TEST_F(DispatcherTest, UnknownMethodSuggestsNearest) {
  json r = Call(R"({"jsonrpc":"2.0","method":"ecko","id":1})");
  EXPECT_EQ(r["error"]["code"], -32601);
  EXPECT_EQ(r["error"]["message"], "unknown method 'ecko'; did you mean 'echo'?");
  r = Call(R"({"jsonrpc":"2.0","method":"completely-different","id":1})");
  EXPECT_EQ(r["error"]["message"], "unknown method 'completely-different'; call list-methods to see them");
}

TEST_F(DispatcherTest, WrongParamsAreInvalidParams) {
  json r = Call(R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":"4K"},"id":1})");
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_EQ(r["error"]["message"], "params.size: expected an unsigned integer, got string \"4K\"");
  EXPECT_EQ(r["error"]["data"]["code"], "invalid_argument");
  r = Call(R"({"jsonrpc":"2.0","method":"create-thing","params":[1,2],"id":1})");
  EXPECT_EQ(r["error"]["code"], -32602);
  r = Call(R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":1000},"id":1})");
  EXPECT_EQ(r["error"]["message"], "size 1000 is not a multiple of 4096");
}

TEST_F(DispatcherTest, ApplicationErrorsCarryCodeNameAndErrno) {
  json r = Call(R"({"jsonrpc":"2.0","method":"busy","id":1})");
  EXPECT_EQ(r["error"]["code"], -32004);
  EXPECT_EQ(r["error"]["data"]["code"], "busy");
  EXPECT_EQ(r["error"]["data"]["errno"], EBUSY);
  EXPECT_LT(RpcErrorCode(Code::kBusy), -32000);
  EXPECT_GT(RpcErrorCode(Code::kBusy), -32099);
}

TEST_F(DispatcherTest, ExceptionBecomesInternalError) {
  json r = Call(R"({"jsonrpc":"2.0","method":"throws","id":1})");
  EXPECT_EQ(r["error"]["code"], -32603);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("boom"), std::string::npos);
}

TEST_F(DispatcherTest, NotificationsGetNoResponse) {
  EXPECT_EQ(dispatcher_.HandleLine(R"({"jsonrpc":"2.0","method":"echo"})", root_), "");
  EXPECT_EQ(dispatcher_.HandleLine(R"({"jsonrpc":"2.0","method":"nope"})", root_), "");
}

TEST_F(DispatcherTest, BatchAnswersEachInOrderAndSkipsNotifications) {
  json r = Call(R"([{"jsonrpc":"2.0","method":"echo","params":{"n":1},"id":1},
                    {"jsonrpc":"2.0","method":"echo"},
                    42,
                    {"jsonrpc":"2.0","method":"nope","id":3}])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["result"]["n"], 1);
  EXPECT_EQ(r[1]["error"]["code"], -32600);
  EXPECT_EQ(r[2]["error"]["code"], -32601);
  EXPECT_EQ(Call("[]")["error"]["code"], -32600);
}

TEST_F(DispatcherTest, BatchSizeIsBounded) {
  json batch = json::array();
  for (int i = 0; i < 257; ++i) batch.push_back({{"jsonrpc", "2.0"}, {"method", "echo"}, {"id", i}});
  json r = Call(batch.dump());
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("limit of 256"), std::string::npos);
}

TEST_F(DispatcherTest, MutatingMethodsNeedRootOrAdminGroup) {
  std::string line = R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":4096},"id":1})";
  json r = Call(line, user_);
  EXPECT_EQ(r["error"]["code"], RpcErrorCode(Code::kPermissionDenied));
  EXPECT_EQ(r["error"]["data"]["code"], "permission_denied");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("uid 12345"), std::string::npos);
  EXPECT_EQ(mutations_, 0);
  EXPECT_EQ(Call(line, root_)["result"]["size"], 4096);
  EXPECT_EQ(mutations_, 1);
  // Reads are open to everyone who can reach the socket.
  EXPECT_TRUE(Call(R"({"jsonrpc":"2.0","method":"echo","id":1})", user_).contains("result"));
  // Unknown credentials never mutate.
  CallContext unknown;
  EXPECT_EQ(Call(line, unknown)["error"]["data"]["code"], "permission_denied");
}

// A per-user pmemd (the README's first command, as an ordinary user) serves
// its own user: that user owns the process anyway.
TEST_F(DispatcherTest, PmemdsOwnUserMayMutate) {
  CallContext owner;
  owner.peer = {true, 4, ::geteuid(), ::getegid()};
  std::string out = dispatcher_.HandleLine(
      R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":4096},"id":1})", owner);
  EXPECT_NE(out.find("\"result\""), std::string::npos) << out;
}

TEST_F(DispatcherTest, AdminGroupMembersMayMutate) {
  Dispatcher d(&registry_, AccessPolicy(gid_t{4242}));
  CallContext member;
  member.peer = {true, 3, 12345, 4242};
  std::string out =
      d.HandleLine(R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":4096},"id":1})", member);
  EXPECT_NE(out.find("\"result\""), std::string::npos) << out;
}

TEST_F(DispatcherTest, ListMethodsListsItselfAndEveryMethod) {
  json r = Call(R"({"jsonrpc":"2.0","method":"list-methods","id":1})");
  json methods = r["result"]["methods"];
  ASSERT_TRUE(methods.is_array());
  std::vector<std::string> names;
  for (const auto& m : methods) {
    names.push_back(m["name"]);
    EXPECT_FALSE(m["summary"].get<std::string>().empty());
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"blob", "busy", "create-thing", "echo", "list-methods", "rpc.discover", "throws"}));
  EXPECT_EQ(methods[2]["access"], "mutate");
}

json BlobBatch(int n, size_t bytes) {
  json batch = json::array();
  for (int i = 0; i < n; ++i)
    batch.push_back({{"jsonrpc", "2.0"}, {"method", "blob"}, {"params", {{"bytes", bytes}}}, {"id", i}});
  return batch;
}

TEST_F(DispatcherTest, AnswerLargerThanMaxReplyBytesIsResourceExhaustedNamingTheBound) {
  Dispatcher d(&registry_, AccessPolicy(), {.max_reply_bytes = 10000});
  std::string out = d.HandleLine(R"({"jsonrpc":"2.0","method":"blob","params":{"bytes":20000},"id":7})", root_);
  json r = *ParseJson(out);
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(r["error"]["code"], RpcErrorCode(Code::kResourceExhausted));
  EXPECT_EQ(r["error"]["code"], -32013) << "appended codes keep the numbers of the earlier ones";
  EXPECT_EQ(r["error"]["data"]["code"], "resource_exhausted");
  std::string msg = r["error"]["message"];
  EXPECT_NE(msg.find("limit of 10000 bytes (max_reply_bytes)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("narrower query"), std::string::npos) << msg;
  EXPECT_EQ(*ParseJson(d.HandleLine(R"({"jsonrpc":"2.0","method":"blob","params":{"bytes":9000},"id":8})",
                                    root_)),
            (json{{"jsonrpc", "2.0"}, {"result", std::string(9000, 'b')}, {"id", 8}}));
}

TEST_F(DispatcherTest, BatchAnswersThatWouldPushTheReplyOverTheBoundBecomeErrors) {
  Dispatcher d(&registry_, AccessPolicy(), {.max_reply_bytes = 10000});
  std::string out = d.HandleLine(BlobBatch(6, 3000).dump(), root_);
  EXPECT_LE(out.size(), 10000u + 6 * 400) << "only the small error entries may go past the bound";
  json r = *ParseJson(out);
  ASSERT_EQ(r.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r[i]["result"].get<std::string>().size(), 3000u) << i;
  for (int i = 3; i < 6; ++i) {
    EXPECT_EQ(r[i]["id"], i);
    EXPECT_EQ(r[i]["error"]["data"]["code"], "resource_exhausted") << r[i];
    EXPECT_NE(r[i]["error"]["message"].get<std::string>().find("smaller batch"), std::string::npos);
  }
  // Under the bound a batch is answered whole.
  json whole = *ParseJson(d.HandleLine(BlobBatch(3, 100).dump(), root_));
  for (const auto& e : whole) EXPECT_TRUE(e.contains("result")) << e;
}

TEST_F(DispatcherTest, HugeUnknownMethodNameGetsNoSuggestionAndIsCutInTheMessage) {
  std::string name(1 << 20, 'x');
  json req = {{"jsonrpc", "2.0"}, {"method", name}, {"id", 1}};
  std::string out = dispatcher_.HandleLine(req.dump(), root_);
  EXPECT_LT(out.size(), 512u);
  json r = *ParseJson(out);
  EXPECT_EQ(r["error"]["code"], -32601);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("(1048576 bytes)"), std::string::npos);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("call list-methods"), std::string::npos);
  // A near miss of normal length still gets its suggestion.
  EXPECT_NE(Call(R"({"jsonrpc":"2.0","method":"echp","id":1})")["error"]["message"].get<std::string>().find(
                "did you mean 'echo'"),
            std::string::npos);
}

TEST_F(DispatcherTest, RefusalsAreLoggedOncePerUidPerIntervalWithNothingLost) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto log = GetLogger("rpc");
  log->sinks().push_back(sink);
  std::string line = R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":4096},"id":1})";
  CallContext other = user_;
  other.peer.uid = 12346;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Call(line, user_)["error"]["data"]["code"], "permission_denied");
    EXPECT_EQ(Call(line, other)["error"]["data"]["code"], "permission_denied");
  }
  log->sinks().pop_back();
  std::string text = captured.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("uid 12345"), std::string::npos);
  EXPECT_NE(text.find("uid 12346"), std::string::npos);
}

TEST(AccessPolicyTest, IsAdminIsRootOrTheAdminGroupAndNeverUnknownPeers) {
  AccessPolicy root_only, with_group(gid_t{4242});
  PeerCred root{true, 1, 0, 0}, member{true, 2, 12345, 4242}, user{true, 3, 12345, 12345}, unknown;
  EXPECT_TRUE(root_only.IsAdmin(root));
  EXPECT_FALSE(root_only.IsAdmin(member));
  EXPECT_TRUE(with_group.IsAdmin(member));
  EXPECT_FALSE(with_group.IsAdmin(user));
  EXPECT_FALSE(with_group.IsAdmin(unknown));
}

// Issue 9, defect 1: the parse error quoted the invalid byte and serializing
// the reply threw out of the request path.
TEST_F(DispatcherTest, InvalidUtf8InTheRequestIsAParseErrorWithValidText) {
  for (std::string line : {std::string("\"\xff\""), std::string("{\"jsonrpc\":\"2.0\",\"method\":\"\xc3\"}"),
                           std::string("\xed\xa0\x80"), std::string("[\"\xf8\xf8\xf8\"]")}) {
    std::string out;
    ASSERT_NO_THROW(out = dispatcher_.HandleLine(line, user_)) << line;
    ASSERT_TRUE(IsValidUtf8(out)) << out;
    json r = json::parse(out);
    EXPECT_EQ(r["error"]["code"], -32700) << out;
  }
}

// Issue 9, defect 2: a wrong-typed string was cut mid-character.
TEST_F(DispatcherTest, WrongTypedStringsAreQuotedWholeCharactersOnly) {
  for (int pad = 0; pad < 8; ++pad) {
    std::string value = std::string(pad, 'a');
    for (int i = 0; i < 30; ++i) value += "\xc3\xa9";
    json req = {{"jsonrpc", "2.0"}, {"method", "create-thing"}, {"params", {{"size", value}}}, {"id", 1}};
    std::string out;
    ASSERT_NO_THROW(out = dispatcher_.HandleLine(req.dump(), root_));
    ASSERT_TRUE(IsValidUtf8(out)) << out;
    json r = json::parse(out);
    EXPECT_EQ(r["error"]["code"], -32602);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("..."), std::string::npos);
  }
}

// Whatever a handler puts in its message or result, the reply is valid
// JSON and the dispatcher does not throw.
TEST_F(DispatcherTest, InvalidTextFromAHandlerNeverEscapesAsAnException) {
  ASSERT_TRUE(registry_
                  .Add({"bad-text", "Answers with invalid UTF-8", Access::kRead,
                        {{.name = "fail", .type = ParamType::kAny, .description = "fail"}}, schema::Any(),
                        [](JsonReader& r, const CallContext&) -> Result<json> {
                          json fail;
                          const bool failing = r.Optional("fail", &fail);
                          PMEMD_RETURN_IF_ERROR(r.Finish());
                          if (failing) return Status::NotFound("no '\xff' here");
                          return json{{"name", "\xfe"}};
                        }})
                  .ok());
  for (const char* line : {R"({"jsonrpc":"2.0","method":"bad-text","id":1})",
                           R"({"jsonrpc":"2.0","method":"bad-text","params":{"fail":1},"id":1})",
                           R"([{"jsonrpc":"2.0","method":"bad-text","id":1}])"}) {
    std::string out;
    ASSERT_NO_THROW(out = dispatcher_.HandleLine(line, root_)) << line;
    EXPECT_TRUE(IsValidUtf8(out)) << out;
    EXPECT_FALSE(json::parse(out, nullptr, /*allow_exceptions=*/false).is_discarded()) << out;
  }
  json r = Call(R"({"jsonrpc":"2.0","method":"bad-text","params":{"fail":1},"id":1})");
  EXPECT_EQ(r["error"]["message"], "no '\\xff' here");
}

// The wire codes are a public contract: docs/api.md's table is the oracle,
// so reordering enum Code (or editing the table) fails here. Issue 16.
TEST(RpcErrorCodeTest, EveryCodeMatchesTheDocumentedTable) {
  auto doc = ReadFile(std::string(PMEMD_SOURCE_DIR) + "/docs/api.md");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  std::map<std::string, int> documented;  // data.code -> number
  std::istringstream in(*doc);
  for (std::string line; std::getline(in, line);) {
    int number = 0;
    char name[64] = {};
    if (std::sscanf(line.c_str(), "| %d | `%63[a-z_]` |", &number, name) == 2) documented[name] = number;
  }
  ASSERT_GE(documented.size(), 12u) << "the error table in docs/api.md was not found";
  for (int c = static_cast<int>(Code::kInvalidArgument); c <= static_cast<int>(kLastCode); ++c) {
    const Code code = static_cast<Code>(c);
    const std::string name(CodeName(code));
    ASSERT_TRUE(documented.count(name)) << name << " is not in docs/api.md's error table";
    EXPECT_EQ(RpcErrorCode(code), documented[name]) << name;
  }
  // And the numbers themselves, so that a change to both is deliberate.
  EXPECT_EQ(documented, (std::map<std::string, int>{
                            {"invalid_argument", -32602}, {"internal", -32603}, {"not_found", -32002},
                            {"already_exists", -32003}, {"busy", -32004}, {"permission_denied", -32005},
                            {"failed_precondition", -32006}, {"no_space", -32007}, {"corruption", -32008},
                            {"io_error", -32009}, {"unsupported", -32010}, {"unavailable", -32011},
                            {"resource_exhausted", -32013}}));
}

TEST(RegistryTest, DuplicateNameIsRefused) {
  Registry reg;
  auto h = [](JsonReader& r, const CallContext&) -> Result<json> {
    PMEMD_RETURN_IF_ERROR(r.Finish());
    return json();
  };
  EXPECT_TRUE(reg.Add({"a", "x", Access::kRead, {}, schema::Any(), h}).ok());
  EXPECT_EQ(reg.Add({"a", "y", Access::kRead, {}, schema::Any(), h}).code(), Code::kAlreadyExists);
  EXPECT_EQ(reg.Add({"list-methods", "y", Access::kRead, {}, schema::Any(), h}).code(), Code::kAlreadyExists);
  EXPECT_EQ(reg.Add({"rpc.discover", "y", Access::kRead, {}, schema::Any(), h}).code(), Code::kAlreadyExists);
}

TEST(RegistryTest, AMethodWithoutResultSchemaOrWithABadDeclarationIsRefused) {
  Registry reg;
  auto h = [](JsonReader& r, const CallContext&) -> Result<json> {
    PMEMD_RETURN_IF_ERROR(r.Finish());
    return json();
  };
  Status s = reg.Add({"a", "x", Access::kRead, {}, json(), h});
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("needs a result schema"), std::string::npos) << s.message();
  s = reg.Add({"b", "x", Access::kRead, {Param::Boolean("f", "flag").Default("yes")}, schema::Any(), h});
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("method 'b'"), std::string::npos) << s.message();
  EXPECT_EQ(reg.Find("b"), nullptr);
}

// The dispatcher gives a handler its declared reader and holds it to it.
TEST(DispatcherParamsTest, AHandlerThatDoesNotCheckItsParamsOrDisagreesWithItsDeclarationIsABug) {
  Registry reg;
  ASSERT_TRUE(reg.Add({"unchecked", "never calls Finish", Access::kRead, {}, schema::Any(),
                       [](JsonReader&, const CallContext&) -> Result<json> { return json(1); }})
                  .ok());
  ASSERT_TRUE(reg.Add({"undeclared", "reads a key it does not declare", Access::kRead, {}, schema::Any(),
                       [](JsonReader& r, const CallContext&) -> Result<json> {
                         bool force = false;
                         r.Optional("force", &force);
                         PMEMD_RETURN_IF_ERROR(r.Finish());
                         return json(force);
                       }})
                  .ok());
  Dispatcher d(&reg, AccessPolicy(std::nullopt));
  CallContext ctx;
  json r = *ParseJson(d.HandleLine(R"({"jsonrpc":"2.0","method":"unchecked","id":1})", ctx));
  EXPECT_EQ(r["error"]["code"], -32603);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("answered without checking its params"), std::string::npos);
  // Whatever is sent, even nothing: the disagreement shows on every call.
  for (const char* line : {R"({"jsonrpc":"2.0","method":"undeclared","id":1})",
                           R"({"jsonrpc":"2.0","method":"undeclared","params":{"force":true},"id":1})"}) {
    r = *ParseJson(d.HandleLine(line, ctx));
    EXPECT_EQ(r["error"]["code"], -32603) << line;
    EXPECT_NE(r["error"]["message"].get<std::string>().find("reads params.force, which it does not declare"),
              std::string::npos);
  }
}

TEST_F(DispatcherTest, DeclaredParamsAreEnforcedByTheDispatchersReader) {
  json r = Call(R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":"4K"},"id":1})");
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_EQ(r["error"]["message"], "params.size: expected an unsigned integer, got string \"4K\"");
  r = Call(R"({"jsonrpc":"2.0","method":"create-thing","params":{"size":4096,"sise":1},"id":1})");
  EXPECT_EQ(r["error"]["message"], "params: unknown key 'sise'; known keys: size");
  r = Call(R"({"jsonrpc":"2.0","method":"blob","id":1})");
  EXPECT_EQ(r["result"], "") << "the declared default 0";
}

// rpc.discover publishes what the dispatcher enforces: each declared param
// with its schema, the result schema, the errors, the access.
TEST_F(DispatcherTest, DiscoverDescribesEveryMethodFromItsDeclaration) {
  json r = Call(R"({"jsonrpc":"2.0","method":"rpc.discover","id":1})");
  ASSERT_TRUE(r.contains("result")) << r;
  const json& doc = r["result"];
  EXPECT_EQ(doc["openrpc"], "1.2.6");
  EXPECT_EQ(doc["info"]["version"], PMEMD_API_VERSION);
  std::vector<std::string> names;
  for (const auto& m : doc["methods"]) names.push_back(m["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"blob", "busy", "create-thing", "echo", "list-methods", "rpc.discover",
                                             "throws"}));
  const json& create = doc["methods"][2];
  EXPECT_EQ(create["x-access"], "mutate");
  EXPECT_EQ(create["paramStructure"], "by-name");
  EXPECT_EQ(create["params"], json::parse(R"([{"name":"size","description":"bytes","required":true,
      "schema":{"type":"integer","minimum":0,"maximum":18446744073709551615}}])"));
  EXPECT_EQ(doc["methods"][0]["params"][0]["schema"]["default"], 0);
  EXPECT_EQ(doc["methods"][4]["x-access"], "read");
  EXPECT_EQ(doc["methods"][4]["result"]["schema"]["required"], json::array({"methods"}));
  // One error per Code, each referred to by every method.
  const json& errors = doc["components"]["errors"];
  EXPECT_EQ(errors.size(), static_cast<size_t>(kLastCode));
  EXPECT_EQ(errors["busy"]["code"], -32004);
  EXPECT_EQ(errors["busy"]["data"], json({{"code", "busy"}}));
  EXPECT_EQ(create["errors"].size(), errors.size());
  EXPECT_EQ(create["errors"][0]["$ref"].get<std::string>().rfind("#/components/errors/", 0), 0u);
}

// Events a handler publishes name its request; every request that names a
// method is counted by method and outcome.
TEST(DispatcherOriginTest, EventsNameTheRequestAndRequestsAreCounted) {
  EventBus bus;
  std::vector<Event> seen;
  auto sub = bus.Subscribe([&](const Event& e) { seen.push_back(e); });
  Registry registry;
  ASSERT_TRUE(registry
                  .Add({"make", "Publishes", Access::kRead, {}, schema::Any(),
                        [&](JsonReader& r, const CallContext&) -> Result<json> {
                          PMEMD_RETURN_IF_ERROR(r.Finish());
                          bus.Publish({.kind = "pool", .object = "pool:p", .to = "created"});
                          return json::object();
                        }})
                  .ok());
  Dispatcher d(&registry, AccessPolicy(std::nullopt));
  RequestMetrics metrics;
  d.set_metrics(&metrics);
  CallContext ctx;
  ctx.peer = {.known = true, .pid = 77, .uid = 1234, .gid = 1234};
  (void)d.HandleLine(R"({"jsonrpc":"2.0","method":"make","id":"x"})", ctx);
  (void)d.HandleLine(R"({"jsonrpc":"2.0","method":"nope","id":2})", ctx);
  bus.Publish({.kind = "pool", .object = "pool:q", .to = "created"});  // outside any request
  ASSERT_EQ(seen.size(), 2u);
  ASSERT_TRUE(seen[0].request.has_value());
  EXPECT_EQ(seen[0].request->method, "make");
  EXPECT_EQ(seen[0].request->id, "x");
  EXPECT_EQ(seen[0].request->uid, 1234);
  EXPECT_EQ(seen[0].request->pid, 77);
  EXPECT_FALSE(seen[1].request.has_value());
  PromText t;
  metrics.Render(&t);
  EXPECT_NE(t.text().find("pmemd_requests_total{method=\"make\",outcome=\"ok\"} 1\n"), std::string::npos) << t.text();
  EXPECT_NE(t.text().find("pmemd_requests_total{method=\"unknown\",outcome=\"method_not_found\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace pmemd
