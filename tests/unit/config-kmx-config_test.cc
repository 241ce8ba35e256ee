// Unit tests for kmx's own config file (config/kmx-config.cc).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "config/kmx-config.h"
#include "test-support.h"

using namespace kmx;

namespace {

Result<KmxConfig> parse(std::string_view text) {
  KmxConfig cfg;
  TRY(parse_kmx_config_text(cfg, text, "/etc/kmx/kmx.conf"));
  return cfg;
}

std::string error_of(std::string_view text) {
  Result<KmxConfig> r = parse(text);
  if (r) return "(no error)";
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  return r.error().msg;
}

}  // namespace

TEST(KmxConfig, DefaultsWhenEmpty) {
  auto cfg = parse("");
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->persist);
  EXPECT_EQ(cfg->persist_db, "/var/lib/kmx/persist.db");
  EXPECT_EQ(cfg->idle_seconds, 60);
  EXPECT_TRUE(cfg->keep.empty());
  EXPECT_TRUE(cfg->module_idle.empty());
  EXPECT_EQ(cfg->control_socket, "/run/kmx/control");
  EXPECT_EQ(cfg->command_timeout, 180);
}

TEST(KmxConfig, EveryDirective) {
  auto cfg = parse(
      "# kmx.conf\n"
      "persist off   # trailing comment\n"
      "\tpersist-db /srv/kmx/p.db\n"
      "idle 120\n"
      "keep dummy snd-hda-intel\n"
      "keep loop\n"
      "idle-module tipc 0\n"
      "idle-module can-raw 5\n"
      "control-socket /run/kmx/ctl\r\n"
      "command-timeout 30\n"
      "\n   \n");
  ASSERT_TRUE(cfg) << cfg.error().msg;
  EXPECT_FALSE(cfg->persist);
  EXPECT_EQ(cfg->persist_db, "/srv/kmx/p.db");
  EXPECT_EQ(cfg->idle_seconds, 120);
  EXPECT_EQ(cfg->keep, (std::set<std::string>{"dummy", "snd_hda_intel", "loop"}));
  EXPECT_EQ(cfg->module_idle, (std::map<std::string, i64>{{"tipc", 0}, {"can_raw", 5}}));
  EXPECT_EQ(cfg->control_socket, "/run/kmx/ctl");
  EXPECT_EQ(cfg->command_timeout, 30);
  EXPECT_FALSE(parse("command-timeout 0\n"));
}

TEST(KmxConfig, LaterDirectiveWins) {
  auto cfg = parse("persist off\npersist on\nidle 5\nidle 7\nidle-module a 1\nidle-module a 2\n");
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->persist);
  EXPECT_EQ(cfg->idle_seconds, 7);
  EXPECT_EQ(cfg->module_idle.at("a"), 2);
}

TEST(KmxConfig, BadLinesNameFileAndLine) {
  struct Case {
    const char *text;
    const char *msg;
  } cases[] = {
      {"frobnicate 1\n", "/etc/kmx/kmx.conf:1: unknown directive 'frobnicate'"},
      {"# c\n\npersist maybe\n", "/etc/kmx/kmx.conf:3: 'persist' takes on or off, not 'maybe'"},
      {"persist\n", "/etc/kmx/kmx.conf:1: 'persist' takes one word: on or off"},
      {"persist on off\n", "/etc/kmx/kmx.conf:1: 'persist' takes one word: on or off"},
      {"persist-db relative.db\n", "/etc/kmx/kmx.conf:1: path 'relative.db' is not absolute"},
      {"persist-db\n", "/etc/kmx/kmx.conf:1: 'persist-db' takes one PATH"},
      {"control-socket a b\n", "/etc/kmx/kmx.conf:1: 'control-socket' takes one PATH"},
      {"idle 0\n", "/etc/kmx/kmx.conf:1: seconds 0 out of range [1, 31536000]"},
      {"idle -5\n", "/etc/kmx/kmx.conf:1: '-5' is not a number of seconds"},
      {"idle 1m\n", "/etc/kmx/kmx.conf:1: '1m' is not a number of seconds"},
      {"idle 99999999999999999999\n", "/etc/kmx/kmx.conf:1: '99999999999999999999' is not a number of seconds"},
      {"idle 31536001\n", "/etc/kmx/kmx.conf:1: seconds 31536001 out of range [1, 31536000]"},
      {"keep\n", "/etc/kmx/kmx.conf:1: 'keep' takes at least one MODULE"},
      {"keep ok ../evil\n", "/etc/kmx/kmx.conf:1: '../evil' is not a module name"},
      {"keep a$(reboot)\n", "/etc/kmx/kmx.conf:1: 'a$(reboot)' is not a module name"},
      {"keep aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
       "/etc/kmx/kmx.conf:1: module name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is longer than 55 bytes"},
      {"idle-module dummy\n", "/etc/kmx/kmx.conf:1: 'idle-module' takes MODULE SECONDS"},
      {"idle-module dummy x\n", "/etc/kmx/kmx.conf:1: 'x' is not a number of seconds"},
      {"idle 5\nPersist on\n", "/etc/kmx/kmx.conf:2: unknown directive 'Persist'"},
  };
  for (const Case &c : cases) EXPECT_EQ(error_of(c.text), c.msg) << c.text;
  EXPECT_EQ(error_of(std::string_view("idle 5\nkeep a\0b\n", 15)), "/etc/kmx/kmx.conf:2: NUL byte in line");
}

TEST(KmxConfig, MissingFileIsDefaults) {
  test::TempDir d("kmx-config-test");
  auto cfg = load_kmx_config(d.path + "/none.conf");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->source, "");
  EXPECT_TRUE(cfg->persist);
  auto over = load_kmx_config(d.path + "/none.conf", "/tmp/x.db");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->persist_db, "/tmp/x.db");
}

TEST(KmxConfig, FileAndOverride) {
  test::TempDir d("kmx-config-test");
  std::string path = d.path + "/kmx.conf";
  std::ofstream(path) << "persist-db /a/b.db\nidle 9\n";
  auto cfg = load_kmx_config(path);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->source, path);
  EXPECT_EQ(cfg->persist_db, "/a/b.db");
  EXPECT_EQ(cfg->idle_seconds, 9);
  auto over = load_kmx_config(path, "/c.db");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->persist_db, "/c.db");
  std::ofstream(path) << "idle 9\nidle nine\n";
  auto bad = load_kmx_config(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().msg, path + ":2: 'nine' is not a number of seconds");
}

TEST(KmxConfig, UnreadableFileIsAnError) {
  test::TempDir d("kmx-config-test");
  // A directory cannot be read as a file: the error names it.
  auto r = load_kmx_config(d.path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find(d.path), std::string::npos) << r.error().msg;
}

// The tools pass $KMX_PERSIST_DB as the override (tools/common.h).
TEST(KmxConfig, PersistDbOverride) {
  test::TempDir d("kmx-config-test");
  std::string path = d.path + "/k.conf";
  std::ofstream(path) << "persist off\npersist-db /from/file.db\n";
  auto a = load_kmx_config(path);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->persist);
  EXPECT_EQ(a->persist_db, "/from/file.db");
  auto b = load_kmx_config(path, "/from/env.db");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->persist_db, "/from/env.db");
}

TEST(KmxConfig, KernelCheckStrictOrWarn) {
  EXPECT_FALSE(parse("")->kernel_check_strict);
  EXPECT_TRUE(parse("kernel-check = strict\n")->kernel_check_strict);
  EXPECT_TRUE(parse("kernel-check strict\n")->kernel_check_strict);
  EXPECT_FALSE(parse("kernel-check strict\nkernel-check warn\n")->kernel_check_strict);
  EXPECT_NE(error_of("kernel-check fatal\n").find("'kernel-check' takes warn or strict"), std::string::npos);
  EXPECT_NE(error_of("kernel-check\n").find("kernel-check"), std::string::npos);
}
