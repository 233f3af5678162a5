// The `bandwidth` section -> api::QosImage, with the tree's consistency checks.
#include "policies/compiler/bandwidth.h"

#include <algorithm>
#include <cctype>

#include "policies/compiler/names.h"
#include "policies/compiler/spec.h"

namespace cg::policy {
namespace {

using Sev = DiagSeverity;

bool is_text(const YAML::Node& n) {
  return n && n.IsScalar() && !is_plain_non_string(n);
}

// Resolves one name against `t`; reports an undefined name with a suggestion.
bool resolve_name(const YAML::Node& n, const std::string& path, const NameTable& t,
                  const char* what, BandwidthContext& ctx, size_t* id) {
  if (!is_text(n)) return false;
  auto it = t.ids->find(n.Scalar());
  if (it == t.ids->end()) {
    std::vector<std::string> names;
    for (const auto& [k, v] : *t.ids) names.push_back(k);
    ctx.report(n, path,
               std::string("undefined ") + what + " '" + n.Scalar() + "'" +
                   suggestion_suffix(n.Scalar(), names),
               Sev::kError);
    return false;
  }
  (*t.used)[it->second] = true;
  *id = it->second;
  return true;
}

template <class F>
void each_item(const YAML::Node& n, const std::string& path, F f) {
  if (!n) return;
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) f(n[i], path_index(path, i));
  } else {
    f(n, path);
  }
}

// A rate value within the supported range; reports and returns false otherwise.
bool rate_of(const YAML::Node& n, const std::string& path, BandwidthContext& ctx, uint64_t* bps) {
  if (!is_text(n) || !parse_rate(n.Scalar(), bps)) return false;  // structural error already
  if (*bps < api::kMinQosRateBps || *bps > api::kMaxQosRateBps) {
    ctx.report(n, path,
               "rate " + n.Scalar() + " is outside " + rate_text(api::kMinQosRateBps) + " .. " +
                   rate_text(api::kMaxQosRateBps),
               Sev::kError);
    return false;
  }
  return true;
}

struct ZoneSource {
  YAML::Node rate_node, guaranteed_node, key;
  std::string path;
  size_t classrooms = 0;
};

}  // namespace

bool parse_rate(const std::string& text, uint64_t* bps) {
  size_t i = 0;
  uint64_t whole = 0, frac = 0, frac_div = 1;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
    if (whole > 1'000'000'000'000ull) return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t digits = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits) {
      if (digits == 3) return false;
      frac = frac * 10 + static_cast<uint64_t>(text[i] - '0');
      frac_div *= 10;
    }
    if (digits == 0) return false;
  }
  if (i < text.size() && text[i] == ' ') ++i;
  const std::string unit = text.substr(i);
  uint64_t mult = 0;
  if (unit == "kbit") mult = 1'000;
  if (unit == "Mbit") mult = 1'000'000;
  if (unit == "Gbit") mult = 1'000'000'000;
  if (mult == 0) return false;
  *bps = whole * mult + frac * mult / frac_div;
  return true;
}

std::string rate_text(uint64_t bps) {
  struct Unit {
    uint64_t mult;
    const char* name;
  };
  for (Unit u : {Unit{1'000'000'000, "Gbit"}, Unit{1'000'000, "Mbit"}, Unit{1'000, "kbit"}}) {
    if (bps >= u.mult || u.mult == 1'000) {
      std::string s = std::to_string(bps / u.mult);
      uint64_t rest = bps % u.mult * 1000 / u.mult;  // three decimals at most
      if (rest) {
        std::string d = std::to_string(rest);
        d = std::string(3 - d.size(), '0') + d;
        while (!d.empty() && d.back() == '0') d.pop_back();
        s += "." + d;
      }
      return s + " " + u.name;
    }
  }
  return std::to_string(bps) + " bit";
}

void compile_bandwidth(const YAML::Node& bw, BandwidthContext& ctx) {
  if (!bw || !bw.IsMap()) return;  // absent, or a structural error already reported
  api::PolicyImage& im = *ctx.image;
  api::QosImage& q = im.bandwidth;
  q.enabled = true;
  auto err = [&](const YAML::Node& n, const std::string& p, std::string m) {
    ctx.report(n, p, std::move(m), Sev::kError);
  };

  // ---- uplink -----------------------------------------------------------------------------
  const YAML::Node up = bw["uplink"];
  bool uplink_ok = false;
  if (up && up.IsMap()) {
    uplink_ok = rate_of(up["up"], "bandwidth.uplink.up", ctx, &q.uplink_bps[0]);
    uplink_ok = rate_of(up["down"], "bandwidth.uplink.down", ctx, &q.uplink_bps[1]) && uplink_ok;
  }
  const uint64_t uplink = std::min(q.uplink_bps[0], q.uplink_bps[1]);
  q.burst_ms = api::kQosAutoBurst;  // absent: sized for TCP per rate (dataplane/qos/README.md)
  if (const YAML::Node b = bw["burst-ms"]; b && b.IsScalar()) {
    try {
      const long v = std::stol(b.Scalar());
      if (v >= 1 && v <= static_cast<long>(api::kMaxQosBurstMs))
        q.burst_ms = static_cast<uint32_t>(v);
    } catch (const std::exception&) {  // structural error already reported
    }
  }

  // ---- zones ------------------------------------------------------------------------------
  std::vector<ZoneSource> zsrc;
  std::map<size_t, uint16_t> qz_of_zone;  // PolicyImage zone id -> QosImage zone id
  const YAML::Node zones = bw["zones"];
  if (zones && zones.IsMap()) {
    for (auto it = zones.begin(); it != zones.end(); ++it) {
      const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
      const std::string zpath = path_join("bandwidth.zones", name);
      size_t zid = 0;
      if (!resolve_name(it->first, zpath, ctx.zones, "zone", ctx, &zid)) continue;
      if (qz_of_zone.count(zid)) continue;  // duplicate key: reported structurally
      const YAML::Node body = it->second;
      if (!body.IsMap()) continue;
      api::QosZone z;
      z.zone = static_cast<uint16_t>(zid);
      if (!rate_of(body["rate"], path_join(zpath, "rate"), ctx, &z.rate_bps)) continue;
      if (body["guaranteed"])
        rate_of(body["guaranteed"], path_join(zpath, "guaranteed"), ctx, &z.guaranteed_bps);
      z.per_vlan = !(is_text(body["per"]) && body["per"].Scalar() == "zone");
      if (uplink_ok && z.rate_bps > uplink)
        err(body["rate"], path_join(zpath, "rate"),
            "the classroom rate " + rate_text(z.rate_bps) + " is more than the uplink (" +
                rate_text(uplink) + ")");
      if (z.guaranteed_bps > z.rate_bps)
        err(body["guaranteed"], path_join(zpath, "guaranteed"),
            "guaranteed " + rate_text(z.guaranteed_bps) + " is more than the classroom's rate " +
                rate_text(z.rate_bps));
      if (const YAML::Node ph = body["per-host"]; ph && ph.IsMap()) {
        const std::string hpath = path_join(zpath, "per-host");
        z.host_fair = ph["fair"] && ph["fair"].IsScalar() && ph["fair"].Scalar() == "true";
        if (ph["cap"]) rate_of(ph["cap"], path_join(hpath, "cap"), ctx, &z.host_cap_bps);
        if (!z.host_fair && !ph["cap"])
          err(ph, hpath, "per-host needs 'fair: true', a 'cap', or both");
        if (z.host_cap_bps > z.rate_bps)
          err(ph["cap"], path_join(hpath, "cap"),
              "the per-host cap " + rate_text(z.host_cap_bps) +
                  " is more than the classroom's rate " + rate_text(z.rate_bps));
        else if (z.host_cap_bps && z.host_cap_bps == z.rate_bps)
          ctx.report(ph["cap"], path_join(hpath, "cap"),
                     "the per-host cap " + rate_text(z.host_cap_bps) +
                         " equals the classroom's rate: it never limits",
                     Sev::kWarning);
      }
      const api::Zone& pz = im.zones[zid];
      ZoneSource src{body["rate"], body["guaranteed"], it->first, zpath, 0};
      const auto qz = static_cast<uint16_t>(q.zones.size());
      if (z.per_vlan && !pz.vlans.empty()) {
        for (const auto& r : pz.vlans)
          for (uint32_t v = r.lo; v <= r.hi && q.classrooms.size() < api::kMaxQosClassrooms;
               ++v, ++src.classrooms)
            q.classrooms.push_back({qz, static_cast<uint16_t>(v)});
      }
      if (!z.per_vlan || pz.vlans.empty() || !pz.v4.empty() || !pz.v6.empty()) {
        q.classrooms.push_back({qz, 0});  // the zone as a whole (subnet-matched endpoints)
        ++src.classrooms;
      }
      if (q.classrooms.size() >= api::kMaxQosClassrooms) {
        err(it->first, zpath,
            "too many classrooms (at most " + std::to_string(api::kMaxQosClassrooms - 1) +
                " in all zones)");
        q.classrooms.resize(api::kMaxQosClassrooms - 1);
      }
      qz_of_zone[zid] = qz;
      q.zones.push_back(z);
      zsrc.push_back(src);
    }
    // The classrooms' guarantees must fit in the uplink.
    uint64_t sum = 0;
    for (size_t i = 0; i < q.zones.size(); ++i) {
      if (!q.zones[i].guaranteed_bps) continue;
      sum += q.zones[i].guaranteed_bps * zsrc[i].classrooms;
      if (uplink_ok && sum > uplink) {
        err(zsrc[i].guaranteed_node, path_join(zsrc[i].path, "guaranteed"),
            "classrooms are guaranteed more than the uplink: " +
                std::to_string(zsrc[i].classrooms) + " classrooms x " +
                rate_text(q.zones[i].guaranteed_bps) + " brings the sum to " + rate_text(sum) +
                " > " + rate_text(uplink));
        break;
      }
    }
  }
  q.classrooms.push_back({api::kNoQosZone, 0});  // unzoned: the rest of the school

  // ---- classes ----------------------------------------------------------------------------
  const YAML::Node classes = bw["classes"];
  std::vector<YAML::Node> guaranteed_nodes, cap_nodes;  // per compiled class
  std::vector<std::string> class_paths;
  if (classes && classes.IsSequence()) {
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < classes.size(); ++i) {
      const YAML::Node c = classes[i];
      const std::string cpath = path_index("bandwidth.classes", i);
      if (!c.IsMap()) continue;
      api::QosClass k;
      k.name = is_text(c["name"]) ? c["name"].Scalar() : "";
      k.line = static_cast<uint32_t>(c.Mark().line + 1);
      if (k.name == "default")
        err(c["name"], path_join(cpath, "name"),
            "'default' is the class of flows no class takes; choose another name");
      if (!k.name.empty()) {
        auto [pos, fresh] = names.emplace(k.name, i);
        if (!fresh)
          err(c["name"], path_join(cpath, "name"),
              "duplicate class name '" + k.name + "' (first used by bandwidth.classes[" +
                  std::to_string(pos->second) + "])");
      }
      if (q.classes.size() == api::kMaxQosClasses) {
        err(c, cpath, "too many classes (at most " + std::to_string(api::kMaxQosClasses) + ")");
        break;
      }
      each_item(c["app"], path_join(cpath, "app"), [&](const YAML::Node& n, const std::string& p) {
        size_t id = 0;
        if (resolve_name(n, p, ctx.apps, "app group", ctx, &id))
          k.apps.push_back(static_cast<uint16_t>(id));
      });
      std::sort(k.apps.begin(), k.apps.end());
      k.apps.erase(std::unique(k.apps.begin(), k.apps.end()), k.apps.end());
      each_item(c["zones"], path_join(cpath, "zones"),
                [&](const YAML::Node& n, const std::string& p) {
                  size_t id = 0;
                  if (!resolve_name(n, p, ctx.zones, "zone", ctx, &id)) return;
                  auto qz = qz_of_zone.find(id);
                  if (qz == qz_of_zone.end()) {
                    err(n, p, "zone '" + n.Scalar() + "' has no entry in bandwidth.zones");
                    return;
                  }
                  k.zones.push_back(qz->second);
                });
      std::sort(k.zones.begin(), k.zones.end());
      k.zones.erase(std::unique(k.zones.begin(), k.zones.end()), k.zones.end());
      if (is_text(c["when"])) {
        size_t id = 0;
        if (resolve_name(c["when"], path_join(cpath, "when"), ctx.schedules, "schedule", ctx, &id))
          k.schedule = static_cast<uint16_t>(id);
      }
      k.priority = c["priority"] && c["priority"].IsScalar() && c["priority"].Scalar() == "true";
      if (c["guaranteed"])
        rate_of(c["guaranteed"], path_join(cpath, "guaranteed"), ctx, &k.guaranteed_bps);
      if (c["cap"]) rate_of(c["cap"], path_join(cpath, "cap"), ctx, &k.cap_bps);
      if (k.cap_bps && k.guaranteed_bps > k.cap_bps)
        err(c["guaranteed"], path_join(cpath, "guaranteed"),
            "guaranteed " + rate_text(k.guaranteed_bps) + " is more than the class's cap " +
                rate_text(k.cap_bps));
      if (!c["guaranteed"] && !c["cap"] && !k.priority)
        ctx.report(c, cpath,
                   "class '" + k.name + "' has no cap, guarantee or priority: it only counts",
                   Sev::kWarning);
      guaranteed_nodes.push_back(c["guaranteed"]);
      cap_nodes.push_back(c["cap"]);
      class_paths.push_back(cpath);
      q.classes.push_back(std::move(k));
    }
  }

  // Children guaranteed more than the parent: per classroom of every zone (and the unzoned
  // classroom, whose parent rate is the uplink), the guarantees of the classes that exist there.
  auto check_room = [&](uint16_t qz, uint64_t parent, const std::string& parent_text) {
    uint64_t sum = 0;
    std::string parts;
    for (size_t i = 0; i < q.classes.size(); ++i) {
      const api::QosClass& k = q.classes[i];
      if (!k.guaranteed_bps) continue;
      if (!k.zones.empty() && !std::binary_search(k.zones.begin(), k.zones.end(), qz)) continue;
      sum += k.guaranteed_bps;
      parts += (parts.empty() ? "" : " + ") + k.name + " " + rate_text(k.guaranteed_bps);
      if (sum > parent) {
        err(guaranteed_nodes[i], path_join(class_paths[i], "guaranteed"),
            "classes are guaranteed more than " + parent_text + ": " + parts + " = " +
                rate_text(sum) + " > " + rate_text(parent));
        return;
      }
    }
  };
  for (size_t z = 0; z < q.zones.size(); ++z)
    check_room(static_cast<uint16_t>(z), q.zones[z].rate_bps,
               "a classroom of zone '" + im.zones[q.zones[z].zone].name + "'");
  if (uplink_ok) check_room(api::kNoQosZone, uplink, "the uplink (unzoned traffic)");
  // Caps at or above every classroom rate they apply to never limit anything.
  for (size_t i = 0; i < q.classes.size(); ++i) {
    const api::QosClass& k = q.classes[i];
    if (!k.cap_bps || !uplink_ok) continue;
    uint64_t top = k.zones.empty() ? uplink : 0;  // zone-less classes also apply to unzoned
    for (size_t z = 0; z < q.zones.size(); ++z)
      if (k.zones.empty() || std::binary_search(k.zones.begin(), k.zones.end(), z))
        top = std::max(top, q.zones[z].rate_bps);
    if (k.cap_bps >= top)
      ctx.report(cap_nodes[i], path_join(class_paths[i], "cap"),
                 "cap " + rate_text(k.cap_bps) +
                     " is not below the rate of any classroom it "
                     "applies to (" +
                     rate_text(top) + "): it never limits",
                 Sev::kWarning);
  }
}

}  // namespace cg::policy
