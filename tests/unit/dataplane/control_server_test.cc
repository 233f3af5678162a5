#include "dataplane/runtime/control_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace cg::runtime {
namespace {

nlohmann::json echo(const nlohmann::json& req) {
  if (req["cmd"] == "boom") throw std::runtime_error("handler failed");
  return {{"ok", true}, {"cmd", req["cmd"]}};
}

TEST(ControlServer, AnswersValidatesVersionAndCommand) {
  ControlServer s(echo);
  auto j = nlohmann::json::parse(s.answer(R"({"v":1,"cmd":"stats"})"));
  EXPECT_TRUE(j["ok"]);
  EXPECT_EQ(j["v"], 1);
  j = nlohmann::json::parse(s.answer(R"({"v":2,"cmd":"stats"})"));
  EXPECT_FALSE(j["ok"]);
  EXPECT_NE(j["error"].get<std::string>().find("version"), std::string::npos);
  j = nlohmann::json::parse(s.answer("not json"));
  EXPECT_FALSE(j["ok"]);
  j = nlohmann::json::parse(s.answer(R"({"v":1})"));
  EXPECT_FALSE(j["ok"]);
  j = nlohmann::json::parse(s.answer(R"({"v":1,"cmd":"boom"})"));
  EXPECT_FALSE(j["ok"]);
  EXPECT_EQ(j["error"], "handler failed");
}

TEST(ControlServer, ServesOverAUnixSocket) {
  std::string path = "/tmp/cg-ctl-test-" + std::to_string(getpid()) + "/dp.sock";
  ControlServer s(echo);
  std::string err;
  ASSERT_TRUE(s.listen(path, &err)) << err;
  std::atomic<bool> stop{false};
  std::thread t([&] { s.serve(stop); });
  for (int i = 0; i < 3; ++i) {
    nlohmann::json resp;
    ASSERT_TRUE(control_request(path, {{"v", 1}, {"cmd", "health"}}, &resp, &err)) << err;
    EXPECT_EQ(resp["cmd"], "health");
  }
  ControlServer second(echo);
  EXPECT_FALSE(second.listen(path, &err)) << "a live socket is not stolen";
  EXPECT_NE(err.find("another dataplane"), std::string::npos);
  stop = true;
  t.join();
  nlohmann::json resp;
  EXPECT_FALSE(control_request("/tmp/cg-no-such.sock", {{"v", 1}}, &resp, &err));
  EXPECT_NE(err.find("cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace cg::runtime
