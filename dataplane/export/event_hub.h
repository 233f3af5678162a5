// The control thread's side of the event stream: drains every worker's EventRing, encodes each
// event once as a JSON line (event_json.h) and hands it to the subscribers of the control
// socket's event stream and, optionally, to eve.json with size-based rotation.
//
// Bounded everywhere: each subscriber has a byte budget; what does not fit is counted and, as
// soon as there is room again, reported to that subscriber as an `overflow` event
// (where: "subscriber"). Losses in a worker ring are reported the same way ("worker_ring"),
// failed eve.json writes as "eve_file". Sockets are written without blocking; a subscriber
// whose socket fails is dropped (counted). Control thread only; no locks.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/export/event.h"
#include "dataplane/export/event_json.h"

namespace cg::exporter {

// eve.json with size-based rotation: when the file would pass `max_bytes`, it is renamed to
// PATH.1 (PATH.1 to PATH.2, ... up to PATH.<keep>, the oldest is removed) and a new one opened.
class EveWriter {
 public:
  EveWriter(std::string path, uint64_t max_bytes, uint32_t keep);
  ~EveWriter();
  EveWriter(const EveWriter&) = delete;
  EveWriter& operator=(const EveWriter&) = delete;
  bool open(std::string* error);
  // Appends one line (a newline is added). False when it could not be written (counted).
  bool write(const std::string& line);
  void flush();
  uint64_t rotations() const { return rotations_; }
  uint64_t errors() const { return errors_; }
  uint64_t lines() const { return lines_; }

 private:
  bool rotate();
  std::string path_;
  uint64_t max_;
  uint32_t keep_;
  FILE* f_ = nullptr;
  uint64_t size_ = 0;
  uint64_t rotations_ = 0, errors_ = 0, lines_ = 0;
};

enum class HubCounter : uint8_t {
  kEvents,             // events drained from the worker rings
  kDelivered,          // event lines queued to subscribers (summed over subscribers)
  kSubscriberLost,     // event lines a subscriber's buffer had no room for
  kSubscriberDropped,  // subscribers removed after a socket error
  kRingLost,           // events the worker rings lost (reported as overflow events)
  kEveLines,
  kEveErrors,
  kCount
};
const char* hub_counter_name(HubCounter c);

class EventHub {
 public:
  struct Config {
    size_t subscriber_buffer = 4u << 20;  // bytes waiting per subscriber
    std::string eve_path;                 // empty: no eve.json
    uint64_t eve_max_bytes = 64u << 20;
    uint32_t eve_keep = 5;
  };
  EventHub(const Config& cfg, EventContext ctx);
  bool open(std::string* error);  // opens eve.json when configured

  void add_ring(EventRing* ring, int worker);
  void set_context(EventContext ctx) { ctx_ = std::move(ctx); }
  // Called with every event's JSON before it is written (e.g. to add `evidence`).
  void set_annotator(std::function<void(const Event&, nlohmann::json&)> fn) {
    annotate_ = std::move(fn);
  }
  // Registers a connected stream socket (non-blocking writes); the hub owns it from now on.
  void subscribe(int fd);
  size_t subscribers() const { return subs_.size(); }

  // Drains the rings (at most `max_events`), encodes, queues and writes what the sockets take.
  // Returns the events drained. `now_ns` stamps overflow events.
  size_t poll(uint64_t now_ns, size_t max_events = 65536);
  // Every line of the last poll (for tests and --replay-style callers).
  const std::vector<std::string>& last_lines() const { return lines_; }
  uint64_t counter(HubCounter c) const { return counters_[static_cast<size_t>(c)]; }

 private:
  struct Sub {
    int fd;
    std::string out;
    uint64_t lost = 0;
  };
  struct Ring {
    EventRing* ring;
    int worker;
    uint64_t reported_dropped = 0;
  };
  void publish(const Event& ev);
  void write_out(Sub& s);
  void inc(HubCounter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }

  Config cfg_;
  EventContext ctx_;
  std::function<void(const Event&, nlohmann::json&)> annotate_;
  std::vector<Ring> rings_;
  std::vector<Sub> subs_;
  std::unique_ptr<EveWriter> eve_;
  uint64_t eve_lost_ = 0;
  uint64_t last_ns_ = 0;
  std::vector<std::string> lines_;
  std::array<uint64_t, static_cast<size_t>(HubCounter::kCount)> counters_{};
};

}  // namespace cg::exporter
