// Zeroed anonymous memory for the big per-worker tables the fast path hits at random (flow
// table, QoS host table): one mmap, transparent huge pages asked for (madvise MADV_HUGEPAGE;
// with 4 KiB pages most random lookups add a TLB miss), optionally every page touched up front
// so the live dataplane takes no page fault later. Zero bytes must be the empty state of what
// is stored there (trivial types), since nothing is constructed. Move-only; unmapped on
// destruction. Control thread (construction and destruction).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace cg::flow {

class ZeroPages {
 public:
  ZeroPages() = default;
  ZeroPages(size_t bytes, bool prefault) : bytes_((bytes + 4095) & ~size_t{4095}) {
    if (bytes_ == 0) return;
    map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      throw std::bad_alloc();
    }
    madvise(map_, bytes_, MADV_HUGEPAGE);  // advice: where THP is off this changes nothing
    if (prefault)
      for (size_t off = 0; off < bytes_; off += 4096) static_cast<volatile uint8_t*>(map_)[off] = 0;
  }
  ~ZeroPages() {
    if (map_) munmap(map_, bytes_);
  }
  ZeroPages(ZeroPages&& o) noexcept
      : map_(std::exchange(o.map_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  ZeroPages& operator=(ZeroPages&& o) noexcept {
    std::swap(map_, o.map_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ZeroPages(const ZeroPages&) = delete;
  ZeroPages& operator=(const ZeroPages&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(map_); }
  size_t size() const { return bytes_; }  // rounded up to whole 4 KiB pages

 private:
  void* map_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace cg::flow
