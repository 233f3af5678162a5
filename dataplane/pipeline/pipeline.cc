#include "dataplane/pipeline/pipeline.h"

#include <stdexcept>

namespace cg::pipeline {
namespace {
constexpr std::string_view kCounterNames[kCounterCount] = {
    "packets",         "bytes",          "forwarded",          "ip_packets",
    "non_ip_packets",  "drop_malformed", "drop_non_ip",        "drop_flow_table_full",
    "fragments_matched", "fragments_unmatched", "drop_policy",
    "drop_blocklist", "drop_qos", "drop_quarantine",
};
}  // namespace

std::string_view counter_name(Counter c) { return kCounterNames[static_cast<size_t>(c)]; }

uint32_t FragmentPorts::index(const packet::Parsed& p) {
  uint32_t h = p.frag_id * 0x9e3779b1u ^ p.l4_proto;
  for (int i = 12; i < 16; ++i) h = (h ^ p.src[i] ^ (p.dst[i] << 8)) * 0x01000193u;
  return (h ^ (h >> 15)) & (kSlots - 1);
}

void FragmentPorts::remember(const packet::Parsed& p, uint64_t now_ns) {
  Slot& s = slots_[index(p)];
  s = Slot{p.src, p.dst, p.frag_id, p.l4_proto, p.src_port, p.dst_port, now_ns};
}

bool FragmentPorts::recall(packet::Parsed* p, uint64_t now_ns) const {
  const Slot& s = slots_[index(*p)];
  if (s.seen_ns == 0 || now_ns - s.seen_ns > kLifetimeNs || s.id != p->frag_id ||
      s.proto != p->l4_proto || s.src != p->src || s.dst != p->dst)
    return false;
  p->src_port = s.src_port;
  p->dst_port = s.dst_port;
  p->later_fragment = false;  // the ports are known now: key it like the first fragment
  return true;
}

std::unique_ptr<classify::Classifier> Pipeline::make_classifier(const PipelineConfig& cfg,
                                                                 flow::ExtRegistry& ext) {
  if (!cfg.classify) return nullptr;
  std::string err;
  auto c = classify::Classifier::create(cfg.classifier, &err);
  if (!c) throw std::runtime_error(err);
  if (!c->attach(ext)) throw std::runtime_error("flow extension area full (classify)");
  return c;
}

Pipeline::Pipeline(const PipelineConfig& cfg)
    : cfg_(cfg),
      classifier_(make_classifier(cfg, ext_)),
      enforcer_attached_(enforcer_.attach(ext_)),
      shaper_attached_(shaper_.attach(ext_)),
      detect_(cfg.detect, 0),
      table_(cfg.table, &ext_) {
  if (!enforcer_attached_) throw std::runtime_error("flow extension area full (verdict)");
  if (!shaper_attached_) throw std::runtime_error("flow extension area full (qos)");
  table_.set_end_callback(&Pipeline::on_flow_end, this);
}

void Pipeline::on_flow_end(void* ctx, flow::FlowEntry& e, flow::EndReason why) {
  auto* self = static_cast<Pipeline*>(ctx);
  if (self->classifier_) {
    const bool was_done = self->classifier_->slot(e).done();
    self->classifier_->finish(e);
    if (!was_done && self->classifier_->slot(e).done())
      self->detect_.on_classified(e, *self->classifier_, e.last_seen_ns);
  }
  self->detect_.on_flow_end(e);
  self->enforcer_.settle(e, self->classifier_.get(), e.last_seen_ns);
  if (self->end_fn_) self->end_fn_(self->end_ctx_, e, why);
}

void Pipeline::process(const PacketRef* pkts, uint32_t n, Verdict* verdicts) {
  packet::Parsed parsed[kMaxBurst];
  flow::FlowKey keys[kMaxBurst];
  uint32_t hashes[kMaxBurst];
  bool src_lo[kMaxBurst];
  uint32_t ip_index[kMaxBurst];  // burst position of the i-th IP packet
  flow::FlowEntry* flows[kMaxBurst];
  uint8_t created[kMaxBurst];
  uint32_t nip = 0;

  for (uint32_t i = 0; i < n; ++i) {
    const PacketRef& p = pkts[i];
    inc(Counter::kPackets);
    inc(Counter::kBytes, p.wire_len);
    bool ok = packet::parse(p.data, p.len, &parsed[i], &decode_, cfg_.link, p.len < p.wire_len);
    if (!ok) {
      if (cfg_.malformed == FrameAction::kDrop) {
        inc(Counter::kDropMalformed);
        verdicts[i] = Verdict::kDrop;
      } else {
        verdicts[i] = Verdict::kForward;
      }
      continue;
    }
    if (!parsed[i].is_ip()) {
      inc(Counter::kNonIpPackets);
      if (cfg_.non_ip == FrameAction::kDrop) {
        inc(Counter::kDropNonIp);
        verdicts[i] = Verdict::kDrop;
      } else {
        verdicts[i] = Verdict::kForward;
      }
      continue;
    }
    inc(Counter::kIpPackets);
    if (quarantine_) {
      const bool src_hit = quarantine_->match_addr(parsed[i].src);
      if (src_hit || quarantine_->match_addr(parsed[i].dst)) {
        inc(Counter::kDropQuarantine);
        if (detect_.enabled()) detect_.on_quarantine(parsed[i], src_hit, p.port, p.ts_ns);
        verdicts[i] = Verdict::kDrop;
        continue;
      }
    }
    if (parsed[i].fragment && parsed[i].has_l4 &&
        (parsed[i].l4_proto == packet::ipproto::kTcp ||
         parsed[i].l4_proto == packet::ipproto::kUdp)) {
      frags_.remember(parsed[i], p.ts_ns);
    } else if (parsed[i].later_fragment) {
      inc(frags_.recall(&parsed[i], p.ts_ns) ? Counter::kFragmentsMatched
                                             : Counter::kFragmentsUnmatched);
    }
    src_lo[nip] = flow::make_key(parsed[i], &keys[nip]);
    hashes[nip] = flow::hash_key(keys[nip]);
    ip_index[nip] = i;
    ++nip;
  }

  if (nip) table_.lookup_burst(keys, hashes, src_lo, nip, pkts[0].ts_ns, flows, created);

  for (uint32_t j = 0; j < nip; ++j) {
    uint32_t i = ip_index[j];
    uint64_t now_ns = pkts[i].ts_ns;
    flow::FlowEntry* e = flows[j];
    bool is_new = created[j];
    // An insert later in the burst may have evicted (or a reused tuple recreated) this entry:
    // look it up again rather than account into a slot that now holds another flow.
    if (e && (!(e->flags & flow::FlowEntry::kInUse) || !(e->key == keys[j]))) {
      e = table_.lookup_one(keys[j], hashes[j], src_lo[j], now_ns, &is_new);
    }
    if (e && is_new) {
      e->first_seen_ns = e->last_seen_ns = now_ns;
      if (pkts[i].port == 1) e->flags |= flow::FlowEntry::kInitiatorOutside;
    }
    if (e) e = table_.account(e, src_lo[j], pkts[i].wire_len, parsed[i].tcp_flags, now_ns);
    if (e && classifier_) classifier_->account(*e, pkts[i].wire_len);  // per-app totals
    if (e) detect_.record(*e, pkts[i].data, pkts[i].len, pkts[i].wire_len, now_ns);  // evidence
    bool detect_pass = !e || detect_.on_packet(*e, parsed[i], is_new, pkts[i].port, now_ns);
    if (e && detect_pass && classifier_) {
      const bool was_done = classifier_->slot(*e).done();
      uint32_t off = parsed[i].l3_offset;
      classifier_->process(*e, pkts[i].data + off, pkts[i].len - off, now_ns);
      if (!was_done && classifier_->slot(*e).done())
        detect_pass = detect_.on_classified(*e, *classifier_, now_ns);
      else if (!was_done)
        detect_pass = detect_.on_inspected(*e, *classifier_, now_ns);
    }
    if (!detect_pass) {
      inc(Counter::kDropBlocklist);
      verdicts[i] = Verdict::kDrop;
      continue;
    }
    const enforce::FlowVerdict before = e ? enforcer_.slot(*e) : enforce::FlowVerdict{};
    const bool policy_pass =
        !e || enforcer_.judge(*e, classifier_.get(), pkts[i].wire_len, now_ns);
    if (e && enforcer_.image() && detect_.enabled())
      detect_.on_verdict(*e, classifier_.get(), *enforcer_.image(), before, enforcer_.slot(*e),
                         now_ns);
    if (e && !policy_pass) {
      inc(Counter::kDropPolicy);
      bool reset = (enforcer_.slot(*e).flags & enforce::FlowVerdict::kReset) &&
                   parsed[i].l4_proto == packet::ipproto::kTcp &&
                   !(parsed[i].tcp_flags & packet::tcpflag::kRst);
      verdicts[i] = reset ? Verdict::kReset : Verdict::kDrop;
      continue;
    }
    // QoS: the flow's classroom / class, then the hierarchical policer (dataplane/qos).
    if (e && !shaper_.admit(*e, classifier_.get(), e->dir(src_lo[j]) == 0, pkts[i].wire_len,
                            now_ns)) {
      inc(Counter::kDropQos);
      verdicts[i] = Verdict::kDrop;
      continue;
    }
    if (e == nullptr) {
      // Table full and configured not to evict: fail open or closed as configured.
      if (table_.on_full() == flow::OnFull::kDrop) {
        inc(Counter::kDropFlowTableFull);
        verdicts[i] = Verdict::kDrop;
      } else {
        verdicts[i] = Verdict::kForward;
      }
      continue;
    }
    verdicts[i] = Verdict::kForward;
  }
  for (uint32_t i = 0; i < n; ++i)
    if (verdicts[i] == Verdict::kForward) inc(Counter::kForwarded);
}

}  // namespace cg::pipeline
