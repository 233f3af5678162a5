// Shared fixture: a SQLite store in a temp dir, a manual clock, the fake dataplane and the real
// audit log, auth, commit service and API on top.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "controlplane/api/api.h"
#include "controlplane/audit/audit_log.h"
#include "controlplane/auth/auth.h"
#include "controlplane/commit/commit_service.h"
#include "controlplane/dpclient/fake_dataplane.h"
#include "controlplane/store/store.h"

namespace cg::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string example_policy(const std::string& tag = "") {
  std::string src = std::getenv("CG_SOURCE_DIR") ? std::getenv("CG_SOURCE_DIR") : ".";
  return read_file(src + "/policies/examples/primary-school.yaml") +
         (tag.empty() ? "" : "# " + tag + "\n");
}

constexpr int64_t kT0 = 1764460800LL * 1000000;
constexpr int64_t kSec = 1000000;

class ControldFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cp::init_crypto());
    dir_ = std::filesystem::temp_directory_path() /
           ("cg-controld-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    close();
    std::filesystem::remove_all(dir_);
  }
  // (Re)opens everything on the same database file: what a controld restart sees.
  void open() {
    store::StoreConfig c;
    c.sqlite_path = (dir_ / "controld.db").string();
    auto s = store::open_store(c, &store_);
    ASSERT_TRUE(s) << s.message();
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
    auth_ = std::make_unique<auth::Auth>(*store_, *audit_, clock_,
                                         auth::AuthConfig{3, 60, 3600, 1, 8192});
    commit_ = std::make_unique<commit::CommitService>(*store_, *audit_, dp_, clock_,
                                                      commit::CommitConfig{100, 3600, ""});
    api_ = std::make_unique<api::Api>(
        api::ApiDeps{*store_, *audit_, *auth_, *commit_, dp_, clock_, {}});
  }
  void close() {
    api_.reset();
    commit_.reset();
    auth_.reset();
    audit_.reset();
    store_.reset();
  }

  std::filesystem::path dir_;
  cp::ManualClock clock_{kT0};
  dpclient::FakeDataplane dp_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<auth::Auth> auth_;
  std::unique_ptr<commit::CommitService> commit_;
  std::unique_ptr<api::Api> api_;
};

}  // namespace cg::testing
