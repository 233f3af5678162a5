#include "dataplane/detect/blocklist.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace cg::detect {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Parses an address into 16 bytes (IPv4 as IPv4-mapped). Returns 32 or 128 (the family's
// bit length), 0 when it is not an address.
int parse_addr(std::string_view tok, std::array<uint8_t, 16>* out) {
  if (tok.empty() || tok.size() >= 64) return 0;
  char buf[64];
  std::copy(tok.begin(), tok.end(), buf);
  buf[tok.size()] = '\0';
  out->fill(0);
  if (inet_pton(AF_INET, buf, out->data() + 12) == 1) {
    (*out)[10] = (*out)[11] = 0xff;
    return 32;
  }
  if (inet_pton(AF_INET6, buf, out->data()) == 1) return 128;
  return 0;
}

unsigned __int128 to_u128(const std::array<uint8_t, 16>& a) {
  unsigned __int128 v = 0;
  for (uint8_t b : a) v = v << 8 | b;
  return v;
}

bool is_local_name(std::string_view s) {
  static constexpr std::string_view kNames[] = {
      "localhost",     "localhost.localdomain", "local",        "broadcasthost",
      "ip6-localhost", "ip6-loopback",          "ip6-localnet", "ip6-mcastprefix",
      "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts", "0.0.0.0"};
  for (auto n : kNames)
    if (s == n) return true;
  return false;
}

}  // namespace

bool normalize_domain(std::string_view in, std::string* out, std::string* why) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty()) {
    *why = "empty name";
    return false;
  }
  if (in.size() > Blocklist::kMaxName) {
    *why = "name longer than 253 bytes";
    return false;
  }
  out->assign(in.size(), '\0');
  size_t label = 0, labels = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) {
        *why = "empty label";
        return false;
      }
      label = 0;
      ++labels;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (++label > 63) {
        *why = "label longer than 63 bytes";
        return false;
      }
    } else {
      *why = "invalid character in name";
      return false;
    }
    (*out)[i] = c;
  }
  if (label == 0) {
    *why = "empty label";
    return false;
  }
  if (labels < 2) {
    *why = "single-label name (a whole top-level domain is not accepted)";
    return false;
  }
  return true;
}

bool Blocklist::full(BlocklistStats* st) {
  if (ranges_.size() + names_.size() < max_entries_) return false;
  ++st->truncated;
  return true;
}

bool Blocklist::add_token_addr(std::string_view tok, std::string* why) {
  std::array<uint8_t, 16> a;
  const size_t slash = tok.find('/');
  const int bits = parse_addr(tok.substr(0, slash), &a);
  if (!bits) {
    *why = "not an address";
    return false;
  }
  int len = bits;
  if (slash != std::string_view::npos) {
    std::string_view l = tok.substr(slash + 1);
    if (l.empty() || l.size() > 3 ||
        !std::all_of(l.begin(), l.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      *why = "bad prefix length";
      return false;
    }
    len = std::stoi(std::string(l));
    if (len > bits) {
      *why = "prefix length out of range";
      return false;
    }
  }
  const int host_bits = bits - len;  // bits == 32: the mapped prefix (96 bits) stays fixed
  const unsigned __int128 v = to_u128(a);
  const unsigned __int128 span = host_bits >= 128
                                     ? ~static_cast<unsigned __int128>(0)
                                     : (static_cast<unsigned __int128>(1) << host_bits) - 1;
  ranges_.push_back({v & ~span, (v & ~span) | span});
  return true;
}

bool Blocklist::add_domain(std::string_view tok, BlocklistStats* st, std::string* why) {
  if (tok.size() > 2 && tok.substr(0, 2) == "||") {  // AdBlock: ||name^ (options after ^)
    tok.remove_prefix(2);
    const size_t caret = tok.find('^');
    if (caret == std::string_view::npos || tok.find('/') != std::string_view::npos) {
      *why = "AdBlock rule that is not a plain domain anchor";
      return false;
    }
    tok = tok.substr(0, caret);
  }
  if (tok.size() > 2 && tok.substr(0, 2) == "*.") tok.remove_prefix(2);
  std::string name;
  if (!normalize_domain(tok, &name, why)) return false;
  names_.push_back(std::move(name));
  ++st->domains;
  return true;
}

void Blocklist::add_text(std::string_view text, std::string_view source, BlocklistStats* st) {
  final_ = false;
  if (text.size() >= 3 && static_cast<uint8_t>(text[0]) == 0xef &&
      static_cast<uint8_t>(text[1]) == 0xbb && static_cast<uint8_t>(text[2]) == 0xbf)
    text.remove_prefix(3);  // UTF-8 byte order mark
  uint64_t lineno = 0;
  auto reject = [&](const std::string& why) {
    ++st->rejected;
    if (st->diagnostics.size() < BlocklistStats::kMaxDiagnostics)
      st->diagnostics.push_back(std::string(source) + ":" + std::to_string(lineno) + ": " + why);
  };
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineno;
    ++st->lines;
    if (line.size() > kMaxLine) {
      reject("line longer than 4096 bytes");
      continue;
    }
    // AdBlock anchors contain no comment characters; elsewhere '#' / ';' / '!' start comments.
    line = trim(line);
    if (!line.empty() && line[0] == '!') continue;  // AdBlock comment
    const size_t comment = line.find_first_of("#;");
    if (comment != std::string_view::npos) line = trim(line.substr(0, comment));
    if (line.empty()) continue;

    std::vector<std::string_view> toks;
    while (!line.empty()) {
      const size_t sp = line.find_first_of(" \t");
      toks.push_back(line.substr(0, sp));
      line = trim(line.substr(sp == std::string_view::npos ? line.size() : sp));
    }
    std::string why;
    std::array<uint8_t, 16> tmp;
    const bool first_is_addr = parse_addr(toks[0].substr(0, toks[0].find('/')), &tmp) != 0;
    if (first_is_addr && toks.size() > 1 && toks[0].find('/') == std::string_view::npos) {
      // hosts-file line: the names are blocked, the address is a sink (0.0.0.0 / 127.0.0.1).
      for (size_t i = 1; i < toks.size(); ++i) {
        if (is_local_name(toks[i])) continue;
        if (full(st)) break;
        if (!add_domain(toks[i], st, &why)) reject(why + " '" + std::string(toks[i]) + "'");
      }
      continue;
    }
    if (toks.size() > 1) {
      reject("unexpected text after the entry");
      continue;
    }
    if (full(st)) continue;
    if (first_is_addr) {
      if (add_token_addr(toks[0], &why)) {
        ++st->addresses;
      } else {
        reject(why + " '" + std::string(toks[0]) + "'");
      }
    } else if (!add_domain(toks[0], st, &why)) {
      reject(why);
    }
  }
}

bool Blocklist::add_file(const std::string& path, BlocklistStats* st, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    *error = path + ": read error";
    return false;
  }
  add_text(ss.str(), path, st);
  return true;
}

uint64_t Blocklist::hash(std::string_view s) const {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

void Blocklist::finalize() {
  std::sort(ranges_.begin(), ranges_.end(),
            [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> merged;
  for (const Range& r : ranges_) {
    if (!merged.empty() && (r.lo <= merged.back().hi || r.lo - 1 == merged.back().hi)) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  size_t cap = 16;
  while (cap < names_.size() * 2) cap <<= 1;
  index_.assign(cap, 0);
  index_hash_.assign(cap, 0);
  mask_ = cap - 1;
  for (size_t i = 0; i < names_.size(); ++i) {
    const uint64_t h = hash(names_[i]);
    for (uint64_t p = h & mask_;; p = (p + 1) & mask_) {
      if (index_[p] == 0) {
        index_[p] = static_cast<uint32_t>(i + 1);
        index_hash_[p] = h;
        break;
      }
    }
  }
  final_ = true;
}

bool Blocklist::match_addr(const std::array<uint8_t, 16>& a) const {
  if (ranges_.empty()) return false;
  const unsigned __int128 v = to_u128(a);
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), v,
                             [](unsigned __int128 x, const Range& r) { return x < r.lo; });
  if (it == ranges_.begin()) return false;
  --it;
  return v <= it->hi;
}

const char* Blocklist::find_exact(std::string_view s) const {
  const uint64_t h = hash(s);
  for (uint64_t p = h & mask_;; p = (p + 1) & mask_) {
    const uint32_t i = index_[p];
    if (i == 0) return nullptr;
    if (index_hash_[p] == h && names_[i - 1] == s) return names_[i - 1].c_str();
  }
}

const char* Blocklist::match_domain(std::string_view host) const {
  if (names_.empty() || !final_) return nullptr;
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxName) return nullptr;
  char buf[kMaxName + 1];
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view s(buf, host.size());
  while (true) {
    if (const char* hit = find_exact(s)) return hit;
    const size_t dot = s.find('.');
    if (dot == std::string_view::npos) return nullptr;
    s.remove_prefix(dot + 1);
  }
}

}  // namespace cg::detect
