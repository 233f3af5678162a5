#include "controlplane/events/ingest.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "controlplane/common/util.h"

namespace cg::events {
namespace {

using nlohmann::json;

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int integer(const json& j, const char* key, int lo, int hi) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  int64_t v = it->get<int64_t>();
  return v < lo || v > hi ? 0 : static_cast<int>(v);
}

int connect_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string zone_for_address(const api::PolicyImage& image, const std::string& address) {
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    for (const auto& z : image.zones)
      for (const auto& p : z.v4)
        if (p.len == 0 || (a >> (32 - p.len)) == (p.addr >> (32 - p.len))) return z.name;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    for (const auto& z : image.zones)
      for (const auto& p : z.v6) {
        int full = p.len / 8, rest = p.len % 8;
        if (std::memcmp(v6.s6_addr, p.addr.data(), static_cast<size_t>(full)) != 0) continue;
        if (rest && ((v6.s6_addr[full] ^ p.addr[full]) & (0xff << (8 - rest)) & 0xff)) continue;
        return z.name;
      }
  }
  return "";
}

bool event_from_json(const json& j, const Enrichment& e, store::Event* out, std::string* error) {
  if (!j.is_object()) return *error = "not a JSON object", false;
  store::Event ev;
  ev.event_id = text(j, "event_id");
  ev.event_type = text(j, "event_type");
  std::string ts = text(j, "timestamp");
  if (ev.event_id.empty() || ev.event_id.size() > 128)
    return *error = "missing or oversized event_id", false;
  if (ev.event_type.empty() || ev.event_type.size() > 64)
    return *error = "missing or oversized event_type", false;
  if (!cp::parse_rfc3339(ts, &ev.ts_us)) return *error = "bad timestamp '" + ts + "'", false;
  ev.src_ip = text(j, "src_ip");
  ev.dest_ip = text(j, "dest_ip");
  ev.src_port = integer(j, "src_port", 0, 65535);
  ev.dest_port = integer(j, "dest_port", 0, 65535);
  ev.proto = text(j, "proto");
  ev.app_proto = text(j, "app_proto");
  ev.community_id = text(j, "community_id");
  ev.rule = text(j, "rule");
  if (ev.rule.empty()) ev.rule = text(j, "detector");
  if (auto a = j.find("alert"); a != j.end() && a->is_object()) {
    ev.severity = integer(*a, "severity", 1, 255);
    ev.signature = text(*a, "signature");
  }
  json body = j;
  ev.school_id = text(j, "school_id");
  if (ev.school_id.empty()) {
    ev.school_id = !e.school_id.empty() ? e.school_id : e.image ? e.image->school_id : "";
    if (!ev.school_id.empty()) body["school_id"] = ev.school_id;
  }
  ev.zone = text(j, "zone");
  if (ev.zone.empty() && e.image) {
    std::string z = zone_for_address(*e.image, ev.src_ip);
    if (z.empty()) z = zone_for_address(*e.image, ev.dest_ip);
    if (!z.empty()) {
      ev.zone = z;
      body["zone"] = z;
    }
  }
  ev.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  *out = std::move(ev);
  return true;
}

bool event_from_line(const std::string& line, const Enrichment& e, store::Event* out,
                     std::string* error) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return *error = "not JSON", false;
  return event_from_json(j, e, out, error);
}

std::string position_to_json(const StreamPosition& p) {
  return json{{"run", p.run}, {"seq", p.seq}}.dump();
}

bool position_from_json(const std::string& text, StreamPosition* p) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  auto run = j.find("run");
  auto seq = j.find("seq");
  if (run == j.end() || !run->is_string() || seq == j.end() || !seq->is_number_unsigned())
    return false;
  p->run = run->get<std::string>();
  p->seq = seq->get<uint64_t>();
  return true;
}

void EventIngest::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void EventIngest::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

IngestCounters EventIngest::counters() {
  std::lock_guard lock(mu_);
  return c_;
}

bool EventIngest::flush(std::vector<Pending>* pending) {
  if (pending->empty()) return true;
  size_t batch = std::min(pending->size(), cfg_.batch);
  std::vector<store::Event> head;
  head.reserve(batch);
  const StreamPosition* pos = nullptr;  // of the batch's last event that had one
  for (size_t i = 0; i < batch; ++i) {
    head.push_back((*pending)[i].ev);
    if ((*pending)[i].pos.seq) pos = &(*pending)[i].pos;
  }
  size_t inserted = 0;
  if (!store_.insert_events(head, &inserted)) {
    std::lock_guard lock(mu_);
    ++c_.store_errors;
    return false;
  }
  // Right after the commit: a kill -9 in between leaves an older position, i.e. duplicates.
  const bool pos_ok = !pos || store_.put_state(kStreamPositionKey, position_to_json(*pos));
  pending->erase(pending->begin(), pending->begin() + static_cast<long>(batch));
  if (hook_ && inserted) hook_();
  // Counted after the hook: once `stored` shows an event, the alert engine has seen it too.
  std::lock_guard lock(mu_);
  c_.stored += inserted;
  c_.duplicates += batch - inserted;
  ++c_.batches;
  if (!pos_ok) ++c_.position_errors;
  return true;
}

void EventIngest::run() {
  using Clock = std::chrono::steady_clock;
  std::vector<Pending> pending;
  // The newest position known: persisted by the last run, then what this one received.
  StreamPosition pos;
  {
    std::string text;
    bool found = false;
    if (store_.get_state(kStreamPositionKey, &text, &found) && found &&
        !position_from_json(text, &pos))
      pos = {};
  }
  int backoff_ms = 100;
  while (!stop_) {
    int fd = connect_unix(cfg_.socket);
    const std::string subscribe =
        json{{"v", 1}, {"cmd", "events.subscribe"}, {"after", {{"run", pos.run}, {"seq", pos.seq}}}}
            .dump() +
        "\n";
    if (fd >= 0 && ::send(fd, subscribe.data(), subscribe.size(), MSG_NOSIGNAL) < 0) {
      close(fd);
      fd = -1;
    }
    if (fd < 0) {
      flush(&pending);
      for (int waited = 0; waited < backoff_ms && !stop_; waited += 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff_ms = std::min(backoff_ms * 2, 5000);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      ++c_.connects;
      if (!pos.run.empty()) ++c_.resumes;
    }
    std::string buf;
    std::string run;         // the run the acknowledgement names ("" = an older dataplane)
    uint64_t replay_to = 0;  // lines up to this stream_seq come from the backlog
    bool acked = false, refused = false;
    auto oldest = Clock::now();
    auto refreshed = Clock::now() - std::chrono::seconds(10);
    bool open = true;
    while (!stop_ && open) {
      if (images_ && Clock::now() - refreshed >= std::chrono::seconds(1)) {
        auto image = images_();
        std::lock_guard lock(mu_);
        enrich_.image = std::move(image);
        refreshed = Clock::now();
      }
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, 50);
      if (r > 0) {
        char chunk[65536];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
          open = false;
        } else {
          buf.append(chunk, static_cast<size_t>(n));
          size_t start = 0;
          for (size_t nl; open && (nl = buf.find('\n', start)) != std::string::npos;
               start = nl + 1) {
            std::string line = buf.substr(start, nl - start);
            store::Event ev;
            std::string err;
            json j = json::parse(line, nullptr, false);
            if (!acked && j.is_object() && j.contains("ok") && !j.contains("event_id")) {
              // The acknowledgement: {"v":1,"ok":true,"stream":...,"run":...,"replay_from":...}
              acked = true;
              if (!j.value("ok", false)) {
                std::fprintf(stderr, "cg-controld: events.subscribe refused: %s\n",
                             line.substr(0, 512).c_str());
                std::lock_guard lock(mu_);
                ++c_.refused;
                refused = true;
                open = false;
                continue;
              }
              backoff_ms = 100;
              if (auto it = j.find("run"); it != j.end() && it->is_string()) run = *it;
              if (j.value("replay_lines", uint64_t{0}) > 0) replay_to = j.value("seq", uint64_t{0});
              continue;
            }
            Pending held;
            if (auto it = j.is_object() ? j.find("stream_seq") : j.end();
                it != j.end() && it->is_number_unsigned() && !run.empty()) {
              held.pos = {run, it->get<uint64_t>()};
              pos = held.pos;
            }
            std::lock_guard lock(mu_);
            if (!event_from_json(j, enrich_, &held.ev, &err)) {
              ++c_.malformed;
              continue;
            }
            ++c_.received;
            if (held.pos.seq && held.pos.seq <= replay_to) ++c_.replayed;
            if (held.ev.event_type == "overflow")
              if (auto o = j.find("overflow"); o != j.end() && o->is_object())
                c_.stream_lost += o->value("lost", uint64_t{0});
            if (pending.size() >= cfg_.max_backlog) {
              ++c_.dropped_backlog;
              continue;
            }
            if (pending.empty()) oldest = Clock::now();
            pending.push_back(std::move(held));
          }
          buf.erase(0, start);
          if (buf.size() > (1u << 20)) {  // one line longer than 1 MiB: not an event
            std::lock_guard lock(mu_);
            ++c_.malformed;
            buf.clear();
          }
        }
      } else if (r < 0 && errno != EINTR) {
        open = false;
      }
      auto age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - oldest);
      while (pending.size() >= cfg_.batch || (!pending.empty() && age.count() >= cfg_.flush_ms)) {
        if (!flush(&pending)) break;  // retried on the next round; the backlog is bounded
        oldest = Clock::now();
        age = std::chrono::milliseconds(0);
      }
    }
    close(fd);
    {
      std::lock_guard lock(mu_);
      ++c_.disconnects;
    }
    if (refused) {  // e.g. an 'after' this dataplane does not accept: do not hammer it
      for (int waited = 0; waited < backoff_ms && !stop_; waited += 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff_ms = std::min(backoff_ms * 2, 5000);
    }
  }
  while (!pending.empty() && flush(&pending)) {
  }
}

std::string EventIngest::metrics_text() {
  auto c = counters();
  std::string o;
  auto m = [&o](const char* name, const char* help, uint64_t v) {
    o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
         " " + std::to_string(v) + "\n";
  };
  m("cg_controld_events_received_total", "events read from the dataplane stream", c.received);
  m("cg_controld_events_stored_total", "events committed to the store (acknowledged)", c.stored);
  m("cg_controld_events_duplicate_total", "events already stored (same event_id)", c.duplicates);
  m("cg_controld_events_malformed_total", "stream lines that were not valid events", c.malformed);
  m("cg_controld_events_batches_total", "store transactions", c.batches);
  m("cg_controld_events_store_errors_total", "failed store transactions (retried)", c.store_errors);
  m("cg_controld_events_dropped_total", "events dropped: backlog full while the store failed",
    c.dropped_backlog);
  m("cg_controld_events_connects_total", "event stream connections", c.connects);
  m("cg_controld_events_resumes_total", "subscribes that resumed after a stored stream position",
    c.resumes);
  m("cg_controld_events_replayed_total", "events the dataplane replayed from its backlog",
    c.replayed);
  m("cg_controld_events_stream_lost_total", "events the dataplane reported lost (overflow)",
    c.stream_lost);
  m("cg_controld_events_subscribe_refused_total", "subscribe requests the dataplane refused",
    c.refused);
  m("cg_controld_events_position_errors_total",
    "stream positions not persisted (harmless: duplicates on resume)", c.position_errors);
  return o;
}

}  // namespace cg::events
