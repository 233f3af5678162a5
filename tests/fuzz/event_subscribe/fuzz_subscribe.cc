// One events.subscribe request line (untrusted: any local client of the control socket) ->
// parse_subscribe -> EventHub::subscribe + poll over a hub that holds a few events.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "dataplane/export/event_hub.h"

namespace {

cg::exporter::Event scan(uint64_t seq) {
  cg::exporter::Event e;
  e.kind = cg::exporter::EventKind::kPortScan;
  e.ts_ns = 1'000'000'000ull + seq;
  e.seq = seq;
  e.worker = 0;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto req =
      nlohmann::json::parse(std::string(reinterpret_cast<const char*>(data), size), nullptr, false);
  cg::exporter::SubscribeArgs args;
  std::string err;
  if (!cg::exporter::parse_subscribe(req, &args, &err)) {
    if (err.empty()) __builtin_trap();  // a refusal always says why
    return 0;
  }
  if (!args.after && (!args.run.empty() || args.seq)) __builtin_trap();
  cg::exporter::EventRing ring(8);
  cg::exporter::EventHub::Config cfg;
  cfg.backlog_bytes = 2048;  // a few lines: eviction and loss reports on the way
  cg::exporter::EventContext ctx;
  ctx.run_id = 0xc0ffee42;
  cg::exporter::EventHub hub(cfg, ctx);
  hub.add_ring(&ring, 0);
  for (uint64_t i = 1; i <= 6; ++i) ring.push(scan(i));
  hub.poll(1);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
  auto ack = hub.subscribe(sv[0], args);
  if (!ack.value("ok", false) || ack["run"] != "c0ffee42") __builtin_trap();
  ring.push(scan(7));
  hub.poll(2);
  // What the subscriber gets: whole JSON lines only, stream_seq never above the hub's.
  std::string got;
  char buf[65536];
  ssize_t n;
  while ((n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
    got.append(buf, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t nl; (nl = got.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto j = nlohmann::json::parse(got.substr(start, nl - start), nullptr, false);
    if (!j.is_object()) __builtin_trap();
    if (j.contains("stream_seq") && j["stream_seq"].get<uint64_t>() > hub.stream_seq())
      __builtin_trap();
  }
  if (start != got.size()) __builtin_trap();
  close(sv[1]);
  return 0;
}
