// libFuzzer target for the untrusted-input path of the fast path: the parser and the pipeline
// (flow keys, fragment tracking, flow table, TCP state, the nDPI adapter) over frame sequences,
// and the TCP reset builder on every Ethernet frame.
//
// Input: byte 0 selects the link type; then frames as [u16 big-endian length][bytes]...; the
// last frame takes whatever is left. Each frame advances the clock by 1 s so expiry runs too.
#include <cstddef>
#include <cstdint>

#include "dataplane/packet/tcp_reset.h"
#include "dataplane/pipeline/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cg;
  if (size < 1) return 0;
  static pipeline::Pipeline* pipes[6] = {};
  uint8_t link = data[0] % 6;
  if (!pipes[link]) {
    pipeline::PipelineConfig cfg;
    cfg.table.capacity = 64;  // small: the full-table paths get exercised
    cfg.link = static_cast<packet::LinkType>(link);
    cfg.classifier.max_inspecting = 64;  // nDPI adapter included, with small pools
    cfg.classifier.max_hostnames = 16;
    pipes[link] = new pipeline::Pipeline(cfg);
  }
  pipeline::Pipeline& p = *pipes[link];
  static uint64_t now = 1'000'000'000ull;
  pipeline::PacketRef refs[pipeline::Pipeline::kMaxBurst];
  pipeline::Verdict verdicts[pipeline::Pipeline::kMaxBurst];
  uint32_t n = 0;
  size_t pos = 1;
  while (pos < size && n < pipeline::Pipeline::kMaxBurst) {
    size_t len = size - pos;
    if (len >= 2) {
      size_t want = static_cast<size_t>(data[pos]) << 8 | data[pos + 1];
      pos += 2;
      len = want < size - pos ? want : size - pos;
    } else {
      pos += len;
      break;
    }
    now += 1'000'000'000ull;
    // wire_len > len now and then: the capture-truncated paths.
    refs[n] = {data + pos, static_cast<uint32_t>(len),
               static_cast<uint32_t>(len + (len & 1 ? 100 : 0)), now, 0};
    ++n;
    pos += len;
  }
  if (n) p.process(refs, n, verdicts);
  if (link == 0) {
    uint8_t out[256];
    for (uint32_t i = 0; i < n; ++i)
      for (auto to : {packet::ResetTo::kSender, packet::ResetTo::kReceiver}) {
        size_t k = packet::build_tcp_reset(refs[i].data, refs[i].len, to, out, sizeof out);
        if (k > sizeof out) __builtin_trap();
      }
  }
  p.tick(now);
  return 0;
}
