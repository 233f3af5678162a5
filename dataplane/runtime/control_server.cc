#include "dataplane/runtime/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace cg::runtime {
namespace {
constexpr size_t kMaxRequestBytes = 64 * 1024;
constexpr size_t kMaxClients = 32;

bool fill_addr(const std::string& path, sockaddr_un* a, std::string* error) {
  if (path.size() >= sizeof(a->sun_path)) {
    *error = "socket path too long: " + path;
    return false;
  }
  std::memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  std::memcpy(a->sun_path, path.c_str(), path.size());
  return true;
}

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}
}  // namespace

ControlServer::~ControlServer() {
  for (auto& c : clients_) ::close(c.fd);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

bool ControlServer::listen(const std::string& path, std::string* error) {
  sockaddr_un addr;
  if (!fill_addr(path, &addr, error)) return false;
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  // A stale socket from a previous run is replaced; a live one means another instance.
  int probe = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::close(probe);
    *error = "another dataplane is serving " + path;
    return false;
  }
  if (probe >= 0) ::close(probe);
  ::unlink(path.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ||
      ::listen(listen_fd_, 16)) {
    *error = "cannot listen on " + path + ": " + std::strerror(errno);
    return false;
  }
  ::chmod(path.c_str(), 0660);
  path_ = path;
  return true;
}

std::string ControlServer::answer(const std::string& line) {
  nlohmann::json resp;
  auto req = nlohmann::json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object()) {
    resp = {{"ok", false}, {"error", "request is not a JSON object"}};
  } else if (!req.contains("v") || req["v"] != kControlProtocolVersion) {
    resp = {{"ok", false},
            {"error", "unsupported protocol version (this dataplane speaks v" +
                          std::to_string(kControlProtocolVersion) + ")"}};
  } else if (!req.contains("cmd") || !req["cmd"].is_string()) {
    resp = {{"ok", false}, {"error", "missing \"cmd\""}};
  } else {
    try {
      resp = handler_(req);
    } catch (const std::exception& ex) {
      resp = {{"ok", false}, {"error", ex.what()}};
    }
  }
  resp["v"] = kControlProtocolVersion;
  return resp.dump() + "\n";
}

void ControlServer::serve(const std::atomic<bool>& stop) {
  std::vector<pollfd> fds;
  while (!stop.load(std::memory_order_relaxed)) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
    const size_t nclients = clients_.size();
    if (writers_) {
      write_fds_.clear();
      writers_(&write_fds_);
      for (int fd : write_fds_) fds.push_back({fd, POLLOUT, 0});
    }
    int r = ::poll(fds.data(), fds.size(), poll_ms_);
    if (tick_) tick_();
    if (r <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        if (clients_.size() >= kMaxClients) {
          write_all(fd, "{\"v\":1,\"ok\":false,\"error\":\"too many clients\"}\n");
          ::close(fd);
        } else {
          clients_.push_back({fd, {}});
        }
      }
    }
    for (size_t i = 1; i <= nclients; ++i) {  // the writers after them are the tick's
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Client& c = clients_[i - 1];
      char buf[4096];
      ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      bool drop = n <= 0;
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        size_t nl;
        while (!drop && (nl = c.in.find('\n')) != std::string::npos) {
          std::string line = c.in.substr(0, nl);
          c.in.erase(0, nl + 1);
          if (stream_fn_) {  // a stream request hands the connection over
            auto req = nlohmann::json::parse(line, nullptr, false);
            if (req.is_object() && req.value("v", 0) == kControlProtocolVersion &&
                req.contains("cmd") && req["cmd"] == stream_cmd_) {
              nlohmann::json ack = stream_fn_(req, c.fd);
              ack["v"] = kControlProtocolVersion;
              if (!ack.value("ok", false)) {
                drop = !write_all(c.fd, ack.dump() + "\n");
                continue;
              }
              ack["stream"] = stream_cmd_;
              write_all(c.fd, ack.dump() + "\n");  // a failed write: the new owner sees it
              c.fd = -1;                             // not ours any more
              break;
            }
          }
          drop = !write_all(c.fd, answer(line));
        }
        if (c.in.size() > kMaxRequestBytes) {
          write_all(c.fd, "{\"v\":1,\"ok\":false,\"error\":\"request too large\"}\n");
          drop = true;
        }
      }
      if (drop && c.fd >= 0) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
  }
}

bool control_request(const std::string& path, const nlohmann::json& request,
                     nlohmann::json* response, std::string* error, int timeout_ms) {
  sockaddr_un addr;
  if (!fill_addr(path, &addr, error)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))) {
    *error = "cannot connect to " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  bool ok = write_all(fd, request.dump() + "\n");
  std::string in;
  while (ok && in.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      *error = "no answer from " + path;
      ok = false;
      break;
    }
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *error = "connection closed by " + path;
      ok = false;
      break;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!ok) return false;
  *response = nlohmann::json::parse(in.substr(0, in.find('\n')), nullptr, false);
  if (response->is_discarded()) {
    *error = "malformed answer from " + path;
    return false;
  }
  return true;
}

}  // namespace cg::runtime
