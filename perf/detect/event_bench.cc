// Event stream throughput: events pushed into a worker ring are drained by the EventHub,
// encoded as JSON lines and delivered to an events.subscribe-style socket subscriber that a
// reader thread consumes, in a closed loop; prints the events/s sustained with zero loss.
//   cg-bench-events [events]
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "dataplane/export/event_hub.h"

using namespace cg::exporter;

int main(int argc, char** argv) {
  const uint64_t total = argc > 1 ? std::stoull(argv[1]) : 200000;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  std::atomic<uint64_t> lines{0};
  std::thread reader([&] {
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(sv[1], buf, sizeof(buf))) > 0)
      for (ssize_t i = 0; i < n; ++i) lines.fetch_add(buf[i] == '\n', std::memory_order_relaxed);
  });
  EventRing ring(4096);
  EventHub hub({}, {});
  hub.add_ring(&ring, 0);
  hub.subscribe(sv[0]);
  Event e;
  e.kind = EventKind::kFlowRisk;
  e.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9};
  e.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  e.proto = 6;
  e.risk = 1ull << 6;
  e.set_name("Self-signed Certificate");
  e.set_app("TLS");
  e.set_host("www.example.org");
  auto t0 = std::chrono::steady_clock::now();
  uint64_t pushed = 0;
  while (pushed < total) {
    for (int i = 0; i < 1024 && pushed < total; ++i, ++pushed) {
      e.seq = pushed;
      e.ts_ns = 1'800'000'000'000'000'000ull + pushed;
      ring.push(e);
    }
    hub.poll(0);
    // Closed loop: do not run further ahead of the reader than the subscriber buffer holds, so
    // the figure is the rate the stream sustains with zero loss.
    while (hub.counter(HubCounter::kDelivered) > lines.load() + 2048) {
      hub.poll(0);
      std::this_thread::yield();
    }
  }
  while (hub.counter(HubCounter::kDelivered) < total &&
         hub.counter(HubCounter::kSubscriberLost) == 0)
    hub.poll(0);
  while (lines.load() < hub.counter(HubCounter::kDelivered)) hub.poll(0);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  shutdown(sv[0], SHUT_WR);
  reader.join();
  std::printf(
      "{\"events\":%lu,\"delivered\":%lu,\"ring_lost\":%lu,\"subscriber_lost\":%lu,"
      "\"seconds\":%.3f,\"events_per_s\":%.0f}\n",
      static_cast<unsigned long>(total), static_cast<unsigned long>(lines.load()),
      static_cast<unsigned long>(ring.dropped()),
      static_cast<unsigned long>(hub.counter(HubCounter::kSubscriberLost)), s,
      static_cast<double>(total) / s);
  return ring.dropped() || hub.counter(HubCounter::kSubscriberLost) ? 1 : 0;
}
