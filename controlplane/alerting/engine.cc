#include "controlplane/alerting/engine.h"

#include <algorithm>
#include <utility>

namespace cg::alerting {

std::string_view alert_state_name(AlertState s) {
  switch (s) {
    case AlertState::kOpen:
      return "open";
    case AlertState::kAcked:
      return "acked";
    case AlertState::kSilenced:
      return "silenced";
  }
  return "open";
}

std::optional<AlertState> parse_alert_state(std::string_view s) {
  for (auto v : {AlertState::kOpen, AlertState::kAcked, AlertState::kSilenced})
    if (alert_state_name(v) == s) return v;
  return std::nullopt;
}

nlohmann::json alert_to_json(const Alert& a) {
  nlohmann::json j = {{"id", a.id},
                      {"rule", a.rule},
                      {"severity", severity_name(a.severity)},
                      {"group", a.group},
                      {"dedup_key", a.dedup},
                      {"summary", a.summary},
                      {"first_seen", format_rfc3339(a.first_seen)},
                      {"last_seen", format_rfc3339(a.last_seen)},
                      {"events", a.events},
                      {"event", a.event},
                      {"channels", a.channels},
                      {"state", alert_state_name(a.state)}};
  if (!a.silence_id.empty()) j["silence_id"] = a.silence_id;
  if (a.state == AlertState::kAcked) {
    j["acked_by"] = a.acked_by;
    j["ack_comment"] = a.ack_comment;
    j["acked_at"] = format_rfc3339(a.acked_at);
  }
  return j;
}

std::optional<Alert> alert_from_json(const nlohmann::json& j) {
  try {
    Alert a;
    a.id = j.at("id").get<uint64_t>();
    a.rule = j.at("rule").get<std::string>();
    a.severity = parse_severity(j.at("severity").get<std::string>()).value_or(Severity::kMedium);
    a.group = j.at("group").get<std::string>();
    a.dedup = j.at("dedup_key").get<std::string>();
    a.summary = j.at("summary").get<std::string>();
    a.first_seen = parse_rfc3339(j.at("first_seen").get<std::string>()).value_or(TimePoint{});
    a.last_seen = parse_rfc3339(j.at("last_seen").get<std::string>()).value_or(TimePoint{});
    a.events = j.at("events").get<uint64_t>();
    a.event = j.at("event");
    a.channels = j.at("channels").get<std::vector<std::string>>();
    a.state = parse_alert_state(j.at("state").get<std::string>()).value_or(AlertState::kOpen);
    a.silence_id = j.value("silence_id", "");
    a.acked_by = j.value("acked_by", "");
    a.ack_comment = j.value("ack_comment", "");
    if (j.contains("acked_at"))
      a.acked_at = parse_rfc3339(j.at("acked_at").get<std::string>()).value_or(TimePoint{});
    return a;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::pair<std::string, uint64_t>> EngineCounters::list() const {
  std::vector<std::pair<std::string, uint64_t>> out;
#define CG_X(name, help) out.emplace_back(#name, name);
  CG_ALERT_ENGINE_COUNTERS(CG_X)
#undef CG_X
  return out;
}

std::string render_summary(const std::string& tmpl, const nlohmann::json& event) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close = open == std::string::npos ? open : tmpl.find('}', open);
    if (close == std::string::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    out += field_text(event, tmpl.substr(open + 1, close - open - 1)).value_or("-");
    i = close + 1;
  }
  return out;
}

namespace {

std::string key_of(const std::vector<std::string>& fields, const nlohmann::json& event) {
  std::string k;
  for (const auto& f : fields) {
    if (!k.empty()) k += ' ';
    k += f + "=" + field_text(event, f).value_or("-");
  }
  return k;
}

std::string default_summary(const Rule& r, const nlohmann::json& event) {
  std::string what = field_text(event, "alert.signature")
                         .value_or(field_text(event, "event_type").value_or(r.name));
  std::string s = r.name + ": " + what;
  auto src = field_text(event, "src_ip");
  auto dst = field_text(event, "dest_ip");
  if (src) s += " " + *src;
  if (dst) s += " -> " + *dst;
  return s;
}

}  // namespace

Engine::Engine(std::shared_ptr<const AlertingConfig> config, EngineLimits limits)
    : config_(std::move(config)), limits_(limits) {}

Severity Engine::severity_for(const Rule& r, const nlohmann::json& event) const {
  if (r.severity) return *r.severity;
  const nlohmann::json* eve = field_at(event, "alert.severity");
  if (eve && eve->is_number_integer()) {
    int64_t v = eve->get<int64_t>();
    if (!r.severity_map.empty()) {
      auto it = r.severity_map.find(v);
      return it == r.severity_map.end() ? r.default_severity : it->second;
    }
    return severity_from_eve(v);
  }
  return r.default_severity;
}

const Silence* Engine::silenced_by(const Rule& r, const nlohmann::json& event, TimePoint now) {
  for (const std::vector<Silence>* list : {&config_->silences, &std::as_const(runtime_silences_)}) {
    for (const auto& s : *list) {
      if (!s.active_at(now)) continue;
      if (!s.rules.empty() && std::find(s.rules.begin(), s.rules.end(), r.name) == s.rules.end())
        continue;
      if (s.match.matches(event)) return &s;
    }
  }
  return nullptr;
}

void Engine::remember_dedup(const std::string& key, uint64_t id, TimePoint now, Millis window,
                            const std::string& silence_id) {
  auto it = dedup_.find(key);
  if (it != dedup_.end()) {
    dedup_order_.erase(it->second.order);
    dedup_.erase(it);
  }
  while (dedup_.size() >= limits_.max_dedup_entries && !dedup_order_.empty()) {
    auto victim = dedup_.find(dedup_order_.front());
    // Entries whose window ended are forgotten silently; evicting a live one is counted.
    if (victim != dedup_.end() && now < victim->second.raised_at + victim->second.window)
      ++counters_.dedup_evicted;
    dedup_.erase(dedup_order_.front());
    dedup_order_.pop_front();
  }
  dedup_order_.push_back(key);
  dedup_[key] = DedupEntry{id, now, window, silence_id, std::prev(dedup_order_.end())};
}

Engine::Outcome Engine::ingest(const nlohmann::json& event, TimePoint now) {
  Outcome out;
  ++counters_.events_in;
  if (!event.is_object()) {
    ++counters_.events_invalid;
    return out;
  }
  for (const Rule& r : config_->rules) {
    if (!r.enabled || !r.match.matches(event)) continue;
    ++counters_.rule_matches;
    std::string group = key_of(r.group_by, event);
    std::string gkey = r.name + '\x1f' + group;
    auto git = groups_.find(gkey);
    if (git == groups_.end()) {
      while (groups_.size() >= limits_.max_groups && !group_lru_.empty()) {
        groups_.erase(group_lru_.front());
        group_lru_.pop_front();
        ++counters_.groups_evicted;
      }
      group_lru_.push_back(gkey);
      git = groups_.emplace(gkey, Group{{}, std::prev(group_lru_.end())}).first;
    } else {
      group_lru_.splice(group_lru_.end(), group_lru_, git->second.lru);
    }
    auto& times = git->second.times;
    times.push_back(now);
    while (!times.empty() && times.front() <= now - r.threshold_window) times.pop_front();
    while (times.size() > r.threshold_count) times.pop_front();
    if (times.size() < r.threshold_count) {
      ++counters_.threshold_pending;
      continue;
    }
    times.clear();

    std::string dkey = r.name + '\x1f' + key_of(r.dedup_key, event);
    const Silence* sil = silenced_by(r, event, now);
    auto dit = dedup_.find(dkey);
    if (dit != dedup_.end() && now < dit->second.raised_at + dit->second.window &&
        // A silenced alert absorbs repeats only while some silence still covers them.
        (dit->second.silence_id.empty() || sil != nullptr)) {
      ++counters_.alerts_deduplicated;
      out.folded.push_back({dit->second.alert_id, r.threshold_count, now});
      continue;
    }
    Alert a;
    a.id = next_id_++;
    a.rule = r.name;
    a.severity = severity_for(r, event);
    a.group = group;
    a.dedup = dkey.substr(r.name.size() + 1);
    a.summary = r.summary.empty() ? default_summary(r, event) : render_summary(r.summary, event);
    a.first_seen = a.last_seen = now;
    a.events = r.threshold_count;
    a.event = event;
    a.channels = r.channels;
    if (sil) {
      a.state = AlertState::kSilenced;
      a.silence_id = sil->id;
      ++counters_.alerts_silenced;
    }
    ++counters_.alerts_raised;
    remember_dedup(dkey, a.id, now, r.dedup_window, a.silence_id);
    out.raised.push_back(std::move(a));
  }
  return out;
}

void Engine::restore_dedup(const Alert& a, TimePoint now) {
  for (const Rule& r : config_->rules) {
    if (r.name != a.rule) continue;
    if (now < a.first_seen + r.dedup_window && !dedup_.count(r.name + '\x1f' + a.dedup))
      remember_dedup(r.name + '\x1f' + a.dedup, a.id, a.first_seen, r.dedup_window, a.silence_id);
  }
}

Millis Engine::longest_dedup_window() const {
  Millis m{0};
  for (const Rule& r : config_->rules) m = std::max(m, r.dedup_window);
  return m;
}

void Engine::add_silence(Silence s) {
  remove_silence(s.id);
  runtime_silences_.push_back(std::move(s));
}

bool Engine::remove_silence(const std::string& id) {
  auto it = std::remove_if(runtime_silences_.begin(), runtime_silences_.end(),
                           [&](const Silence& s) { return s.id == id; });
  bool found = it != runtime_silences_.end();
  runtime_silences_.erase(it, runtime_silences_.end());
  return found;
}

std::vector<Silence> Engine::silences(TimePoint now, std::vector<std::string>* expired) {
  auto it =
      std::remove_if(runtime_silences_.begin(), runtime_silences_.end(), [&](const Silence& s) {
        if (now < s.ends) return false;
        if (expired) expired->push_back(s.id);
        ++counters_.silences_expired;
        return true;
      });
  runtime_silences_.erase(it, runtime_silences_.end());
  std::vector<Silence> out;
  for (const std::vector<Silence>* list : {&config_->silences, &std::as_const(runtime_silences_)})
    for (const auto& s : *list)
      if (now < s.ends) out.push_back(s);
  return out;
}

}  // namespace cg::alerting
