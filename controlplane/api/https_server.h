// cpp-httplib (OpenSSL) front of the Api: every request goes through Api::handle.
#pragma once

#include <memory>
#include <string>

#include "controlplane/api/api.h"

namespace cg::api {

// Writes a self-signed certificate (EC P-256, 10 years, CN = host name, SAN localhost +
// 127.0.0.1 + ::1) and key (mode 0600) unless both files exist. False + message on failure.
bool ensure_certificate(const std::string& cert_path, const std::string& key_path,
                        std::string* error);

class HttpsServer {
 public:
  HttpsServer(Api& api, const std::string& cert_path, const std::string& key_path, int threads);
  ~HttpsServer();
  bool valid() const;
  // Binds; port 0 picks a free port (returned). -1 on failure.
  int bind(const std::string& host, int port);
  void run();   // blocks until stop()
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cg::api
