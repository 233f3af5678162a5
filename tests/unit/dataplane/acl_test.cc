// The rte_acl index gives exactly api::evaluate()'s answer: the example school policies and a
// generated policy with lists, IPv6, zones, ports and conditional rules interleaved, against
// random flows drawn around the policies' own addresses and ports. Real DPDK (EAL without
// hugepages or devices).
#include "dataplane/enforce/acl.h"

#include <gtest/gtest.h>
#include <rte_eal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "policies/compiler/policy.h"

namespace cg::enforce {
namespace {

class Eal : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* argv[] = {"test_acl", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                          "--no-telemetry", "-l", "0", "--log-level=lib.eal:error"};
    if (rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)) < 0) {
      std::fprintf(stderr, "test_acl: rte_eal_init failed\n");
      std::abort();  // a failed environment must fail the test, not skip it
    }
  }
};
const auto* const kEal = ::testing::AddGlobalTestEnvironment(new Eal);

std::shared_ptr<const api::PolicyImage> compile(const std::string& text) {
  auto r = policy::compile_policy(text, "t.yaml");
  for (const auto& d : r.diagnostics)
    if (!r.ok()) ADD_FAILURE() << policy::format_diagnostic(d);
  return r.image;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Random flows near the policy: addresses from its prefixes (and around them), ports from its
// ranges (and around them), every protocol, every zone, both families, app known or not.
void compare(const api::PolicyImage& im, int flows, uint32_t seed) {
  std::string err;
  auto acl = AclIndex::build(im, &err);
  ASSERT_TRUE(acl) << err;
  std::mt19937 rng(seed);
  std::vector<uint32_t> v4s = {0x0a000001, 0x08080808, 0x64400001};
  std::vector<std::array<uint8_t, 16>> v6s(1);
  std::vector<uint16_t> ports = {0, 22, 53, 80, 443, 8080, 65535};
  for (const auto& r : im.rules) {
    for (const auto* list : {&r.src_v4, &r.dst_v4})
      for (const auto& p : *list) {
        v4s.push_back(p.addr);
        v4s.push_back(p.addr | (p.len < 32 ? (~0u >> p.len) : 0));
        v4s.push_back(p.addr + (p.len ? (1u << (32 - std::max<int>(p.len, 1))) : 0));
      }
    for (const auto* list : {&r.src_v6, &r.dst_v6})
      for (const auto& p : *list) {
        v6s.push_back(p.addr);
        auto a = p.addr;
        a[15] ^= 1;
        v6s.push_back(a);
        a[p.len / 8 < 16 ? p.len / 8 : 15] ^= 0x80;
        v6s.push_back(a);
      }
    for (const auto* list : {&r.src_ports, &r.dst_ports})
      for (const auto& pr : *list)
        for (int d : {-1, 0, 1}) {
          ports.push_back(static_cast<uint16_t>(pr.lo + d));
          ports.push_back(static_cast<uint16_t>(pr.hi + d));
        }
  }
  for (const auto& z : im.zones) {
    for (const auto& p : z.v4) v4s.push_back(p.addr | 5);
    for (const auto& p : z.v6) v6s.push_back(p.addr);
  }
  const uint8_t protos[] = {1, 6, 17, 58, 47};
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  int mismatches = 0;
  for (int i = 0; i < flows; ++i) {
    api::FlowFacts f;
    f.ipv6 = rng() % 3 == 0;
    if (f.ipv6) {
      f.client_v6 = pick(v6s);
      f.server_v6 = pick(v6s);
    } else {
      f.client_v4 = pick(v4s);
      f.server_v4 = pick(v4s);
    }
    f.l4_protocol = protos[rng() % 5];
    bool has_ports = f.l4_protocol == 6 || f.l4_protocol == 17;
    f.client_port = has_ports ? pick(ports) : 0;
    f.server_port = has_ports ? pick(ports) : 0;
    uint16_t nz = static_cast<uint16_t>(im.zones.size());
    f.client_zone = rng() % (nz + 1) == nz ? api::kNoZone : static_cast<uint16_t>(rng() % (nz ? nz : 1));
    f.server_zone = rng() % (nz + 1) == nz ? api::kNoZone : static_cast<uint16_t>(rng() % (nz ? nz : 1));
    f.app_known = rng() % 2;
    f.category = static_cast<uint16_t>(rng() % 40);
    f.app_protocol = static_cast<uint16_t>(rng() % 300);
    f.master_protocol = static_cast<uint16_t>(rng() % 300);
    uint64_t mask = rng();
    api::Verdict want = api::evaluate(im, f, mask);
    api::Verdict got = acl->evaluate(f, mask);
    if (want.rule != got.rule || want.action != got.action || want.pending != got.pending) {
      if (++mismatches <= 5)
        ADD_FAILURE() << "flow " << i << " (v6 " << f.ipv6 << ", proto " << int(f.l4_protocol)
                      << ", ports " << f.client_port << "->" << f.server_port << ", zones "
                      << f.client_zone << "->" << f.server_zone << "): evaluate says rule "
                      << want.rule << ", the ACL says " << got.rule;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Acl, ExamplePoliciesAgreeWithEvaluate) {
  std::filesystem::path dir = std::string(getenv("CG_SOURCE_DIR") ? getenv("CG_SOURCE_DIR") : ".") +
                              "/policies/examples";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().string());
    auto im = compile(read(e.path()));
    ASSERT_TRUE(im);
    compare(*im, 5000, 7 + n);
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(Acl, GeneratedPolicyWithListsV6AndConditionalRulesAgrees) {
  std::string text = R"(apiVersion: campusguard/v1
school: { id: t-1, name: t, timezone: Asia/Shanghai }
zones:
  classrooms: { vlans: [101-160], subnets: [10.1.0.0/16, "fd00:1::/48"] }
  teachers: { subnets: [10.20.0.0/16] }
  servers: { subnets: [10.99.0.0/24, "fd00:99::/64"] }
schedules:
  class-hours: { days: [weekdays], times: ["08:00-12:00"] }
apps:
  video: { protocols: [YouTube], categories: [Video] }
  teaching: { hosts: ["*.smartedu.cn"] }
rules:
  - { name: teach, to-app: teaching, action: allow }
  - { name: ssh-admin, from: teachers, to: servers, protocol: tcp, dst-ports: [22, 2222], action: allow }
  - { name: no-ssh, protocol: tcp, dst-ports: [22], action: deny, reset: true }
  - { name: video-class, from: classrooms, app: video, when: class-hours, action: deny }
  - { name: dns-only-ours, protocol: [udp, tcp], dst-ports: [53], dst: [10.99.0.53, "fd00:99::53"], action: allow }
  - { name: no-other-dns, dst-ports: [53], action: deny }
  - { name: v6-only-src, src: ["fd00:1::/48"], to: servers, action: log }
  - { name: ranges, src-ports: [1000-2000, 3000-3999], dst-ports: [8000-8100], action: deny }
  - { name: icmp-class, from: classrooms, protocol: icmp, when: class-hours, action: deny }
  - { name: wide, src: [10.0.0.0/8, 172.16.0.0/12], dst: [100.64.0.0/10, 203.0.113.0/24], action: deny }
default: allow
)";
  for (int i = 0; i < 300; ++i)
    text.insert(text.rfind("default:"), "  - { name: b" + std::to_string(i) + ", dst: [100." +
                                            std::to_string(64 + i / 256) + "." +
                                            std::to_string(i % 256) + ".0/24], protocol: tcp, " +
                                            "dst-ports: [" + std::to_string(1024 + i) +
                                            "], action: deny }\n");
  auto im = compile(text);
  ASSERT_TRUE(im);
  std::string err;
  auto acl = AclIndex::build(*im, &err);
  ASSERT_TRUE(acl) << err;
  EXPECT_EQ(acl->conditional_rules(), 3u);  // teach, video-class, icmp-class
  compare(*im, 20000, 42);
}

TEST(Acl, ExplosionIsRefusedWithTheRuleNamed) {
  std::string ports;
  for (int i = 0; i < 1100; ++i) ports += (i ? ", " : "") + std::to_string(2000 + 2 * i);
  std::string text = "apiVersion: campusguard/v1\nschool: { id: t, name: t, timezone: UTC }\n"
                     "rules:\n  - { name: huge, src-ports: [" + ports + "], dst-ports: [" +
                     ports + "], action: deny }\ndefault: allow\n";
  auto im = compile(text);
  ASSERT_TRUE(im);
  std::string err;
  EXPECT_FALSE(AclIndex::build(*im, &err));
  EXPECT_NE(err.find("rule 'huge'"), std::string::npos) << err;
}

}  // namespace
}  // namespace cg::enforce
