// EvidenceStore (worker side: first packets per flow, snapshots before events, bounds) and
// EvidenceWriter (pcap files through libpcap, read back with libpcap; disk budget; the
// (worker, sequence) -> file hand-off to the event hub).
#include "dataplane/export/evidence.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dataplane/export/flow_record.h"

namespace cg::exporter {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

class EvidenceTest : public ::testing::Test {
 protected:
  EvidenceTest() : table_(table_cfg(), &ext_) {
    dir_ = std::filesystem::temp_directory_path() /
           ("cg-evidence-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  ~EvidenceTest() override { std::filesystem::remove_all(dir_); }
  static flow::TableConfig table_cfg() {
    flow::TableConfig c;
    c.capacity = 256;
    return c;
  }
  // One packet of flow n (client 10.0.0.n:1000+n -> 192.0.2.1:80) of `len` bytes whose bytes
  // are all `fill`; recorded into `store` like the pipeline does after accounting.
  flow::FlowEntry* packet(EvidenceStore& store, uint8_t n, bool reply, uint32_t len, uint8_t fill,
                          uint64_t ts) {
    packet::Parsed p{};
    p.l3 = packet::L3Type::kIpv4;
    p.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, n};
    p.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    p.src_port = static_cast<uint16_t>(1000 + n);
    p.dst_port = 80;
    p.l4_proto = 6;
    flow::FlowKey k;
    const bool lo = flow::make_key(p, &k);
    bool created = false;
    flow::FlowEntry* e = table_.lookup_one(k, flow::hash_key(k), lo, ts, &created);
    if (created) e->first_seen_ns = e->last_seen_ns = ts;
    e = table_.account(e, reply ? !lo : lo, len, 0, ts);
    std::vector<uint8_t> frame(len, fill);
    store.on_packet(*e, frame.data(), len, len, ts);
    return e;
  }
  // Reads a pcap back with libpcap: (caplen, wire len, first byte) per packet.
  static std::vector<std::array<uint32_t, 3>> read_pcap(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    EXPECT_TRUE(p) << err;
    std::vector<std::array<uint32_t, 3>> out;
    if (!p) return out;
    pcap_pkthdr* h;
    const u_char* d;
    while (pcap_next_ex(p, &h, &d) == 1) out.push_back({h->caplen, h->len, d[0]});
    pcap_close(p);
    return out;
  }
  flow::ExtRegistry ext_;
  flow::FlowTable table_;
  std::filesystem::path dir_;
};

TEST_F(EvidenceTest, SnapshotOfTheFirstPacketsIsWrittenAsAPcapNamedForTheEvent) {
  EvidenceConfig cfg;
  cfg.dir = dir_.string();
  cfg.max_packets = 3;
  cfg.snaplen = 100;
  EvidenceStore store(cfg);
  EvidenceWriter writer(cfg, 0xabcd);
  std::string err;
  ASSERT_TRUE(writer.open(&err)) << err;
  writer.add(&store, 2);
  packet(store, 1, false, 60, 0x11, 1 * kSec);
  packet(store, 1, true, 1500, 0x22, 2 * kSec);  // cut to the snaplen
  packet(store, 1, false, 60, 0x33, 3 * kSec);
  flow::FlowEntry* e = packet(store, 1, false, 60, 0x44, 4 * kSec);  // beyond max_packets
  ASSERT_TRUE(store.snapshot(flow_id_of(*e), 17));
  EXPECT_EQ(writer.poll(), 1u);
  std::string file;
  uint32_t packets = 0;
  ASSERT_TRUE(writer.take(2, 17, &file, &packets));
  EXPECT_FALSE(writer.take(2, 17, &file, &packets));  // handed out once
  EXPECT_EQ(packets, 3u);
  EXPECT_EQ(std::filesystem::path(file).filename(), "evidence-0000abcd-2-17.pcap");
  auto got = read_pcap(file);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (std::array<uint32_t, 3>{60, 60, 0x11}));
  EXPECT_EQ(got[1], (std::array<uint32_t, 3>{100, 1500, 0x22}));
  EXPECT_EQ(got[2], (std::array<uint32_t, 3>{60, 60, 0x33}));
  EXPECT_EQ(store.counter(EvidenceCounter::kSnapshots), 1u);
  EXPECT_EQ(writer.counter(EvidenceWriterCounter::kFilesWritten), 1u);
}

TEST_F(EvidenceTest, FlowsWithoutKeptPacketsAndAFullRingAreCounted) {
  EvidenceConfig cfg;
  cfg.dir = dir_.string();
  cfg.ring = 2;
  EvidenceStore store(cfg);
  flow::FlowEntry* e = packet(store, 1, false, 60, 1, kSec);
  EXPECT_FALSE(store.snapshot(12345, 1));  // an unknown flow
  EXPECT_EQ(store.counter(EvidenceCounter::kNoPackets), 1u);
  EXPECT_TRUE(store.snapshot(flow_id_of(*e), 2));
  EXPECT_TRUE(store.snapshot(flow_id_of(*e), 3));
  EXPECT_FALSE(store.snapshot(flow_id_of(*e), 4));  // nobody drains: the ring is full
  EXPECT_EQ(store.counter(EvidenceCounter::kSnapshotsLost), 1u);
}

TEST_F(EvidenceTest, ANewFlowTakesTheSlotOfAnOlderOneInItsFirstPackets) {
  EvidenceConfig cfg;
  cfg.dir = dir_.string();
  cfg.flows = 1;  // one slot: every flow maps to it
  EvidenceStore store(cfg);
  flow::FlowEntry* a = packet(store, 1, false, 60, 1, kSec);
  const uint64_t a_id = flow_id_of(*a);
  packet(store, 2, false, 60, 2, kSec);
  EXPECT_EQ(store.counter(EvidenceCounter::kSlotsTaken), 1u);
  packet(store, 1, true, 60, 3, 2 * kSec);  // a's later packets are not kept any more
  EXPECT_FALSE(store.snapshot(a_id, 1));
}

TEST_F(EvidenceTest, TheOldestEvidenceIsDeletedToStayWithinTheBudget) {
  EvidenceConfig cfg;
  cfg.dir = dir_.string();
  cfg.max_files = 3;
  EvidenceStore store(cfg);
  EvidenceWriter writer(cfg, 1);
  std::string err;
  ASSERT_TRUE(writer.open(&err)) << err;
  writer.add(&store, 0);
  std::vector<std::string> files;
  for (uint8_t n = 1; n <= 5; ++n) {
    flow::FlowEntry* e = packet(store, n, false, 80, n, n * kSec);
    ASSERT_TRUE(store.snapshot(flow_id_of(*e), n));
    writer.poll();
    std::string f;
    uint32_t k;
    ASSERT_TRUE(writer.take(0, n, &f, &k));
    files.push_back(f);
  }
  EXPECT_EQ(writer.files_on_disk(), 3u);
  EXPECT_EQ(writer.counter(EvidenceWriterCounter::kFilesDeleted), 2u);
  EXPECT_FALSE(std::filesystem::exists(files[0]));
  EXPECT_FALSE(std::filesystem::exists(files[1]));
  EXPECT_TRUE(std::filesystem::exists(files[4]));
  // A restart adopts the files already there and keeps the same bounds.
  cfg.max_files = 2;
  EvidenceWriter again(cfg, 2);
  ASSERT_TRUE(again.open(&err)) << err;
  EXPECT_EQ(again.files_on_disk(), 2u);
  EXPECT_FALSE(std::filesystem::exists(files[2]));
  // A byte budget below one file keeps none.
  cfg.max_bytes = 10;
  EvidenceWriter tiny(cfg, 3);
  ASSERT_TRUE(tiny.open(&err)) << err;
  EXPECT_EQ(tiny.files_on_disk(), 0u);
}

}  // namespace
}  // namespace cg::exporter
