// A bounded single-producer (a worker) / single-consumer (the control thread) ring of plain
// records. push() never blocks and never allocates: when the ring is full the record is refused
// and counted in dropped(); the caller names the loss with its own counter.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace cg::exporter {

template <class T>
class SpscRing {
 public:
  // `capacity` is rounded up to a power of two; storage is allocated here (at init).
  explicit SpscRing(uint32_t capacity) {
    uint32_t c = 1;
    while (c < capacity) c <<= 1;
    mask_ = c - 1;
    slots_.reset(new T[c]);
  }
  uint32_t capacity() const { return mask_ + 1; }

  bool push(const T& v) {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_.load(std::memory_order_acquire) > mask_) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return false;
    }
    slots_[h & mask_] = v;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  // Consumer: copies up to `max` records out; returns how many.
  uint32_t pop(T* out, uint32_t max) {
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    const uint64_t h = head_.load(std::memory_order_acquire);
    uint32_t n = 0;
    while (t + n < h && n < max) {
      out[n] = slots_[(t + n) & mask_];
      ++n;
    }
    tail_.store(t + n, std::memory_order_release);
    return n;
  }
  uint64_t pushed() const { return head_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> dropped_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  uint32_t mask_ = 0;
  std::unique_ptr<T[]> slots_;
};

}  // namespace cg::exporter
