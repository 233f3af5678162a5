// controld event store benchmark (not a test): for each backend, insert N events in batches of
// B (the ingest path: one transaction per batch, acknowledged after commit) while a second
// thread runs filtered queries, then measure query latency (p50 / p95) over the stored events.
// PostgreSQL is a real throwaway server started here (tests/unit/controlplane/pg_server.h).
//   controld_store_bench [--events N] [--batch B] [--queries Q] [--backends sqlite,postgresql]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/store/store.h"
#include "tests/unit/controlplane/pg_server.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kT0 = 1764460800LL * 1000000;

cg::store::Event make(int64_t i) {
  cg::store::Event e;
  e.event_id = "bench-" + std::to_string(i);
  e.ts_us = kT0 + i * 1000;  // 1000 events per second of event time
  e.event_type = i % 10 == 0 ? "anomaly" : "alert";
  e.severity = static_cast<int>(i % 4 + 1);
  e.src_ip = "10.30." + std::to_string(i / 250 % 16) + "." + std::to_string(i % 250);
  e.src_port = static_cast<int>(1024 + i % 60000);
  e.dest_ip = "203.0.113." + std::to_string(i % 200);
  e.dest_port = 443;
  e.proto = "TCP";
  e.app_proto = i % 3 ? "TLS" : "HTTP";
  e.rule = i % 5 ? "port_scan" : "blocklist_domain";
  e.signature = "bench";
  e.school_id = "s-1";
  e.zone = "classrooms";
  e.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
  e.body = "{\"event_id\":\"" + e.event_id + "\",\"event_type\":\"alert\",\"src_ip\":\"" +
           e.src_ip + "\",\"alert\":{\"signature\":\"bench\",\"severity\":2}}";
  return e;
}

cg::store::EventQuery query(int64_t k, int64_t n) {
  cg::store::EventQuery q;
  switch (k % 4) {
    case 0: q.address = "10.30." + std::to_string(k % 16) + "." + std::to_string(k % 250); break;
    case 1: q.event_type = "anomaly"; break;
    case 2: q.rule = "blocklist_domain"; q.app = "TLS"; break;
    case 3:
      q.from_us = kT0 + (k * 7919 % std::max<int64_t>(n, 1)) * 1000;
      q.to_us = q.from_us + 60 * 1000000LL;
      break;
  }
  q.limit = 100;
  return q;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int run(const std::string& backend, int64_t n, int batch, int queries) {
  cg::testing::PgServer pg;
  cg::store::StoreConfig cfg;
  cfg.backend = backend;
  std::string dir = "/tmp/cg-store-bench-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  if (backend == "sqlite") {
    cfg.sqlite_path = dir + "/bench.db";
  } else {
    std::string err;
    if (!pg.start(&err)) {
      std::fprintf(stderr, "postgresql: %s\n", err.c_str());
      return 1;
    }
    cfg.pg_conninfo = pg.conninfo();
  }
  std::unique_ptr<cg::store::Store> store;
  if (auto s = cg::store::open_store(cfg, &store); !s) {
    std::fprintf(stderr, "%s: %s\n", backend.c_str(), s.message().c_str());
    return 1;
  }
  std::atomic<bool> done{false};
  std::atomic<int64_t> concurrent_queries{0};
  std::thread reader([&] {  // queries running during ingest
    for (int64_t k = 0; !done; ++k) {
      cg::store::EventPage page;
      store->query_events(query(k, n), &page);
      ++concurrent_queries;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto t0 = Clock::now();
  std::vector<cg::store::Event> v;
  for (int64_t i = 0; i < n; i += batch) {
    v.clear();
    for (int64_t j = i; j < std::min(n, i + batch); ++j) v.push_back(make(j));
    size_t inserted = 0;
    if (auto s = store->insert_events(v, &inserted); !s) {
      std::fprintf(stderr, "insert: %s\n", s.message().c_str());
      done = true;
      reader.join();
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  done = true;
  reader.join();
  std::vector<double> lat;
  for (int k = 0; k < queries; ++k) {
    auto q0 = Clock::now();
    cg::store::EventPage page;
    store->query_events(query(k, n), &page);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - q0).count());
  }
  std::vector<double> clat;
  for (int k = 0; k < std::max(1, queries / 4); ++k) {
    auto q0 = Clock::now();
    std::vector<cg::store::BucketCount> b;
    store->count_events(query(k, n), 3600LL * 1000000, &b);
    clat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - q0).count());
  }
  std::printf(
      "%-10s ingest %lld events in batches of %d: %.0f events/s (%.2f s, %lld queries ran "
      "meanwhile); query p50 %.2f ms p95 %.2f ms; counts p50 %.2f ms p95 %.2f ms (%d queries)\n",
      backend.c_str(), static_cast<long long>(n), batch, static_cast<double>(n) / secs, secs,
      static_cast<long long>(concurrent_queries.load()), pct(lat, 0.5), pct(lat, 0.95),
      pct(clat, 0.5), pct(clat, 0.95), queries);
  store.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 200000;
  int batch = 500, queries = 200;
  std::string backends = "sqlite,postgresql";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--events") n = std::stoll(argv[i + 1]);
    else if (a == "--batch") batch = std::stoi(argv[i + 1]);
    else if (a == "--queries") queries = std::stoi(argv[i + 1]);
    else if (a == "--backends") backends = argv[i + 1];
  }
  int rc = 0;
  for (const char* b : {"sqlite", "postgresql"})
    if (backends.find(b) != std::string::npos) rc |= run(b, n, batch, queries);
  return rc;
}
