// The control thread's side of the event stream: drains every worker's EventRing, encodes each
// event once as a JSON line (event_json.h) and hands it to the subscribers of the control
// socket's event stream and, optionally, to eve.json with size-based rotation.
//
// Stream resume: every line the hub publishes gets the next hub-wide `stream_seq` (1, 2, ... per
// dataplane run; the run is EventContext.run_id) and is kept in a bounded backlog of the most
// recent lines (Backlog: one byte ring of `backlog_bytes`, oldest evicted first), also while
// nobody is subscribed. A subscriber that names where it left off (SubscribeArgs) first gets the
// backlog lines after that point, fed as its socket drains; lines it missed because they were
// evicted are reported to it as one `overflow` event (where: "backlog").
//
// Bounded everywhere: each subscriber has a byte budget. With a backlog, a subscriber whose
// budget is full is not dropped from: it falls back to reading the backlog from the first line
// that did not fit and loses only what the backlog evicts before it gets there ("backlog").
// Without a backlog (backlog_bytes 0) what does not fit is counted and, as soon as there is
// room again, reported to that subscriber as an `overflow` event (where: "subscriber").
// Losses in a worker ring are reported the same way ("worker_ring"), failed eve.json writes as
// "eve_file". Sockets are written without blocking; a subscriber whose socket fails is dropped
// (counted). Control thread only; no locks.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

// The most recent event lines in one byte ring allocated once (`capacity` bytes of line text;
// plus an index of 24 bytes per line). push() evicts the oldest lines until the new one fits; a
// line longer than the whole ring is not kept (it evicts everything and counts as evicted).
class Backlog {
 public:
  explicit Backlog(size_t capacity);
  size_t capacity() const { return cap_; }
  void push(uint64_t seq, std::string_view line);  // seq strictly increasing
  size_t lines() const { return index_.size(); }
  size_t bytes() const { return used_; }
  uint64_t evicted() const { return evicted_; }
  uint64_t first_seq() const { return index_.empty() ? 0 : index_.front().seq; }  // 0: empty
  uint64_t last_seq() const { return index_.empty() ? 0 : index_.back().seq; }
  // Appends the lines with seq >= `from`, each followed by '\n', while they fit in `max_bytes`.
  // Returns the seq after the last line appended (`from` when none).
  uint64_t copy_from(uint64_t from, size_t max_bytes, std::string* out, uint64_t* lines) const;

 private:
  struct Entry {
    uint64_t seq;
    size_t off;
    size_t len;
  };
  void evict_front();
  size_t cap_;
  std::unique_ptr<char[]> buf_;  // pages are touched only as lines arrive
  size_t head_ = 0;              // offset of the oldest line
  size_t used_ = 0;
  std::deque<Entry> index_;
  uint64_t evicted_ = 0;
};

// The optional arguments of {"v":1,"cmd":"events.subscribe","after":{"run":"<hex>","seq":N}}.
struct SubscribeArgs {
  bool after = false;  // false: live events only (no replay)
  std::string run;     // the run the subscriber's seq belongs to ("" = none known yet)
  uint64_t seq = 0;    // the last stream_seq it has (0 = none)
};
// Untrusted input (the control socket): never throws; false + reason on a malformed `after`.
bool parse_subscribe(const nlohmann::json& request, SubscribeArgs* out, std::string* error);
std::string run_string(uint32_t run_id);  // "%08x", as in event ids

enum class HubCounter : uint8_t {
  kEvents,             // events drained from the worker rings
  kDelivered,          // event lines queued live to subscribers (summed over subscribers)
  kSubscriberLost,     // event lines a subscriber's buffer had no room for (no backlog)
  kSubscriberDropped,  // subscribers removed after a socket error
  kRingLost,           // events the worker rings lost (reported as overflow events)
  kEveLines,
  kEveErrors,
  kBacklogEvicted,  // lines evicted from the backlog (oldest first)
  kReplayed,        // backlog lines queued to subscribers (resume, or behind a full buffer)
  kBacklogLost,     // lines a subscriber wanted but the backlog had evicted (reported to it)
  kResumes,         // subscribes with `after` of this run
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
    size_t backlog_bytes = 16u << 20;  // 0: no backlog, no resume
  };
  EventHub(const Config& cfg, EventContext ctx);
  bool open(std::string* error);  // opens eve.json when configured

  void add_ring(EventRing* ring, int worker);
  void set_context(EventContext ctx) { ctx_ = std::move(ctx); }
  // Called with every event's JSON before it is written (e.g. to add `evidence`).
  void set_annotator(std::function<void(const Event&, nlohmann::json&)> fn) {
    annotate_ = std::move(fn);
  }
  // Registers a connected stream socket (non-blocking writes); the hub owns it from now on and
  // writes nothing to it before the next poll(). With `args.after`, the subscriber first gets
  // the backlog lines after (run, seq) — the whole backlog when the run is not this one — and
  // an overflow event (where "backlog") for those already evicted. Returns the fields of the
  // subscribe acknowledgement: ok, run, seq (the newest line's), replay_from / replay_lines
  // (what will be replayed), lost (already evicted).
  nlohmann::json subscribe(int fd, const SubscribeArgs& args = {});
  size_t subscribers() const { return subs_.size(); }
  // Adds the sockets of subscribers with lines queued that their socket did not take yet: a
  // control loop that polls them for POLLOUT calls poll() again as soon as they drain.
  void waiting_fds(std::vector<int>* fds) const;
  const Backlog* backlog() const { return backlog_.get(); }  // null when off
  uint64_t stream_seq() const { return seq_; }               // the newest line's

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
    uint64_t lost = 0;          // lines not queued (no backlog), to report as "subscriber"
    uint64_t next = 0;          // replaying: next backlog seq to queue; 0 = live
    uint64_t backlog_lost = 0;  // evicted before it read them, to report as "backlog"
  };
  struct Ring {
    EventRing* ring;
    int worker;
    uint64_t reported_dropped = 0;
  };
  void publish(const Event& ev);
  void feed(Sub& s, uint64_t now_ns);
  void write_out(Sub& s);
  std::string notice(uint64_t ts_ns, const char* where, uint64_t lost);
  void inc(HubCounter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }

  Config cfg_;
  EventContext ctx_;
  std::function<void(const Event&, nlohmann::json&)> annotate_;
  std::vector<Ring> rings_;
  std::vector<Sub> subs_;
  std::unique_ptr<EveWriter> eve_;
  std::unique_ptr<Backlog> backlog_;
  uint64_t seq_ = 0;      // stream_seq of the newest published line
  uint64_t notices_ = 0;  // overflow events made by the hub (their event id)
  uint64_t eve_lost_ = 0;
  uint64_t last_ns_ = 0;
  std::vector<std::string> lines_;
  std::array<uint64_t, static_cast<size_t>(HubCounter::kCount)> counters_{};
};

}  // namespace cg::exporter
