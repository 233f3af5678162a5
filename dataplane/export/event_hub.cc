#include "dataplane/export/event_hub.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cg::exporter {
namespace {
constexpr const char* kHubCounterNames[] = {
    "events_drained",   "events_delivered", "events_subscriber_lost", "events_subscribers_dropped",
    "events_ring_lost", "events_eve_lines", "events_eve_errors",
};
}  // namespace

const char* hub_counter_name(HubCounter c) {
  return kHubCounterNames[static_cast<size_t>(c)];
}

// ---- EveWriter -----------------------------------------------------------------------------

EveWriter::EveWriter(std::string path, uint64_t max_bytes, uint32_t keep)
    : path_(std::move(path)), max_(max_bytes), keep_(keep) {}

EveWriter::~EveWriter() {
  if (f_) std::fclose(f_);
}

bool EveWriter::open(std::string* error) {
  f_ = std::fopen(path_.c_str(), "a");
  if (!f_) {
    *error = path_ + ": " + std::strerror(errno);
    return false;
  }
  std::fseek(f_, 0, SEEK_END);
  size_ = static_cast<uint64_t>(std::ftell(f_));
  return true;
}

bool EveWriter::rotate() {
  std::fclose(f_);
  f_ = nullptr;
  for (uint32_t k = keep_; k >= 1; --k) {
    const std::string from = k == 1 ? path_ : path_ + "." + std::to_string(k - 1);
    const std::string to = path_ + "." + std::to_string(k);
    std::rename(from.c_str(), to.c_str());  // a missing older file is fine
  }
  if (keep_ == 0) std::remove(path_.c_str());
  ++rotations_;
  f_ = std::fopen(path_.c_str(), "w");
  size_ = 0;
  return f_ != nullptr;
}

bool EveWriter::write(const std::string& line) {
  if (f_ && size_ > 0 && size_ + line.size() + 1 > max_ && !rotate()) {
    ++errors_;
    return false;
  }
  if (!f_ || std::fwrite(line.data(), 1, line.size(), f_) != line.size() ||
      std::fputc('\n', f_) == EOF) {
    ++errors_;
    return false;
  }
  size_ += line.size() + 1;
  ++lines_;
  return true;
}

void EveWriter::flush() {
  if (f_) std::fflush(f_);
}

// ---- EventHub ------------------------------------------------------------------------------

EventHub::EventHub(const Config& cfg, EventContext ctx) : cfg_(cfg), ctx_(std::move(ctx)) {}

bool EventHub::open(std::string* error) {
  if (cfg_.eve_path.empty()) return true;
  eve_ = std::make_unique<EveWriter>(cfg_.eve_path, cfg_.eve_max_bytes, cfg_.eve_keep);
  return eve_->open(error);
}

void EventHub::add_ring(EventRing* ring, int worker) {
  rings_.push_back({ring, worker, 0});
}

void EventHub::subscribe(int fd) {
  subs_.push_back({fd, {}, 0});
}

void EventHub::write_out(Sub& s) {
  while (!s.out.empty()) {
    const ssize_t n = ::send(s.fd, s.out.data(), s.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      s.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    ::close(s.fd);  // peer gone
    s.fd = -1;
    inc(HubCounter::kSubscriberDropped);
    return;
  }
}

void EventHub::publish(const Event& ev) {
  nlohmann::json j = to_json(ev, ctx_);
  if (annotate_) annotate_(ev, j);
  std::string line = j.dump();
  if (eve_) {
    if (eve_lost_) {
      Event o = overflow_event(ev.ts_ns, "eve_file", eve_lost_, -1);
      if (eve_->write(to_json(o, ctx_).dump())) eve_lost_ = 0;
    }
    if (eve_->write(line)) {
      inc(HubCounter::kEveLines);
    } else {
      ++eve_lost_;
      inc(HubCounter::kEveErrors);
    }
  }
  line.push_back('\n');
  for (Sub& s : subs_) {
    if (s.lost && s.out.size() + 256 <= cfg_.subscriber_buffer) {
      // Room again: tell this subscriber how much it missed, before the next event.
      std::string o = to_json(overflow_event(ev.ts_ns, "subscriber", s.lost, -1), ctx_).dump();
      s.out += o;
      s.out.push_back('\n');
      s.lost = 0;
    }
    if (s.out.size() + line.size() > cfg_.subscriber_buffer) {
      ++s.lost;
      inc(HubCounter::kSubscriberLost);
      continue;
    }
    s.out += line;
    inc(HubCounter::kDelivered);
  }
  line.pop_back();
  lines_.push_back(std::move(line));
}

size_t EventHub::poll(uint64_t now_ns, size_t max_events) {
  lines_.clear();
  last_ns_ = now_ns;
  size_t drained = 0;
  Event buf[64];
  for (Ring& r : rings_) {
    const uint64_t dropped = r.ring->dropped();
    if (dropped > r.reported_dropped) {
      inc(HubCounter::kRingLost, dropped - r.reported_dropped);
      publish(overflow_event(now_ns, "worker_ring", dropped - r.reported_dropped, r.worker));
      r.reported_dropped = dropped;
    }
    while (drained < max_events) {
      const uint32_t n = r.ring->pop(buf, 64);
      if (n == 0) break;
      for (uint32_t i = 0; i < n; ++i) publish(buf[i]);
      drained += n;
    }
  }
  inc(HubCounter::kEvents, drained);
  if (eve_ && drained) eve_->flush();
  for (Sub& s : subs_) write_out(s);
  std::erase_if(subs_, [](const Sub& s) { return s.fd < 0; });
  return drained;
}

}  // namespace cg::exporter
