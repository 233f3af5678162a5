// Zero-allocation packet parser: Ethernet, 802.1Q / QinQ, IPv4 (options, fragments), IPv6
// (extension headers, fragments), TCP, UDP, ICMP, ICMPv6. It reads only inside [frame,
// frame+len), never writes to the frame, and names every malformed case with a counter.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cg::packet {

// Every decode outcome that is counted. Order is the wire order of the counter table; names
// are part of the interface (stats, --replay report, tests).
enum class Counter : uint8_t {
  // what was seen
  kFrames,
  kVlanTagged,
  kQinq,
  kNonIp,
  kArp,
  kMpls,
  kIpv4,
  kIpv4Options,
  kIpv6,
  kIpv6ExtHeaders,
  kFragments,
  kFragmentsNonFirst,
  kTcp,
  kUdp,
  kIcmp,
  kIcmpv6,
  kOtherL4,
  // malformed: each is a reason the frame is "malformed"
  kErrEthTruncated,
  kErrVlanTruncated,
  kErrVlanTooDeep,
  kErrMplsTruncated,
  kErrIpv4Truncated,
  kErrIpv4Version,
  kErrIpv4HeaderLength,
  kErrIpv4TotalLength,
  kErrIpv6Truncated,
  kErrIpv6Version,
  kErrIpv6PayloadLength,
  kErrIpv6ExtTruncated,
  kErrIpv6TooManyExt,
  kErrFragmentBad,
  kErrTcpTruncated,
  kErrTcpDataOffset,
  kErrUdpTruncated,
  kErrUdpLength,
  kErrIcmpTruncated,
  kCount
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);
inline constexpr Counter kFirstError = Counter::kErrEthTruncated;

std::string_view counter_name(Counter c);

struct Counters {
  std::array<uint64_t, kCounterCount> v{};
  void inc(Counter c) { ++v[static_cast<size_t>(c)]; }
  uint64_t get(Counter c) const { return v[static_cast<size_t>(c)]; }
  void add(const Counters& o) {
    for (size_t i = 0; i < kCounterCount; ++i) v[i] += o.v[i];
  }
};

enum class L3Type : uint8_t { kNone, kIpv4, kIpv6 };

// Link layers a capture may start with; the live dataplane always sees Ethernet.
enum class LinkType : uint8_t { kEthernet, kRawIp, kLinuxSll, kNull, kPpp, kCiscoHdlc };

namespace ipproto {
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kIcmpv6 = 58;
}  // namespace ipproto

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kAck = 0x10;
}  // namespace tcpflag

// The parse result. Addresses are 16 bytes; IPv4 is stored as an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) so one flow key covers both families. No member initializers: a burst's
// array of results costs nothing to declare; parse() value-initializes (zeroes) what it fills,
// and `Parsed p{}` is the empty result.
struct Parsed {
  std::array<uint8_t, 16> src;
  std::array<uint8_t, 16> dst;
  uint16_t src_port;        // host order; ICMP: 0 (type/code are in icmp_type/icmp_code)
  uint16_t dst_port;
  uint16_t vlan_outer;      // VLAN id of the outer tag (0 = untagged)
  uint16_t vlan_inner;      // VLAN id of the inner tag of QinQ (0 = none)
  uint16_t ether_type;      // ethertype after VLAN tags (host order)
  uint16_t l3_offset;
  uint16_t l4_offset;       // valid when has_l4
  uint16_t payload_offset;  // valid when has_l4
  uint16_t l3_length;       // IP datagram length as the header states (bounded by frame)
  uint32_t frag_id;         // IPv4 identification / IPv6 fragment identification
  uint8_t vlan_count;
  L3Type l3;
  uint8_t l4_proto;         // IP protocol / IPv6 upper-layer next header
  uint8_t tcp_flags;
  uint8_t icmp_type;
  uint8_t icmp_code;
  bool fragment;            // part of a fragmented datagram
  bool later_fragment;      // offset != 0: no L4 header in this frame
  bool has_l4;              // ports / flags / icmp type were read
  bool malformed;
  Counter error;            // the malformed reason when malformed (kCount otherwise)

  bool is_ip() const { return l3 != L3Type::kNone; }
  bool is_v4() const { return l3 == L3Type::kIpv4; }
};

// Parses one frame starting at the given link layer. Always fills `out` (reset first) and
// returns false when the frame is malformed (out->error names why; the counter is bumped).
// Non-IP frames are not malformed: they return true with out->l3 == kNone.
// `capture_truncated` says the capture cut the frame (pcap caplen < len): IP / UDP lengths that
// run past the end are then expected and not malformed.
bool parse(const uint8_t* frame, uint32_t len, Parsed* out, Counters* counters,
           LinkType link = LinkType::kEthernet, bool capture_truncated = false);

}  // namespace cg::packet
