// The dataplane control socket as cg-agentx sees it (protocol v1: one JSON line out, one in).
// `DataplaneSource` is the seam unit tests fake; `UnixSource` is the real client. Every call is
// bounded by a deadline, so a hung dataplane costs the refresh thread at most `timeout_ms` per
// request and never touches the SNMP thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace cg::agentx {

enum class RequestError { kNone, kUnreachable, kBadReply };

class DataplaneSource {
 public:
  virtual ~DataplaneSource() = default;
  // Starts a refresh (a real source connects here); false + *err when unreachable.
  virtual bool begin(std::string* err) = 0;
  // One request → one reply (the "v":1 field is added by the source).
  virtual RequestError request(const nlohmann::json& req, nlohmann::json* reply,
                               std::string* err) = 0;
  virtual void end() = 0;  // the refresh is over (a real source closes its connection)
};

// A connected Unix stream socket with line I/O under deadlines. Used for the request/reply
// source and for the events.subscribe stream.
class LineSocket {
 public:
  LineSocket() = default;
  ~LineSocket() { close(); }
  LineSocket(const LineSocket&) = delete;
  LineSocket& operator=(const LineSocket&) = delete;

  bool connect(const std::string& path, int timeout_ms, std::string* err);
  bool write_line(const std::string& line, int timeout_ms, std::string* err);
  // Reads one line (without '\n'). 0 = got a line, 1 = timeout (nothing complete yet; call
  // again), -1 = closed or error (*err says which). Lines over `max_line` bytes are an error.
  int read_line(std::string* line, int timeout_ms, std::string* err, size_t max_line = 16 << 20);
  void close();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

class UnixSource : public DataplaneSource {
 public:
  UnixSource(std::string path, int timeout_ms) : path_(std::move(path)), timeout_ms_(timeout_ms) {}
  bool begin(std::string* err) override;
  RequestError request(const nlohmann::json& req, nlohmann::json* reply, std::string* err) override;
  void end() override { sock_.close(); }

 private:
  std::string path_;
  int timeout_ms_;
  LineSocket sock_;
};

}  // namespace cg::agentx
