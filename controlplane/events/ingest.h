// Event ingest: follows the dataplane's event stream ({"v":1,"cmd":"events.subscribe",
// "after":{"run","seq"}} on the control socket, then one EVE-style JSON event per line;
// dataplane/api/event.schema.json), enriches each event (school id, zone name from the current
// policy's zones when the dataplane did not name one), and stores them in batches. A batch is
// acknowledged (counted in `stored`) only after the store committed it; a failed commit is
// retried with the same batch, so nothing acknowledged is ever lost and duplicates (same
// event_id) are ignored by the store.
//
// Resume: after each commit the stream position of the batch's last event (the dataplane run
// and its stream_seq) is persisted (state key kStreamPositionKey); every (re)connect, also the
// first one after a restart, subscribes after the newest position known, so the dataplane
// replays from its backlog what controld has not stored. A stale position only causes
// duplicates, which the store skips.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/store/store.h"
#include "dataplane/api/policy_image.h"

namespace cg::events {

struct Enrichment {
  std::string school_id;  // used when the event has none (else the policy's school.id)
  std::shared_ptr<const api::PolicyImage> image;  // zones by address; may be null
};
// Where EventIngest gets the current policy image from (refreshed once a second).
using ImageSource = std::function<std::shared_ptr<const api::PolicyImage>()>;

// Untrusted input (the socket): never throws; false + reason for anything that is not an event.
// The name of the first policy zone whose prefixes contain `address` ("" = none / not an IP).
std::string zone_for_address(const api::PolicyImage& image, const std::string& address);

bool event_from_json(const nlohmann::json& j, const Enrichment& e, store::Event* out,
                     std::string* error);
bool event_from_line(const std::string& line, const Enrichment& e, store::Event* out,
                     std::string* error);

struct IngestConfig {
  std::string socket;
  size_t batch = 512;
  int flush_ms = 200;
  size_t max_backlog = 100000;  // events held while the store is failing; beyond: dropped
};

struct IngestCounters {
  uint64_t received = 0, stored = 0, duplicates = 0, malformed = 0, batches = 0, store_errors = 0,
           connects = 0, disconnects = 0, dropped_backlog = 0;
  uint64_t resumes = 0;          // subscribes that named a stream position
  uint64_t replayed = 0;         // events the dataplane replayed from its backlog
  uint64_t stream_lost = 0;      // events the dataplane reported lost (overflow events' counts)
  uint64_t refused = 0;          // subscribe requests the dataplane refused
  uint64_t position_errors = 0;  // stream positions that could not be persisted (harmless)
};

// Where the stream stands: the dataplane run (hex, as in event ids) and its stream_seq.
struct StreamPosition {
  std::string run;
  uint64_t seq = 0;
};
inline constexpr const char* kStreamPositionKey = "events.stream_position";
// {"run":"…","seq":N} <-> StreamPosition (the stored state value; false when malformed).
std::string position_to_json(const StreamPosition& p);
bool position_from_json(const std::string& text, StreamPosition* p);

// Runs on the ingest thread after every committed batch that stored new events (cg-controld:
// the alert feed, which reads what is new from the store).
using CommitHook = std::function<void()>;

class EventIngest {
 public:
  EventIngest(store::Store& store, IngestConfig cfg, std::string school_id, ImageSource images)
      : store_(store), cfg_(std::move(cfg)), images_(std::move(images)) {
    enrich_.school_id = std::move(school_id);
  }
  ~EventIngest() { stop(); }
  void set_commit_hook(CommitHook hook) { hook_ = std::move(hook); }  // before start()
  void start();
  void stop();
  IngestCounters counters();
  std::string metrics_text();  // Prometheus lines

 private:
  struct Pending {
    store::Event ev;
    StreamPosition pos;  // seq 0: the line had no stream_seq
  };
  void run();
  bool flush(std::vector<Pending>* pending);
  store::Store& store_;
  IngestConfig cfg_;
  ImageSource images_;
  CommitHook hook_;
  Enrichment enrich_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  IngestCounters c_;
};

}  // namespace cg::events
