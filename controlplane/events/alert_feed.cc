#include "controlplane/events/alert_feed.h"

#include <cstdio>

namespace cg::events {

cp::Status AlertFeed::start(int64_t evaluated) {
  if (evaluated >= 0) {
    cursor_ = evaluated;
    return {};
  }
  std::vector<store::Event> none;
  int64_t last = 0;
  if (auto s = store_.list_events_after(0, 1, &none, &last); !s) return s;
  cursor_ = last;
  evaluate_({}, last);  // persists the starting point
  return {};
}

size_t AlertFeed::advance() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  std::vector<store::Event> events;
  for (;;) {
    if (auto s = store_.list_events_after(cursor_.load(), batch_, &events); !s) {
      ++store_errors_;
      std::fprintf(stderr, "cg-controld: alert feed: %s\n", s.message().c_str());
      break;
    }
    if (events.empty()) break;
    evaluate_(events, events.back().id);
    cursor_ = events.back().id;
    n += events.size();
  }
  evaluated_ += n;
  if (first_) caught_up_ += n;
  first_ = false;
  return n;
}

std::string AlertFeed::metrics_text() const {
  std::string o;
  auto m = [&o](const char* name, const char* type, const char* help, uint64_t v) {
    o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(v) + "\n";
  };
  m("cg_controld_alert_feed_events_total", "counter",
    "stored events evaluated by the alert engine (each once)", evaluated());
  m("cg_controld_alert_feed_caught_up_total", "counter",
    "events stored before a restart and evaluated at start (catch-up)", caught_up());
  m("cg_controld_alert_feed_store_errors_total", "counter", "failed reads of the event store",
    store_errors());
  m("cg_controld_alert_feed_cursor", "gauge", "store row id evaluated through",
    static_cast<uint64_t>(cursor()));
  return o;
}

}  // namespace cg::events
