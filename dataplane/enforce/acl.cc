#include "dataplane/enforce/acl.h"

#include <arpa/inet.h>
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <atomic>
#include <cstddef>
#include <cstring>

namespace cg::enforce {
namespace {

// Lookup keys, multi-byte fields in network byte order (rte_acl compares input bytes in memory
// order; rule values are in host order). 4-byte groups per rte_acl's input_index rule.
struct Key4 {
  uint8_t proto;
  uint8_t pad[3];
  uint32_t src, dst;
  uint16_t sport, dport;
  uint16_t czone, szone;
};
struct Key6 {
  uint8_t proto;
  uint8_t pad[3];
  uint32_t src[4], dst[4];
  uint16_t sport, dport;
  uint16_t czone, szone;
};

constexpr uint32_t kFields4 = 7;
constexpr uint32_t kFields6 = 13;
RTE_ACL_RULE_DEF(Rule4, kFields4);
RTE_ACL_RULE_DEF(Rule6, kFields6);

// Field layout shared by both families: proto, src words, dst words, sport, dport, zones.
template <size_t N>
void field_defs(rte_acl_field_def (&d)[N], uint32_t addr_words, size_t src_off, size_t dst_off,
                size_t ports_off, size_t zones_off) {
  uint8_t f = 0;
  auto def = [&](uint8_t type, uint8_t size, uint8_t input, size_t off) {
    d[f] = {type, size, f, input, static_cast<uint32_t>(off)};
    ++f;
  };
  uint8_t in = 0;
  def(RTE_ACL_FIELD_TYPE_BITMASK, 1, in++, 0);
  for (uint32_t w = 0; w < addr_words; ++w) def(RTE_ACL_FIELD_TYPE_MASK, 4, in++, src_off + 4 * w);
  for (uint32_t w = 0; w < addr_words; ++w) def(RTE_ACL_FIELD_TYPE_MASK, 4, in++, dst_off + 4 * w);
  def(RTE_ACL_FIELD_TYPE_RANGE, 2, in, ports_off);  // the two ports share one 4-byte input
  def(RTE_ACL_FIELD_TYPE_RANGE, 2, in++, ports_off + 2);
  def(RTE_ACL_FIELD_TYPE_RANGE, 2, in, zones_off);  // so do the two zones
  def(RTE_ACL_FIELD_TYPE_RANGE, 2, in, zones_off + 2);
}

bool unconditional(const api::Rule& r) {
  return r.schedule == api::kNoSchedule && !r.needs_app();
}

// The value lists of one rule, "any" expanded to one full-range entry.
struct Lists {
  std::vector<uint8_t> protos;  // 0 = any (mask 0)
  std::vector<api::U16Range> from, to, sports, dports;
};

Lists lists_of(const api::Rule& r) {
  Lists l;
  l.protos = r.l4_protocols;
  if (l.protos.empty()) l.protos.push_back(0);
  auto zones = [](const std::vector<uint16_t>& z) {
    std::vector<api::U16Range> out;
    for (uint16_t id : z) out.push_back({id, id});
    if (out.empty()) out.push_back({0, 0xffff});
    return out;
  };
  l.from = zones(r.from_zones);
  l.to = zones(r.to_zones);
  l.sports = r.src_ports.empty() ? std::vector<api::U16Range>{{0, 0xffff}} : r.src_ports;
  l.dports = r.dst_ports.empty() ? std::vector<api::U16Range>{{0, 0xffff}} : r.dst_ports;
  return l;
}

std::atomic<uint64_t> g_context_seq{0};

rte_acl_ctx* make_context(const char* family, uint32_t rule_size, size_t max_rules,
                          std::string* error) {
  char name[RTE_ACL_NAMESIZE];
  std::snprintf(name, sizeof name, "cg_%s_%lu", family,
                static_cast<unsigned long>(g_context_seq.fetch_add(1)));
  rte_acl_param prm{name, SOCKET_ID_ANY, rule_size, static_cast<uint32_t>(max_rules)};
  rte_acl_ctx* ctx = rte_acl_create(&prm);
  if (!ctx) *error = std::string("rte_acl_create: ") + rte_strerror(rte_errno);
  return ctx;
}

bool finish(rte_acl_ctx* ctx, const rte_acl_field_def* defs, uint32_t nfields,
            std::string* error) {
  rte_acl_config cfg{};
  cfg.num_categories = 1;
  cfg.num_fields = nfields;
  std::memcpy(cfg.defs, defs, nfields * sizeof(rte_acl_field_def));
  int rc = rte_acl_build(ctx, &cfg);
  if (rc != 0) {
    *error = std::string("rte_acl_build: ") + rte_strerror(-rc);
    return false;
  }
  return true;
}

void set_common(rte_acl_field* f, uint32_t addr_words, uint8_t proto, const api::U16Range& sp,
                const api::U16Range& dp, const api::U16Range& from, const api::U16Range& to) {
  f[0].value.u8 = proto;
  f[0].mask_range.u8 = proto ? 0xff : 0;
  uint32_t p = 1 + 2 * addr_words;
  f[p].value.u16 = sp.lo;
  f[p].mask_range.u16 = sp.hi;
  f[p + 1].value.u16 = dp.lo;
  f[p + 1].mask_range.u16 = dp.hi;
  f[p + 2].value.u16 = from.lo;
  f[p + 2].mask_range.u16 = from.hi;
  f[p + 3].value.u16 = to.lo;
  f[p + 3].mask_range.u16 = to.hi;
}

void set_v6(rte_acl_field* f, const api::Ipv6Prefix& p) {
  for (uint32_t w = 0; w < 4; ++w) {
    uint32_t v;
    std::memcpy(&v, p.addr.data() + 4 * w, 4);
    int len = static_cast<int>(p.len) - static_cast<int>(32 * w);
    f[w].value.u32 = ntohl(v);
    f[w].mask_range.u32 = static_cast<uint32_t>(len < 0 ? 0 : len > 32 ? 32 : len);
  }
}

}  // namespace

std::unique_ptr<AclIndex> AclIndex::build(const api::PolicyImage& image, std::string* error) {
  if (rte_lcore_count() == 0) {  // rte_acl needs the EAL's memory and tailqs
    *error = "the DPDK EAL is not initialised";
    return nullptr;
  }
  std::unique_ptr<AclIndex> idx(new AclIndex(image));
  const size_t n = image.rules.size();
  // Count first (refuse an explosion before allocating), then add.
  size_t count4 = 0, count6 = 0;
  for (size_t i = 0; i < n; ++i) {
    const api::Rule& r = image.rules[i];
    if (!unconditional(r)) {
      idx->conditional_.push_back(static_cast<uint32_t>(i));
      continue;
    }
    Lists l = lists_of(r);
    size_t base = l.protos.size() * l.from.size() * l.to.size() * l.sports.size() *
                  l.dports.size();
    const bool src_any = r.src_any_family && r.src_v4.empty() && r.src_v6.empty();
    const bool dst_any = r.dst_any_family && r.dst_v4.empty() && r.dst_v6.empty();
    size_t s4 = src_any ? 1 : r.src_v4.size(), d4 = dst_any ? 1 : r.dst_v4.size();
    size_t s6 = src_any ? 1 : r.src_v6.size(), d6 = dst_any ? 1 : r.dst_v6.size();
    count4 += base * s4 * d4;
    count6 += base * s6 * d6;
    if (count4 + count6 > kMaxAclRules) {
      *error = "rule '" + r.name + "' (line " + std::to_string(r.line) +
               "): the policy expands to more than " + std::to_string(kMaxAclRules) +
               " ACL entries (lists of zones x addresses x ports x protocols multiply)";
      return nullptr;
    }
  }
  idx->acl_rules_ = count4 + count6;
  idx->v4_ = make_context("acl4", RTE_ACL_RULE_SZ(kFields4), count4 ? count4 : 1, error);
  if (!idx->v4_) return nullptr;
  idx->v6_ = make_context("acl6", RTE_ACL_RULE_SZ(kFields6), count6 ? count6 : 1, error);
  if (!idx->v6_) return nullptr;

  std::vector<Rule4> rules4;
  std::vector<Rule6> rules6;
  rules4.reserve(count4);
  rules6.reserve(count6);
  const api::Ipv4Prefix any4{0, 0};
  const api::Ipv6Prefix any6{};
  for (size_t i = 0; i < n; ++i) {
    const api::Rule& r = image.rules[i];
    if (!unconditional(r)) continue;
    Lists l = lists_of(r);
    const bool src_any = r.src_any_family && r.src_v4.empty() && r.src_v6.empty();
    const bool dst_any = r.dst_any_family && r.dst_v4.empty() && r.dst_v6.empty();
    std::vector<api::Ipv4Prefix> s4 = src_any ? std::vector{any4} : r.src_v4;
    std::vector<api::Ipv4Prefix> d4 = dst_any ? std::vector{any4} : r.dst_v4;
    std::vector<api::Ipv6Prefix> s6 = src_any ? std::vector{any6} : r.src_v6;
    std::vector<api::Ipv6Prefix> d6 = dst_any ? std::vector{any6} : r.dst_v6;
    rte_acl_rule_data data{1u, static_cast<int32_t>(RTE_ACL_MAX_PRIORITY - 1 - i),
                           static_cast<uint32_t>(i + 1)};
    for (uint8_t proto : l.protos)
      for (const auto& from : l.from)
        for (const auto& to : l.to)
          for (const auto& sp : l.sports)
            for (const auto& dp : l.dports) {
              for (const auto& a : s4)
                for (const auto& b : d4) {
                  Rule4 x{};
                  x.data = data;
                  set_common(x.field, 1, proto, sp, dp, from, to);
                  x.field[1].value.u32 = a.addr;
                  x.field[1].mask_range.u32 = a.len;
                  x.field[2].value.u32 = b.addr;
                  x.field[2].mask_range.u32 = b.len;
                  rules4.push_back(x);
                }
              for (const auto& a : s6)
                for (const auto& b : d6) {
                  Rule6 x{};
                  x.data = data;
                  set_common(x.field, 4, proto, sp, dp, from, to);
                  set_v6(x.field + 1, a);
                  set_v6(x.field + 5, b);
                  rules6.push_back(x);
                }
            }
  }
  int rc = rules4.empty() ? 0
                          : rte_acl_add_rules(idx->v4_, reinterpret_cast<rte_acl_rule*>(rules4.data()),
                                              static_cast<uint32_t>(rules4.size()));
  if (rc == 0 && !rules6.empty())
    rc = rte_acl_add_rules(idx->v6_, reinterpret_cast<rte_acl_rule*>(rules6.data()),
                           static_cast<uint32_t>(rules6.size()));
  if (rc != 0) {
    *error = std::string("rte_acl_add_rules: ") + rte_strerror(-rc);
    return nullptr;
  }
  rte_acl_field_def d4[kFields4], d6[kFields6];
  field_defs(d4, 1, offsetof(Key4, src), offsetof(Key4, dst), offsetof(Key4, sport),
             offsetof(Key4, czone));
  field_defs(d6, 4, offsetof(Key6, src), offsetof(Key6, dst), offsetof(Key6, sport),
             offsetof(Key6, czone));
  // An empty context cannot be built; it is never looked up either (see first_unconditional).
  if (!rules4.empty() && !finish(idx->v4_, d4, kFields4, error)) return nullptr;
  if (!rules6.empty() && !finish(idx->v6_, d6, kFields6, error)) return nullptr;
  if (rules4.empty()) {
    rte_acl_free(idx->v4_);
    idx->v4_ = nullptr;
  }
  if (rules6.empty()) {
    rte_acl_free(idx->v6_);
    idx->v6_ = nullptr;
  }
  return idx;
}

AclIndex::~AclIndex() {
  rte_acl_free(v4_);
  rte_acl_free(v6_);
}

uint32_t AclIndex::first_unconditional(const api::FlowFacts& f) const noexcept {
  uint32_t result = 0;
  if (f.ipv6) {
    if (!v6_) return static_cast<uint32_t>(image_.rules.size());
    Key6 k{};
    k.proto = f.l4_protocol;
    std::memcpy(k.src, f.client_v6.data(), 16);
    std::memcpy(k.dst, f.server_v6.data(), 16);
    k.sport = htons(f.client_port);
    k.dport = htons(f.server_port);
    k.czone = htons(f.client_zone);
    k.szone = htons(f.server_zone);
    const uint8_t* data[1] = {reinterpret_cast<const uint8_t*>(&k)};
    rte_acl_classify(v6_, data, &result, 1, 1);
  } else {
    if (!v4_) return static_cast<uint32_t>(image_.rules.size());
    Key4 k{};
    k.proto = f.l4_protocol;
    k.src = htonl(f.client_v4);
    k.dst = htonl(f.server_v4);
    k.sport = htons(f.client_port);
    k.dport = htons(f.server_port);
    k.czone = htons(f.client_zone);
    k.szone = htons(f.server_zone);
    const uint8_t* data[1] = {reinterpret_cast<const uint8_t*>(&k)};
    rte_acl_classify(v4_, data, &result, 1, 1);
  }
  return result ? result - 1 : static_cast<uint32_t>(image_.rules.size());
}

api::Verdict AclIndex::evaluate(const api::FlowFacts& f, uint64_t active_schedules) const noexcept {
  const uint32_t first = first_unconditional(f);
  api::Verdict v;
  for (uint32_t i : conditional_) {
    if (i > first) break;
    if (api::rule_decides(image_, i, f, active_schedules, &v)) return v;
  }
  if (first < image_.rules.size() && api::rule_decides(image_, first, f, active_schedules, &v))
    return v;
  return api::default_verdict(image_);
}

}  // namespace cg::enforce
