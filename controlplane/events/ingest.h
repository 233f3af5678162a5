// Event ingest: follows the dataplane's event stream ({"v":1,"cmd":"events.subscribe"} on the
// control socket, then one EVE-style JSON event per line; dataplane/api/event.schema.json),
// enriches each event (school id, zone name from the current policy's zones when the dataplane
// did not name one), and stores them in batches. A batch is acknowledged (counted in `stored`)
// only after the store committed it; a failed commit is retried with the same batch, so nothing
// acknowledged is ever lost and duplicates (same event_id) are ignored by the store.
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
  uint64_t received = 0, stored = 0, duplicates = 0, malformed = 0, batches = 0,
           store_errors = 0, connects = 0, disconnects = 0, dropped_backlog = 0;
};

// Called on the ingest thread after each committed batch with the events that batch newly
// stored (duplicates left out), in stream order: cg-controld feeds them to the alert engine, so
// an event re-sent after a reconnect never counts twice toward a threshold.
using StoredSink = std::function<void(const std::vector<store::Event>&)>;

class EventIngest {
 public:
  EventIngest(store::Store& store, IngestConfig cfg, std::string school_id, ImageSource images)
      : store_(store), cfg_(std::move(cfg)), images_(std::move(images)) {
    enrich_.school_id = std::move(school_id);
  }
  ~EventIngest() { stop(); }
  void set_sink(StoredSink sink) { sink_ = std::move(sink); }  // before start()
  void start();
  void stop();
  IngestCounters counters();
  std::string metrics_text();  // Prometheus lines

 private:
  void run();
  bool flush(std::vector<store::Event>* pending);
  store::Store& store_;
  IngestConfig cfg_;
  ImageSource images_;
  StoredSink sink_;
  Enrichment enrich_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  IngestCounters c_;
};

}  // namespace cg::events
