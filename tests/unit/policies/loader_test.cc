// Structure: the declared keys drive the loader; every error has line:col and a YAML path.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "policies/compiler/spec.h"
#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

TEST(PolicyLoader, MinimalPolicyIsValid) {
  auto r = compile_policy(header() + "rules: []\n", "min.yaml");
  EXPECT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(r.image);
  EXPECT_EQ(r.image->default_action, api::Action::kAllow);
  EXPECT_EQ(r.image->inspection.max_packets, 10);  // declared default
  EXPECT_EQ(r.image->inspection.while_inspecting, api::WhileInspecting::kPass);
}

TEST(PolicyLoader, SyntaxErrorHasPosition) {
  auto r = compile_policy("apiVersion: campusguard/v1\nschool: { id: x, name: [oops }\n", "s.yaml");
  ASSERT_EQ(r.error_count(), 1) << dump(r);
  EXPECT_EQ(r.diagnostics[0].line, 2);
  EXPECT_GT(r.diagnostics[0].col, 0);
  EXPECT_NE(r.diagnostics[0].message.find("YAML syntax"), std::string::npos);
  EXPECT_FALSE(r.image);
}

TEST(PolicyLoader, EmptyAndMultiDocument) {
  EXPECT_TRUE(has_message(compile_policy("", "e.yaml"), "the policy is empty"));
  EXPECT_TRUE(has_message(compile_policy("# only a comment\n", "e.yaml"), "the policy is empty"));
  auto r = compile_policy(header() + "---\n" + header(), "m.yaml");
  EXPECT_TRUE(has_message(r, "second YAML document")) << dump(r);
  // A document-end marker, or a marker with a comment, also starts a second document.
  for (const char* marker : {"...\n", "--- # next\n", "---\r\n"}) {
    auto m = compile_policy(header() + marker + header(), "m.yaml");
    EXPECT_TRUE(has_message(m, "second YAML document")) << marker << dump(m);
  }
  // A leading "---" starts the only document; "----" is not a marker.
  auto one = compile_policy("---\n" + header(), "m.yaml");
  EXPECT_FALSE(has_message(one, "second YAML document")) << dump(one);
  auto dashes = compile_policy(header() + "# ----\n", "m.yaml");
  EXPECT_FALSE(has_message(dashes, "second YAML document")) << dump(dashes);
}

TEST(PolicyLoader, UnknownKeysAreErrorsWithPositions) {
  const std::string text = header() +                      // lines 1-2
                           "shaping: { uplink: 10g }\n"    // 3
                           "rules:\n"                      // 4
                           "  - name: r1\n"                // 5
                           "    acton: deny\n";            // 6
  auto r = compile_policy(text, "u.yaml");
  EXPECT_TRUE(has_diag(r, 3, 1, "shaping: unknown key 'shaping'")) << dump(r);
  EXPECT_TRUE(has_diag(r, 6, 5, "rules[0].acton: unknown key 'acton'")) << dump(r);
  EXPECT_TRUE(has_diag(r, 5, 5, "rules[0]: missing required key 'action'")) << dump(r);
  EXPECT_EQ(r.error_count(), 3) << dump(r);
}

TEST(PolicyLoader, TypeAndRangeErrorsAreAllReported) {
  const std::string text = header() +
                           "zones:\n"                                                    // 3
                           "  a: { vlans: 101-160 }\n"                                   // 4
                           "  b: { vlans: [0, 4095, \"9-3\"] }\n"                        // 5
                           "inspection: { max-packets: 0, while-inspecting: wait }\n"    // 6
                           "rules:\n"                                                    // 7
                           "  - { name: r, from: [a, b], action: deny, reset: yes }\n";  // 8
  auto r = compile_policy(text, "t.yaml");
  EXPECT_TRUE(has_diag(r, at(text, "101-160"), "zones.a.vlans: expected a list")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "0, 4095"), "zones.b.vlans[0]: expected a VLAN id")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "4095"), "zones.b.vlans[1]")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "\"9-3\""), "range '9-3' ends before it starts")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "0, while"), "must be from 1 to 255, got 0")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "wait"), "expected one of pass, drop")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "yes"), "expected true or false")) << dump(r);
  EXPECT_EQ(r.error_count(), 7) << dump(r);
}

TEST(PolicyLoader, DuplicateKeysAndNames) {
  const std::string text = header() +
                           "default: allow\n"               // 3
                           "default: deny\n"                // 4
                           "zones:\n"                       // 5
                           "  lab: { vlans: [5] }\n"        // 6
                           "  lab: { vlans: [6] }\n"        // 7
                           "  Bad_Name: { vlans: [7] }\n";  // 8
  auto r = compile_policy(text, "d.yaml");
  EXPECT_TRUE(has_diag(r, 4, 1, "duplicate key 'default'")) << dump(r);
  EXPECT_TRUE(has_diag(r, 7, 3, "duplicate name 'lab'")) << dump(r);
  EXPECT_TRUE(has_diag(r, 8, 3, "bad name 'Bad_Name'")) << dump(r);
}

TEST(PolicyLoader, NumbersWhereTextIsExpectedMustBeQuoted) {
  auto r = compile_policy("apiVersion: campusguard/v1\nschool: { id: 1001, name: x }\n", "q.yaml");
  EXPECT_TRUE(has_diag(r, 2, 15, "quote it")) << dump(r);
  r = compile_policy("apiVersion: campusguard/v1\nschool: { id: \"1001\", name: x }\n", "q.yaml");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(PolicyLoader, OneValueOrListAccepted) {
  const std::string text =
      header() +
      "zones: { a: { subnets: [10.0.0.0/8] } }\n"
      "rules:\n"
      "  - { name: one, from: a, dst-ports: 443, protocol: tcp, action: deny }\n"
      "  - { name: many, from: [a], dst-ports: [80, \"8000-8080\"], "
      "action: deny }\n";
  auto r = compile_policy(text, "o.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.image->rules[0].dst_ports.size(), 1u);
  EXPECT_EQ(r.image->rules[1].dst_ports.size(), 2u);
}

TEST(PolicySpec, DefaultsAndHelpDeclaredOnce) {
  EXPECT_EQ(*spec_at("inspection.max-packets").default_json, "10");
  EXPECT_EQ(*spec_at("default").default_json, "\"allow\"");
  EXPECT_EQ(spec_at("rules.action").enum_values.size(), 3u);
  EXPECT_THROW(spec_at("rules.no-such-key"), std::logic_error);
  // Every declared key has help text (it becomes the schema's description and the docs).
  std::function<void(const Spec&, const std::string&)> walk = [&](const Spec& s,
                                                                  const std::string& p) {
    EXPECT_FALSE(s.help.empty()) << p;
    for (const auto& f : s.fields) walk(*f.spec, p + "." + f.key);
    if (s.item) walk(*s.item, p + "[]");
  };
  walk(policy_spec(), "");
}
}  // namespace
}  // namespace cg::policy

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

TEST(PolicyLoader, InvalidUtf8IsOneClearError) {
  const std::string ok = header() + "rules: []\n";
  for (const std::string& bad :
       {std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xe4\xb8"),
        std::string("\xff"), std::string("\xf4\x90\x80\x80")}) {
    const std::string text =
        "apiVersion: campusguard/v1\nschool: { id: a, name: \"x" + bad + "\" }\n";
    auto r = compile_policy(text, "u.yaml");
    ASSERT_EQ(r.error_count(), 1) << dump(r);
    EXPECT_TRUE(has_diag(r, at_after(text, "name: \"x"), "not valid UTF-8")) << dump(r);
  }
  // Four-byte characters and CJK are fine, and columns count characters.
  const std::string cjk =
      "apiVersion: campusguard/v1\nschool: { id: a, name: 乌海😀, timezone: Mars/Base }\n";
  auto r = compile_policy(cjk, "c.yaml");
  EXPECT_TRUE(has_diag(r, at(cjk, "Mars/Base"), "unknown timezone 'Mars/Base'")) << dump(r);
  EXPECT_EQ(at(cjk, "Mars/Base").col, 39);  // 23 + 3 characters + 12
}

}  // namespace
}  // namespace cg::policy

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

// yaml-cpp 0.7's LoadAll never returns on this input (found by fuzz_policy_yaml).
TEST(PolicyLoader, MalformedInputThatHangsLoadAllTerminates) {
  auto r = compile_policy(" ,", "h.yaml");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.image);
  const std::string text = header() + "rules: []\n---\n" + header();
  auto two = compile_policy(text, "two.yaml");
  EXPECT_TRUE(has_diag(two, at(text, "---"), "one policy per file")) << dump(two);
}

// The hand-written scalar classification agrees with the YAML 1.2 core-schema pattern it
// replaced (std::regex was 5% of a 10,000-rule compile), on chosen and on random texts.
TEST(PolicySpec, PlainNonStringTextAgreesWithTheCoreSchemaPattern) {
  static const std::regex re(
      R"(^([-+]?[0-9]+|[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|true|false|True|False|TRUE|FALSE|null|Null|NULL|~|)$)");
  const char* chosen[] = {"", "~", "0", "-7", "+12", "1.", ".5", "-.5e+3", "1.5E-2", "1e5",
                          ".", "+", "-", "1.e", "1.e+", "1.0e3", "true", "True", "TRUE", "tRue",
                          "yes", "null", "Null", "NULL", "nil", "10.20.0.0/16", "08:00",
                          "1..2", "--1", "1-2", " 1", "1 ", "e5", ".e5", "0x1f", "1_000"};
  for (const char* t : chosen)
    EXPECT_EQ(plain_non_string_text(t), std::regex_match(std::string(t), re)) << "'" << t << "'";
  std::mt19937 rng(42);
  const std::string alphabet = "0123456789+-.eE~tTrRuUfFaAlLsSnN x";
  int agree = 0, plain = 0;
  for (int n = 0; n < 200000; ++n) {
    std::string t(rng() % 7, ' ');
    for (char& c : t) c = alphabet[rng() % alphabet.size()];
    const bool want = std::regex_match(t, re);
    ASSERT_EQ(plain_non_string_text(t), want) << "'" << t << "'";
    ++agree;
    plain += want;
  }
  EXPECT_EQ(agree, 200000);
  EXPECT_GT(plain, 1000) << "the random texts must exercise the numeric forms too";
}

TEST(PolicySpec, PathsQuoteKeysThatAreNotPlainNames) {
  EXPECT_EQ(path_join("", "zones"), "zones");
  EXPECT_EQ(path_join("zones", "class-rooms_2"), "zones.class-rooms_2");
  EXPECT_EQ(path_join("zones", "a.b"), "zones.\"a.b\"");
  EXPECT_EQ(path_join("zones", "教室"), "zones.\"教室\"");
  EXPECT_EQ(path_join("zones", ""), "zones.\"\"");
}


}  // namespace
}  // namespace cg::policy
