#include "dataplane/runtime/control_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/socket.h>

#include <chrono>
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

// A stream whose socket was full gets the tick as soon as it can take more: the round does not
// wait for its timeout (a minute here, so only the writable socket can end it).
TEST(ControlServer, ARoundEndsWhenAStreamWithOutputWaitingCanTakeMore) {
  std::string path = "/tmp/cg-ctl-wake-" + std::to_string(getpid()) + "/dp.sock";
  ControlServer s(echo);
  std::string err;
  ASSERT_TRUE(s.listen(path, &err)) << err;
  s.set_poll_ms(60'000);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const std::string chunk(4096, 'x');
  while (send(sv[0], chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  std::atomic<int> ticks{0};
  std::atomic<bool> waiting{true};
  s.set_tick([&] {
    ++ticks;
    waiting = false;  // the tick wrote what it had
  });
  s.set_wake_on_write([&](std::vector<int>* fds) {
    if (waiting) fds->push_back(sv[0]);
  });
  std::atomic<bool> stop{false};
  std::thread t([&] { s.serve(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(ticks.load(), 0) << "a full socket does not end a round";
  char buf[65536];
  while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
  for (int i = 0; i < 10'000 && ticks == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(ticks.load(), 1) << "the drained socket ended the round";
  stop = true;
  nlohmann::json resp;  // a request ends the (minute-long) round in which serve() sees `stop`
  control_request(path, {{"v", 1}, {"cmd", "health"}}, &resp, &err, 1000);
  t.join();
  close(sv[0]);
  close(sv[1]);
}

}  // namespace
}  // namespace cg::runtime
