#include "controlplane/alerting/service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cg::alerting {
namespace {
constexpr const char* kEvaluatedKey = "events.evaluated_through";  // store row id (progress)
}  // namespace

Millis backoff_delay(const DeliveryConfig& d, uint32_t attempts) {
  double ms = static_cast<double>(d.backoff_initial.count()) *
              std::pow(d.backoff_multiplier, static_cast<double>(attempts > 0 ? attempts - 1 : 0));
  double cap = static_cast<double>(d.backoff_max.count());
  return Millis(static_cast<int64_t>(std::min(ms, cap)));
}

Service::Service(std::shared_ptr<const AlertingConfig> config, const cp::Clock& clock,
                 std::unique_ptr<Store> store, EngineLimits limits)
    : config_(config), clock_(clock), store_(std::move(store)), engine_(config, limits) {}

std::unique_ptr<Service> Service::create(std::shared_ptr<const AlertingConfig> config,
                                         const cp::Clock& clock, std::string& error,
                                         EngineLimits limits, ChannelFactory factory) {
  auto store = Store::open(config->delivery.queue_path, error);
  if (!store) return nullptr;
  std::unique_ptr<Service> svc(new Service(config, clock, std::move(store), limits));
  svc->engine_.set_next_alert_id(svc->store_->max_alert_id() + 1);
  svc->evaluated_ = svc->store_->progress(kEvaluatedKey).value_or(-1);
  for (auto& s : svc->store_->silences()) svc->engine_.add_silence(std::move(s));
  // Dedup state survives a restart: alerts still inside their window absorb repeats (oldest
  // first, so the newest alert of a key wins).
  AlertQuery recent;
  TimePoint t = svc->now();
  recent.since = t - svc->engine_.longest_dedup_window();
  recent.limit = static_cast<uint32_t>(limits.max_dedup_entries);
  auto alerts = svc->store_->alerts(recent);
  for (auto it = alerts.rbegin(); it != alerts.rend(); ++it) svc->engine_.restore_dedup(*it, t);
  if (!factory) factory = make_channel;
  for (const auto& c : config->channels) svc->channels_[c.name] = factory(c);
  for (const auto& c : config->channels) svc->stats_[c.name];
  return svc;
}

Service::~Service() {
  stop();
}

bool Service::record(const Engine::Outcome& out, int64_t now_ms) {
  bool ok = true;
  for (const auto& f : out.folded) {
    auto a = store_->alert(f.alert_id);
    if (!a) continue;  // evicted from the store by retention: nothing to fold into
    a->events += f.events;
    a->last_seen = f.last_seen;
    ok = ok && store_->put_alert(*a);
  }
  uint64_t pending = out.raised.empty() ? 0 : store_->pending_count();
  for (const auto& a : out.raised) {
    ok = ok && store_->put_alert(a);
    if (a.state == AlertState::kSilenced) continue;
    for (const auto& ch : a.channels) {
      if (pending >= config_->delivery.max_queue) {
        ++counters_.deliveries_refused_queue_full;
        std::fprintf(stderr, "alerting: alert %llu to %s refused: queue_full (%llu pending)\n",
                     static_cast<unsigned long long>(a.id), ch.c_str(),
                     static_cast<unsigned long long>(pending));
        ok = ok && store_->enqueue(a.id, ch, DeliveryState::kRefused, now_ms, "queue_full");
        continue;
      }
      ok = ok && store_->enqueue(a.id, ch, DeliveryState::kPending, now_ms, "");
      ++pending;
      ++counters_.deliveries_queued;
    }
  }
  return ok;
}

bool Service::finish(bool ok) {
  if (ok && store_->commit()) return true;
  ++counters_.store_errors;
  std::fprintf(stderr, "alerting: store: %s\n", store_->last_error().c_str());
  store_->rollback();
  // The engine already advanced; the caller sees no alerts and store_errors counts it.
  return false;
}

std::vector<Alert> Service::ingest(const nlohmann::json& event) {
  std::vector<Alert> raised;
  {
    std::lock_guard lock(mu_);
    TimePoint t = now();
    Engine::Outcome out = engine_.ingest(event, t);
    if (out.raised.empty() && out.folded.empty()) return raised;
    const bool ok = store_->begin() && record(out, to_ms(t));
    if (finish(ok)) raised = std::move(out.raised);
    wake_ = true;
  }
  cv_.notify_all();
  return raised;
}

std::vector<Alert> Service::ingest_stored(const std::vector<nlohmann::json>& events,
                                          int64_t through) {
  std::vector<Alert> raised;
  {
    std::lock_guard lock(mu_);
    if (through <= evaluated_) return raised;
    TimePoint t = now();
    const int64_t now_ms = to_ms(t);
    bool ok = store_->begin();
    std::vector<Alert> batch;
    for (const auto& e : events) {
      Engine::Outcome out = engine_.ingest(e, t);
      if (out.raised.empty() && out.folded.empty()) continue;
      ok = ok && record(out, now_ms);
      for (auto& a : out.raised) batch.push_back(std::move(a));
    }
    ok = ok && store_->put_progress(kEvaluatedKey, through);
    if (finish(ok)) raised = std::move(batch);
    evaluated_ = through;  // the engine has seen them, committed or not
    wake_ = !raised.empty() || wake_;
  }
  cv_.notify_all();
  return raised;
}

int64_t Service::evaluated_through() {
  std::lock_guard lock(mu_);
  return evaluated_;
}

size_t Service::pump() {
  std::lock_guard pump_lock(pump_mu_);
  std::vector<std::pair<Delivery, std::optional<Alert>>> work;
  {
    std::lock_guard lock(mu_);
    for (auto& d : store_->due(to_ms(now()), config_->delivery.batch)) {
      auto a = store_->alert(d.alert_id);
      work.emplace_back(std::move(d), std::move(a));
    }
  }
  size_t sent = 0;
  for (auto& [d, alert] : work) {
    auto it = channels_.find(d.channel);
    SendResult r;
    bool orphan = it == channels_.end() || !it->second || !alert;
    if (!orphan) r = it->second->send(*alert, now());
    std::lock_guard lock(mu_);
    if (orphan) {
      ++counters_.deliveries_orphaned;
      std::string why = !alert ? "alert_missing" : "unknown_channel";
      std::fprintf(stderr, "alerting: delivery %lld orphaned: %s\n", static_cast<long long>(d.id),
                   why.c_str());
      if (!store_->mark_orphaned(d.id, why)) ++counters_.store_errors;
      continue;
    }
    uint32_t attempts = d.attempts + 1;
    ChannelStats& st = stats_[d.channel];
    bool ok;
    if (r.ok) {
      ++counters_.deliveries_sent;
      ++st.sent;
      ++sent;
      ok = store_->mark_delivered(d.id, attempts, to_ms(now()));
    } else {
      ++counters_.delivery_attempts_failed;
      ++st.failed;
      st.last_error = r.error;
      int64_t next = to_ms(now() + backoff_delay(config_->delivery, attempts));
      ok = store_->mark_failed(d.id, attempts, next, r.error);
    }
    if (!ok) ++counters_.store_errors;
  }
  return sent;
}

void Service::start(Millis idle) {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, idle] { delivery_loop(idle); });
}

void Service::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Service::delivery_loop(Millis idle) {
  for (;;) {
    pump();
    std::unique_lock lock(mu_);
    if (stopping_) return;
    Millis wait = idle;
    if (auto due = store_->next_due_ms())
      wait = std::clamp(Millis(*due - to_ms(now())), Millis(0), idle);
    if (wait.count() > 0 && !wake_) cv_.wait_for(lock, wait, [this] { return stopping_ || wake_; });
    wake_ = false;
    if (stopping_) return;
  }
}

std::vector<Alert> Service::list_alerts(const AlertQuery& q) {
  std::lock_guard lock(mu_);
  return store_->alerts(q);
}

std::optional<Alert> Service::get_alert(uint64_t id) {
  std::lock_guard lock(mu_);
  return store_->alert(id);
}

std::vector<Delivery> Service::deliveries(uint64_t alert_id) {
  std::lock_guard lock(mu_);
  return store_->deliveries(alert_id);
}

cp::Status Service::ack(uint64_t id, const std::string& user, const std::string& comment) {
  if (user.empty()) return cp::invalid("ack needs a user");
  std::lock_guard lock(mu_);
  auto a = store_->alert(id);
  if (!a) return cp::not_found("no alert " + std::to_string(id));
  if (a->state == AlertState::kAcked)
    return cp::conflict("alert " + std::to_string(id) + " already acknowledged");
  a->state = AlertState::kAcked;
  a->acked_by = user;
  a->ack_comment = comment;
  a->acked_at = now();
  if (!store_->put_alert(*a)) {
    ++counters_.store_errors;
    return cp::internal("store: " + store_->last_error());
  }
  return cp::Status::ok();
}

cp::Status Service::add_silence(const Silence& s) {
  std::lock_guard lock(mu_);
  if (s.ends <= now()) return cp::invalid("silence already expired");
  for (const auto& c : config_->silences)
    if (c.id == s.id) return cp::conflict("silence id '" + s.id + "' is set by configuration");
  for (const auto& r : s.rules)
    if (std::none_of(config_->rules.begin(), config_->rules.end(),
                     [&](const Rule& x) { return x.name == r; }))
      return cp::invalid("unknown rule '" + r + "'");
  if (!store_->put_silence(s)) {
    ++counters_.store_errors;
    return cp::internal("store: " + store_->last_error());
  }
  engine_.add_silence(s);
  return cp::Status::ok();
}

cp::Status Service::remove_silence(const std::string& id) {
  std::lock_guard lock(mu_);
  if (!engine_.remove_silence(id)) return cp::not_found("no runtime silence '" + id + "'");
  if (!store_->delete_silence(id)) {
    ++counters_.store_errors;
    return cp::internal("store: " + store_->last_error());
  }
  return cp::Status::ok();
}

std::vector<Silence> Service::silences() {
  std::lock_guard lock(mu_);
  std::vector<std::string> expired;
  auto out = engine_.silences(now(), &expired);
  for (const auto& id : expired)
    if (!store_->delete_silence(id)) ++counters_.store_errors;
  return out;
}

uint64_t Service::pending_deliveries() {
  std::lock_guard lock(mu_);
  return store_->pending_count();
}

std::vector<std::pair<std::string, uint64_t>> Service::counters() {
  std::lock_guard lock(mu_);
  auto out = engine_.counters().list();
#define CG_X(name, help) out.emplace_back(#name, counters_.name);
  CG_ALERT_DELIVERY_COUNTERS(CG_X)
#undef CG_X
  out.emplace_back("deliveries_pending", store_->pending_count());
  for (const auto& [name, st] : stats_) {
    out.emplace_back("channel_sent{" + name + "}", st.sent);
    out.emplace_back("channel_failed{" + name + "}", st.failed);
  }
  return out;
}

std::map<std::string, ChannelStats> Service::channel_stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cg::alerting
