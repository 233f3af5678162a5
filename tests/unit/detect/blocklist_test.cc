#include "dataplane/detect/blocklist.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <fstream>

namespace cg::detect {
namespace {

std::array<uint8_t, 16> addr(const char* s) {
  std::array<uint8_t, 16> a{};
  if (inet_pton(AF_INET, s, a.data() + 12) == 1) {
    a[10] = a[11] = 0xff;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, s, a.data()), 1) << s;
  }
  return a;
}

Blocklist load(const std::string& text, BlocklistStats* st) {
  Blocklist b;
  b.add_text(text, "feed.txt", st);
  b.finalize();
  return b;
}

TEST(Blocklist, PlainHostsCidrAdblockAndComments) {
  BlocklistStats st;
  Blocklist b = load(
      "\xef\xbb\xbf# a comment line\n"
      "192.0.2.7\n"
      "198.51.100.0/24 ; SBL1234\n"
      "10.1.2.3/8\n"  // host bits set: cleared
      "2001:db8:bad::/48\n"
      "evil.example.com   # trailing comment\r\n"
      "0.0.0.0 ads.example.net tracker.example.org localhost\n"
      "127.0.0.1\tmalware.test\n"
      "||adblock.example^\n"
      "*.wild.example\n"
      "! adblock comment\n"
      "\n   \n",
      &st);
  EXPECT_EQ(st.rejected, 0u) << (st.diagnostics.empty() ? "" : st.diagnostics[0]);
  EXPECT_EQ(st.addresses, 4u);
  EXPECT_EQ(st.domains, 6u);
  EXPECT_TRUE(b.match_addr(addr("192.0.2.7")));
  EXPECT_FALSE(b.match_addr(addr("192.0.2.8")));
  EXPECT_TRUE(b.match_addr(addr("198.51.100.0")));
  EXPECT_TRUE(b.match_addr(addr("198.51.100.255")));
  EXPECT_FALSE(b.match_addr(addr("198.51.101.0")));
  EXPECT_TRUE(b.match_addr(addr("10.200.0.1")));
  EXPECT_TRUE(b.match_addr(addr("2001:db8:bad:ffff::1")));
  EXPECT_FALSE(b.match_addr(addr("2001:db8:bae::1")));
  EXPECT_FALSE(b.match_addr(addr("0.0.0.0"))) << "the hosts-file sink address is not an entry";
  EXPECT_STREQ(b.match_domain("evil.example.com"), "evil.example.com");
  EXPECT_STREQ(b.match_domain("WWW.Evil.Example.COM."), "evil.example.com");
  EXPECT_EQ(b.match_domain("notevil.example.com"), nullptr);
  EXPECT_EQ(b.match_domain("example.com"), nullptr);
  EXPECT_STREQ(b.match_domain("ads.example.net"), "ads.example.net");
  EXPECT_STREQ(b.match_domain("x.malware.test"), "malware.test");
  EXPECT_STREQ(b.match_domain("cdn.adblock.example"), "adblock.example");
  EXPECT_STREQ(b.match_domain("a.wild.example"), "wild.example");
  EXPECT_EQ(b.match_domain("localhost"), nullptr);
  EXPECT_EQ(b.match_domain(""), nullptr);
}

TEST(Blocklist, BadLinesAreCountedAndNamedNotFatal) {
  BlocklistStats st;
  Blocklist b = load(
      "good.example\n"
      "bad name.example extra\n"
      "under_score.example\n"
      "nodots\n"
      "1.2.3.4/33\n"
      "1.2.3.4/x\n"
      "::1/129\n"
      "h\xc3\xa9llo.example\n"
      "a..b.example\n"
      "||path.example/ads^\n" +
          std::string(5000, 'a') + "\n" + "x." + std::string(64, 'b') + ".example\n",
      &st);
  EXPECT_EQ(st.domains, 2u);
  EXPECT_EQ(st.rejected, 10u);
  ASSERT_GE(st.diagnostics.size(), 3u);
  EXPECT_EQ(st.diagnostics[0], "feed.txt:2: unexpected text after the entry");
  EXPECT_NE(st.diagnostics[1].find("feed.txt:4: single-label"), std::string::npos);
  EXPECT_STREQ(b.match_domain("under_score.example"), "under_score.example");
}

TEST(Blocklist, EntryLimitTruncatesAndCounts) {
  Blocklist b(3);
  BlocklistStats st;
  b.add_text("a.example\nb.example\n1.1.1.1\nc.example\n2.2.2.2\n", "f", &st);
  b.finalize();
  EXPECT_EQ(st.truncated, 2u);
  EXPECT_EQ(b.domain_count() + b.address_ranges(), 3u);
}

TEST(Blocklist, OverlappingRangesMergeAndDuplicateNamesCollapse) {
  BlocklistStats st;
  Blocklist b = load("10.0.0.0/24\n10.0.0.128/25\n10.0.1.0/24\nx.example\nX.example\n", &st);
  EXPECT_EQ(b.address_ranges(), 1u);
  EXPECT_EQ(b.domain_count(), 1u);
  EXPECT_TRUE(b.match_addr(addr("10.0.1.255")));
  EXPECT_FALSE(b.match_addr(addr("10.0.2.0")));
}

TEST(Blocklist, ManyNamesAllFound) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "host" + std::to_string(i) + ".example.org\n";
  BlocklistStats st;
  Blocklist b = load(text, &st);
  EXPECT_EQ(b.domain_count(), 5000u);
  for (int i = 0; i < 5000; i += 7)
    EXPECT_NE(b.match_domain("www.host" + std::to_string(i) + ".example.org"), nullptr) << i;
  EXPECT_EQ(b.match_domain("host5000.example.org"), nullptr);
}

TEST(Blocklist, FileReadErrorsAreReported) {
  Blocklist b;
  BlocklistStats st;
  std::string err;
  EXPECT_FALSE(b.add_file("/nonexistent/feed.txt", &st, &err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  const std::string path = ::testing::TempDir() + "detect_feed.txt";
  std::ofstream(path) << "file.example\n";
  EXPECT_TRUE(b.add_file(path, &st, &err));
  b.finalize();
  EXPECT_NE(b.match_domain("file.example"), nullptr);
}

}  // namespace
}  // namespace cg::detect
