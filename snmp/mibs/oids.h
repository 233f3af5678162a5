// OIDs of the MIB objects discovery reads (SNMPv2-MIB, ENTITY-MIB, IF-MIB, LLDP-MIB,
// CISCO-CDP-MIB, BRIDGE-MIB, Q-BRIDGE-MIB, IP-MIB). Entry OIDs plus column numbers; instance =
// entry.col.index.
#pragma once

#include "snmp/session/types.h"

namespace cg::snmp::mibs {

// SNMPv2-MIB system group (scalars, instance .0)
inline const Oid kSysDescr{1, 3, 6, 1, 2, 1, 1, 1, 0};
inline const Oid kSysObjectId{1, 3, 6, 1, 2, 1, 1, 2, 0};
inline const Oid kSysName{1, 3, 6, 1, 2, 1, 1, 5, 0};

// ENTITY-MIB entPhysicalTable (model and serial of the chassis)
inline const Oid kEntPhysicalEntry{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1};
inline constexpr uint32_t kEntPhysicalContainedIn = 4, kEntPhysicalClass = 5,
                          kEntPhysicalSerialNum = 11, kEntPhysicalModelName = 13;

// IF-MIB ifTable / ifXTable
inline const Oid kIfEntry{1, 3, 6, 1, 2, 1, 2, 2, 1};
inline constexpr uint32_t kIfDescr = 2, kIfType = 3, kIfSpeed = 5, kIfOperStatus = 8;
inline const Oid kIfXEntry{1, 3, 6, 1, 2, 1, 31, 1, 1, 1};
inline constexpr uint32_t kIfName = 1, kIfHighSpeed = 15, kIfAlias = 18;

// LLDP-MIB (IEEE 802.1AB-2005, lldpV1): local ports, remote systems, remote management addresses
inline const Oid kLldpLocChassisIdSubtype{1, 0, 8802, 1, 1, 2, 1, 3, 1, 0};
inline const Oid kLldpLocChassisId{1, 0, 8802, 1, 1, 2, 1, 3, 2, 0};
inline const Oid kLldpLocPortEntry{1, 0, 8802, 1, 1, 2, 1, 3, 7, 1};
inline constexpr uint32_t kLldpLocPortIdSubtype = 2, kLldpLocPortId = 3, kLldpLocPortDesc = 4;
inline const Oid kLldpRemEntry{1, 0, 8802, 1, 1, 2, 1, 4, 1, 1};
inline constexpr uint32_t kLldpRemChassisIdSubtype = 4, kLldpRemChassisId = 5,
                          kLldpRemPortIdSubtype = 6, kLldpRemPortId = 7, kLldpRemPortDesc = 8,
                          kLldpRemSysName = 9, kLldpRemSysDesc = 10;
inline const Oid kLldpRemManAddrEntry{1, 0, 8802, 1, 1, 2, 1, 4, 2, 1};
inline constexpr uint32_t kLldpRemManAddrIfSubtype = 3;

// CISCO-CDP-MIB cdpCacheTable (index cdpCacheIfIndex.cdpCacheDeviceIndex)
inline const Oid kCdpCacheEntry{1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1};
inline constexpr uint32_t kCdpCacheAddressType = 3, kCdpCacheAddress = 4, kCdpCacheDeviceId = 6,
                          kCdpCacheDevicePort = 7;

// BRIDGE-MIB
inline const Oid kDot1dBasePortEntry{1, 3, 6, 1, 2, 1, 17, 1, 4, 1};
inline constexpr uint32_t kDot1dBasePortIfIndex = 2;
inline const Oid kDot1dTpFdbEntry{1, 3, 6, 1, 2, 1, 17, 4, 3, 1};
inline constexpr uint32_t kDot1dTpFdbPort = 2, kDot1dTpFdbStatus = 3;

// Q-BRIDGE-MIB
inline const Oid kDot1qTpFdbEntry{1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1};
inline constexpr uint32_t kDot1qTpFdbPort = 2, kDot1qTpFdbStatus = 3;
inline const Oid kDot1qVlanCurrentEntry{1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1};
inline constexpr uint32_t kDot1qVlanFdbId = 3;

// IP-MIB (ipAdEntAddr: the device's own IPv4 addresses, index = the address)
inline const Oid kIpAddrEntry{1, 3, 6, 1, 2, 1, 4, 20, 1};
inline constexpr uint32_t kIpAdEntAddr = 1;
inline const Oid kIpNetToMediaEntry{1, 3, 6, 1, 2, 1, 4, 22, 1};
inline constexpr uint32_t kIpNetToMediaPhysAddress = 2, kIpNetToMediaType = 4;
inline const Oid kIpNetToPhysicalEntry{1, 3, 6, 1, 2, 1, 4, 35, 1};
inline constexpr uint32_t kIpNetToPhysicalPhysAddress = 4, kIpNetToPhysicalType = 6;

// Vendor MIBs used to resolve quirks of the standard tables.
// MIKROTIK-MIB mtxrNeighborTable: same index as RouterOS's one-part lldpRemTable rows;
// mtxrNeighborInterfaceID is the local ifIndex.
inline const Oid kMtxrNeighborEntry{1, 3, 6, 1, 4, 1, 14988, 1, 1, 11, 1, 1};
inline constexpr uint32_t kMtxrNeighborInterfaceId = 8;
// JUNIPER-L2ALD-MIB jnxL2aldVlanTable (index = Junos internal VLAN index): jnxL2aldVlanTag is the
// 802.1Q tag. Junos numbers Q-BRIDGE filtering databases as internal-index << 16.
inline const Oid kJnxL2aldVlanEntry{1, 3, 6, 1, 4, 1, 2636, 3, 48, 1, 3, 1, 1};
inline constexpr uint32_t kJnxL2aldVlanTag = 3;

inline Oid column_oid(const Oid& entry, uint32_t column) {
  Oid o = entry;
  o.push_back(column);
  return o;
}

}  // namespace cg::snmp::mibs
