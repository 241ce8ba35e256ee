// modprobe.d parsing and the `modprobe -c` formatter.
//
// The reference is kmod itself: each differential test writes a config tree into a temp
// dir, runs Debian's /usr/sbin/modprobe (kmod 30) with `-C` for each config dir and
// `-d ROOT -S VER -c`, and compares stdout and stderr with what kmx's library produces for
// the same tree, byte for byte. kmod always reads /proc/cmdline, so it runs in a user+mount
// namespace where a fixture file is bind-mounted over /proc/cmdline; without namespaces
// both sides read the host's /proc/cmdline instead. The two directives kmod 30 does not
// know (kmod 34's `weakdep`, kmx's `forbid`) are taken out of both outputs before comparing
// and are checked against kmod 34's own golden file from the peer suite.
#include "config/modprobe-config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/mapped-file.h"
#include "test-support.h"

using namespace kmx;
using namespace kmx::test;
namespace fs = std::filesystem;

namespace {


struct KmodRun {
  std::string out, err;
  int status = -1;
};

// Runs kmod's modprobe with args; with fake_cmdline set, that file is its /proc/cmdline.
KmodRun run_kmod(const std::vector<std::string> &args, const std::string &fake_cmdline,
                 const std::string &scratch) {
  std::string cmd;
  if (!fake_cmdline.empty())
    cmd = fake_cmdline_prefix(fake_cmdline);
  cmd += kmod_modprobe;
  for (const std::string &a : args) cmd += " " + shell_quote(a);
  cmd += " >" + shell_quote(scratch + "/kmod.out") + " 2>" + shell_quote(scratch + "/kmod.err");
  KmodRun r;
  r.status = std::system(cmd.c_str());
  r.out = slurp(scratch + "/kmod.out");
  r.err = slurp(scratch + "/kmod.err");
  return r;
}

// Drops lines that only exist because kmod 30 does not know `weakdep`/`forbid`.
std::string without_new_directives(const std::string &text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("weakdep ", 0) == 0 || line.rfind("forbid ", 0) == 0) continue;
    if (line.ends_with("ignoring bad line starting with 'weakdep'") ||
        line.ends_with("ignoring bad line starting with 'forbid'"))
      continue;
    out += line + "\n";
  }
  return out;
}

std::string kmx_stderr(const Diag &diag) {
  std::string out;
  for (const DiagMessage &m : diag.messages()) out += "libkmod: ERROR " + m.msg + "\n";
  return out;
}

struct Differential {
  std::string kmx_out, kmx_err, kmod_out, kmod_err;
};

// Runs both sides over root: config dirs `dirs` (as -C, in order), module dir
// ROOT/lib/modules/VER, and ROOT/proc/cmdline as the kernel command line.
Differential compare_with_kmod(const std::string &root, const std::vector<std::string> &dirs,
                               const std::string &version, const std::string &scratch,
                               bool kmx_defaults = false) {
  Differential d;
  std::string cmdline = root + "/proc/cmdline";
  bool fake = can_fake_cmdline();
  if (!fake) {
    // Both sides then see the host's command line.
    write_file(cmdline, slurp("/proc/cmdline"));
  }
  std::vector<std::string> args;
  for (const std::string &dir : dirs) {
    args.push_back("-C");
    args.push_back(root + dir);
  }
  args.insert(args.end(), {"-d", root, "-S", version, "-c"});
  KmodRun k = run_kmod(args, fake ? cmdline : "", scratch);
  EXPECT_EQ(k.status, 0) << k.err;
  d.kmod_out = without_new_directives(k.out);
  d.kmod_err = without_new_directives(k.err);

  ModprobeConfigSources src;
  src.root = root;
  if (!kmx_defaults) src.config_paths = dirs;
  src.module_dir = "/lib/modules/" + version;
  src.diag_style = ConfigDiagStyle::libkmod;
  Diag diag;
  ModprobeConfig cfg = load_modprobe_config(src, diag);
  d.kmx_out = without_new_directives(format_modprobe_config(cfg));
  d.kmx_err = without_new_directives(kmx_stderr(diag));
  return d;
}

bool have_kmod() { return executable(kmod_modprobe); }

const std::vector<std::string> kmod30_dirs = {"/etc/modprobe.d", "/run/modprobe.d",
                                              "/usr/local/lib/modprobe.d", "/lib/modprobe.d"};

// A tree with every directive, the precedence dirs, overrides, continuation lines,
// comments, escapes, odd spacing and bad lines.
void write_rich_tree(const std::string &root) {
  using namespace std::string_literals;
  write_file(root + "/etc/modprobe.d/10-local.conf",
             "# local overrides\n"
             "alias net-pf-99 my-proto\n"
             "options snd-hda-intel\tmodel=auto  index=0 \t\n"
             "blacklist pcspkr\n"
             "blacklist\n"
             "blacklist two words-here\n"
             "install fake-mod /bin/echo \"install \\\n"
             "  fake\" ; /sbin/modprobe --ignore-install fake-mod\n"
             "remove fake-mod /bin/true\n"
             "remove\tfake-two\t/bin/false\n"
             "softdep snd-hda pre: snd-a snd-b post: snd-c\n"
             "softdep x-y post: a pre: b post: c\n"
             "softdep one-space  pre: a\n"
             "softdep two-space   pre: a post: b\n"
             "softdep tab-start\tpre:\tq-r\ts_t\n"
             "softdep no-kind a b c\n"
             "softdep none-at-all\n"
             "softdep trailing pre: a   \n"
             "weakdep w-a  b c\n"
             "weakdep w-b b\tc \n"
             "forbid evil-mod\n"
             "include /etc/foo\n"
             "config bar\n"
             "  # indented comment is a bad line\n"
             "unknown-directive foo\n"
             "alias only-one\n"
             "alias pci:v00008086d*sv*sd*bc*sc*i* e1000e-x\n"
             "alias usb:v1234p[0-9a-f-]*d-x my-drv\n"
             "alias bad]name x\n"
             "alias open[name x\n"
             "options m-x\n"
             "options m-y \n"
             "\t\t\n"
             "\n"
             "options esc-mod a=\\\\b c=\\d\n"
             "blacklist crlf-mod\r\n"
             "options multi \\\n"
             "  line=1 \\\n"
             "  more=2\n"
             "#comment with continuation \\\n"
             "blacklist hidden-by-comment-continuation\n"
             "alias  a-b   c-d  extra\n"
             "install with-tab\tcmd\targ\n"
             "options last-no-newline x=1");
  write_file(root + "/etc/modprobe.d/50-override.conf", "blacklist from-etc-50\n");
  write_file(root + "/etc/modprobe.d/nul.conf",
             "options nul-mod a=1\0garbage\nblacklist after-nul\n\0\nalias x y\n"s);
  write_file(root + "/etc/modprobe.d/.hidden.conf", "blacklist hidden-dotfile\n");
  write_file(root + "/etc/modprobe.d/README", "blacklist not-a-conf\n");
  write_file(root + "/etc/modprobe.d/a.con", "blacklist not-a-conf2\n");
  write_file(root + "/etc/modprobe.d/old.alias", "alias old-style old-mod\n");
  write_file(root + "/etc/modprobe.d/x.conf/inner.conf", "blacklist nested\n");
  write_file(root + "/etc/modprobe.d/empty.conf", "");
  write_file(root + "/run/modprobe.d/10-local.conf", "blacklist hidden-by-etc\n");
  write_file(root + "/run/modprobe.d/20-run.conf", "options run-mod r=1\noptions snd-hda-intel from_run=1\n");
  write_file(root + "/usr/local/lib/modprobe.d/30-ul.conf", "install ul-mod /bin/true\n");
  write_file(root + "/lib/modprobe.d/50-override.conf", "blacklist hidden-lib-50\n");
  write_file(root + "/lib/modprobe.d/90-lib.conf",
             "alias lib-alias lib-mod\noptions snd-hda-intel from_lib=1\n");
  write_file(root + "/lib/modprobe.d/aa.conf", "options aa-mod first=1\n");
  write_file(root + "/lib/modprobe.d/n-late.conf", "options late-mod after=softdep\n");
  write_file(root + "/lib/modprobe.d/zz.conf", "softdep zz-mod pre: a\n");
  write_file(root + "/lib/modules/1.2.3/modules.softdep",
             "# Soft dependencies extracted from modules themselves.\n"
             "softdep mod-dep pre: foo-bar post: baz\n");
  write_file(root + "/lib/modules/1.2.3/modules.weakdep",
             "# Weak dependencies extracted from modules themselves.\nweakdep mod-w dep-w\n");
  write_file(root + "/proc/cmdline",
             "BOOT_IMAGE=/vmlinuz quiet snd-hda-intel.power_save=1 modprobe.blacklist=cm-a,cm_b "
             "a-b]c.x=1 \"q.r=s t\"\n");
}

}  // namespace

TEST(ModprobeConfigVsKmod, RichTreeMatchesModprobeC) {
  if (!have_kmod()) GTEST_SKIP() << "kmod's /usr/sbin/modprobe not installed";
  TempDir t;
  std::string root = t.path + "/root";
  write_rich_tree(root);
  Differential d = compare_with_kmod(root, kmod30_dirs, "1.2.3", t.path);
  EXPECT_EQ(d.kmx_out, d.kmod_out);
  EXPECT_EQ(d.kmx_err, d.kmod_err);
  if (getenv("KMX_TEST_SHOW")) std::fprintf(stderr, "%s---\n%s", d.kmod_out.c_str(), d.kmod_err.c_str());
  // The comparison must have had something to compare.
  EXPECT_NE(d.kmod_out.find("softdep mod_dep pre: foo-bar"), std::string::npos) << d.kmod_out;
  EXPECT_NE(d.kmod_err.find("ignoring bad line"), std::string::npos) << d.kmod_err;
}

TEST(ModprobeConfigVsKmod, DefaultDirListAndOverridesMatchKmodGivenTheSameList) {
  if (!have_kmod()) GTEST_SKIP() << "kmod's /usr/sbin/modprobe not installed";
  TempDir t;
  std::string root = t.path + "/root";
  // The same basename in every default dir: only the first dir's copy may count.
  const std::vector<std::string> dirs = default_modprobe_config_paths();
  for (size_t i = 0; i < dirs.size(); i++) {
    std::string n = std::to_string(i);
    write_file(root + dirs[i] + "/same.conf", "options same-mod from_dir" + n + "=1\n");
    write_file(root + dirs[i] + "/own" + n + ".conf", "alias own" + n + " mod" + n + "\n");
    write_file(root + dirs[dirs.size() - 1 - i] + "/rev" + n + ".conf", "blacklist rev" + n + "\n");
  }
  write_file(root + "/proc/cmdline", "\n");
  // kmod 30 only knows four of the dirs; give it kmx's full list with -C.
  Differential d = compare_with_kmod(root, dirs, "1.2.3", t.path, /*kmx_defaults=*/true);
  EXPECT_EQ(d.kmx_out, d.kmod_out);
  EXPECT_EQ(d.kmx_err, d.kmod_err);
  EXPECT_NE(d.kmod_out.find("options same_mod from_dir0=1"), std::string::npos) << d.kmod_out;
}

TEST(ModprobeConfigVsKmod, SingleFileOnCommandLine) {
  if (!have_kmod()) GTEST_SKIP() << "kmod's /usr/sbin/modprobe not installed";
  TempDir t;
  std::string root = t.path + "/root";
  // A file named with -C is read whatever its name; a second -C dir is merged by basename.
  write_file(root + "/cfg/my-config.txt", "alias single-file sf-mod\nbad line here\n");
  write_file(root + "/cfg2/my-config.txt", "blacklist same-basename-ignored\n");
  write_file(root + "/cfg2/b.conf", "blacklist from-cfg2\n");
  write_file(root + "/proc/cmdline", "\n");
  // The second entry is a file whose basename is not *.conf: not listed from a dir.
  Differential d = compare_with_kmod(root, {"/cfg/my-config.txt", "/cfg2"}, "9.9", t.path);
  EXPECT_EQ(d.kmx_out, d.kmod_out);
  EXPECT_EQ(d.kmx_err, d.kmod_err);
  EXPECT_NE(d.kmod_out.find("alias single_file sf_mod"), std::string::npos) << d.kmod_out;
}

// Every config the peer suite (kmod's own testsuite fixtures) feeds to modprobe.
TEST(ModprobeConfigVsKmod, PeerSuiteFixtures) {
  if (!have_kmod()) GTEST_SKIP() << "kmod's /usr/sbin/modprobe not installed";
  if (!fs::exists(peer_rootfs)) GTEST_SKIP() << "peer suite not at " << peer_rootfs;
  int compared = 0;
  for (const char *group : {"test-modprobe", "test-weakdep"}) {
    fs::path base = fs::path(peer_rootfs) / group;
    std::vector<fs::path> roots;
    if (fs::exists(base / "etc")) roots.push_back(base);
    else
      for (auto &e : fs::directory_iterator(base)) roots.push_back(e.path());
    for (const fs::path &fixture : roots) {
      if (!fs::exists(fixture / "etc/modprobe.d") && !fs::exists(fixture / "proc/cmdline")) continue;
      SCOPED_TRACE(fixture.string());
      TempDir t;
      std::string root = t.path + "/root";
      fs::copy(fixture, root, fs::copy_options::recursive);
      if (!fs::exists(root + "/proc/cmdline")) write_file(root + "/proc/cmdline", "\n");
      Differential d = compare_with_kmod(root, {"/etc/modprobe.d"}, "4.4.4", t.path);
      // kmod's stdout also has the index dump after the marker; that part is not ours.
      std::string marker = "# End of configuration files. Dumping indexes now:\n\n";
      size_t at = d.kmod_out.find(marker);
      ASSERT_NE(at, std::string::npos);
      EXPECT_EQ(d.kmx_out, d.kmod_out.substr(0, at + marker.size()));
      EXPECT_EQ(d.kmx_err, d.kmod_err);
      compared++;
    }
  }
  EXPECT_GE(compared, 13);
}

// kmod 34.2's own `modprobe -c` output for the weakdep fixture (golden file written by
// kmod, shipped with the peer suite): kmod 30 cannot check weakdep.
TEST(ModprobeConfig, WeakdepMatchesKmod34Golden) {
  fs::path fixture = fs::path(peer_rootfs) / "test-weakdep";
  if (!fs::exists(fixture / "modprobe-c.txt")) GTEST_SKIP() << "peer suite fixture missing";
  ModprobeConfigSources src;
  src.root = fixture.string();
  src.module_dir = "/lib/modules/4.4.4";
  src.kcmdline_path.clear();
  Diag diag;
  std::string got = format_modprobe_config(load_modprobe_config(src, diag));
  std::string golden = slurp((fixture / "modprobe-c.txt").string());
  EXPECT_EQ(got, golden.substr(0, got.size()));
  EXPECT_NE(got.find("weakdep mod_weakdep mod-simple"), std::string::npos);
  EXPECT_EQ(diag.errors(), 0);
}

// modules.softdep and modules.weakdep are depmod's copy of module metadata: only their own
// directive is read from them (kmod reads them as full modprobe.d files); modprobe.d keeps
// every directive.
TEST(ModprobeConfig, DepmodOutputsHoldOnlyTheirDirective) {
  test::TempDir root("kmx-modprobe-conf");
  test::write_file(root.path + "/lib/modules/6.1/modules.softdep",
                   "# Soft dependencies extracted from modules themselves.\nsoftdep mii pre: x\ninstall dummy id\n"
                   "alias evil dummy\n");
  test::write_file(root.path + "/lib/modules/6.1/modules.weakdep", "weakdep dummy mii\nremove dummy id\n");
  test::write_file(root.path + "/etc/modprobe.d/a.conf", "install loop /bin/true\n");
  ModprobeConfigSources src;
  src.root = root.path;
  src.module_dir = "/lib/modules/6.1";
  src.config_paths = {"/etc/modprobe.d"};
  src.kcmdline_path.clear();
  Diag diag;
  ModprobeConfig cfg = load_modprobe_config(src, diag);
  ASSERT_EQ(cfg.softdeps.size(), 1u);
  EXPECT_EQ(cfg.softdeps[0].modname, "mii");
  ASSERT_EQ(cfg.weakdeps.size(), 1u);
  ASSERT_EQ(cfg.install_commands.size(), 1u);
  EXPECT_EQ(cfg.install_commands[0].modname, "loop");
  EXPECT_TRUE(cfg.remove_commands.empty());
  EXPECT_TRUE(cfg.aliases.empty());
  ASSERT_EQ(diag.warnings(), 3);
  // The file is named by its full path (root included).
  const std::string &m0 = diag.messages()[0].msg, &m1 = diag.messages()[1].msg;
  EXPECT_TRUE(m0.starts_with(root.path)) << m0;
  EXPECT_TRUE(m0.ends_with("/lib/modules/6.1/modules.softdep line 3: ignoring 'install' line: only softdep lines are read from this file")) << m0;
  EXPECT_TRUE(m1.ends_with("/lib/modules/6.1/modules.softdep line 4: ignoring 'alias' line: only softdep lines are read from this file")) << m1;
}

TEST(ModprobeConfig, LineNumbersCountContinuations) {
  ModprobeConfig cfg;
  Diag diag;
  parse_modprobe_config_text(cfg, "alias a b\ninstall x \\\n  y\nbogus\n\\\n\\\nbad2 z\n", "f.conf", diag);
  ASSERT_EQ(diag.messages().size(), 2u);
  EXPECT_EQ(diag.messages()[0].msg, "f.conf line 4: ignoring bad line starting with 'bogus'");
  EXPECT_EQ(diag.messages()[1].msg, "f.conf line 7: ignoring bad line starting with 'bad2'");
  ASSERT_EQ(cfg.install_commands.size(), 1u);
  EXPECT_EQ(cfg.install_commands[0].command, "  y");
}

TEST(ModprobeConfig, LibkmodStyleNamesKmodOrigin) {
  ModprobeConfig cfg;
  Diag diag;
  parse_modprobe_config_text(cfg, "include x\nfoo\n", "/etc/modprobe.d/a.conf", diag, ConfigDiagStyle::libkmod);
  ASSERT_EQ(diag.messages().size(), 2u);
  EXPECT_EQ(diag.messages()[0].msg,
            "../libkmod/libkmod-config.c:708 kmod_config_parse: /etc/modprobe.d/a.conf: command include is deprecated and not parsed anymore");
  EXPECT_EQ(diag.messages()[1].msg,
            "../libkmod/libkmod-config.c:712 kmod_config_parse: /etc/modprobe.d/a.conf line 2: ignoring bad line starting with 'foo'");
}

TEST(ModprobeConfig, FinalBackslashIsDroppedAsKmod34Does) {
  ModprobeConfig cfg;
  Diag diag;
  parse_modprobe_config_text(cfg, "options m a=1\\", "f", diag);
  ASSERT_EQ(cfg.options.size(), 1u);
  EXPECT_EQ(cfg.options[0].options, "a=1");
}

TEST(ModprobeConfig, ForbidIsKeptAndNormalised) {
  ModprobeConfig cfg;
  Diag diag;
  parse_modprobe_config_text(cfg, "forbid evil-mod extra\nforbid\nforbid bad]x\n", "f", diag);
  EXPECT_EQ(cfg.forbidden, std::vector<std::string>{"evil_mod"});
  EXPECT_TRUE(cfg.is_forbidden("evil_mod"));
  EXPECT_FALSE(cfg.is_forbidden("evil-mod"));
  EXPECT_FALSE(cfg.is_blacklisted("evil_mod"));
  ASSERT_EQ(diag.messages().size(), 2u);
  EXPECT_EQ(diag.messages()[0].msg, "f line 2: ignoring bad line starting with 'forbid'");
  std::string shown = format_modprobe_config(cfg, ShowForbidden::yes);
  EXPECT_NE(shown.find("forbid evil_mod\n"), std::string::npos);
  EXPECT_EQ(format_modprobe_config(cfg).find("forbid"), std::string::npos);
}

TEST(ModprobeConfig, LookupsFollowKmodRules) {
  ModprobeConfig cfg;
  Diag diag;
  parse_modprobe_config_text(cfg,
                             "options snd a=1\noptions snd-alias b=2\noptions snd  \noptions snd c=3\n"
                             "install snd* first\ninstall snd second\n"
                             "remove s?d rm\n"
                             "softdep sn* pre: x post: y\nsoftdep snd pre: z\n"
                             "weakdep snd w1 w2\n"
                             "alias pci:v*d1234* drv-a\nalias pci:v8086* drv-b\nalias other drv-c\n"
                             "blacklist snd\n",
                             "f", diag);
  EXPECT_EQ(diag.errors(), 0);
  // The blank-but-present " " entry is kept (kmod only skips zero-length ones).
  EXPECT_EQ(cfg.options_for("snd"), "a=1   c=3");
  EXPECT_EQ(cfg.options_for("snd", "snd_alias"), "a=1 b=2   c=3");
  ASSERT_NE(cfg.install_command_for("snd"), nullptr);
  EXPECT_EQ(*cfg.install_command_for("snd"), "first");
  EXPECT_EQ(cfg.install_command_for("other"), nullptr);
  ASSERT_NE(cfg.remove_command_for("snd"), nullptr);
  const ModprobeSoftdep *sd = cfg.softdep_for("snd");
  ASSERT_NE(sd, nullptr);
  EXPECT_EQ(sd->pre, std::vector<std::string>{"x"});
  EXPECT_EQ(sd->post, std::vector<std::string>{"y"});
  ASSERT_NE(cfg.weakdep_for("snd"), nullptr);
  EXPECT_EQ(cfg.weakdep_for("snd")->weak, (std::vector<std::string>{"w1", "w2"}));
  auto matches = cfg.aliases_matching("pci:v8086d1234");
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(matches[0]->modname, "drv_a");
  EXPECT_EQ(matches[1]->modname, "drv_b");
  EXPECT_TRUE(cfg.is_blacklisted("snd"));
  EXPECT_FALSE(cfg.is_blacklisted("sn*"));
}

TEST(ModprobeConfig, OptionsForKeepsSpacingOfEntries) {
  ModprobeConfig cfg;
  Diag diag;
  parse_modprobe_config_text(cfg, "options m  a=1\toptions\noptions m b=2 \n", "f", diag);
  EXPECT_EQ(cfg.options_for("m"), " a=1 options b=2 ");
}
