// The value cache between the dataplane and SNMP. A refresh thread asks the dataplane (health,
// stats, policy.status, qos) every `interval`, maps the replies into a Snapshot and publishes a
// new MibView; an event thread holds an events.subscribe stream and counts alerts by severity.
// The SNMP thread only takes the current view (a shared_ptr copy under a mutex held for a few
// instructions): a GET never waits for a socket.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "snmp/agentx/mib_view.h"
#include "snmp/agentx/snapshot.h"
#include "snmp/agentx/source.h"

namespace cg::agentx {

struct CacheOptions {
  Oid root = mib_root(kDefaultEnterprise);
  uint32_t interval_s = 5;
  std::string events_socket;  // "" = no event stream (event counts stay 0, stream disconnected)
  int timeout_ms = 2000;      // per request / connect on the event stream
};

class Cache {
 public:
  using Clock = std::function<uint64_t()>;  // unix seconds
  Cache(CacheOptions opt, std::unique_ptr<DataplaneSource> source, Clock clock = nullptr);
  ~Cache();

  // One refresh on the calling thread (the refresh thread's body; unit tests call it directly).
  void refresh_once();
  void start();  // refresh thread (+ event thread when events_socket is set)
  void stop();

  std::shared_ptr<const MibView> view() const;
  Snapshot snapshot() const;

  // Test seam for the event counting that the event thread does.
  void add_event_line(std::string_view line);
  void set_event_stream(bool connected);

 private:
  void refresh_loop();
  void event_loop();

  CacheOptions opt_;
  std::unique_ptr<DataplaneSource> source_;
  Clock clock_;
  mutable std::mutex mu_;  // guards view_, snap_, events_
  std::shared_ptr<const MibView> view_;
  Snapshot snap_;
  EventCounts events_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::atomic<bool> stopping_{false};
  std::thread refresher_, eventer_;
};

}  // namespace cg::agentx
