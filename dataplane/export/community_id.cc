#include "dataplane/export/community_id.h"

#include <openssl/evp.h>

#include <cstring>

#include "dataplane/flow/flow_key.h"

namespace cg::exporter {
namespace {

// ICMP type -> counterpart type (the spec's port equivalents); -1 when the message is one-way.
int icmp4_counterpart(uint16_t type) {
  switch (type) {
    case 8:
      return 0;  // echo -> echo reply
    case 0:
      return 8;
    case 13:
      return 14;  // timestamp
    case 14:
      return 13;
    case 15:
      return 16;  // information
    case 16:
      return 15;
    case 10:
      return 9;  // router solicitation -> advertisement
    case 17:
      return 18;  // address mask
    case 18:
      return 17;
    default:
      return -1;
  }
}

int icmp6_counterpart(uint16_t type) {
  switch (type) {
    case 128:
      return 129;  // echo
    case 129:
      return 128;
    case 133:
      return 134;  // router solicitation / advertisement
    case 134:
      return 133;
    case 135:
      return 136;  // neighbor solicitation / advertisement
    case 136:
      return 135;
    case 130:
      return 131;  // MLD query / report
    case 131:
      return 130;
    case 139:
      return 140;  // node information query / reply (WRU)
    case 140:
      return 139;
    case 144:
      return 145;  // home agent address discovery
    case 145:
      return 144;
    default:
      return -1;
  }
}

}  // namespace

std::string community_id(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                         uint8_t proto, uint16_t src_port, uint16_t dst_port, uint16_t seed) {
  const bool v4 = flow::is_ipv4_mapped(src) && flow::is_ipv4_mapped(dst);
  const uint8_t* sa = v4 ? src.data() + 12 : src.data();
  const uint8_t* da = v4 ? dst.data() + 12 : dst.data();
  const size_t alen = v4 ? 4 : 16;
  const bool has_ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;

  bool one_way = false;
  if (proto == 1 || proto == 58) {
    const int other = proto == 1 ? icmp4_counterpart(src_port) : icmp6_counterpart(src_port);
    if (other < 0) {
      one_way = true;  // type and code as they are
    } else {
      dst_port = static_cast<uint16_t>(other);
    }
  }
  const int c = std::memcmp(sa, da, alen);
  const bool ordered = c < 0 || (c == 0 && src_port < dst_port);
  if (!one_way && !ordered) {
    std::swap(sa, da);
    std::swap(src_port, dst_port);
  }

  uint8_t buf[2 + 16 + 16 + 2 + 4];
  size_t n = 0;
  buf[n++] = static_cast<uint8_t>(seed >> 8);
  buf[n++] = static_cast<uint8_t>(seed);
  std::memcpy(buf + n, sa, alen);
  n += alen;
  std::memcpy(buf + n, da, alen);
  n += alen;
  buf[n++] = proto;
  buf[n++] = 0;
  if (has_ports) {
    buf[n++] = static_cast<uint8_t>(src_port >> 8);
    buf[n++] = static_cast<uint8_t>(src_port);
    buf[n++] = static_cast<uint8_t>(dst_port >> 8);
    buf[n++] = static_cast<uint8_t>(dst_port);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  EVP_Digest(buf, n, digest, &dlen, EVP_sha1(), nullptr);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int blen = EVP_EncodeBlock(b64, digest, static_cast<int>(dlen));
  return "1:" + std::string(reinterpret_cast<const char*>(b64), static_cast<size_t>(blen));
}

}  // namespace cg::exporter
