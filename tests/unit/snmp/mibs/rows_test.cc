#include "snmp/mibs/rows.h"

#include <gtest/gtest.h>

#include "snmp/mibs/oids.h"

namespace cg::snmp::mibs {
namespace {

Value str(std::string s) {
  return Value::make_bytes(ValueType::kOctetString, std::move(s));
}
Value num(int64_t v) {
  return Value::make_integer(v);
}
Value gauge(uint64_t v) {
  return Value::make_unsigned(ValueType::kGauge32, v);
}

TEST(Display, Strings) {
  EXPECT_EQ(display_string("GigabitEthernet0/0/1"), "GigabitEthernet0/0/1");
  EXPECT_EQ(display_string(std::string("eth0\0\0", 6)), "eth0");
  EXPECT_EQ(display_string("核心交换机"), "核心交换机");  // UTF-8 (Chinese UI first)
  EXPECT_EQ(display_string("a\tb\r\nc"), "a\tb\r\nc");
  EXPECT_EQ(display_string(std::string("\x00\x1b\x2c", 3)), "00:1b:2c");  // control chars
  EXPECT_EQ(display_string("\xc3\x28"), "c3:28");                         // invalid UTF-8
  EXPECT_EQ(display_string("\xed\xa0\x80"), "ed:a0:80");                  // surrogate
  EXPECT_EQ(display_string("\xe0\x80\xaf"), "e0:80:af");                  // overlong
  EXPECT_EQ(display_string("\xf4\x90\x80\x80"), "f4:90:80:80");           // > U+10FFFF
  EXPECT_EQ(display_string(""), "");
}

TEST(Display, Addresses) {
  EXPECT_EQ(format_mac("\x00\x1b\x2c\xff\x00\x01"), std::nullopt);  // C string stops at NUL
  EXPECT_EQ(format_mac(std::string("\x00\x1b\x2c\xff\x00\x01", 6)), "00:1b:2c:ff:00:01");
  EXPECT_EQ(format_mac("abc"), std::nullopt);
  EXPECT_EQ(format_ip(std::string("\x0a\x00\x00\x01", 4)), "10.0.0.1");
  std::string v6(16, '\0');
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = static_cast<char>(0xb8), v6[15] = 1;
  EXPECT_EQ(format_ip(v6), "2001:db8::1");
  EXPECT_EQ(format_ip("abcde"), std::nullopt);
}

TEST(Values, TypeChecks) {
  EXPECT_EQ(as_unsigned(num(-1)), std::nullopt);
  EXPECT_EQ(as_unsigned(gauge(5)), 5u);
  EXPECT_EQ(as_integer(Value::make_unsigned(ValueType::kCounter64, UINT64_MAX)), std::nullopt);
  EXPECT_EQ(as_bytes(num(1)), std::nullopt);
  EXPECT_EQ(as_bytes(Value::make_bytes(ValueType::kIpAddress, "abcd")), std::nullopt);
}

TEST(ToColumn, DropsExceptionsAndForeignOids) {
  Oid col = column_oid(kIfEntry, kIfDescr);
  Value nso;
  nso.type = ValueType::kNoSuchInstance;
  std::vector<VarBind> w = {{oid_concat(col, {1}), str("a")},
                            {oid_concat(col, {2}), nso},
                            {col, str("no index")},
                            {oid_concat(column_oid(kIfEntry, kIfType), {1}), num(6)}};
  Column c = to_column(w, col);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.begin()->first, Oid{1});
}

TEST(IfRows, DecodesAndCountsMalformed) {
  IfColumns c;
  c.descr = {{{1}, str("Gi0/1")}, {{2}, num(7)}, {{0}, str("zero index")}, {{3, 1}, str("x")}};
  c.speed = {{{1}, gauge(1000000000)},
             {{2}, Value::make_unsigned(ValueType::kCounter64, 1ULL << 40)}};
  c.high_speed = {{{1}, gauge(1000)}};
  c.oper_status = {{{1}, num(1)}, {{2}, num(9)}};
  c.type = {{{1}, num(6)}, {{2}, str("ethernet")}};
  DecodeStats st;
  auto rows = decode_if_rows(c, st);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].descr, "Gi0/1");
  EXPECT_EQ(rows[1].speed_bps, 1000000000u);
  EXPECT_EQ(rows[1].high_speed_mbps, 1000u);
  EXPECT_EQ(rows[1].oper_status, 1);
  EXPECT_FALSE(rows[2].descr);
  EXPECT_FALSE(rows[2].speed_bps);
  EXPECT_FALSE(rows[2].oper_status);
  EXPECT_EQ(st.skipped["ifTable.bad_index"], 2u);
  EXPECT_EQ(st.skipped["ifDescr.bad_value"], 1u);
  EXPECT_EQ(st.skipped["ifSpeed.bad_value"], 1u);
  EXPECT_EQ(st.skipped["ifOperStatus.bad_value"], 1u);
  EXPECT_EQ(st.skipped["ifType.bad_value"], 1u);
  EXPECT_EQ(oper_status_name(7), std::string("lowerLayerDown"));
  EXPECT_EQ(oper_status_name(0), nullptr);
}

TEST(Lldp, IndexShapes) {
  LldpRemColumns c;
  c.sys_name = {{{0, 5, 1}, str("std")},      // timeMark.localPort.index
                {{18, 1}, str("tplink")},     // localPort.index (JetStream)
                {{7}, str("mikrotik")},       // index only (MikroTik)
                {{0, 1, 2, 3}, str("bad")}};  // four parts: skipped
  DecodeStats st;
  auto r = decode_lldp_remotes(c, st);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(st.skipped["lldpRemTable.bad_index"], 1u);
  std::map<std::string, std::optional<uint32_t>> lp;
  for (auto& x : r) lp[*x.sys_name] = x.local_port_num;
  EXPECT_EQ(lp["std"], 5u);
  EXPECT_EQ(lp["tplink"], 18u);
  EXPECT_EQ(lp["mikrotik"], std::nullopt);
}

TEST(Lldp, ManagementAddresses) {
  std::vector<Oid> keys = {{0, 5, 1}, {7}};
  Column c = {{{0, 5, 1, 1, 4, 10, 0, 0, 1}, num(2)},    // ipv4 for 0.5.1
              {{7, 1, 4, 192, 168, 1, 1}, num(2)},       // ipv4 for one-part key 7
              {{0, 5, 1, 1, 5, 10, 0, 0, 1}, num(2)},    // length says 5, 4 bytes follow
              {{0, 5, 1, 1, 4, 10, 0, 0, 300}, num(2)},  // byte > 255
              {{9, 9, 9, 1, 4, 1, 2, 3, 4}, num(2)}};    // unknown remote
  DecodeStats st;
  auto a = decode_lldp_man_addrs(c, keys, st);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(st.skipped["lldpRemManAddrTable.bad_index"], 3u);
  for (auto& x : a) {
    EXPECT_EQ(x.subtype, 1);
    EXPECT_EQ(x.address.size(), 4u);
  }
}

TEST(Lldp, PortAndChassisIdSubtypes) {
  std::string m("\x00\x11\x22\x33\x44\x55", 6);
  EXPECT_EQ(format_port_id(3, m), "00:11:22:33:44:55");
  EXPECT_EQ(format_port_id(5, "Gi1/0/1"), "Gi1/0/1");
  EXPECT_EQ(format_port_id(4, std::string("\x01\x0a\x00\x00\x02", 5)), "10.0.0.2");
  EXPECT_EQ(format_port_id(3, "Gi1"), "Gi1");  // MAC subtype with a name: text
  EXPECT_EQ(format_chassis_id(4, m), "00:11:22:33:44:55");
  EXPECT_EQ(format_chassis_id(7, m), "00:11:22:33:44:55");  // not UTF-8 text: hex anyway
  EXPECT_EQ(format_chassis_id(std::nullopt, "sw1"), "sw1");
}

TEST(Cdp, Decode) {
  CdpColumns c;
  c.device_id = {{{10103, 1}, str("core-sw")}, {{0, 1}, str("bad")}, {{5}, str("bad")}};
  c.address_type = {{{10103, 1}, num(1)}};
  c.address = {{{10103, 1}, str(std::string("\xac\x1b\x31\x54", 4))}};
  c.device_port = {{{10103, 1}, num(5)}};
  DecodeStats st;
  auto r = decode_cdp_cache(c, st);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].if_index, 10103u);
  EXPECT_EQ(*format_ip(*r[0].address), "172.27.49.84");
  EXPECT_FALSE(r[0].device_port);
  EXPECT_EQ(st.skipped["cdpCacheTable.bad_index"], 2u);
  EXPECT_EQ(st.skipped["cdpCacheDevicePort.bad_value"], 1u);
}

TEST(Fdb, DecodeQAndD) {
  Column qport = {{{10, 0, 17, 34, 51, 68, 85}, num(3)},
                  {{10, 0, 17, 34, 51, 68, 256}, num(3)},  // MAC byte > 255
                  {{10, 0, 17, 34, 51, 68}, num(3)},       // short index
                  {{10, 0, 17, 34, 51, 68, 86}, num(-1)},  // negative port
                  {{10, 0, 17, 34, 51, 68, 87}, str("x")}};
  Column qstatus = {{{10, 0, 17, 34, 51, 68, 85}, num(3)}};
  DecodeStats st;
  auto q = decode_dot1q_fdb(qport, qstatus, st);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].mac, "00:11:22:33:44:55");
  EXPECT_EQ(q[0].fdb_id, 10u);
  EXPECT_EQ(q[0].port, 3u);
  EXPECT_EQ(q[0].status, 3);
  EXPECT_EQ(st.skipped["dot1qTpFdbTable.bad_index"], 2u);
  EXPECT_EQ(st.skipped["dot1qTpFdbTable.bad_port"], 2u);
  auto d = decode_dot1d_fdb({{{0, 17, 34, 51, 68, 85}, num(0)}}, {}, st);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].fdb_id);
  EXPECT_EQ(d[0].port, 0u);
}

TEST(Fdb, MapsAndVlans) {
  DecodeStats st;
  auto bp = decode_base_port_if_index({{{1}, num(49153)}, {{2}, num(0)}, {{3}, str("x")}}, st);
  ASSERT_EQ(bp.size(), 1u);
  EXPECT_EQ(bp[1], 49153u);
  EXPECT_EQ(st.skipped["dot1dBasePortTable.bad_value"], 2u);
  auto v = decode_vlan_fdb_ids({{{0, 10}, gauge(10)}, {{0, 5000}, gauge(1)}, {{10}, gauge(1)}}, st);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(st.skipped["dot1qVlanCurrentTable.bad_index"], 2u);
}

TEST(Arp, Decode) {
  std::string mac("\x00\x11\x22\x33\x44\x55", 6);
  DecodeStats st;
  auto m = decode_ip_net_to_media(
      {{{3, 10, 0, 0, 1}, str(mac)}, {{3, 10, 0, 0}, str(mac)}, {{3, 10, 0, 0, 2}, str("short")}},
      {{{3, 10, 0, 0, 1}, num(3)}}, st);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].ip, "10.0.0.1");
  EXPECT_EQ(m[0].type, 3);
  Oid v6 = {4, 2, 16, 254, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  auto p = decode_ip_net_to_physical({{{4, 1, 4, 192, 168, 0, 1}, str(mac)},
                                      {v6, str(mac)},
                                      {{4, 1, 5, 192, 168, 0, 1}, str(mac)},
                                      {{4, 1, 4, 192, 168, 0, 999}, str(mac)}},
                                     {}, st);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].ip, "192.168.0.1");
  EXPECT_EQ(p[1].ip, "fe80::1");
  EXPECT_EQ(st.skipped["ipNetToPhysicalTable.bad_index"], 2u);
  EXPECT_EQ(st.skipped["ipNetToMediaTable.bad_index"], 1u);
  EXPECT_EQ(st.skipped["ipNetToMediaPhysAddress.bad_value"], 1u);
}

}  // namespace
}  // namespace cg::snmp::mibs
