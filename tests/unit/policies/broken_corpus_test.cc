// Every tests/unit/policies/broken/*.yaml fails with exactly the errors its header announces:
//   # expect: LINE:COL: text that the diagnostic "PATH: message" contains
// Warnings are not counted. A file without any expect line is itself a test failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

struct Expect {
  int line, col;
  std::string text;
};

std::vector<Expect> read_expects(const std::string& path) {
  std::ifstream in(path);
  std::vector<Expect> out;
  static const std::regex re(R"(^# expect: (\d+):(\d+): (.*)$)");
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m;
    if (std::regex_match(l, m, re)) out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
  }
  return out;
}

TEST(BrokenPolicies, EachFailsWithItsExpectedErrors) {
  const auto dir = source_dir() + "/tests/unit/policies/broken";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    auto expects = read_expects(e.path().string());
    ASSERT_FALSE(expects.empty()) << "no '# expect:' lines";
    auto r = compile_policy_file(e.path().string());
    EXPECT_FALSE(r.image);
    EXPECT_EQ(r.error_count(), static_cast<int>(expects.size())) << dump(r);
    for (const auto& x : expects)
      EXPECT_TRUE(has_diag(r, x.line, x.col, x.text))
          << "missing " << x.line << ":" << x.col << ": " << x.text << "\ngot:\n"
          << dump(r);
  }
  EXPECT_GE(files, 8);
}

}  // namespace
}  // namespace cg::policy
