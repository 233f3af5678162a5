// The dataplane's control socket: a Unix stream socket speaking newline-delimited JSON, one
// request → one response, many requests per connection. Runs on the control thread only.
//
// Request:  {"v":1,"cmd":"stats"|"flows"|"flow"|"health"|"shutdown", ...}
// Response: {"v":1,"ok":true,...} or {"v":1,"ok":false,"error":"..."}
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cg::runtime {

inline constexpr int kControlProtocolVersion = 1;

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  explicit ControlServer(Handler handler) : handler_(std::move(handler)) {}
  ~ControlServer();

  // A streaming command (events.subscribe): `fn` checks the request and returns the fields of
  // the answer. {"ok":true,...}: `fn` has taken the connection (it owns the fd from then on and
  // writes nothing to it before returning; the request/response loop no longer reads it) and
  // the server answers {"v":1,"ok":true,"stream":CMD,...}. {"ok":false,"error":...}: the server
  // answers that and the connection stays a request/response one. `tick` runs on the control
  // thread after every poll round (at most the poll timeout, 100 ms, apart), e.g. to move
  // events to subscribers.
  using StreamFn = std::function<nlohmann::json(const nlohmann::json& request, int fd)>;
  void set_stream(std::string cmd, StreamFn fn) {
    stream_cmd_ = std::move(cmd);
    stream_fn_ = std::move(fn);
  }
  void set_tick(std::function<void()> fn) { tick_ = std::move(fn); }
  // Before every round `fn` names the streams the tick has output waiting for (a subscriber
  // whose socket was full): the round also ends as soon as one of them can take more, so the
  // tick runs then, not up to the poll timeout later (a resume replays at the reader's pace).
  void set_wake_on_write(std::function<void(std::vector<int>* fds)> fn) {
    writers_ = std::move(fn);
  }
  // The longest a round waits (100 ms; tests lengthen it to show what ends a round).
  void set_poll_ms(int ms) { poll_ms_ = ms; }

  // Creates the socket (and its directory); false with a message when it cannot.
  bool listen(const std::string& path, std::string* error);
  // Serves until `stop` is set; polls with a short timeout so shutdown is prompt.
  void serve(const std::atomic<bool>& stop);
  // Answers one request line (exposed for tests).
  std::string answer(const std::string& line);

 private:
  struct Client {
    int fd;
    std::string in;
  };
  Handler handler_;
  std::string stream_cmd_;
  StreamFn stream_fn_;
  std::function<void()> tick_;
  std::function<void(std::vector<int>*)> writers_;
  std::vector<int> write_fds_;
  int poll_ms_ = 100;
  int listen_fd_ = -1;
  std::string path_;
  std::vector<Client> clients_;
};

// Client side: sends one request and returns the parsed response (used by --query and tests).
bool control_request(const std::string& path, const nlohmann::json& request,
                     nlohmann::json* response, std::string* error, int timeout_ms = 5000);

}  // namespace cg::runtime
