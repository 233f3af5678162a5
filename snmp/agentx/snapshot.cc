#include "snmp/agentx/snapshot.h"

namespace cg::agentx {
namespace {

using nlohmann::json;

// A reply is usable when it is an object that does not say ok:false.
bool reply_ok(const json& r, const char* cmd, std::string* err) {
  if (!r.is_object()) {
    *err = std::string(cmd) + ": reply is not a JSON object";
    return false;
  }
  auto ok = r.find("ok");
  if (ok != r.end() && !(ok->is_boolean() && ok->get<bool>())) {
    auto e = r.find("error");
    *err = std::string(cmd) + ": " +
           (e != r.end() && e->is_string() ? e->get<std::string>() : std::string("ok:false"));
    return false;
  }
  return true;
}

// Unsigned field `key` of object `o`; `path` names it in the error.
bool get_u64(const json& o, const std::string& key, const std::string& path, uint64_t* v,
             std::string* err, bool required = true) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (!required) return true;
    *err = path + key + ": missing";
    return false;
  }
  if (!it->is_number_unsigned()) {
    // nlohmann parses 0 as unsigned; a signed non-negative integer is also fine.
    if (it->is_number_integer() && it->get<int64_t>() >= 0) {
      *v = static_cast<uint64_t>(it->get<int64_t>());
      return true;
    }
    *err = path + key + ": not an unsigned number";
    return false;
  }
  *v = it->get<uint64_t>();
  return true;
}

// Seconds as the dataplane writes them (a double, e.g. uptime_s 42.37): whole seconds.
bool get_seconds(const json& o, const char* key, const std::string& path, uint64_t* v,
                 std::string* err) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (!it->is_number() || !(it->get<double>() >= 0) || it->get<double>() > 1e15) {
    *err = path + key + ": not a non-negative number";
    return false;
  }
  *v = static_cast<uint64_t>(it->get<double>());
  return true;
}

bool get_string(const json& o, const char* key, const std::string& path, std::string* v,
                std::string* err) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return true;  // optional everywhere we use it
  if (!it->is_string()) {
    *err = path + key + ": not a string";
    return false;
  }
  *v = it->get<std::string>();
  return true;
}

bool get_object(const json& o, const char* key, const std::string& path, const json** v,
                std::string* err) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_object()) {
    *err = path + key + ": missing or not an object";
    return false;
  }
  *v = &*it;
  return true;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

bool map_health(const json& r, DataplaneData* out, std::string* err) {
  if (!reply_ok(r, "health", err)) return false;
  std::string state;
  if (!get_string(r, "state", "health.", &state, err)) return false;
  out->running = state == "running";
  auto lu = r.find("links_up");
  out->links_up = lu != r.end() && lu->is_boolean() && lu->get<bool>();
  uint64_t w = 0;
  if (!get_u64(r, "workers", "health.", &w, err)) return false;
  out->workers = static_cast<uint32_t>(std::min<uint64_t>(w, UINT32_MAX));
  return get_seconds(r, "uptime_s", "health.", &out->uptime_s, err);
}

bool map_stats(const json& r, DataplaneData* out, std::string* err) {
  if (!reply_ok(r, "stats", err)) return false;
  const json* ports = nullptr;
  const json* counters = nullptr;
  if (!get_object(r, "ports", "stats.", &ports, err)) return false;
  if (!get_object(r, "counters", "stats.", &counters, err)) return false;
  static constexpr const char* kPortNames[2] = {"inside", "outside"};
  for (int p = 0; p < 2; ++p) {
    const std::string path = std::string("stats.ports.") + kPortNames[p] + ".";
    const json* pj = nullptr;
    if (!get_object(*ports, kPortNames[p], "stats.ports.", &pj, err)) return false;
    PortCounters& pc = out->ports[p];
    if (!get_string(*pj, "device", path, &pc.device, err) ||
        !get_u64(*pj, "rx_packets", path, &pc.rx_packets, err) ||
        !get_u64(*pj, "rx_bytes", path, &pc.rx_bytes, err) ||
        !get_u64(*pj, "tx_packets", path, &pc.tx_packets, err) ||
        !get_u64(*pj, "tx_bytes", path, &pc.tx_bytes, err) ||
        !get_u64(*pj, "drop_tx_full", path, &pc.drop_tx_full, err, false))
      return false;
    auto lu = pj->find("link_up");
    pc.has_link = lu != pj->end() && lu->is_boolean();
    pc.link_up = pc.has_link && lu->get<bool>();
    uint64_t speed = 0;
    if (!get_u64(*pj, "speed_mbps", path, &speed, err, false)) return false;
    pc.speed_mbps = static_cast<uint32_t>(std::min<uint64_t>(speed, UINT32_MAX));
  }
  const std::string cpath = "stats.counters.";
  if (!get_u64(*counters, "packets", cpath, &out->packets, err) ||
      !get_u64(*counters, "bytes", cpath, &out->bytes, err) ||
      !get_u64(*counters, "forwarded", cpath, &out->forwarded, err) ||
      !get_u64(*counters, "flows_active", cpath, &out->flows_active, err, false) ||
      !get_u64(*counters, "flows_created", cpath, &out->flows_created, err, false))
    return false;
  // Drop reasons: every drop_* counter (a new reason shows up as a new row by itself).
  for (auto it = out->drops.begin(); it != out->drops.end();)
    it = starts_with(it->first, "qos_drop_") ? std::next(it) : out->drops.erase(it);
  for (const auto& [k, v] : counters->items()) {
    if (!starts_with(k, "drop_")) continue;
    uint64_t n = 0;
    if (!get_u64(*counters, k, cpath, &n, err)) return false;
    out->drops[k] = n;
  }
  const json* policy = nullptr;
  if (r.contains("policy")) {
    if (!get_object(r, "policy", "stats.", &policy, err)) return false;
    if (!get_u64(*policy, "generation", "stats.policy.", &out->policy_generation, err, false))
      return false;
  }
  return true;
}

bool map_policy_status(const json& r, DataplaneData* out, std::string* err) {
  if (!reply_ok(r, "policy.status", err)) return false;
  const std::string path = "policy.status.";
  uint64_t rules = 0;
  if (!get_u64(r, "generation", path, &out->policy_generation, err) ||
      !get_string(r, "sha256", path, &out->policy_sha256, err) ||
      !get_string(r, "origin", path, &out->policy_origin, err) ||
      !get_string(r, "school", path, &out->policy_school, err) ||
      !get_string(r, "loaded_at", path, &out->policy_loaded_at, err) ||
      !get_u64(r, "rules", path, &rules, err, false) ||
      !get_u64(r, "applies", path, &out->policy_applies, err, false) ||
      !get_u64(r, "revision", path, &out->policy_revision, err, false))
    return false;
  out->policy_rules = static_cast<uint32_t>(std::min<uint64_t>(rules, UINT32_MAX));
  return true;
}

bool map_qos(const json& r, DataplaneData* out, std::string* err) {
  if (!reply_ok(r, "qos", err)) return false;
  auto ws = r.find("workers");
  if (ws == r.end() || !ws->is_array()) {
    *err = "qos.workers: missing or not an array";
    return false;
  }
  std::map<std::string, ZoneCounters> zones;
  std::map<std::string, uint64_t> qos_drops;
  for (size_t i = 0; i < ws->size(); ++i) {
    const json& w = (*ws)[i];
    const std::string wpath = "qos.workers[" + std::to_string(i) + "].";
    if (!w.is_object()) {
      *err = wpath.substr(0, wpath.size() - 1) + ": not an object";
      return false;
    }
    auto q = w.find("qos");
    if (q == w.end() || q->is_null()) continue;  // no bandwidth plan on this worker
    if (!q->is_object()) {
      *err = wpath + "qos: not an object";
      return false;
    }
    auto rooms = q->find("classrooms");
    if (rooms != q->end()) {
      if (!rooms->is_array()) {
        *err = wpath + "qos.classrooms: not an array";
        return false;
      }
      for (size_t k = 0; k < rooms->size(); ++k) {
        const json& z = (*rooms)[k];
        const std::string zpath = wpath + "qos.classrooms[" + std::to_string(k) + "].";
        if (!z.is_object()) {
          *err = zpath.substr(0, zpath.size() - 1) + ": not an object";
          return false;
        }
        std::string name;
        if (!get_string(z, "name", zpath, &name, err)) return false;
        if (name.empty()) {
          *err = zpath + "name: missing or empty";
          return false;
        }
        ZoneCounters add;
        if (!get_u64(z, "packets", zpath, &add.packets, err) ||
            !get_u64(z, "bytes_up", zpath, &add.bytes_up, err, false) ||
            !get_u64(z, "bytes_down", zpath, &add.bytes_down, err, false) ||
            !get_u64(z, "dropped_packets", zpath, &add.dropped_packets, err, false) ||
            !get_u64(z, "dropped_bytes", zpath, &add.dropped_bytes, err, false) ||
            !get_u64(z, "rate_bps_up", zpath, &add.rate_bps_up, err, false) ||
            !get_u64(z, "rate_bps_down", zpath, &add.rate_bps_down, err, false))
          return false;
        ZoneCounters& s = zones[name];
        s.packets += add.packets;
        s.bytes_up += add.bytes_up;
        s.bytes_down += add.bytes_down;
        s.dropped_packets += add.dropped_packets;
        s.dropped_bytes += add.dropped_bytes;
        s.rate_bps_up += add.rate_bps_up;
        s.rate_bps_down += add.rate_bps_down;
      }
    }
    auto counters = q->find("counters");
    if (counters != q->end() && counters->is_object()) {
      for (const auto& [k, v] : counters->items()) {
        if (!starts_with(k, "qos_drop_")) continue;
        uint64_t n = 0;
        if (!get_u64(*counters, k, wpath + "qos.counters.", &n, err)) return false;
        qos_drops[k] += n;
      }
    }
  }
  out->zones = std::move(zones);
  for (auto it = out->drops.begin(); it != out->drops.end();)
    it = starts_with(it->first, "qos_drop_") ? out->drops.erase(it) : std::next(it);
  for (const auto& [k, v] : qos_drops) out->drops[k] = v;
  return true;
}

void count_event_line(std::string_view line, EventCounts* c) {
  json ev = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!ev.is_object()) {
    ++c->malformed;
    return;
  }
  auto type = ev.find("event_type");
  if (type == ev.end() || !type->is_string()) {
    ++c->malformed;
    return;
  }
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "alert") {
    auto a = ev.find("alert");
    if (a == ev.end() || !a->is_object()) {
      ++c->malformed;
      return;
    }
    auto sev = a->find("severity");
    if (sev == a->end() || !sev->is_number_integer()) {
      ++c->malformed;
      return;
    }
    int64_t s = sev->get<int64_t>();
    if (s < 1 || s > static_cast<int64_t>(kSeverities)) {
      ++c->malformed;
      return;
    }
    ++c->by_severity[static_cast<size_t>(s - 1)];
  } else if (t == "overflow") {
    auto o = ev.find("overflow");
    uint64_t lost = 0;
    std::string ignored;
    if (o == ev.end() || !o->is_object() || !get_u64(*o, "lost", "", &lost, &ignored)) {
      ++c->malformed;
      return;
    }
    c->missed += lost;
  }
}

}  // namespace cg::agentx
