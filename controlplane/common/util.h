// Small helpers shared by control-plane modules: clock, hex SHA-256, random tokens, RFC 3339.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cg::cp {

// Wall clock seam: tests drive time by hand; the daemon uses SystemClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_us() const = 0;  // µs since the Unix epoch, UTC
};

class SystemClock final : public Clock {
 public:
  int64_t now_us() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t t) : t_(t) {}
  int64_t now_us() const override { return t_; }
  void advance_us(int64_t d) { t_ += d; }
  void set_us(int64_t t) { t_ = t; }

 private:
  int64_t t_;
};

// libsodium must be initialised once before any of the functions below (idempotent).
bool init_crypto();
std::string sha256_hex(std::string_view data);
// `bytes` random bytes from the kernel CSPRNG as lowercase hex.
std::string random_hex(size_t bytes);
// Constant-time comparison of two strings.
bool equal_ct(std::string_view a, std::string_view b);
// "2026-11-29T23:54:56.123456Z" <-> µs since the epoch. parse returns false on bad input.
std::string format_rfc3339(int64_t us);
bool parse_rfc3339(std::string_view text, int64_t* us);

}  // namespace cg::cp
