#include "dataplane/packet/parser.h"

#include <cstring>

namespace cg::packet {
namespace {

constexpr std::string_view kCounterNames[kCounterCount] = {
    "frames",
    "vlan_tagged",
    "qinq",
    "non_ip",
    "arp",
    "mpls",
    "ipv4",
    "ipv4_options",
    "ipv6",
    "ipv6_ext_headers",
    "fragments",
    "fragments_non_first",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "other_l4",
    "err_eth_truncated",
    "err_vlan_truncated",
    "err_vlan_too_deep",
    "err_mpls_truncated",
    "err_ipv4_truncated",
    "err_ipv4_version",
    "err_ipv4_header_length",
    "err_ipv4_total_length",
    "err_ipv6_truncated",
    "err_ipv6_version",
    "err_ipv6_payload_length",
    "err_ipv6_ext_truncated",
    "err_ipv6_too_many_ext",
    "err_fragment_bad",
    "err_tcp_truncated",
    "err_tcp_data_offset",
    "err_udp_truncated",
    "err_udp_length",
    "err_icmp_truncated",
};

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinq = 0x88a8;
constexpr uint16_t kEthQinqOld = 0x9100;
constexpr uint16_t kEthMpls = 0x8847;
constexpr uint16_t kEthMplsMulticast = 0x8848;
constexpr int kMaxMplsLabels = 8;
constexpr int kMaxVlanTags = 2;
constexpr int kMaxIpv6ExtHeaders = 8;

inline uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Parser state for one frame: the bounds and the result being filled.
class Decoder {
 public:
  Decoder(const uint8_t* frame, uint32_t len, Parsed* out, Counters* c, bool truncated)
      : f_(frame), len_(len), out_(out), c_(c), capture_truncated_(truncated) {}

  bool run(LinkType link) {
    c_->inc(Counter::kFrames);
    switch (link) {
      case LinkType::kEthernet:
        return ethernet();
      case LinkType::kRawIp:
        return raw_ip(0);
      case LinkType::kLinuxSll:
        if (len_ < 16) return fail(Counter::kErrEthTruncated);
        return by_ethertype(rd16(f_ + 14), 16);
      case LinkType::kNull: {
        if (len_ < 4) return fail(Counter::kErrEthTruncated);
        uint32_t fam;
        std::memcpy(&fam, f_, 4);
        if (fam > 0xffff) fam = __builtin_bswap32(fam);  // captured on the other byte order
        if (fam == 2) return by_ethertype(kEthIpv4, 4);
        if (fam == 10 || fam == 24 || fam == 28 || fam == 30) return by_ethertype(kEthIpv6, 4);
        return non_ip(0);
      }
      case LinkType::kPpp: {
        uint32_t off = 0;
        if (len_ >= 2 && f_[0] == 0xff && f_[1] == 0x03) off = 2;
        if (len_ < off + 2) return fail(Counter::kErrEthTruncated);
        // Some captures labelled PPP carry Cisco HDLC (address 0x0f unicast / 0x8f broadcast).
        if (f_[0] == 0x0f || f_[0] == 0x8f) {
          if (len_ < 4) return fail(Counter::kErrEthTruncated);
          return by_ethertype(rd16(f_ + 2), 4);
        }
        uint16_t proto = rd16(f_ + off);
        if (proto == 0x0021) return by_ethertype(kEthIpv4, off + 2);
        if (proto == 0x0057) return by_ethertype(kEthIpv6, off + 2);
        return non_ip(static_cast<uint16_t>(proto));
      }
      case LinkType::kCiscoHdlc:
        if (len_ < 4) return fail(Counter::kErrEthTruncated);
        return by_ethertype(rd16(f_ + 2), 4);
    }
    return non_ip(0);
  }

 private:
  bool fail(Counter why) {
    out_->malformed = true;
    out_->error = why;
    c_->inc(why);
    return false;
  }

  bool non_ip(uint16_t ether_type) {
    out_->ether_type = ether_type;
    c_->inc(Counter::kNonIp);
    if (ether_type == kEthArp) c_->inc(Counter::kArp);
    return true;
  }

  bool ethernet() {
    if (len_ < 14) return fail(Counter::kErrEthTruncated);
    uint32_t off = 12;
    uint16_t type = rd16(f_ + off);
    while (type == kEthVlan || type == kEthQinq || type == kEthQinqOld) {
      if (out_->vlan_count == kMaxVlanTags) return fail(Counter::kErrVlanTooDeep);
      if (len_ < off + 6) return fail(Counter::kErrVlanTruncated);
      uint16_t vid = rd16(f_ + off + 2) & 0x0fff;
      if (out_->vlan_count == 0) {
        out_->vlan_outer = vid;
      } else {
        out_->vlan_inner = vid;
      }
      ++out_->vlan_count;
      off += 4;
      type = rd16(f_ + off);
    }
    if (out_->vlan_count > 0) c_->inc(Counter::kVlanTagged);
    if (out_->vlan_count > 1) c_->inc(Counter::kQinq);
    return by_ethertype(type, off + 2);
  }

  bool by_ethertype(uint16_t type, uint32_t off) {
    out_->ether_type = type;
    if (type == kEthIpv4) return ipv4(off);
    if (type == kEthIpv6) return ipv6(off);
    if (type == kEthMpls || type == kEthMplsMulticast) return mpls(off);
    return non_ip(type);
  }

  // MPLS label stack: skip to the bottom of stack; the payload is IP when its version says so
  // (the label does not tell; pseudowires carrying Ethernet are left as non-IP).
  bool mpls(uint32_t off) {
    c_->inc(Counter::kMpls);
    for (int i = 0; i < kMaxMplsLabels; ++i) {
      if (len_ < off + 4) return fail(Counter::kErrMplsTruncated);
      bool bottom = f_[off + 2] & 0x01;
      off += 4;
      if (bottom) {
        if (len_ <= off) return fail(Counter::kErrMplsTruncated);
        uint8_t v = f_[off] >> 4;
        if (v == 4) return ipv4(off);
        if (v == 6) return ipv6(off);
        return non_ip(kEthMpls);
      }
    }
    return fail(Counter::kErrMplsTruncated);
  }

  bool raw_ip(uint32_t off) {
    if (len_ <= off) return fail(Counter::kErrIpv4Truncated);
    uint8_t v = f_[off] >> 4;
    if (v == 4) return by_ethertype(kEthIpv4, off);
    if (v == 6) return by_ethertype(kEthIpv6, off);
    return fail(Counter::kErrIpv4Version);
  }

  bool ipv4(uint32_t off) {
    out_->l3_offset = static_cast<uint16_t>(off);
    if (len_ < off + 20) return fail(Counter::kErrIpv4Truncated);
    const uint8_t* ip = f_ + off;
    if ((ip[0] >> 4) != 4) return fail(Counter::kErrIpv4Version);
    uint32_t ihl = (ip[0] & 0x0f) * 4u;
    if (ihl < 20) return fail(Counter::kErrIpv4HeaderLength);
    if (len_ < off + ihl) return fail(Counter::kErrIpv4HeaderLength);
    uint32_t total = rd16(ip + 2);
    uint32_t avail = len_ - off;
    if (total < ihl) return fail(Counter::kErrIpv4TotalLength);
    if (total > avail) {
      if (!capture_truncated_) return fail(Counter::kErrIpv4TotalLength);
    }
    out_->l3 = L3Type::kIpv4;
    out_->l3_length = static_cast<uint16_t>(total);
    c_->inc(Counter::kIpv4);
    if (ihl > 20) c_->inc(Counter::kIpv4Options);
    out_->src[10] = out_->src[11] = 0xff;
    out_->dst[10] = out_->dst[11] = 0xff;
    std::memcpy(&out_->src[12], ip + 12, 4);
    std::memcpy(&out_->dst[12], ip + 16, 4);
    out_->l4_proto = ip[9];
    out_->frag_id = rd16(ip + 4);
    uint16_t frag = rd16(ip + 6);
    uint16_t frag_off = frag & 0x1fff;
    bool more = frag & 0x2000;
    if (frag_off != 0 || more) {
      // A fragment whose end lies past the largest datagram cannot be reassembled (ping of death).
      if (frag_off * 8u + (total - ihl) > 65535u) return fail(Counter::kErrFragmentBad);
      out_->fragment = true;
      c_->inc(Counter::kFragments);
      if (frag_off != 0) {
        out_->later_fragment = true;
        c_->inc(Counter::kFragmentsNonFirst);
        count_l4_proto();
        return true;
      }
    }
    uint32_t end = off + (total < avail ? total : avail);
    return l4(off + ihl, end);
  }

  bool ipv6(uint32_t off) {
    out_->l3_offset = static_cast<uint16_t>(off);
    if (len_ < off + 40) return fail(Counter::kErrIpv6Truncated);
    const uint8_t* ip = f_ + off;
    if ((ip[0] >> 4) != 6) return fail(Counter::kErrIpv6Version);
    uint32_t payload = rd16(ip + 4);
    uint32_t avail = len_ - off - 40;
    // A payload length of 0 with a hop-by-hop header is a jumbogram; we treat it as "to the end".
    if (payload > avail && !capture_truncated_) return fail(Counter::kErrIpv6PayloadLength);
    out_->l3 = L3Type::kIpv6;
    uint32_t l3_len = 40 + (payload == 0 ? avail : payload);
    out_->l3_length = static_cast<uint16_t>(l3_len > 0xffff ? 0xffff : l3_len);
    c_->inc(Counter::kIpv6);
    std::memcpy(out_->src.data(), ip + 8, 16);
    std::memcpy(out_->dst.data(), ip + 24, 16);
    uint32_t end = off + 40 + (payload == 0 || payload > avail ? avail : payload);
    uint8_t next = ip[6];
    uint32_t pos = off + 40;
    int ext = 0;
    for (;;) {
      switch (next) {
        case 0:    // hop-by-hop
        case 43:   // routing
        case 60:   // destination options
        case 135:  // mobility
        case 139:  // HIP
        case 140: {  // shim6
          if (++ext > kMaxIpv6ExtHeaders) return fail(Counter::kErrIpv6TooManyExt);
          if (end < pos + 8) return fail(Counter::kErrIpv6ExtTruncated);
          uint32_t hlen = (f_[pos + 1] + 1u) * 8u;
          if (end < pos + hlen) return fail(Counter::kErrIpv6ExtTruncated);
          if (ext == 1) c_->inc(Counter::kIpv6ExtHeaders);
          next = f_[pos];
          pos += hlen;
          continue;
        }
        case 51: {  // AH: length in 4-octet units minus 2
          if (++ext > kMaxIpv6ExtHeaders) return fail(Counter::kErrIpv6TooManyExt);
          if (end < pos + 8) return fail(Counter::kErrIpv6ExtTruncated);
          uint32_t hlen = (f_[pos + 1] + 2u) * 4u;
          if (end < pos + hlen) return fail(Counter::kErrIpv6ExtTruncated);
          if (ext == 1) c_->inc(Counter::kIpv6ExtHeaders);
          next = f_[pos];
          pos += hlen;
          continue;
        }
        case 44: {  // fragment
          if (++ext > kMaxIpv6ExtHeaders) return fail(Counter::kErrIpv6TooManyExt);
          if (end < pos + 8) return fail(Counter::kErrIpv6ExtTruncated);
          if (ext == 1) c_->inc(Counter::kIpv6ExtHeaders);
          uint16_t fo = rd16(f_ + pos + 2);
          out_->frag_id = static_cast<uint32_t>(rd16(f_ + pos + 4)) << 16 | rd16(f_ + pos + 6);
          uint16_t frag_off = fo >> 3;
          bool more = fo & 1;
          next = f_[pos];
          pos += 8;
          if (frag_off != 0 || more) {
            out_->fragment = true;
            c_->inc(Counter::kFragments);
            if (frag_off != 0) {
              out_->later_fragment = true;
              out_->l4_proto = next;
              c_->inc(Counter::kFragmentsNonFirst);
              count_l4_proto();
              return true;
            }
          }
          continue;
        }
        default:
          break;
      }
      break;
    }
    out_->l4_proto = next;
    return l4(pos, end);
  }

  void count_l4_proto() {
    switch (out_->l4_proto) {
      case ipproto::kTcp: c_->inc(Counter::kTcp); break;
      case ipproto::kUdp: c_->inc(Counter::kUdp); break;
      case ipproto::kIcmp: c_->inc(Counter::kIcmp); break;
      case ipproto::kIcmpv6: c_->inc(Counter::kIcmpv6); break;
      default: c_->inc(Counter::kOtherL4); break;
    }
  }

  // [pos, end) is the L4 part of the datagram present in the frame.
  bool l4(uint32_t pos, uint32_t end) {
    out_->l4_offset = static_cast<uint16_t>(pos);
    uint32_t avail = end > pos ? end - pos : 0;
    const uint8_t* p = f_ + pos;
    count_l4_proto();
    switch (out_->l4_proto) {
      case ipproto::kTcp: {
        if (avail < 20) return fail(Counter::kErrTcpTruncated);
        uint32_t doff = (p[12] >> 4) * 4u;
        if (doff < 20) return fail(Counter::kErrTcpDataOffset);
        if (doff > avail) return fail(Counter::kErrTcpDataOffset);
        out_->src_port = rd16(p);
        out_->dst_port = rd16(p + 2);
        out_->tcp_flags = p[13];
        out_->payload_offset = static_cast<uint16_t>(pos + doff);
        out_->has_l4 = true;
        return true;
      }
      case ipproto::kUdp: {
        if (avail < 8) return fail(Counter::kErrUdpTruncated);
        uint32_t ulen = rd16(p + 4);
        // The first fragment of a datagram holds only part of what the UDP length covers.
        if (ulen < 8 || (ulen > avail && !capture_truncated_ && !out_->fragment)) {
          // UDP length 0 is legal only for IPv6 jumbograms; treat as malformed otherwise.
          return fail(Counter::kErrUdpLength);
        }
        out_->src_port = rd16(p);
        out_->dst_port = rd16(p + 2);
        out_->payload_offset = static_cast<uint16_t>(pos + 8);
        out_->has_l4 = true;
        return true;
      }
      case ipproto::kIcmp:
      case ipproto::kIcmpv6: {
        if (avail < 4) return fail(Counter::kErrIcmpTruncated);
        out_->icmp_type = p[0];
        out_->icmp_code = p[1];
        out_->payload_offset = static_cast<uint16_t>(pos + 4);
        out_->has_l4 = true;
        return true;
      }
      default:
        out_->payload_offset = static_cast<uint16_t>(pos);
        return true;
    }
  }

  const uint8_t* f_;
  uint32_t len_;
  Parsed* out_;
  Counters* c_;
  bool capture_truncated_;
};

}  // namespace

std::string_view counter_name(Counter c) {
  auto i = static_cast<size_t>(c);
  return i < kCounterCount ? kCounterNames[i] : std::string_view("invalid");
}

bool parse(const uint8_t* frame, uint32_t len, Parsed* out, Counters* counters, LinkType link,
           bool capture_truncated) {
  *out = Parsed{};
  out->error = Counter::kCount;
  return Decoder(frame, len, out, counters, capture_truncated).run(link);
}

}  // namespace cg::packet
