#include "dataplane/export/event_hub.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cg::exporter {
namespace {
constexpr const char* kHubCounterNames[] = {
    "events_drained",         "events_delivered",
    "events_subscriber_lost", "events_subscribers_dropped",
    "events_ring_lost",       "events_eve_lines",
    "events_eve_errors",      "events_backlog_evicted",
    "events_replayed",        "events_backlog_lost",
    "events_resumes",
};
static_assert(std::size(kHubCounterNames) == static_cast<size_t>(HubCounter::kCount));
constexpr size_t kNoticeBytes = 512;              // room kept for an overflow event line
constexpr size_t kReplayBytesPerPoll = 8u << 20;  // per subscriber and poll round
}  // namespace

const char* hub_counter_name(HubCounter c) {
  return kHubCounterNames[static_cast<size_t>(c)];
}

std::string run_string(uint32_t run_id) {
  char b[16];
  std::snprintf(b, sizeof(b), "%08x", run_id);
  return b;
}

bool parse_subscribe(const nlohmann::json& req, SubscribeArgs* out, std::string* error) {
  *out = {};
  if (!req.is_object()) return *error = "events.subscribe: request is not an object", false;
  auto it = req.find("after");
  if (it == req.end()) return true;
  static const char* kForm =
      "events.subscribe: 'after' must be {\"run\":\"<hex run id>\",\"seq\":N}";
  if (!it->is_object()) return *error = kForm, false;
  for (auto f = it->begin(); f != it->end(); ++f)
    if (f.key() != "run" && f.key() != "seq")
      return *error = std::string(kForm) + ": unknown key '" + f.key().substr(0, 64) + "'", false;
  auto run = it->find("run");
  auto seq = it->find("seq");
  if (run == it->end() || !run->is_string() || seq == it->end() || !seq->is_number_unsigned())
    return *error = kForm, false;
  const std::string& r = run->get_ref<const std::string&>();
  if (r.size() > 8 || !std::all_of(r.begin(), r.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return *error = std::string(kForm) + ": bad run id", false;
  out->after = true;
  out->run = r;
  out->seq = seq->get<uint64_t>();
  return true;
}

// ---- Backlog -------------------------------------------------------------------------------

Backlog::Backlog(size_t capacity) : cap_(capacity), buf_(capacity ? new char[capacity] : nullptr) {}

void Backlog::evict_front() {
  used_ -= index_.front().len;
  index_.pop_front();
  head_ = index_.empty() ? 0 : index_.front().off;
  if (index_.empty()) used_ = 0;
  ++evicted_;
}

void Backlog::push(uint64_t seq, std::string_view line) {
  if (line.size() > cap_ || line.empty()) {  // never kept: the subscriber sees a gap (reported)
    while (!index_.empty()) evict_front();
    ++evicted_;
    return;
  }
  while (used_ + line.size() > cap_) evict_front();
  const size_t off = (head_ + used_) % cap_;
  const size_t first = std::min(line.size(), cap_ - off);
  std::memcpy(buf_.get() + off, line.data(), first);
  std::memcpy(buf_.get(), line.data() + first, line.size() - first);
  index_.push_back({seq, off, line.size()});
  used_ += line.size();
}

uint64_t Backlog::copy_from(uint64_t from, size_t max_bytes, std::string* out,
                            uint64_t* lines) const {
  auto it = std::partition_point(index_.begin(), index_.end(),
                                 [from](const Entry& e) { return e.seq < from; });
  uint64_t next = from;
  for (; it != index_.end() && it->len + 1 <= max_bytes; ++it) {
    const size_t first = std::min(it->len, cap_ - it->off);
    out->append(buf_.get() + it->off, first);
    out->append(buf_.get(), it->len - first);
    out->push_back('\n');
    max_bytes -= it->len + 1;
    next = it->seq + 1;
    ++*lines;
  }
  return next;
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

EventHub::EventHub(const Config& cfg, EventContext ctx) : cfg_(cfg), ctx_(std::move(ctx)) {
  if (cfg_.backlog_bytes) backlog_ = std::make_unique<Backlog>(cfg_.backlog_bytes);
}

bool EventHub::open(std::string* error) {
  if (cfg_.eve_path.empty()) return true;
  eve_ = std::make_unique<EveWriter>(cfg_.eve_path, cfg_.eve_max_bytes, cfg_.eve_keep);
  return eve_->open(error);
}

void EventHub::add_ring(EventRing* ring, int worker) {
  rings_.push_back({ring, worker, 0});
}

nlohmann::json EventHub::subscribe(int fd, const SubscribeArgs& args) {
  Sub s{fd, {}, 0, 0, 0};
  const std::string run = run_string(ctx_.run_id);
  nlohmann::json ack = {{"ok", true}, {"run", run}, {"seq", seq_}};
  if (args.after) {
    const bool same = args.run == run;
    if (same) inc(HubCounter::kResumes);
    // Everything of this run after `seq`; all of this run when the subscriber's run is another.
    // A seq of this run at or beyond the newest line: nothing to replay.
    const uint64_t want = !same ? 1 : args.seq < seq_ ? args.seq + 1 : seq_ + 1;
    uint64_t from = 0, lost = 0;
    if (want <= seq_) {
      const uint64_t first = backlog_ ? backlog_->first_seq() : 0;
      from = first ? std::max(want, first) : 0;
      lost = (from ? from : seq_ + 1) - want;
      if (backlog_) {
        s.next = want;  // feed() reports what is gone and replays the rest
      } else {
        s.out = notice(last_ns_, "backlog", lost);
        inc(HubCounter::kBacklogLost, lost);
      }
    }
    ack["replay_from"] = from;
    ack["replay_lines"] = from ? seq_ - from + 1 : 0;
    ack["lost"] = lost;
  }
  subs_.push_back(std::move(s));
  return ack;
}

std::string EventHub::notice(uint64_t ts_ns, const char* where, uint64_t lost) {
  Event o = overflow_event(ts_ns, where, lost, -1);
  o.seq = ++notices_;
  std::string line = to_json(o, ctx_).dump();
  line.push_back('\n');
  return line;
}

void EventHub::waiting_fds(std::vector<int>* fds) const {
  for (const Sub& s : subs_)
    if (s.fd >= 0 && !s.out.empty()) fds->push_back(s.fd);
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

// A replaying subscriber: reports what the backlog no longer holds, then queues backlog lines
// while they fit in its budget; once it has the newest line it is live again.
void EventHub::feed(Sub& s, uint64_t now_ns) {
  if (!s.next) return;
  const uint64_t first = backlog_->first_seq();
  const uint64_t held = first ? first : seq_ + 1;  // the oldest line still available
  if (s.next < held) {
    s.backlog_lost += held - s.next;
    inc(HubCounter::kBacklogLost, held - s.next);
    s.next = held;
  }
  if (s.backlog_lost) {
    if (s.out.size() + kNoticeBytes > cfg_.subscriber_buffer) return;
    s.out += notice(now_ns, "backlog", s.backlog_lost);
    s.backlog_lost = 0;
  }
  if (s.next <= seq_ && s.out.size() < cfg_.subscriber_buffer) {
    uint64_t lines = 0;
    s.next = backlog_->copy_from(s.next, cfg_.subscriber_buffer - s.out.size(), &s.out, &lines);
    inc(HubCounter::kReplayed, lines);
  }
  if (s.next > seq_) s.next = 0;  // caught up
}

void EventHub::publish(const Event& in) {
  Event ev = in;
  if (ev.kind == EventKind::kOverflow) ev.seq = ++notices_;  // unique event id
  nlohmann::json j = to_json(ev, ctx_);
  if (annotate_ && ev.kind != EventKind::kOverflow) annotate_(ev, j);
  j["stream_seq"] = ++seq_;
  std::string line = j.dump();
  if (eve_) {
    if (eve_lost_) {
      std::string o = notice(ev.ts_ns, "eve_file", eve_lost_);
      o.pop_back();
      if (eve_->write(o)) eve_lost_ = 0;
    }
    if (eve_->write(line)) {
      inc(HubCounter::kEveLines);
    } else {
      ++eve_lost_;
      inc(HubCounter::kEveErrors);
    }
  }
  bool kept = false;
  if (backlog_) {
    const uint64_t evicted = backlog_->evicted();
    backlog_->push(seq_, line);
    inc(HubCounter::kBacklogEvicted, backlog_->evicted() - evicted);
    kept = backlog_->last_seq() == seq_;
  }
  line.push_back('\n');
  for (Sub& s : subs_) {
    if (s.next) continue;  // replaying: feed() takes this line from the backlog
    if (s.lost && s.out.size() + kNoticeBytes <= cfg_.subscriber_buffer) {
      // Room again: tell this subscriber how much it missed, before the next event.
      s.out += notice(ev.ts_ns, "subscriber", s.lost);
      s.lost = 0;
    }
    if (s.out.size() + line.size() > cfg_.subscriber_buffer) {
      if (kept) {
        s.next = seq_;  // read on from the backlog as the socket drains: nothing lost
        continue;
      }
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
  for (Sub& s : subs_) {
    // Replay as fast as the socket takes it, never beyond the subscriber's budget, and at most
    // kReplayBytesPerPoll per round so the control thread's other work is not held up.
    for (size_t fed = 0;;) {
      const size_t queued = s.out.size();
      feed(s, now_ns);
      const bool added = s.out.size() > queued;
      fed += s.out.size() - queued;
      write_out(s);
      if (s.fd < 0 || !s.out.empty() || !s.next || !added || fed >= kReplayBytesPerPoll) break;
    }
  }
  std::erase_if(subs_, [](const Sub& s) { return s.fd < 0; });
  return drained;
}

}  // namespace cg::exporter
