// One stream line from the dataplane socket -> store::Event, with and without enrichment.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controlplane/common/util.h"
#include "controlplane/events/ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string line(reinterpret_cast<const char*>(data), size);
  cg::events::Enrichment e{"school-1", nullptr};
  cg::store::Event ev;
  std::string err;
  if (cg::events::event_from_line(line, e, &ev, &err) && ev.event_id.empty()) __builtin_trap();
  int64_t us = 0;
  if (cg::cp::parse_rfc3339(line, &us)) {
    int64_t again = 0;
    // A time we print must parse back to itself.
    if (!cg::cp::parse_rfc3339(cg::cp::format_rfc3339(us), &again) || again != us)
      __builtin_trap();
  }
  return 0;
}
