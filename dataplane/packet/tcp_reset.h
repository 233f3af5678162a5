// TCP resets for `deny` rules with `reset: true` (RFC 9293 §3.10.7): given a TCP segment the
// policy denies, builds the RST that goes back to its sender and the RST that goes on to its
// receiver in the sender's name, so both ends close at once instead of waiting for timeouts.
//
// Ethernet frames with up to two VLAN tags, IPv4 or IPv6. The RST carries a plain IP header
// (no options / extension headers), the VLAN tags of the segment and correct checksums. Pure
// function of the input bytes: no allocation, no state; the caller owns `out`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cg::packet {

enum class ResetTo : uint8_t {
  kSender,    // addresses and ports swapped; acknowledges what the segment carried
  kReceiver,  // same direction as the segment, in sequence right after it
};

// Frame length written to `out` (<= cap), or 0 when `frame` is not a complete, unfragmented
// TCP segment (or is itself a RST: never answer a reset with a reset).
size_t build_tcp_reset(const uint8_t* frame, uint32_t len, ResetTo to, uint8_t* out,
                       size_t cap);

// Internet checksum (RFC 1071) over `len` bytes, added to `sum` (for pseudo headers).
uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t sum = 0);

}  // namespace cg::packet
