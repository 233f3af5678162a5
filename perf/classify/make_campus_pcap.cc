// cg-make-campus-pcap: builds a large "campus mix" capture from the corpus for classification
// benchmarks. Every Ethernet capture in a folder is copied N times; copy k rewrites each IPv4
// address's second octet and each IPv6 address's second byte to k (checksums are not fixed:
// neither nDPI nor the dataplane verifies them), so copies are distinct flows with the same
// payloads. Timestamps are shifted so copies follow each other. Output: classic pcap.
//   cg-make-campus-pcap --corpus DIR --copies N --out FILE
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

void rewrite(uint8_t* p, uint32_t len, uint8_t k) {
  uint32_t off = 12;
  uint16_t type = len >= 14 ? static_cast<uint16_t>(p[12] << 8 | p[13]) : 0;
  while ((type == 0x8100 || type == 0x88a8) && off + 6 <= len) {
    off += 4;
    type = static_cast<uint16_t>(p[off] << 8 | p[off + 1]);
  }
  uint32_t ip = off + 2;
  if (type == 0x0800 && ip + 20 <= len) {
    p[ip + 13] = k;  // src a.K.c.d
    p[ip + 17] = k;  // dst
  } else if (type == 0x86dd && ip + 40 <= len) {
    p[ip + 9] = k;
    p[ip + 25] = k;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus, out;
  int copies = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--corpus") corpus = argv[i + 1];
    else if (a == "--copies") copies = std::stoi(argv[i + 1]);
    else if (a == "--out") out = argv[i + 1];
  }
  if (corpus.empty() || out.empty() || copies < 1 || copies > 255) {
    std::fprintf(stderr, "usage: %s --corpus DIR --copies 1..255 --out FILE\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(corpus)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  pcap_dumper_t* dump = pcap_dump_open(dead, out.c_str());
  if (!dump) {
    std::fprintf(stderr, "cannot write %s: %s\n", out.c_str(), pcap_geterr(dead));
    return 1;
  }
  uint64_t packets = 0;
  long shift = 0;
  std::vector<uint8_t> buf;
  for (int k = 0; k < copies; ++k) {
    for (const auto& f : files) {
      char err[PCAP_ERRBUF_SIZE];
      pcap_t* in = pcap_open_offline(f.c_str(), err);
      if (!in) continue;
      if (pcap_datalink(in) != DLT_EN10MB) {
        pcap_close(in);
        continue;
      }
      pcap_pkthdr* h;
      const u_char* d;
      long first = -1;
      while (pcap_next_ex(in, &h, &d) == 1) {
        if (first < 0) first = h->ts.tv_sec;
        pcap_pkthdr oh = *h;
        oh.ts.tv_sec = static_cast<long>(1'700'000'000) + shift + (h->ts.tv_sec - first);
        buf.assign(d, d + h->caplen);
        rewrite(buf.data(), h->caplen, static_cast<uint8_t>(k));
        pcap_dump(reinterpret_cast<u_char*>(dump), &oh, buf.data());
        ++packets;
      }
      shift += 3600;  // an hour per capture: flows of different captures never meet
      pcap_close(in);
    }
  }
  pcap_dump_close(dump);
  pcap_close(dead);
  std::printf("%s: %lu packets from %zu captures x %d copies\n", out.c_str(), packets,
              files.size(), copies);
  return 0;
}
