#include "snmp/agentx/source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace cg::agentx {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits for `events` on fd until the absolute deadline; 1 ready, 0 timeout, -1 error.
int wait_fd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int64_t left = deadline_ms - now_ms();
    if (left < 0) left = 0;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return -1;
    return rc == 0 ? 0 : 1;
  }
}

}  // namespace

bool LineSocket::connect(const std::string& path, int timeout_ms, std::string* err) {
  close();
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    *err = path + ": socket path too long";
    return false;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *err = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    if (e == EINPROGRESS || e == EAGAIN) {
      // A Unix socket with a full backlog: wait for it (bounded).
      if (wait_fd(fd_, POLLOUT, now_ms() + timeout_ms) == 1) {
        int so = 0;
        socklen_t len = sizeof(so);
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so, &len);
        if (so == 0) return true;
        e = so;
      } else {
        e = ETIMEDOUT;
      }
    }
    *err = path + ": " + std::strerror(e);
    close();
    return false;
  }
  buf_.clear();
  return true;
}

bool LineSocket::write_line(const std::string& line, int timeout_ms, std::string* err) {
  std::string out = line + "\n";
  const int64_t deadline = now_ms() + timeout_ms;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(fd_, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd_, POLLOUT, deadline) == 1) continue;
      *err = "write timed out";
      return false;
    }
    *err = std::string("write: ") + std::strerror(errno);
    return false;
  }
  return true;
}

int LineSocket::read_line(std::string* line, int timeout_ms, std::string* err, size_t max_line) {
  const int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      line->assign(buf_, 0, nl);
      buf_.erase(0, nl + 1);
      return 0;
    }
    if (buf_.size() > max_line) {
      *err = "reply line longer than " + std::to_string(max_line) + " bytes";
      return -1;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      *err = "connection closed by the dataplane";
      return -1;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *err = std::string("read: ") + std::strerror(errno);
      return -1;
    }
    int w = wait_fd(fd_, POLLIN, deadline);
    if (w == 0) return 1;
    if (w < 0) {
      *err = std::string("poll: ") + std::strerror(errno);
      return -1;
    }
  }
}

void LineSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool UnixSource::begin(std::string* err) {
  return sock_.connect(path_, timeout_ms_, err);
}

RequestError UnixSource::request(const nlohmann::json& req, nlohmann::json* reply,
                                 std::string* err) {
  nlohmann::json r = req;
  r["v"] = 1;
  const std::string cmd = req.value("cmd", "?");
  if (!sock_.write_line(r.dump(), timeout_ms_, err)) {
    *err = cmd + ": " + *err;
    return RequestError::kUnreachable;
  }
  std::string line;
  int rc = sock_.read_line(&line, timeout_ms_, err);
  if (rc != 0) {
    *err = cmd + ": " + (rc == 1 ? "no reply within " + std::to_string(timeout_ms_) + " ms" : *err);
    sock_.close();
    return RequestError::kUnreachable;
  }
  *reply = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (reply->is_discarded()) {
    *err = cmd + ": reply is not JSON";
    return RequestError::kBadReply;
  }
  return RequestError::kNone;
}

}  // namespace cg::agentx
