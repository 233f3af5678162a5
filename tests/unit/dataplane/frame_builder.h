// Hand-built frames for dataplane unit tests: Ethernet / VLAN / IPv4 / IPv6 / TCP / UDP / ICMP.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace cg::testing {

struct Bytes : std::vector<uint8_t> {
  Bytes& u8(uint8_t v) { push_back(v); return *this; }
  Bytes& u16(uint16_t v) { push_back(v >> 8); push_back(v & 0xff); return *this; }
  Bytes& u32(uint32_t v) { u16(v >> 16); u16(v & 0xffff); return *this; }
  Bytes& fill(size_t n, uint8_t v = 0) { insert(end(), n, v); return *this; }
  Bytes& add(const std::vector<uint8_t>& b) { insert(end(), b.begin(), b.end()); return *this; }
  Bytes& v6(const char* s) {
    in6_addr a;
    inet_pton(AF_INET6, s, &a);
    insert(end(), a.s6_addr, a.s6_addr + 16);
    return *this;
  }
};

inline uint32_t ip4(const char* s) {
  in_addr a;
  inet_pton(AF_INET, s, &a);
  return ntohl(a.s_addr);
}

inline Bytes eth(uint16_t type, std::initializer_list<uint16_t> vlans = {}) {
  Bytes b;
  b.fill(6, 0x02).fill(6, 0x04);
  for (uint16_t v : vlans) b.u16(0x8100).u16(v);
  b.u16(type);
  return b;
}

inline Bytes tcp(uint16_t sp, uint16_t dp, uint8_t flags, size_t payload = 0, uint8_t doff = 5) {
  Bytes b;
  b.u16(sp).u16(dp).u32(1).u32(0).u8(static_cast<uint8_t>(doff << 4)).u8(flags).u16(65535).u16(0).u16(0);
  b.fill((doff > 5 ? (doff - 5) * 4 : 0), 1);
  b.fill(payload, 0xaa);
  return b;
}

inline Bytes udp(uint16_t sp, uint16_t dp, size_t payload = 0, int len_override = -1) {
  Bytes b;
  b.u16(sp).u16(dp).u16(len_override >= 0 ? len_override : static_cast<uint16_t>(8 + payload)).u16(0);
  b.fill(payload, 0xbb);
  return b;
}

inline Bytes icmp(uint8_t type, uint8_t code, size_t payload = 8) {
  Bytes b;
  b.u8(type).u8(code).u16(0).fill(payload, 0xcc);
  return b;
}

// IPv4 header + l4. total_override < 0 = correct total length.
inline Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& l4, int options = 0,
                  uint16_t frag = 0, int total_override = -1, uint16_t id = 0x1234) {
  Bytes b;
  uint8_t ihl = static_cast<uint8_t>(5 + options / 4);
  uint16_t total = static_cast<uint16_t>(ihl * 4 + l4.size());
  b.u8(0x40 | ihl).u8(0).u16(total_override >= 0 ? total_override : total).u16(id).u16(frag);
  b.u8(64).u8(proto).u16(0).u32(src).u32(dst);
  b.fill(static_cast<size_t>(options), 1);
  b.add(l4);
  return b;
}

// IPv6 header; `ext` is the raw extension-header chain (caller sets next headers), `first_nh`
// the next header of the fixed header.
inline Bytes ipv6(const char* src, const char* dst, uint8_t first_nh, const Bytes& ext,
                  const Bytes& l4, int payload_override = -1) {
  Bytes b;
  b.u32(0x60000000).u16(payload_override >= 0 ? payload_override
                                               : static_cast<uint16_t>(ext.size() + l4.size()));
  b.u8(first_nh).u8(64).v6(src).v6(dst);
  b.add(ext).add(l4);
  return b;
}

inline Bytes frame(Bytes l2, const Bytes& l3) { return l2.add(l3); }

}  // namespace cg::testing
