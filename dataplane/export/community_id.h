// Community ID v1 (https://github.com/corelight/community-id-spec): the flow hash that Zeek,
// Suricata and Elastic put on their records, so campusguard events correlate with theirs.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace cg::exporter {

// "1:<base64 SHA-1>" of seed, ordered addresses, protocol, padding and ports. Addresses are
// 16 bytes; IPv4-mapped ones (::ffff:a.b.c.d, the parser's form) hash as 4-byte IPv4. For ICMP
// and ICMPv6 pass the type as `src_port` and the code as `dst_port` (the spec maps them to
// port equivalents); for protocols without ports (not TCP/UDP/SCTP/ICMP) the ports are ignored.
std::string community_id(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                         uint8_t proto, uint16_t src_port, uint16_t dst_port, uint16_t seed = 0);

}  // namespace cg::exporter
