// IPFIX encoding checked field by field by a small decoder written from RFC 7011, and the TCP
// transport through a real loopback socket.
#include "dataplane/export/ipfix.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

namespace cg::exporter {
namespace {

uint16_t g16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t g32(const uint8_t* p) {
  return uint32_t{g16(p)} << 16 | g16(p + 2);
}
uint64_t g64(const uint8_t* p) {
  return uint64_t{g32(p)} << 32 | g32(p + 4);
}

struct Decoded {
  uint32_t sequence = 0, domain = 0, export_time = 0;
  std::map<uint16_t, std::vector<std::pair<uint16_t, uint16_t>>> templates;  // id -> (ie, len)
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> data_sets;
};

Decoded decode(const std::vector<uint8_t>& m) {
  Decoded d;
  EXPECT_GE(m.size(), 16u);
  EXPECT_EQ(g16(&m[0]), 10);
  EXPECT_EQ(g16(&m[2]), m.size());
  d.export_time = g32(&m[4]);
  d.sequence = g32(&m[8]);
  d.domain = g32(&m[12]);
  size_t o = 16;
  while (o + 4 <= m.size()) {
    const uint16_t id = g16(&m[o]), len = g16(&m[o + 2]);
    EXPECT_GE(len, 4);
    EXPECT_LE(o + len, m.size());
    if (len < 4 || o + len > m.size()) break;
    if (id == 2 || id == 3) {
      size_t p = o + 4;
      while (p + 4 <= o + len) {
        const uint16_t tid = g16(&m[p]), n = g16(&m[p + 2]);
        p += id == 3 ? 6 : 4;
        for (uint16_t i = 0; i < n; ++i) {
          uint16_t ie = g16(&m[p]), l = g16(&m[p + 2]);
          p += (ie & 0x8000) ? 8 : 4;
          d.templates[tid].push_back({ie, l});
        }
      }
    } else {
      d.data_sets.push_back({id, std::vector<uint8_t>(m.begin() + o + 4, m.begin() + o + len)});
    }
    o += len;
  }
  EXPECT_EQ(o, m.size());
  return d;
}

IpfixFlow v4_flow() {
  IpfixFlow f;
  f.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5};
  f.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  f.src_port = 51000;
  f.dst_port = 443;
  f.proto = 6;
  f.vlan = 120;
  f.packets = 12;
  f.bytes = 3456;
  f.reverse_packets = 10;
  f.reverse_bytes = 98765;
  f.start_ms = 1'700'000'000'000;
  f.end_ms = 1'700'000'005'000;
  f.end_reason = 3;
  f.flow_id = 77;
  f.app_id = ipfix_app_id(91, 124);
  f.app = "TLS.YouTube";
  f.hostname = "www.youtube.com";
  f.verdict = 2;
  f.zone = "classrooms";
  f.rule = "no-video";
  return f;
}

TEST(Ipfix, TemplatesThenRecordsDecodeToTheFlow) {
  IpfixEncoder e(7, kCampusguardPen, 1400);
  e.add_templates();
  ASSERT_TRUE(e.add_app_name(ipfix_app_id(91, 124), "TLS.YouTube"));
  ASSERT_TRUE(e.add(v4_flow()));
  auto m = e.finish(1'700'000'010);
  Decoded d = decode(m);
  EXPECT_EQ(d.domain, 7u);
  EXPECT_EQ(d.sequence, 0u);
  EXPECT_EQ(d.export_time, 1'700'000'010u);
  ASSERT_EQ(d.templates.count(kTemplateV4), 1u);
  ASSERT_EQ(d.templates.count(kTemplateV6), 1u);
  ASSERT_EQ(d.templates.count(kTemplateAppNames), 1u);
  EXPECT_EQ(d.templates[kTemplateV4][0], (std::pair<uint16_t, uint16_t>{8, 4}));
  EXPECT_EQ(d.templates[kTemplateV6][0], (std::pair<uint16_t, uint16_t>{27, 16}));
  ASSERT_EQ(d.data_sets.size(), 2u);
  EXPECT_EQ(d.data_sets[0].first, kTemplateAppNames);
  const auto& names = d.data_sets[0].second;
  EXPECT_EQ(g32(&names[0]), 7u) << "scope: observation domain";
  EXPECT_EQ(g32(&names[4]), ipfix_app_id(91, 124));
  EXPECT_STREQ(reinterpret_cast<const char*>(&names[8]), "TLS.YouTube");
  EXPECT_EQ(d.data_sets[1].first, kTemplateV4);
  const auto& r = d.data_sets[1].second;
  size_t o = 0;
  EXPECT_EQ(g32(&r[o]), 0x0a000005u);
  o += 4;
  EXPECT_EQ(g32(&r[o]), 0xc0000201u);
  o += 4;
  EXPECT_EQ(g16(&r[o]), 51000);
  o += 2;
  EXPECT_EQ(g16(&r[o]), 443);
  o += 2;
  EXPECT_EQ(r[o], 6);
  o += 1;
  EXPECT_EQ(g16(&r[o]), 120);
  o += 2;
  EXPECT_EQ(g16(&r[o]), 0);
  o += 2;
  EXPECT_EQ(g64(&r[o]), 3456u);
  o += 8;
  EXPECT_EQ(g64(&r[o]), 12u);
  o += 8;
  EXPECT_EQ(g64(&r[o]), 98765u);
  o += 8;
  EXPECT_EQ(g64(&r[o]), 10u);
  o += 8;
  EXPECT_EQ(g64(&r[o]), 1'700'000'000'000u);
  o += 8;
  EXPECT_EQ(g64(&r[o]), 1'700'000'005'000u);
  o += 8;
  EXPECT_EQ(r[o], 3);
  o += 1;
  EXPECT_EQ(g64(&r[o]), 77u);
  o += 8;
  EXPECT_EQ(r[o], 4);
  o += 1;  // varlen applicationId
  EXPECT_EQ(g32(&r[o]), ipfix_app_id(91, 124));
  o += 4;
  auto str = [&](const char* want) {
    const size_t n = r[o++];
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&r[o]), n), want);
    o += n;
  };
  str("TLS.YouTube");
  str("www.youtube.com");
  EXPECT_EQ(r[o], 2);
  o += 1;
  str("classrooms");
  str("no-video");
  EXPECT_EQ(o, r.size());
  // The next message's sequence counts the data records before it (flow + app name).
  ASSERT_TRUE(e.add(v4_flow()));
  EXPECT_EQ(decode(e.finish(1)).sequence, 2u);
}

TEST(Ipfix, MessagesStayWithinTheMaximumAndLongStringsAreCut) {
  IpfixEncoder e(1, kCampusguardPen, 600);
  IpfixFlow f = v4_flow();
  f.hostname = std::string(1000, 'h');
  int in_first = 0;
  while (e.add(f)) ++in_first;
  EXPECT_GE(in_first, 1);
  auto m = e.finish(1);
  EXPECT_LE(m.size(), 600u);
  EXPECT_EQ(decode(m).data_sets.size(), 1u);
}

TEST(Ipfix, Ipv6FlowsUseTheV6Template) {
  IpfixEncoder e(1, kCampusguardPen, 1400);
  IpfixFlow f = v4_flow();
  f.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ASSERT_TRUE(e.add(f));
  Decoded d = decode(e.finish(1));
  ASSERT_EQ(d.data_sets.size(), 1u);
  EXPECT_EQ(d.data_sets[0].first, kTemplateV6);
  EXPECT_EQ(d.data_sets[0].second[0], 0x20);
}

TEST(Ipfix, TcpExporterSendsTemplatesOnceAndEveryRecordArrives) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t al = sizeof(a);
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &al);
  ASSERT_EQ(listen(ls, 1), 0);
  std::vector<uint8_t> stream;
  std::thread reader([&] {
    int c = accept(ls, nullptr, nullptr);
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(c, buf, sizeof(buf))) > 0) stream.insert(stream.end(), buf, buf + n);
    close(c);
  });
  {
    IpfixConfig cfg;
    cfg.collector = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    cfg.tcp = true;
    std::string err;
    auto x = IpfixExporter::create(cfg, &err);
    ASSERT_TRUE(x) << err;
    for (int i = 0; i < 200; ++i) x->export_flow(v4_flow(), 100 + static_cast<uint64_t>(i));
    x->flush(400);
    EXPECT_EQ(x->counter(IpfixCounter::kRecords), 200u);
    EXPECT_EQ(x->counter(IpfixCounter::kTemplates), 1u);
    EXPECT_EQ(x->counter(IpfixCounter::kSendErrors), 0u);
  }
  reader.join();
  close(ls);
  size_t o = 0, records = 0, messages = 0, template_sets = 0;
  uint32_t expect_seq = 0;
  while (o + 16 <= stream.size()) {
    const uint16_t len = g16(&stream[o + 2]);
    Decoded d = decode(std::vector<uint8_t>(stream.begin() + o, stream.begin() + o + len));
    EXPECT_EQ(d.sequence, expect_seq);
    template_sets += d.templates.empty() ? 0 : 1;
    size_t here = 0;
    for (const auto& [id, body] : d.data_sets)
      if (id == kTemplateV4) {
        // every v4 record of v4_flow() has the same size
        IpfixEncoder one(1, kCampusguardPen, 1400);
        one.add(v4_flow());
        const size_t rec = decode(one.finish(0)).data_sets[0].second.size();
        here += body.size() / rec;
      } else {
        here += 1;
      }
    records += here;
    expect_seq += static_cast<uint32_t>(here);
    ++messages;
    o += len;
  }
  EXPECT_EQ(o, stream.size());
  EXPECT_EQ(template_sets, 1u) << "TCP: templates once per connection";
  EXPECT_EQ(records, 201u) << "200 flows + one app-name record";
  EXPECT_GT(messages, 1u);
}

TEST(Ipfix, UnreachableCollectorIsAnError) {
  IpfixConfig cfg;
  cfg.collector = "no-port";
  std::string err;
  EXPECT_FALSE(IpfixExporter::create(cfg, &err));
  EXPECT_NE(err.find("HOST:PORT"), std::string::npos);
}

}  // namespace
}  // namespace cg::exporter
