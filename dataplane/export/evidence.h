// Evidence for alert events: the first packets of a flow, as a pcap file the event names.
//
// Worker side, `EvidenceStore` (no I/O, no allocation after construction): a direct-mapped pool
// of `flows` slots indexed by the flow id keeps the first `max_packets` packets (cut to
// `snaplen` bytes) of each new flow; a new flow takes its slot over (a flow still in its first
// packets that loses its slot this way is counted, `evidence_slots_taken`). When a detector
// emits an event for a flow, `snapshot()` copies that flow's packets into a bounded
// single-producer ring of snapshots (`ring` entries) BEFORE the event enters the event ring, so
// the control thread always sees the snapshot first.
//
// Control side, `EvidenceWriter`: drains the snapshot rings, writes each snapshot with libpcap
// (pcap_dump) as DIR/evidence-<event id>.pcap and remembers (worker, sequence) -> file for the
// event hub, which adds `evidence: {file, packets}` to the event. Disk bounds: at most
// `max_files` files and `max_bytes` bytes in DIR (files of earlier runs included); the oldest
// evidence is deleted first (counted).
//
// Memory per worker: flows × max_packets × snaplen (+ 16 bytes per packet of metadata) for the
// pool and ring × max_packets × snaplen for the snapshots; defaults 1024 × 8 × 256 = 2 MiB and
// 64 × 8 × 256 = 128 KiB.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/export/export_config.h"
#include "dataplane/flow/flow_table.h"

namespace cg::exporter {

enum class EvidenceCounter : uint8_t {
  kSnapshots,          // snapshots handed to the control thread
  kSnapshotsLost,      // the snapshot ring was full (the event goes out without evidence)
  kNoPackets,          // an event for a flow whose first packets were not kept
  kSlotsTaken,         // a flow still in its first packets lost its slot to a newer flow
  kCount
};
inline constexpr size_t kEvidenceCounterCount = static_cast<size_t>(EvidenceCounter::kCount);
const char* evidence_counter_name(EvidenceCounter c);

class EvidenceStore {
 public:
  explicit EvidenceStore(const EvidenceConfig& cfg);
  EvidenceStore(const EvidenceStore&) = delete;
  EvidenceStore& operator=(const EvidenceStore&) = delete;

  // Worker: one packet of flow `e`, after the flow table accounted it.
  void on_packet(const flow::FlowEntry& e, const uint8_t* data, uint32_t len, uint32_t wire_len,
                 uint64_t ts_ns);
  // Worker: an event with sequence `seq` is about to be emitted for flow `flow_id`; hands the
  // flow's packets to the control thread. False when there is nothing (or no room; counted).
  bool snapshot(uint64_t flow_id, uint64_t seq);

  struct PacketMeta {
    uint64_t ts_ns;
    uint32_t caplen;
    uint32_t wire_len;
  };
  // Control thread: the oldest snapshot (null when none); release() after use.
  struct View {
    uint64_t seq;
    uint64_t flow_id;
    uint32_t packets;
    const PacketMeta* meta;
    const uint8_t* data;  // packet i at data + i * snaplen
  };
  bool peek(View* v) const;
  void release();

  uint32_t snaplen() const { return snaplen_; }
  const std::array<uint64_t, kEvidenceCounterCount>& counters() const { return counters_; }
  uint64_t counter(EvidenceCounter c) const { return counters_[static_cast<size_t>(c)]; }
  size_t memory_bytes() const;

 private:
  struct Slot {
    uint64_t flow_id = 0;
    uint32_t packets = 0;
  };
  struct Header {
    uint64_t seq = 0;
    uint64_t flow_id = 0;
    uint32_t packets = 0;
  };
  void inc(EvidenceCounter c) { ++counters_[static_cast<size_t>(c)]; }

  uint32_t max_packets_, snaplen_, slot_mask_, ring_mask_;
  std::vector<Slot> slots_;
  std::vector<PacketMeta> slot_meta_;  // slots × max_packets
  std::vector<uint8_t> slot_data_;     // slots × max_packets × snaplen
  std::vector<Header> ring_;
  std::vector<PacketMeta> ring_meta_;
  std::vector<uint8_t> ring_data_;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::array<uint64_t, kEvidenceCounterCount> counters_{};
};

enum class EvidenceWriterCounter : uint8_t {
  kFilesWritten,
  kFilesDeleted,  // oldest evidence removed to stay within max_files / max_mb
  kWriteErrors,
  kCount
};
const char* evidence_writer_counter_name(EvidenceWriterCounter c);

class EvidenceWriter {
 public:
  EvidenceWriter(const EvidenceConfig& cfg, uint32_t run_id);
  // Creates the directory when missing and adopts evidence files already there (oldest first).
  bool open(std::string* error);
  void add(EvidenceStore* store, int worker) { stores_.push_back({store, worker}); }
  // Drains every snapshot ring into pcap files; returns the files written.
  size_t poll();
  // The evidence file of the event (worker, seq) and its packet count, once; false if none.
  bool take(int worker, uint64_t seq, std::string* file, uint32_t* packets);
  uint64_t counter(EvidenceWriterCounter c) const { return counters_[static_cast<size_t>(c)]; }
  uint64_t bytes_on_disk() const { return bytes_; }
  size_t files_on_disk() const { return files_.size(); }

 private:
  bool write(const EvidenceStore::View& v, uint32_t snaplen, int worker, std::string* path,
             uint64_t* size);
  void enforce_budget();
  void inc(EvidenceWriterCounter c) { ++counters_[static_cast<size_t>(c)]; }

  EvidenceConfig cfg_;
  uint32_t run_id_;
  std::vector<std::pair<EvidenceStore*, int>> stores_;
  std::deque<std::pair<std::string, uint64_t>> files_;  // oldest first: path, size
  uint64_t bytes_ = 0;
  // (worker, seq) -> (file, packets), waiting for the event; bounded (oldest dropped).
  std::map<std::pair<int, uint64_t>, std::pair<std::string, uint32_t>> pending_;
  std::array<uint64_t, static_cast<size_t>(EvidenceWriterCounter::kCount)> counters_{};
};

}  // namespace cg::exporter
