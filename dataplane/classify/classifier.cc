#include "dataplane/classify/classifier.h"

#include <ndpi/ndpi_api.h>

#include <algorithm>
#include <cstring>

namespace cg::classify {
namespace {
constexpr std::string_view kCounterNames[kCounterCount] = {
    "classify_packets", "classify_detected", "classify_given_up",
    "classify_unknown", "classify_no_state", "classify_no_hostname_slot",
};
}  // namespace

std::string_view counter_name(Counter c) { return kCounterNames[static_cast<size_t>(c)]; }

std::unique_ptr<Classifier> Classifier::create(const ClassifierConfig& cfg, std::string* error) {
  std::unique_ptr<Classifier> c(new Classifier(cfg));
  c->ndpi_ = ndpi_init_detection_module(ndpi_no_prefs);
  if (!c->ndpi_) {
    *error = "nDPI: cannot create a detection module";
    return nullptr;
  }
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(c->ndpi_, &all);
  struct File {
    const std::string& path;
    const char* what;
    int (*load)(ndpi_detection_module_struct*, const char*);
  };
  const File files[] = {
      {cfg.protocols_file, "protocols", [](ndpi_detection_module_struct* m, const char* p) {
         return ndpi_load_protocols_file(m, p);
       }},
      {cfg.categories_file, "categories", ndpi_load_categories_file},
      {cfg.risky_domains_file, "risky domains", ndpi_load_risk_domain_file},
      {cfg.ja3_file, "JA3 fingerprints", ndpi_load_malicious_ja3_file},
      {cfg.sha1_file, "SHA1 fingerprints", ndpi_load_malicious_sha1_file},
  };
  for (const auto& f : files) {
    if (f.path.empty()) continue;
    if (f.load(c->ndpi_, f.path.c_str()) < 0) {
      *error = std::string("nDPI: cannot load ") + f.what + " file " + f.path;
      return nullptr;
    }
  }
  ndpi_finalize_initialization(c->ndpi_);
  c->apps_.resize(std::max<size_t>(1, ndpi_get_num_supported_protocols(c->ndpi_)));
  c->state_size_ = (ndpi_detection_get_sizeof_ndpi_flow_struct() + 63) & ~size_t{63};
  c->states_.resize(c->state_size_ * cfg.max_inspecting);
  c->free_states_.reserve(cfg.max_inspecting);
  for (uint32_t i = cfg.max_inspecting; i > 0; --i) c->free_states_.push_back(i - 1);
  c->hosts_.resize(cfg.max_hostnames);
  c->free_hosts_.reserve(cfg.max_hostnames);
  for (uint32_t i = cfg.max_hostnames; i > 0; --i) c->free_hosts_.push_back(i - 1);
  return c;
}

Classifier::~Classifier() {
  if (ndpi_) ndpi_exit_detection_module(ndpi_);
}

bool Classifier::attach(flow::ExtRegistry& registry) {
  offset_ = registry.add("classify", sizeof(FlowClass), 8, &Classifier::release, this);
  return offset_ >= 0;
}

// Slot release (flow leaves the table): return the nDPI state and hostname buffer to the pools.
void Classifier::release(void* slot, void* ctx) {
  auto* self = static_cast<Classifier*>(ctx);
  auto* c = static_cast<FlowClass*>(slot);
  if (c->state) {
    ndpi_free_flow_data(self->state_of(*c));
    self->free_states_.push_back(c->state - 1);
    c->state = 0;
  }
  if (c->host) {
    self->free_hosts_.push_back(c->host - 1);
    c->host = 0;
  }
}

void Classifier::complete(FlowClass& c, bool give_up) {
  ndpi_flow_struct* f = state_of(c);
  if (give_up) {
    uint8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(ndpi_, f, 1, &guessed);
    c.master = p.master_protocol;
    c.app = p.app_protocol;
    c.category = static_cast<uint16_t>(p.category);
    if (guessed) c.flags |= FlowClass::kGuessed;
    inc(Counter::kFlowsGivenUp);
  } else {
    inc(Counter::kFlowsDetected);
  }
  if (c.master == NDPI_PROTOCOL_UNKNOWN && c.app == NDPI_PROTOCOL_UNKNOWN) inc(Counter::kFlowsUnknown);
  c.risk = f->risk;
  if (f->host_server_name[0]) {
    if (free_hosts_.empty()) {
      inc(Counter::kNoHostSlot);
    } else {
      uint32_t h = free_hosts_.back();
      free_hosts_.pop_back();
      std::memcpy(hosts_[h].data(), f->host_server_name, sizeof(f->host_server_name));
      hosts_[h].back() = '\0';
      c.host = h + 1;
    }
  }
  ndpi_free_flow_data(f);
  free_states_.push_back(c.state - 1);
  c.state = 0;
  c.flags |= FlowClass::kDone;
}

void Classifier::process(flow::FlowEntry& e, const uint8_t* l3, uint32_t l3_len, uint64_t ts_ns) {
  FlowClass& c = slot(e);
  if (c.flags & (FlowClass::kDone | FlowClass::kNoState)) return;
  if (!c.state) {
    if (free_states_.empty()) {
      c.flags |= FlowClass::kNoState;
      inc(Counter::kNoState);
      attribute(e, c);  // as Unknown: it will not be inspected
      return;
    }
    uint32_t idx = free_states_.back();
    free_states_.pop_back();
    c.state = idx + 1;
    std::memset(state_of(c), 0, state_size_);
  }
  inc(Counter::kPacketsInspected);
  uint16_t len = static_cast<uint16_t>(l3_len > 0xffff ? 0xffff : l3_len);
  ndpi_flow_struct* f = state_of(c);
  ndpi_protocol p = ndpi_detection_process_packet(ndpi_, f, l3, len, ts_ns / 1'000'000);
  c.master = p.master_protocol;
  c.app = p.app_protocol;
  c.category = static_cast<uint16_t>(p.category);
  if (c.packets < 255) ++c.packets;
  uint8_t proto = e.key.proto();
  uint64_t seen = e.packets[0] + e.packets[1];
  bool enough = (proto == packet::ipproto::kTcp && seen > cfg_.max_tcp_packets) ||
                (proto == packet::ipproto::kUdp && seen > cfg_.max_udp_packets) ||
                f->fail_with_unknown;
  if (enough || p.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
    if (!enough && ndpi_extra_dissection_possible(ndpi_, f)) return;  // e.g. certificate
    complete(c, p.app_protocol == NDPI_PROTOCOL_UNKNOWN);
    attribute(e, c);
  }
}

void Classifier::finish(flow::FlowEntry& e) {
  FlowClass& c = slot(e);
  if (c.state && !c.done()) complete(c, c.app == NDPI_PROTOCOL_UNKNOWN);
  attribute(e, c);  // also flows never inspected (e.g. blocked before nDPI saw them)
}

void Classifier::attribute(const flow::FlowEntry& e, FlowClass& c) {
  if (c.flags & FlowClass::kAttributed) return;
  c.flags |= FlowClass::kAttributed;
  AppTotals& t = apps_[app_index(c)];
  t.flows += 1;
  t.packets += e.packets[0] + e.packets[1];
  t.bytes += e.bytes[0] + e.bytes[1];
}

std::string Classifier::app_name(size_t index) const {
  const char* n = index ? ndpi_get_proto_name(ndpi_, static_cast<u_int16_t>(index)) : nullptr;
  return n ? n : "Unknown";
}

const char* Classifier::inspecting_hostname(const flow::FlowEntry& e) const {
  const FlowClass& c = slot(e);
  if (!c.state) return "";
  const auto* f =
      reinterpret_cast<const ndpi_flow_struct*>(states_.data() + (c.state - 1) * state_size_);
  return reinterpret_cast<const char*>(f->host_server_name);
}

const char* Classifier::hostname(const FlowClass& c) const {
  return c.host ? hosts_[c.host - 1].data() : "";
}

Names Classifier::names(const FlowClass& c) const {
  Names n;
  ndpi_protocol p{c.master, c.app, static_cast<ndpi_protocol_category_t>(c.category)};
  char buf[64];
  n.app = ndpi_protocol2name(ndpi_, p, buf, sizeof(buf));
  const char* cat = ndpi_category_get_name(ndpi_, p.category);
  n.category = cat ? cat : "";
  n.hostname = hostname(c);
  for (int r = 0; r < NDPI_MAX_RISK; ++r)
    if (c.risk & (1ull << r)) n.risks.emplace_back(ndpi_risk2str(static_cast<ndpi_risk_enum>(r)));
  return n;
}

std::vector<NamedAppTotals> sum_app_totals(const std::vector<const Classifier*>& classifiers) {
  std::vector<AppTotals> sum;
  const Classifier* namer = nullptr;
  for (const Classifier* c : classifiers) {
    if (!c) continue;
    namer = c;
    const auto& apps = c->app_totals();
    if (sum.size() < apps.size()) sum.resize(apps.size());
    for (size_t i = 0; i < apps.size(); ++i) {
      sum[i].packets += __atomic_load_n(&apps[i].packets, __ATOMIC_RELAXED);
      sum[i].bytes += __atomic_load_n(&apps[i].bytes, __ATOMIC_RELAXED);
      sum[i].flows += __atomic_load_n(&apps[i].flows, __ATOMIC_RELAXED);
    }
  }
  std::vector<NamedAppTotals> out;
  for (size_t i = 0; i < sum.size(); ++i)
    if (sum[i].packets || sum[i].flows) out.push_back({namer->app_name(i), sum[i]});
  std::stable_sort(out.begin(), out.end(), [](const NamedAppTotals& a, const NamedAppTotals& b) {
    return a.totals.bytes > b.totals.bytes;
  });
  return out;
}

}  // namespace cg::classify
