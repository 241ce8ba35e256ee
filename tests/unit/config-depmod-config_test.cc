// Unit tests for depmod.d parsing (config/depmod-config.cc).
#include <gtest/gtest.h>

#include "config/depmod-config.h"

using namespace kmx;

namespace {

DepmodConfig parse(std::string_view text, Diag &diag, const std::string &kver = "6.1.0-54-amd64") {
  DepmodConfig cfg;
  parse_depmod_config_text(cfg, "/etc/depmod.d/t.conf", text, kver, diag);
  return cfg;
}

}  // namespace

TEST(DepmodConfig, DirectivesKeepKmodListOrder) {
  Diag diag;
  auto cfg = parse("search updates built-in\nsearch extra\nexclude a b\noverride foo * extra\nexternal * /opt/x\n", diag);
  ASSERT_EQ(cfg.searches.size(), 3u);
  // kmod pushes each entry at the head: reverse file order.
  EXPECT_EQ(cfg.searches[0].path, "extra");
  EXPECT_EQ(cfg.searches[1].type, SearchType::builtin);
  EXPECT_EQ(cfg.searches[2].path, "updates");
  EXPECT_EQ(cfg.excludes, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(cfg.overrides, (std::vector<std::string>{"extra/foo"}));
  EXPECT_EQ(cfg.externals, (std::vector<std::string>{"/opt/x"}));
  EXPECT_EQ(diag.errors(), 0);
}

TEST(DepmodConfig, BadLinesNameFileAndLine) {
  Diag diag;
  parse("# comment\n\nfrobnicate now\noverride onlytwo args\nsearch a \\\n b\nexternal x\n", diag);
  ASSERT_EQ(diag.messages().size(), 3u);
  EXPECT_EQ(diag.messages()[0].msg, "/etc/depmod.d/t.conf:3: ignoring bad line starting with 'frobnicate'");
  EXPECT_EQ(diag.messages()[1].msg, "/etc/depmod.d/t.conf:4: ignoring bad line starting with 'override'");
  // The continuation line counts: "external x" is physical line 7.
  EXPECT_EQ(diag.messages()[2].msg, "/etc/depmod.d/t.conf:7: ignoring bad line starting with 'external'");
}

TEST(DepmodConfig, KernelVersionRegex) {
  Diag diag;
  auto cfg = parse("override a 6\\.1.* x\noverride b ^5 y\noverride c * z\nexternal 7.* /no\n", diag);
  EXPECT_EQ(cfg.overrides, (std::vector<std::string>{"z/c", "x/a"}));
  EXPECT_TRUE(cfg.externals.empty());
  int infos = 0;
  for (auto &m : diag.messages()) infos += m.severity == Severity::info;
  EXPECT_EQ(infos, 2);
}

TEST(DepmodConfig, BackslashJoinsLinesAndIsDroppedOtherwise) {
  Diag diag;
  auto cfg = parse("search a\\\nb c\\d\n", diag);
  ASSERT_EQ(cfg.searches.size(), 2u);
  EXPECT_EQ(cfg.searches[0].path, "cd");
  EXPECT_EQ(cfg.searches[1].path, "ab");
}

TEST(DepmodConfig, DefaultSearchIsUpdates) {
  Diag diag;
  auto cfg = load_depmod_config({"/nonexistent-kmx-dir"}, "1.2.3", diag);
  ASSERT_EQ(cfg.searches.size(), 1u);
  EXPECT_EQ(cfg.searches[0].path, "updates");
}
