#include "snmp/topology/crawl.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "snmp/session/concurrency.h"

namespace cg::snmp {

std::optional<Subnet> Subnet::parse(const std::string& cidr) {
  Subnet s;
  std::string addr = cidr;
  int prefix = -1;
  auto slash = cidr.find('/');
  if (slash != std::string::npos) {
    addr = cidr.substr(0, slash);
    std::string p = cidr.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    prefix = std::stoi(p);
  }
  if (inet_pton(AF_INET, addr.c_str(), s.bytes_) == 1) {
    s.family_ = AF_INET;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, addr.c_str(), s.bytes_) == 1) {
    s.family_ = AF_INET6;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  s.prefix_ = prefix;
  // Host bits cleared so "10.1.2.3/16" means 10.1.0.0/16.
  for (int bit = prefix; bit < 128; ++bit) s.bytes_[bit / 8] &= ~(0x80 >> (bit % 8));
  return s;
}

bool Subnet::contains(const std::string& address) const {
  unsigned char b[16] = {};
  if (inet_pton(family_, address.c_str(), b) != 1) return false;
  for (int bit = 0; bit < prefix_; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((b[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

std::string Subnet::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_, bytes_, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix_);
}

CrawlResult crawl(const CrawlOptions& options, const SessionFactory& factory) {
  CrawlResult result;
  CrawlCounters& c = result.counters;
  std::set<std::string> asked;                       // hosts probed or queued
  std::set<std::string> owned;                       // addresses of devices found so far
  std::map<std::string, std::string> chassis_owner;  // LLDP chassis id -> address
  std::set<std::string> outside;

  struct Pending {
    std::string address, via;
  };
  std::vector<Pending> frontier;
  for (const auto& seed : options.seeds) {
    if (asked.insert(host_of(seed)).second) frontier.push_back({seed, "seed"});
  }

  while (!frontier.empty()) {
    ++c.waves;
    std::vector<CrawledDevice> wave(frontier.size());
    std::vector<SessionCounters> wave_counters(frontier.size());
    run_concurrently(frontier.size(), options.max_parallel, [&](size_t i) {
      CrawledDevice& d = wave[i];
      d.address = frontier[i].address;
      d.found_via = frontier[i].via;
      auto session = factory(d.address);
      if (!session.ok()) {
        d.error = session.status();
        return;
      }
      auto r = discover_device(**session, options.discovery);
      if (r.ok())
        d.discovery = std::move(*r);
      else
        d.error = r.status();
      // Summed after the wave: each worker writes only its own elements.
      wave_counters[i] = (*session)->counters();
    });

    std::vector<Pending> next;
    for (size_t i = 0; i < wave.size(); ++i) {
      CrawledDevice& d = wave[i];
      ++c.probed;
      c.requests += wave_counters[i].requests;
      c.timeouts += wave_counters[i].timeouts;
      if (!d.discovery) {
        ++c.failed;
        result.devices.push_back(std::move(d));
        continue;
      }
      DeviceDiscovery& dd = *d.discovery;
      // Same device through a second address?
      std::string host = host_of(d.address);
      std::optional<std::string> dup;
      if (dd.system.chassis_id) {
        auto it = chassis_owner.find(*dd.system.chassis_id);
        if (it != chassis_owner.end()) dup = it->second;
      }
      if (!dup && owned.count(host)) {
        for (const auto& prev : result.devices) {
          if (!prev.discovery || prev.duplicate_of) continue;
          const auto& a = prev.discovery->system.addresses;
          if (host_of(prev.address) == host || std::find(a.begin(), a.end(), host) != a.end())
            dup = prev.address;
        }
      }
      if (dup) {
        ++c.duplicates;
        d.duplicate_of = *dup;
        d.discovery.reset();
        result.devices.push_back(std::move(d));
        continue;
      }
      if (dd.system.chassis_id) chassis_owner.emplace(*dd.system.chassis_id, d.address);
      owned.insert(host);
      for (const auto& a : dd.system.addresses) owned.insert(a);
      for (const Neighbor& n : dd.neighbors) {
        ++c.neighbors_seen;
        if (!n.remote_address) {
          ++c.skipped_no_address;
          continue;
        }
        const std::string& a = *n.remote_address;
        if (asked.count(a) || owned.count(a)) {
          ++c.skipped_known;
          continue;
        }
        bool inside = false;
        for (const Subnet& s : options.subnets) inside = inside || s.contains(a);
        if (!inside) {
          ++c.skipped_outside_subnets;
          outside.insert(a);
          continue;
        }
        if (asked.size() >= options.max_devices) {
          ++c.skipped_max_devices;
          continue;
        }
        asked.insert(a);
        next.push_back({a, n.protocol + " neighbour of " + d.address});
      }
      result.devices.push_back(std::move(d));
    }
    frontier = std::move(next);
  }
  result.outside_subnets.assign(outside.begin(), outside.end());
  return result;
}

}  // namespace cg::snmp
