// TrapReceiver: listens for SNMPv2c / SNMPv3 traps and informs (net-snmp transport + USM),
// acknowledges informs, checks communities / v3 users and security levels, and hands every
// accepted notification to trap_to_event.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "snmp/session/session.h"
#include "snmp/traps/trap.h"

namespace cg::snmp {

struct TrapUser {
  std::string name;
  AuthProtocol auth = AuthProtocol::kNone;
  std::string auth_pass;  // never logged
  PrivProtocol priv = PrivProtocol::kNone;
  std::string priv_pass;  // never logged
  // The sending agent's engine ID (hex) for SNMPv3 traps; informs use our own engine ID and
  // need no entry here (net-snmp localises the keys for both when engine_id is given).
  std::string engine_id_hex;
};

struct TrapReceiverConfig {
  std::string listen = "udp:0.0.0.0:162";  // net-snmp transport spec (udp:, udp6:, tcp:)
  std::vector<std::string> communities;    // accepted SNMPv2c communities; never logged
  std::vector<TrapUser> users;             // accepted SNMPv3 users
};

struct TrapReceiverCounters {
  uint64_t received = 0;       // notifications accepted and turned into events
  uint64_t informs_acked = 0;  // informs answered
  uint64_t bad_community = 0;  // v2c with a community not configured (dropped)
  uint64_t v1_dropped = 0;     // SNMPv1 traps (not supported: dropped)
  // v3 PDU for a user not configured here or below its security level (dropped). Wrong
  // digests / unknown users / bad decryption never reach us: net-snmp's USM drops them.
  uint64_t v3_rejected = 0;
  uint64_t not_a_notification = 0;  // gets / responses sent to the trap port (dropped)
  uint64_t no_trap_oid = 0;         // notification without snmpTrapOID.0 (dropped)
};

class TrapReceiver {
 public:
  virtual ~TrapReceiver() = default;
  // Waits up to `wait` for datagrams and calls `on_event` for each accepted notification.
  virtual Status poll(std::chrono::milliseconds wait,
                      const std::function<void(const TopologyEvent&)>& on_event) = 0;
  virtual const TrapReceiverCounters& counters() const = 0;
  // Our SNMPv3 engine ID (hex): what senders of informs discover, and what an agent needs to
  // know to send us v3 traps under our engine.
  virtual std::string engine_id_hex() const = 0;
};

Result<std::unique_ptr<TrapReceiver>> open_trap_receiver(const TrapReceiverConfig& config);

}  // namespace cg::snmp
