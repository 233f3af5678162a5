// Blocklists: IP addresses / CIDR prefixes and domain names from threat and content feeds.
// Built on the control thread from feed files (untrusted text: every line is checked, bad lines
// are counted and named, never fatal), then frozen and shared read-only with the workers, which
// match without allocating. A new list replaces the old one as a whole (hot reload).
//
// Accepted line formats (one entry per line; '#' and ';' start a comment; blank lines skipped):
//   192.0.2.7                       plain address (IPv4 or IPv6)
//   198.51.100.0/24   ; SBL1234     CIDR prefix (host bits are cleared), DROP-list style
//   evil.example.com                plain domain
//   0.0.0.0 ads.example.net a.b.c   hosts-file format: every name after the address
//   ||tracker.example.org^          AdBlock domain anchor
//   *.example.org                   wildcard (same as the plain domain)
// A domain entry matches the name itself and every name below it (a.evil.example.com).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cg::detect {

struct BlocklistStats {
  uint64_t lines = 0;
  uint64_t addresses = 0;  // single addresses and prefixes
  uint64_t domains = 0;
  uint64_t rejected = 0;                 // lines that are none of the formats above
  uint64_t truncated = 0;                // entries left out because the list reached max_entries
  std::vector<std::string> diagnostics;  // "SOURCE:LINE: problem", the first kMaxDiagnostics
  static constexpr size_t kMaxDiagnostics = 20;
};

class Blocklist {
 public:
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxName = 253;

  explicit Blocklist(size_t max_entries = 4'000'000) : max_entries_(max_entries) {}

  // Adds the entries of one feed (`source` names it in diagnostics). Call finalize() after the
  // last feed; the list must not be changed once shared with workers.
  void add_text(std::string_view text, std::string_view source, BlocklistStats* st);
  // Reads a file; false (with `error`) only when it cannot be read.
  bool add_file(const std::string& path, BlocklistStats* st, std::string* error);
  void finalize();

  // Worker side (no allocation). Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6.
  bool match_addr(const std::array<uint8_t, 16>& a) const;
  // The list entry that `host` falls under (the name or a parent domain), or nullptr.
  // Case-insensitive; a trailing dot is ignored.
  const char* match_domain(std::string_view host) const;

  size_t address_ranges() const { return ranges_.size(); }
  size_t domain_count() const { return names_.size(); }
  bool empty() const { return ranges_.empty() && names_.empty(); }

 private:
  using U128 = unsigned __int128;
  struct Range {
    U128 lo, hi;
  };
  bool add_token_addr(std::string_view tok, std::string* why);
  bool add_domain(std::string_view tok, BlocklistStats* st, std::string* why);
  bool full(BlocklistStats* st);
  uint64_t hash(std::string_view s) const;
  const char* find_exact(std::string_view s) const;

  size_t max_entries_;
  std::vector<Range> ranges_;       // sorted, merged after finalize()
  std::vector<std::string> names_;  // lower case, no trailing dot
  std::vector<uint32_t> index_;     // open addressing: names_ index + 1, 0 = empty
  std::vector<uint64_t> index_hash_;
  uint64_t mask_ = 0;
  bool final_ = false;
};

// Lower-cases and validates one domain name (letters, digits, '-', '_', dots; labels of 1..63
// bytes, 253 at most, at least two labels). Returns false with `why` when it is not one.
bool normalize_domain(std::string_view in, std::string* out, std::string* why);

}  // namespace cg::detect
