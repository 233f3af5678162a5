// A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl from Debian's
// postgresql package on a temp dir, listening on a Unix socket in that dir only (no TCP).
// As root the server runs as the `postgres` user through runuser. Start() fails with a clear
// message when PostgreSQL is not installed (scripts/deps/controlplane.txt installs it).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace cg::testing {

class PgServer {
 public:
  ~PgServer() { stop(); }

  bool start(std::string* error) {
    std::string bin = find_bin();
    if (bin.empty()) {
      *error = "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
               "install the Debian package 'postgresql' (scripts/setup.sh does)";
      return false;
    }
    char tmpl[] = "/tmp/cg-pg-XXXXXX";
    if (!mkdtemp(tmpl)) {
      *error = "mkdtemp failed";
      return false;
    }
    dir_ = tmpl;
    as_ = geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (geteuid() == 0 && std::system(("chown postgres: " + dir_).c_str()) != 0) {
      *error = "cannot chown " + dir_ + " to postgres (is the postgres user missing?)";
      return false;
    }
    std::string init = as_ + bin + "/initdb -D " + dir_ + "/data -A trust -U postgres -E UTF8 " +
                       "--no-sync >" + dir_ + "/initdb.log 2>&1";
    if (std::system(init.c_str()) != 0) {
      *error = "initdb failed, see " + dir_ + "/initdb.log";
      return false;
    }
    std::string start = as_ + bin + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                        "/server.log -w -t 60 -o \"-k " + dir_ +
                        " -c listen_addresses='' -p 5432 -c fsync=off\" start >/dev/null 2>&1";
    if (std::system(start.c_str()) != 0) {
      *error = "pg_ctl start failed, see " + dir_ + "/server.log";
      return false;
    }
    bin_ = bin;
    running_ = true;
    return true;
  }

  std::string conninfo() const {
    return "host=" + dir_ + " port=5432 user=postgres dbname=postgres";
  }

  void stop() {
    if (running_) {
      std::system((as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate stop >/dev/null 2>&1")
                      .c_str());
      running_ = false;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

 private:
  static std::string find_bin() {
    std::error_code ec;
    std::string best;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      auto p = e.path() / "bin" / "initdb";
      if (std::filesystem::exists(p) && e.path().string() > best) best = e.path().string();
    }
    return best.empty() ? "" : best + "/bin";
  }
  std::string dir_, bin_, as_;
  bool running_ = false;
};

}  // namespace cg::testing
