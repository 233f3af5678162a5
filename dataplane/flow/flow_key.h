// The flow key: a canonical (direction-free) 5-tuple plus VLANs, and its hash. Both directions
// of a connection build the same key; `src_is_lo` tells which side sent this packet.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/packet/parser.h"

namespace cg::flow {

struct FlowKey {
  std::array<uint8_t, 16> lo_addr;  // the lower (address, port) end
  std::array<uint8_t, 16> hi_addr;
  uint16_t lo_port;
  uint16_t hi_port;
  uint32_t proto_vlan;  // l4 proto << 24 | outer VLAN << 12 | inner VLAN

  uint8_t proto() const { return static_cast<uint8_t>(proto_vlan >> 24); }
  uint16_t vlan_outer() const { return (proto_vlan >> 12) & 0xfff; }
  uint16_t vlan_inner() const { return proto_vlan & 0xfff; }

  bool operator==(const FlowKey& o) const {
    uint64_t a[5], b[5];
    std::memcpy(a, this, sizeof(a));
    std::memcpy(b, &o, sizeof(b));
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40, "flow key must stay 5 words");

// True for an IPv4 address stored as IPv4-mapped IPv6 (::ffff:a.b.c.d), the parser's form.
inline bool is_ipv4_mapped(const std::array<uint8_t, 16>& a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), kMapped, 12) == 0;
}

// Builds the key of an IP packet. Later fragments (no L4 header) and protocols without ports
// use port 0. Returns true when the packet's source is the key's `lo` end.
inline bool make_key(const packet::Parsed& p, FlowKey* k) {
  // Any total order works for folding directions; compare the addresses as two native words
  // (no byte-order swap, no memcmp call).
  uint64_t s[2], d[2];
  std::memcpy(s, p.src.data(), 16);
  std::memcpy(d, p.dst.data(), 16);
  uint16_t sp = p.later_fragment ? 0 : p.src_port;
  uint16_t dp = p.later_fragment ? 0 : p.dst_port;
  bool src_lo = s[1] != d[1] ? s[1] < d[1] : s[0] != d[0] ? s[0] < d[0] : sp <= dp;
  if (src_lo) {
    k->lo_addr = p.src;
    k->hi_addr = p.dst;
    k->lo_port = sp;
    k->hi_port = dp;
  } else {
    k->lo_addr = p.dst;
    k->hi_addr = p.src;
    k->lo_port = dp;
    k->hi_port = sp;
  }
  k->proto_vlan = static_cast<uint32_t>(p.l4_proto) << 24 |
                  static_cast<uint32_t>(p.vlan_outer & 0xfff) << 12 | (p.vlan_inner & 0xfff);
  return src_lo;
}

// 32-bit hash of the key (CRC32-C over the five words where SSE4.2 is available).
inline uint32_t hash_key(const FlowKey& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof(w));
#if defined(__SSE4_2__)
  uint64_t h = 0x9e3779b9u;
  for (uint64_t x : w) h = __builtin_ia32_crc32di(h, x);
  // CRC is linear; a final multiply spreads the bits used for the two bucket choices.
  return static_cast<uint32_t>((h * 0x9e3779b97f4a7c15ull) >> 32);
#else
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t x : w) {
    h ^= x;
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
#endif
}

}  // namespace cg::flow
