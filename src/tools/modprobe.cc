// kmx modprobe: kmod 30's modprobe (tools/modprobe.c), option for option.
//
// Done so far: the option table (kmod's "arw:RibfDcnC:d:S:sqvVh" and long options),
// $MODPROBE_OPTIONS prepended to argv the way kmod splits it, -V, -h, and -c/--showconfig:
// the configuration dump of src/config/modprobe-config followed by the modules.alias and
// modules.symbols index dumps. Module resolution and loading (-a, -r, -D, -R, -n, ...) are
// not written yet; those modes say so and fail instead of pretending.
//
// Config diagnostics: kmod reports them from inside kmod_new(), before modprobe installs
// its own logger, so they reach stderr through libkmod's default logger as
// "libkmod: ERROR ../libkmod/libkmod-config.c:712 kmod_config_parse: ...", whatever -q says,
// unless $KMOD_LOG lowers libkmod's priority below LOG_ERR.
#include <getopt.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/mapped-file.h"
#include "config/modprobe-config.h"
#include "index/trie-index.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

const char short_options[] = "arw:RibfDcnC:d:S:sqvVh";
const struct option long_options[] = {
    {"all", no_argument, nullptr, 'a'},
    {"remove", no_argument, nullptr, 'r'},
    {"remove-dependencies", no_argument, nullptr, 5},
    {"remove-holders", no_argument, nullptr, 5},
    {"wait", required_argument, nullptr, 'w'},
    {"resolve-alias", no_argument, nullptr, 'R'},
    {"first-time", no_argument, nullptr, 3},
    {"ignore-install", no_argument, nullptr, 'i'},
    {"ignore-remove", no_argument, nullptr, 'i'},
    {"use-blacklist", no_argument, nullptr, 'b'},
    {"force", no_argument, nullptr, 'f'},
    {"force-modversion", no_argument, nullptr, 2},
    {"force-vermagic", no_argument, nullptr, 1},
    {"show-depends", no_argument, nullptr, 'D'},
    {"showconfig", no_argument, nullptr, 'c'},
    {"show-config", no_argument, nullptr, 'c'},
    {"show-modversions", no_argument, nullptr, 4},
    {"dump-modversions", no_argument, nullptr, 4},
    {"show-exports", no_argument, nullptr, 6},
    {"dry-run", no_argument, nullptr, 'n'},
    {"show", no_argument, nullptr, 'n'},
    {"config", required_argument, nullptr, 'C'},
    {"dirname", required_argument, nullptr, 'd'},
    {"set-version", required_argument, nullptr, 'S'},
    {"syslog", no_argument, nullptr, 's'},
    {"quiet", no_argument, nullptr, 'q'},
    {"verbose", no_argument, nullptr, 'v'},
    {"version", no_argument, nullptr, 'V'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

void help(const char *p) {
  std::printf(
      "Usage:\n"
      "\t%s [options] [-i] [-b] modulename\n"
      "\t%s [options] -a [-i] [-b] modulename [modulename...]\n"
      "\t%s [options] -r [-i] modulename\n"
      "\t%s [options] -r -a [-i] modulename [modulename...]\n"
      "\t%s [options] -c\n"
      "\t%s [options] --dump-modversions filename\n"
      "Management Options:\n"
      "\t-a, --all                   Consider every non-argument to\n"
      "\t                            be a module name to be inserted\n"
      "\t                            or removed (-r)\n"
      "\t-r, --remove                Remove modules instead of inserting\n"
      "\t    --remove-dependencies   Deprecated: use --remove-holders\n"
      "\t    --remove-holders        Also remove module holders (use together with -r)\n"
      "\t-w, --wait <MSEC>           When removing a module, wait up to MSEC for\n"
      "\t                            module's refcount to become 0 so it can be\n"
      "\t                            removed (use together with -r)\n"
      "\t    --first-time            Fail if module already inserted or removed\n"
      "\t-i, --ignore-install        Ignore install commands\n"
      "\t-i, --ignore-remove         Ignore remove commands\n"
      "\t-b, --use-blacklist         Apply blacklist to resolved alias.\n"
      "\t-f, --force                 Force module insertion or removal.\n"
      "\t                            implies --force-modversions and\n"
      "\t                            --force-vermagic\n"
      "\t    --force-modversion      Ignore module's version\n"
      "\t    --force-vermagic        Ignore module's version magic\n"
      "\n"
      "Query Options:\n"
      "\t-R, --resolve-alias         Only lookup and print alias and exit\n"
      "\t-D, --show-depends          Only print module dependencies and exit\n"
      "\t-c, --showconfig            Print out known configuration and exit\n"
      "\t-c, --show-config           Same as --showconfig\n"
      "\t    --show-modversions      Dump module symbol version and exit\n"
      "\t    --dump-modversions      Same as --show-modversions\n"
      "\t    --show-exports          Only print module exported symbol versions and exit\n"
      "\n"
      "General Options:\n"
      "\t-n, --dry-run               Do not execute operations, just print out\n"
      "\t-n, --show                  Same as --dry-run\n"
      "\t-C, --config=FILE           Use FILE instead of default search paths\n"
      "\t-d, --dirname=DIR           Use DIR as filesystem root for /lib/modules\n"
      "\t-S, --set-version=VERSION   Use VERSION instead of `uname -r`\n"
      "\t-s, --syslog                print to syslog, not stderr\n"
      "\t-q, --quiet                 disable messages\n"
      "\t-v, --verbose               enables more messages\n"
      "\t-V, --version               show version\n"
      "\t-h, --help                  show this help\n",
      p, p, p, p, p, p);
}

// kmod's prepend_options_from_env(): words of $MODPROBE_OPTIONS split on ' ', a quoted
// word ("..." or '...') taken without its quotes, quotes inside a word removed. Kept
// byte-compatible, including its quirks (a word that ends at a closing quote followed by a
// space yields an extra empty argument).
std::vector<std::string> modprobe_options_from_env() {
  const char *env = std::getenv("MODPROBE_OPTIONS");
  std::vector<std::string> out;
  if (!env) return out;
  std::string buf(env);
  buf.push_back('\0');
  size_t str = 0, s = 0, end = buf.size() - 1;
  size_t quote = std::string::npos;
  auto word_at = [&](size_t at) { return std::string(buf.c_str() + at); };
  for (s = 0; buf[s] != '\0'; s++) {
    if (quote == std::string::npos) {
      if (buf[s] == ' ') {
        buf[s] = '\0';
        out.push_back(word_at(str));
        str = s + 1;
      } else if (buf[s] == '"' || buf[s] == '\'') {
        quote = s;
      }
    } else if (buf[s] == buf[quote]) {
      if (quote == str) {
        buf[s] = '\0';
        out.push_back(word_at(str + 1));
        str = s + 1;
      } else {
        // Drop both quote characters and continue after the quoted text.
        for (size_t it = quote; it + 1 < s; it++) buf[it] = buf[it + 1];
        for (size_t it = s - 1; it + 2 < end; it++) buf[it] = buf[it + 2];
        end -= 2;
        buf[end] = '\0';
        s -= 2;
      }
      quote = std::string::npos;
    }
  }
  if (str < s) out.push_back(word_at(str));
  return out;
}

// libkmod's KMOD_LOG parsing (log_priority() in libkmod.c).
int kmod_log_priority() {
  const char *env = secure_getenv("KMOD_LOG");
  if (!env) return 3;  // LOG_ERR
  char *endptr = nullptr;
  long prio = std::strtol(env, &endptr, 10);
  if (endptr[0] == '\0' || std::isspace(static_cast<unsigned char>(endptr[0])))
    return static_cast<int>(prio);
  if (std::strncmp(env, "err", 3) == 0) return 3;
  if (std::strncmp(env, "info", 4) == 0) return 6;
  if (std::strncmp(env, "debug", 5) == 0) return 7;
  return 0;
}

std::string absolute(const std::string &path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

// kmod_dump_index(): an index that is missing or unreadable prints nothing.
void dump_index(const char *p, const std::string &path, std::string_view prefix) {
  Result<MappedFile> file = MappedFile::open(path);
  if (!file) return;
  Result<IndexReader> reader = IndexReader::parse(file->view());
  if (!reader) return;
  Result<std::string> text = reader->dump(prefix);
  if (!text) {
    log_error(p, "{}: {}\n", path, text.error().msg);
    return;
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
}

int show_config(const char *p, const std::vector<std::string> &config_paths, const std::string &dirname) {
  ModprobeConfigSources src;
  src.config_paths = config_paths;
  src.module_dir = dirname;
  src.diag_style = ConfigDiagStyle::libkmod;
  bool print_errors = kmod_log_priority() >= 3;
  Diag diag([&](const DiagMessage &m) {
    if (print_errors) std::fprintf(stderr, "libkmod: ERROR %s\n", m.msg.c_str());
  });
  ModprobeConfig cfg = load_modprobe_config(src, diag);
  std::string text = format_modprobe_config(cfg);
  std::fwrite(text.data(), 1, text.size(), stdout);
  dump_index(p, dirname + "/modules.alias.bin", "alias ");
  dump_index(p, dirname + "/modules.symbols.bin", "alias ");
  std::fflush(stdout);
  return EXIT_SUCCESS;
}

}  // namespace

int modprobe_main(int argc, char **argv) {
  const char *p = std::strrchr(argv[0], '/') ? std::strrchr(argv[0], '/') + 1 : argv[0];

  std::vector<std::string> env_args = modprobe_options_from_env();
  std::vector<char *> args;
  args.push_back(argv[0]);
  for (std::string &a : env_args) args.push_back(a.data());
  for (int i = 1; i < argc; i++) args.push_back(argv[i]);
  args.push_back(nullptr);
  int nargc = static_cast<int>(args.size()) - 1;

  std::vector<std::string> config_paths;
  const char *root = nullptr;
  const char *kversion = nullptr;
  bool show_cfg = false;
  const char *unimplemented = nullptr;

  optind = 0;
  for (;;) {
    int idx = 0;
    int c = getopt_long(nargc, args.data(), short_options, long_options, &idx);
    if (c == -1) break;
    switch (c) {
    case 'w': {
      char *endptr = nullptr;
      std::strtoul(optarg, &endptr, 0);
      if (!*optarg || *endptr) {
        log_error(p, "unexpected wait value '{}'.\n", optarg);
        return EXIT_FAILURE;
      }
      break;
    }
    case 'a': unimplemented = "--all"; break;
    case 'r': unimplemented = "--remove"; break;
    case 'R': unimplemented = "--resolve-alias"; break;
    case 'D': unimplemented = "--show-depends"; break;
    case 4: unimplemented = "--show-modversions"; break;
    case 6: unimplemented = "--show-exports"; break;
    case 5: case 3: case 'i': case 'b': case 'f': case 2: case 1: case 'n': case 's': case 'q':
    case 'v':
      break;
    case 'c': show_cfg = true; break;
    case 'C': config_paths.emplace_back(optarg); break;
    case 'd': root = optarg; break;
    case 'S': kversion = optarg; break;
    case 'V':
      std::puts("kmod version 30");
      std::puts("+ZSTD +XZ +ZLIB +LIBCRYPTO -EXPERIMENTAL (kmx " KMX_VERSION ")");
      return EXIT_SUCCESS;
    case 'h': help(p); return EXIT_SUCCESS;
    case '?': return EXIT_FAILURE;
    default:
      log_error(p, "unexpected getopt_long() value '{}'.\n", static_cast<char>(c));
      return EXIT_FAILURE;
    }
  }
  int nargs = nargc - optind;

  if (!show_cfg && nargs == 0) {
    log_error(p, "missing parameters. See -h.\n");
    return EXIT_FAILURE;
  }

  std::string dirname;
  if (root || kversion) {
    std::string release = kversion ? kversion : running_release();
    dirname = std::string(root ? root : "") + "/lib/modules/" + release;
  } else {
    dirname = "/lib/modules/" + running_release();
  }
  dirname = absolute(dirname);

  if (show_cfg) return show_config(p, config_paths, dirname);

  log_error(p, "kmx modprobe: {} is not implemented yet; only -c/--showconfig is\n",
            unimplemented ? unimplemented : "loading modules");
  return EXIT_FAILURE;
}

}  // namespace kmx
