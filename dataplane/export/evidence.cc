#include "dataplane/export/evidence.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "dataplane/export/flow_record.h"

namespace cg::exporter {
namespace {
constexpr const char* kStoreNames[kEvidenceCounterCount] = {
    "evidence_snapshots", "evidence_snapshots_lost_ring_full", "evidence_no_packets",
    "evidence_slots_taken"};
constexpr const char* kWriterNames[] = {"evidence_files_written", "evidence_files_deleted",
                                        "evidence_write_errors"};
constexpr size_t kMaxPending = 4096;  // evidence waiting for its event (events can be lost)

uint32_t pow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
}  // namespace

const char* evidence_counter_name(EvidenceCounter c) { return kStoreNames[static_cast<size_t>(c)]; }
const char* evidence_writer_counter_name(EvidenceWriterCounter c) {
  return kWriterNames[static_cast<size_t>(c)];
}

// ---- worker side ---------------------------------------------------------------------------

EvidenceStore::EvidenceStore(const EvidenceConfig& cfg)
    : max_packets_(cfg.max_packets),
      snaplen_(cfg.snaplen),
      slot_mask_(pow2(cfg.flows) - 1),
      ring_mask_(pow2(cfg.ring) - 1),
      slots_(slot_mask_ + 1),
      slot_meta_(size_t{slot_mask_ + 1} * max_packets_),
      slot_data_(size_t{slot_mask_ + 1} * max_packets_ * snaplen_),
      ring_(ring_mask_ + 1),
      ring_meta_(size_t{ring_mask_ + 1} * max_packets_),
      ring_data_(size_t{ring_mask_ + 1} * max_packets_ * snaplen_) {}

size_t EvidenceStore::memory_bytes() const {
  return slots_.size() * sizeof(Slot) + (slot_meta_.size() + ring_meta_.size()) *
         sizeof(PacketMeta) + slot_data_.size() + ring_.size() * sizeof(Header) +
         ring_data_.size();
}

void EvidenceStore::on_packet(const flow::FlowEntry& e, const uint8_t* data, uint32_t len,
                              uint32_t wire_len, uint64_t ts_ns) {
  const uint64_t n = e.packets[0] + e.packets[1];  // this packet included
  if (n > max_packets_) return;                    // the common case: one compare
  const uint64_t id = flow_id_of(e);
  const uint32_t s = static_cast<uint32_t>(id) & slot_mask_;
  Slot& slot = slots_[s];
  if (n == 1) {  // a new flow takes the slot over
    if (slot.flow_id != 0 && slot.packets < max_packets_ && slot.flow_id != id)
      inc(EvidenceCounter::kSlotsTaken);
    slot.flow_id = id;
    slot.packets = 0;
  } else if (slot.flow_id != id) {
    return;  // its first packets were not kept (slot taken by a newer flow)
  }
  if (slot.packets >= max_packets_) return;
  const uint32_t i = slot.packets++;
  const uint32_t cap = std::min(len, snaplen_);
  std::memcpy(&slot_data_[(size_t{s} * max_packets_ + i) * snaplen_], data, cap);
  slot_meta_[size_t{s} * max_packets_ + i] = PacketMeta{ts_ns, cap, wire_len};
}

bool EvidenceStore::snapshot(uint64_t flow_id, uint64_t seq) {
  const uint32_t s = static_cast<uint32_t>(flow_id) & slot_mask_;
  const Slot& slot = slots_[s];
  if (slot.flow_id != flow_id || slot.packets == 0) {
    inc(EvidenceCounter::kNoPackets);
    return false;
  }
  const uint64_t h = head_.load(std::memory_order_relaxed);
  if (h - tail_.load(std::memory_order_acquire) > ring_mask_) {
    inc(EvidenceCounter::kSnapshotsLost);
    return false;
  }
  const size_t r = h & ring_mask_;
  ring_[r] = Header{seq, flow_id, slot.packets};
  std::memcpy(&ring_meta_[r * max_packets_], &slot_meta_[size_t{s} * max_packets_],
              slot.packets * sizeof(PacketMeta));
  for (uint32_t i = 0; i < slot.packets; ++i)
    std::memcpy(&ring_data_[(r * max_packets_ + i) * snaplen_],
                &slot_data_[(size_t{s} * max_packets_ + i) * snaplen_],
                slot_meta_[size_t{s} * max_packets_ + i].caplen);
  head_.store(h + 1, std::memory_order_release);
  inc(EvidenceCounter::kSnapshots);
  return true;
}

bool EvidenceStore::peek(View* v) const {
  const uint64_t t = tail_.load(std::memory_order_relaxed);
  if (t == head_.load(std::memory_order_acquire)) return false;
  const size_t r = t & ring_mask_;
  *v = View{ring_[r].seq, ring_[r].flow_id, ring_[r].packets, &ring_meta_[r * max_packets_],
            &ring_data_[r * max_packets_ * snaplen_]};
  return true;
}

void EvidenceStore::release() {
  tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

// ---- control thread ------------------------------------------------------------------------

EvidenceWriter::EvidenceWriter(const EvidenceConfig& cfg, uint32_t run_id)
    : cfg_(cfg), run_id_(run_id) {}

bool EvidenceWriter::open(std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg_.dir, ec);
  if (ec || !fs::is_directory(cfg_.dir, ec)) {
    *error = cfg_.dir + ": cannot create the evidence directory: " + ec.message();
    return false;
  }
  std::vector<std::pair<fs::file_time_type, std::pair<std::string, uint64_t>>> old;
  for (const auto& d : fs::directory_iterator(cfg_.dir, ec)) {
    const std::string name = d.path().filename().string();
    if (d.is_regular_file() && name.rfind("evidence-", 0) == 0 &&
        name.size() > 5 && name.compare(name.size() - 5, 5, ".pcap") == 0)
      old.push_back({d.last_write_time(), {d.path().string(), d.file_size()}});
  }
  std::sort(old.begin(), old.end());
  for (auto& [t, f] : old) {
    bytes_ += f.second;
    files_.push_back(std::move(f));
  }
  enforce_budget();
  return true;
}

bool EvidenceWriter::write(const EvidenceStore::View& v, uint32_t snaplen, int worker,
                           std::string* path, uint64_t* size) {
  char name[96];
  std::snprintf(name, sizeof(name), "/evidence-%08x-%d-%" PRIu64 ".pcap", run_id_, worker, v.seq);
  *path = cfg_.dir + name;
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, static_cast<int>(snaplen));
  if (!dead) return false;
  pcap_dumper_t* d = pcap_dump_open(dead, path->c_str());
  if (!d) {
    pcap_close(dead);
    return false;
  }
  for (uint32_t i = 0; i < v.packets; ++i) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(v.meta[i].ts_ns / 1'000'000'000);
    h.ts.tv_usec = static_cast<suseconds_t>(v.meta[i].ts_ns % 1'000'000'000 / 1000);
    h.caplen = v.meta[i].caplen;
    h.len = v.meta[i].wire_len;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, v.data + size_t{i} * snaplen);
  }
  const bool ok = pcap_dump_flush(d) == 0;
  *size = static_cast<uint64_t>(pcap_dump_ftell64(d));
  pcap_dump_close(d);
  pcap_close(dead);
  return ok;
}

size_t EvidenceWriter::poll() {
  size_t n = 0;
  for (auto& [store, worker] : stores_) {
    EvidenceStore::View v;
    while (store->peek(&v)) {
      std::string path;
      uint64_t size = 0;
      if (write(v, store->snaplen(), worker, &path, &size)) {
        inc(EvidenceWriterCounter::kFilesWritten);
        files_.push_back({path, size});
        bytes_ += size;
        if (pending_.size() >= kMaxPending) pending_.erase(pending_.begin());
        pending_[{worker, v.seq}] = {path, v.packets};
        ++n;
      } else {
        inc(EvidenceWriterCounter::kWriteErrors);
        std::remove(path.c_str());
      }
      store->release();
    }
  }
  enforce_budget();
  return n;
}

void EvidenceWriter::enforce_budget() {
  while (!files_.empty() && (files_.size() > cfg_.max_files || bytes_ > cfg_.max_bytes)) {
    std::remove(files_.front().first.c_str());
    bytes_ -= files_.front().second;
    files_.pop_front();
    inc(EvidenceWriterCounter::kFilesDeleted);
  }
}

bool EvidenceWriter::take(int worker, uint64_t seq, std::string* file, uint32_t* packets) {
  auto it = pending_.find({worker, seq});
  if (it == pending_.end()) return false;
  *file = it->second.first;
  *packets = it->second.second;
  pending_.erase(it);
  return true;
}

}  // namespace cg::exporter
