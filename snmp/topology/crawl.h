// Discovery crawl: probe seed devices, follow their LLDP / CDP neighbours' management addresses
// inside the configured subnets, many devices at once, each device once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snmp/discovery/discovery.h"
#include "snmp/session/session.h"

namespace cg::snmp {

// An IPv4 or IPv6 prefix ("10.20.0.0/16", "2001:db8::/32"; a bare address is a /32 or /128).
class Subnet {
 public:
  static std::optional<Subnet> parse(const std::string& cidr);
  bool contains(const std::string& address) const;  // false for names / garbage
  std::string to_string() const;

 private:
  int family_ = 0;  // AF_INET / AF_INET6
  unsigned char bytes_[16] = {};
  int prefix_ = 0;
};

// Opens a session to one address ("10.0.0.1", "10.0.0.1:1161", "[fe80::1]:161"). cgctl and
// controld give a factory over open_net_snmp_session with the configured credentials; unit
// tests give FakeSessions.
using SessionFactory =
    std::function<Result<std::unique_ptr<SnmpSession>>(const std::string& address)>;

struct CrawlOptions {
  std::vector<std::string> seeds;  // always probed, inside the subnets or not
  std::vector<Subnet> subnets;     // neighbours are followed only inside these
  size_t max_parallel = 16;        // devices probed at once
  size_t max_devices = 4096;       // safety bound on one crawl
  DiscoveryOptions discovery;
};

struct CrawledDevice {
  std::string address;    // as probed
  std::string found_via;  // "seed" or "lldp|cdp neighbour of <device address>"
  std::optional<DeviceDiscovery> discovery;
  std::optional<Status> error;  // when the device could not be talked to
  // Set when this address turned out to be a device already crawled under another address
  // (same LLDP chassis id, or one of its ipAddrTable addresses); its discovery is dropped.
  std::optional<std::string> duplicate_of;
};

struct CrawlCounters {
  uint64_t probed = 0;                   // devices asked
  uint64_t failed = 0;                   // no answer / auth failure / bad address
  uint64_t duplicates = 0;               // same device reached through a second address
  uint64_t waves = 0;                    // breadth-first rounds
  uint64_t neighbors_seen = 0;           // LLDP / CDP rows read
  uint64_t skipped_no_address = 0;       // neighbour without a management address
  uint64_t skipped_outside_subnets = 0;  // address not in any configured subnet
  uint64_t skipped_known = 0;            // address already probed / owned by a known device
  uint64_t skipped_max_devices = 0;      // max_devices reached
  uint64_t requests = 0;                 // SNMP requests (sum of SessionCounters)
  uint64_t timeouts = 0;
};

struct CrawlResult {
  std::vector<CrawledDevice> devices;  // in crawl order; seeds first
  CrawlCounters counters;
  std::vector<std::string> outside_subnets;  // neighbour addresses not followed (sorted, unique)
};

CrawlResult crawl(const CrawlOptions& options, const SessionFactory& factory);

}  // namespace cg::snmp
