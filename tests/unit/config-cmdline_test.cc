// Kernel command line parsing, checked against kmod: each command line below becomes
// /proc/cmdline for Debian's /usr/sbin/modprobe (kmod 30) inside a user+mount namespace,
// and `modprobe -C EMPTY -c` output and stderr must equal what kmx derives from the same
// text. The peer suite's kcmdline fixtures are also checked against their golden files,
// which kmod 34.2 wrote.
#include "config/cmdline.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/mapped-file.h"
#include "test-support.h"
#include "config/modprobe-config.h"

using namespace kmx;
using namespace kmx::test;
namespace fs = std::filesystem;
using namespace std::string_literals;

namespace {

const std::string peer_kcmdline_base = peer_rootfs + "/test-modprobe";


// kmod's `modprobe -c` with no config files: stdout and stderr, with `cmdline` (a file
// path, or "" for the host's own) as /proc/cmdline.
std::pair<std::string, std::string> kmod_show_config(const std::string &cmdline, const std::string &scratch) {
  fs::create_directories(scratch + "/empty");
  std::string cmd;
  if (!cmdline.empty())
    cmd = fake_cmdline_prefix(cmdline);
  cmd += std::string(kmod_modprobe) + " -C " + shell_quote(scratch + "/empty") + " -d " + shell_quote(scratch + "/empty") +
         " -S 0 -c >" + shell_quote(scratch + "/out") + " 2>" + shell_quote(scratch + "/err");
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0);
  return {slurp(scratch + "/out"), slurp(scratch + "/err")};
}

std::pair<std::string, std::string> kmx_show_config(std::string_view cmdline_text) {
  Diag diag;
  ModprobeConfig cfg;
  apply_kernel_cmdline(cfg, parse_kernel_cmdline(cmdline_text, diag, ConfigDiagStyle::libkmod));
  std::string err;
  for (const DiagMessage &m : diag.messages()) err += "libkmod: ERROR " + m.msg + "\n";
  return {format_modprobe_config(cfg), err};
}

std::vector<std::string> hostile_cmdlines() {
  std::string longval = "a.b=" + std::string(5000, 'x') + " c.d=1";
  std::string cut_mid_word = std::string(4080, 'p') + " e.f=123456789012345 g.h=1";
  std::string cut_in_quote = std::string(4085, 'p') + " \"i.j=k l m\"";
  return {
      "psmouse.foo psmouse.bar=1 quiet rw\n",
      "a-b.c-d=e-f x_y.z=1\n",
      ".foo=1 x.=2 y. z.= .=\n",
      "modprobe.blacklist=a,,b, modprobe.blacklist= modprobe.blacklist modprobe.foo=1 "
      "modprobe.blacklist=\"q r\",s mod-probe.blacklist=t\n",
      "\"modprobe.blacklist=a b,c-d\"\n",
      "m.p=\"a\tb\" m.q=\"unterminated\n",
      "\"m.p=v\"x y\n",
      "m.p=v\"w x\"y z\n",
      "a.b.c=1 a=b.c d.e=f=g\n",
      "tab\tsep.a=1\vvt.b=2\fff.c=3\rcr.d=4\n",
      "x]y.p=1 m[a.b=2 m[a].c=3 m-[a-b]-c.d=4 a-b]c.e=5\n",
      "\"\" \"\"a.b=1 \"a\".b=1 a\".b=1 \"a.b\"=1 \"a.b\n",
      "",
      "\n",
      "   leading.space=1   \n",
      "a.b=1\0c.d=2\n"s,
      "m\xff.p=\xfe n.\x80=1\n",
      "m.p=\"a b\" n.q=\"c\"d\" e\n",
      "\"mod.p=x\"\"y z\" other.o=1\n",
      "\"a-b.c=1\" \"d.e\" \"f.g=\"\n",
      "modprobe.blacklist=snd-pcsp,pcspkr modprobe.blacklist=x\n",
      longval,
      cut_mid_word,
      cut_in_quote,
  };
}

}  // namespace

TEST(KernelCmdlineVsKmod, HostileCommandLines) {
  if (!executable(kmod_modprobe)) GTEST_SKIP() << "kmod's /usr/sbin/modprobe not installed";
  if (!can_fake_cmdline()) GTEST_SKIP() << "no user+mount namespaces: cannot give kmod a fake /proc/cmdline";
  TempDir t;
  int i = 0;
  for (const std::string &text : hostile_cmdlines()) {
    SCOPED_TRACE("case " + std::to_string(i) + ": " + text.substr(0, 120));
    std::string file = t.path + "/cmdline" + std::to_string(i++);
    write_file(file, text);
    auto [kout, kerr] = kmod_show_config(file, t.path);
    auto [xout, xerr] = kmx_show_config(text);
    EXPECT_EQ(xout, kout);
    EXPECT_EQ(xerr, kerr);
  }
}

TEST(KernelCmdlineVsKmod, HostCommandLine) {
  if (!executable(kmod_modprobe)) GTEST_SKIP() << "kmod's /usr/sbin/modprobe not installed";
  Result<std::string> host = read_kernel_cmdline("/proc/cmdline");
  if (!host) GTEST_SKIP() << "no /proc/cmdline";
  TempDir t;
  auto [kout, kerr] = kmod_show_config("", t.path);
  auto [xout, xerr] = kmx_show_config(*host);
  EXPECT_EQ(xout, kout);
  EXPECT_EQ(xerr, kerr);
}

// kmod 34.2 wrote these golden files (peer suite, from kmod's testsuite).
TEST(KernelCmdline, PeerSuiteGoldenFiles) {
  if (!fs::exists(peer_kcmdline_base)) GTEST_SKIP() << "peer suite missing";
  int checked = 0;
  for (int n = 2; n <= 9; n++) {
    fs::path dir = fs::path(peer_kcmdline_base) / ("module-param-kcmdline" + std::to_string(n));
    SCOPED_TRACE(dir.string());
    Result<std::string> text = read_kernel_cmdline((dir / "proc/cmdline").string());
    ASSERT_TRUE(text) << text.error().msg;
    auto [xout, xerr] = kmx_show_config(*text);
    EXPECT_EQ(xout, slurp((dir / "correct.txt").string()));
    checked++;
  }
  EXPECT_EQ(checked, 8);
}

TEST(KernelCmdline, RequotesGrubStyleWords) {
  Diag diag;
  KernelCmdlineConfig c = parse_kernel_cmdline("a \"parport.dyndbg=file x.c +p\" b.c=1", diag);
  ASSERT_EQ(c.options.size(), 2u);
  EXPECT_EQ(c.options[0], (ModuleOption{"parport", "dyndbg=\"file x.c +p\""}));
  EXPECT_EQ(c.options[1], (ModuleOption{"b", "c=1"}));
  EXPECT_EQ(diag.errors(), 0);
}

TEST(KernelCmdline, BlacklistIsSplitNotNormalised) {
  Diag diag;
  KernelCmdlineConfig c = parse_kernel_cmdline("modprobe.blacklist=a-b,,c", diag);
  EXPECT_EQ(c.blacklists, (std::vector<std::string>{"a-b", "", "c"}));
  EXPECT_TRUE(c.options.empty());
}

TEST(KernelCmdline, BadNameIsReportedAfterPartialNormalisation) {
  Diag diag;
  KernelCmdlineConfig c = parse_kernel_cmdline("a-b]c.x=1", diag);
  EXPECT_TRUE(c.options.empty());
  ASSERT_EQ(diag.messages().size(), 1u);
  EXPECT_EQ(diag.messages()[0].msg,
            "Ignoring bad option on kernel command line while parsing module name: 'a_b]c'");
}

TEST(KernelCmdline, OnlyFirst4095BytesCount) {
  Diag diag;
  std::string text = std::string(4090, 'p') + " a.b=1";  // "a.b=" fits, the value does not
  KernelCmdlineConfig c = parse_kernel_cmdline(text, diag);
  ASSERT_EQ(c.options.size(), 1u);
  EXPECT_EQ(c.options[0].options, "b=");
  TempDir t;
  write_file(t.path + "/c", std::string(5000, 'z'));
  Result<std::string> r = read_kernel_cmdline(t.path + "/c");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), kcmdline_max_bytes);
  Result<std::string> missing = read_kernel_cmdline(t.path + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  Result<std::string> dir = read_kernel_cmdline(t.path);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, Errc::io);
}

TEST(ConfigName, NormalisesOutsideBrackets) {
  struct Case {
    std::string in, out;
    bool ok;
  } cases[] = {
      {"a-b-c", "a_b_c", true},       {"pci:v[0-9]-x", "pci:v[0-9]_x", true},
      {"a]b", "a]b", false},          {"a-[b", "a_[b", false},
      {"[a-b][c-d]-e", "[a-b][c-d]_e", true}, {"", "", true},
  };
  for (Case c : cases) {
    std::string s = c.in;
    EXPECT_EQ(normalize_config_name(s), c.ok) << c.in;
    EXPECT_EQ(s, c.out) << c.in;
  }
}
