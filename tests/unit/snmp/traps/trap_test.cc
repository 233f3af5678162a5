#include "snmp/traps/trap.h"

#include <gtest/gtest.h>

namespace cg::snmp {
namespace {

VarBind vb(const std::string& oid, Value v) {
  return {*parse_oid(oid), std::move(v)};
}

TrapMessage message(const std::string& trap_oid, std::vector<VarBind> extra = {}) {
  TrapMessage m;
  m.source = "192.0.2.7";
  m.version = "v2c";
  m.varbinds.push_back(vb("1.3.6.1.2.1.1.3.0", Value::make_unsigned(ValueType::kTimeTicks, 4242)));
  m.varbinds.push_back(vb("1.3.6.1.6.3.1.1.4.1.0", Value::make_oid(*parse_oid(trap_oid))));
  for (auto& x : extra) m.varbinds.push_back(std::move(x));
  return m;
}

TEST(TrapToEvent, LinkDownWithInterfaceObjects) {
  auto e = trap_to_event(
      message("1.3.6.1.6.3.1.1.5.3", {vb("1.3.6.1.2.1.2.2.1.1.12", Value::make_integer(12)),
                                      vb("1.3.6.1.2.1.2.2.1.7.12", Value::make_integer(1)),
                                      vb("1.3.6.1.2.1.2.2.1.8.12", Value::make_integer(2)),
                                      vb("1.3.6.1.2.1.31.1.1.1.1.12",
                                         Value::make_bytes(ValueType::kOctetString, "GE0/0/12"))}),
      77);
  ASSERT_TRUE(e.ok());
  auto j = e->to_json();
  EXPECT_EQ(j["type"], "link_down");
  EXPECT_EQ(j["time"], 77);
  EXPECT_EQ(j["source"], "192.0.2.7");
  EXPECT_EQ(j["version"], "v2c");
  EXPECT_EQ(j["if_index"], 12);
  EXPECT_EQ(j["admin_status"], "up");
  EXPECT_EQ(j["oper_status"], "down");
  EXPECT_EQ(j["if_name"], "GE0/0/12");
  EXPECT_EQ(j["uptime_ticks"], 4242);
  EXPECT_EQ(j["detected_by"], "trap");
  EXPECT_FALSE(j.contains("user"));
}

TEST(TrapToEvent, StandardTrapsAndLldp) {
  std::map<std::string, std::string> want = {{"1.3.6.1.6.3.1.1.5.1", "cold_start"},
                                             {"1.3.6.1.6.3.1.1.5.2", "warm_start"},
                                             {"1.3.6.1.6.3.1.1.5.4", "link_up"},
                                             {"1.3.6.1.6.3.1.1.5.5", "authentication_failure"},
                                             {"1.0.8802.1.1.2.0.0.1", "lldp_remote_change"},
                                             {"1.3.6.1.4.1.2011.5.25.1", "trap"},
                                             {"1.3.6.1.6.3.1.1.5.3.1", "trap"}};
  for (const auto& [oid, type] : want) {
    auto e = trap_to_event(message(oid), 1);
    ASSERT_TRUE(e.ok()) << oid;
    EXPECT_EQ(e->type, type) << oid;
    EXPECT_EQ(e->to_json()["trap_oid"], oid);
  }
  auto l = trap_to_event(
      message("1.0.8802.1.1.2.0.0.1",
              {vb("1.0.8802.1.1.2.1.2.2.0", Value::make_unsigned(ValueType::kGauge32, 3)),
               vb("1.0.8802.1.1.2.1.2.3.0", Value::make_unsigned(ValueType::kGauge32, 1)),
               vb("1.0.8802.1.1.2.1.2.5.0", Value::make_unsigned(ValueType::kGauge32, 2))}),
      1);
  ASSERT_TRUE(l.ok());
  auto j = l->to_json();
  EXPECT_EQ(j["inserts"], 3);
  EXPECT_EQ(j["deletes"], 1);
  EXPECT_EQ(j["ageouts"], 2);
  EXPECT_FALSE(j.contains("drops"));
}

TEST(TrapToEvent, UnknownTrapKeepsItsVarbinds) {
  auto m =
      message("1.3.6.1.4.1.2011.5.25.1",
              {vb("1.3.6.1.4.1.2011.1", Value::make_bytes(ValueType::kOctetString, "\xff\x01")),
               vb("1.3.6.1.4.1.2011.2",
                  Value::make_bytes(ValueType::kIpAddress, std::string("\x0a\0\0\x01", 4)))});
  m.version = "v3";
  m.security_name = "trapuser";
  m.inform = true;
  auto e = trap_to_event(m, 1);
  ASSERT_TRUE(e.ok());
  auto j = e->to_json();
  EXPECT_EQ(j["user"], "trapuser");
  EXPECT_EQ(j["inform"], true);
  ASSERT_EQ(j["varbinds"].size(), 2u);
  EXPECT_EQ(j["varbinds"][0]["value"], "ff:01");  // not UTF-8: hex, JSON stays valid
  EXPECT_EQ(j["varbinds"][1]["value"], "10.0.0.1");
  EXPECT_NO_THROW(j.dump());
}

TEST(TrapToEvent, MalformedNotifications) {
  TrapMessage none;
  auto e = trap_to_event(none, 1);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), ErrorCode::kProtocol);
  TrapMessage wrong_type;
  wrong_type.varbinds.push_back(
      vb("1.3.6.1.6.3.1.1.4.1.0", Value::make_bytes(ValueType::kOctetString, "x")));
  EXPECT_FALSE(trap_to_event(wrong_type, 1).ok());
  // Bad interface indexes and statuses are ignored, not trusted.
  auto bad = trap_to_event(
      message("1.3.6.1.6.3.1.1.5.3", {vb("1.3.6.1.2.1.2.2.1.8.0", Value::make_integer(2)),
                                      vb("1.3.6.1.2.1.2.2.1.8.5", Value::make_integer(99))}),
      1);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->to_json()["if_index"], 5);
  EXPECT_FALSE(bad->to_json().contains("oper_status"));
}

}  // namespace
}  // namespace cg::snmp
