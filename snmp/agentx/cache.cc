#include "snmp/agentx/cache.h"

#include <chrono>

namespace cg::agentx {
namespace {
uint64_t system_seconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}
}  // namespace

Cache::Cache(CacheOptions opt, std::unique_ptr<DataplaneSource> source, Clock clock)
    : opt_(std::move(opt)), source_(std::move(source)), clock_(std::move(clock)) {
  if (!clock_) clock_ = system_seconds;
  snap_.refresh_interval_s = opt_.interval_s;
  view_ = std::make_shared<const MibView>(build_view(opt_.root, snap_));
}

Cache::~Cache() {
  stop();
}

void Cache::refresh_once() {
  DataplaneData d;
  std::string err;
  SourceStatus status = SourceStatus::kOk;
  if (!source_->begin(&err)) {
    status = SourceStatus::kUnreachable;
  } else {
    using Mapper = bool (*)(const nlohmann::json&, DataplaneData*, std::string*);
    static constexpr std::pair<const char*, Mapper> kAsks[] = {{"health", map_health},
                                                               {"stats", map_stats},
                                                               {"policy.status", map_policy_status},
                                                               {"qos", map_qos}};
    for (const auto& [cmd, mapper] : kAsks) {
      nlohmann::json reply;
      RequestError e = source_->request({{"cmd", cmd}}, &reply, &err);
      if (e == RequestError::kNone && mapper(reply, &d, &err)) continue;
      status =
          e == RequestError::kUnreachable ? SourceStatus::kUnreachable : SourceStatus::kBadReply;
      break;
    }
    source_->end();
  }
  Snapshot s;
  {
    std::lock_guard lock(mu_);
    s = snap_;
    s.events = events_;
  }
  s.refresh_interval_s = opt_.interval_s;
  ++s.refreshes;
  s.status = status;
  if (status == SourceStatus::kOk) {
    s.error.clear();
    s.last_success = clock_();
    s.dp = std::move(d);
  } else {
    ++s.refresh_failures;
    s.error = err;
    s.dp = DataplaneData{};  // nothing stale survives a failed refresh
  }
  auto v = std::make_shared<const MibView>(build_view(opt_.root, s));
  std::lock_guard lock(mu_);
  snap_ = std::move(s);
  view_ = std::move(v);
}

std::shared_ptr<const MibView> Cache::view() const {
  std::lock_guard lock(mu_);
  return view_;
}

Snapshot Cache::snapshot() const {
  std::lock_guard lock(mu_);
  return snap_;
}

void Cache::add_event_line(std::string_view line) {
  std::lock_guard lock(mu_);
  count_event_line(line, &events_);
}

void Cache::set_event_stream(bool connected) {
  std::lock_guard lock(mu_);
  if (connected && !events_.connected) ++events_.connects;
  events_.connected = connected;
}

void Cache::start() {
  stopping_ = false;
  refresher_ = std::thread([this] { refresh_loop(); });
  if (!opt_.events_socket.empty()) eventer_ = std::thread([this] { event_loop(); });
}

void Cache::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  if (eventer_.joinable()) eventer_.join();
}

void Cache::refresh_loop() {
  for (;;) {
    refresh_once();
    std::unique_lock lock(stop_mu_);
    if (stop_cv_.wait_for(lock, std::chrono::seconds(opt_.interval_s),
                          [this] { return stopping_.load(); }))
      return;
  }
}

// Subscribes, counts lines until the stream breaks, then tries again every interval. Reads
// wake up at least every 200 ms to notice stop().
void Cache::event_loop() {
  LineSocket sock;
  while (!stopping_) {
    std::string err, line;
    bool ok = sock.connect(opt_.events_socket, opt_.timeout_ms, &err) &&
              sock.write_line(R"({"v":1,"cmd":"events.subscribe"})", opt_.timeout_ms, &err);
    if (ok) {
      // The first line acknowledges the subscription.
      int rc;
      while ((rc = sock.read_line(&line, 200, &err)) == 1 && !stopping_) {
      }
      nlohmann::json ack = nlohmann::json::parse(line, nullptr, false);
      ok = rc == 0 && ack.is_object() && ack.value("ok", false);
    }
    if (ok) {
      set_event_stream(true);
      while (!stopping_) {
        int rc = sock.read_line(&line, 200, &err);
        if (rc == 1) continue;
        if (rc < 0) break;
        add_event_line(line);
      }
    }
    sock.close();
    set_event_stream(false);
    std::unique_lock lock(stop_mu_);
    if (stop_cv_.wait_for(lock, std::chrono::seconds(opt_.interval_s),
                          [this] { return stopping_.load(); }))
      return;
  }
}

}  // namespace cg::agentx
