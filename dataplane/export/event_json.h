// Events as JSON: the EVE-compatible form (Suricata names where it has one) described by
// dataplane/api/event.schema.json. Runs on the control thread or in --replay, never on a worker.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/api/policy_image.h"
#include "dataplane/export/event.h"

namespace cg::exporter {

inline constexpr int kEventSchemaVersion = 1;

struct EventContext {
  std::string school_id;                          // from the policy image when empty
  std::shared_ptr<const api::PolicyImage> image;  // zones; may be null
  uint32_t run_id = 0;  // random per process start: event ids stay unique across restarts
};

// "port_scan", "host_sweep", "syn_flood", "udp_flood", "blocklist_ip", "blocklist_domain",
// "flow_risk", "policy", "overflow".
const char* detector_name(EventKind k);
// 1 critical, 2 high, 3 medium, 4 low, 5 info (Suricata: 1 is the most severe).
int eve_severity(uint8_t api_severity);
// RFC 3339 UTC with microseconds, as Suricata writes it: 2026-11-29T23:54:56.123456+0000.
std::string eve_timestamp(uint64_t ts_ns);
// Zone name of an endpoint per the image's rules (inside: VLAN then longest prefix; outside:
// longest prefix). Empty when none.
std::string zone_name(const api::PolicyImage& im, const std::array<uint8_t, 16>& addr,
                      uint16_t vlan, bool inside);

nlohmann::json to_json(const Event& ev, const EventContext& ctx);

// An overflow event: `lost` events were dropped at `where` ("worker_ring", "subscriber",
// "eve_file", "backlog") since the previous report. Its event id is <run>-hub-<seq>: the event
// hub numbers the overflow events it makes (seq), so each has its own id.
Event overflow_event(uint64_t ts_ns, const char* where, uint64_t lost, int worker);

}  // namespace cg::exporter
