// kmx depmod: kmod 30's depmod, same options, messages, exit codes and output bytes, plus
// kmod 34's -o/--outdir and -m/--moduledir, modules.weakdep, a parallel module reader, a
// per-module metadata cache, and index files that are left untouched when unchanged.
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/atomic-file.h"
#include "base/diag.h"
#include "base/parallel.h"
#include "config/depmod-config.h"
#include "elf/module-elf.h"
#include "graph/depmod.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

constexpr int LOG_WARNING_LEVEL = 4;
constexpr int LOG_INFO_LEVEL = 6;

const char short_opts[] = "aAb:m:o:C:E:F:euqrvnP:wj:Vh";
enum { opt_map = 256, opt_no_cache };
const struct option long_opts[] = {
    {"all", no_argument, nullptr, 'a'},
    {"quick", no_argument, nullptr, 'A'},
    {"basedir", required_argument, nullptr, 'b'},
    {"moduledir", required_argument, nullptr, 'm'},
    {"outdir", required_argument, nullptr, 'o'},
    {"config", required_argument, nullptr, 'C'},
    {"symvers", required_argument, nullptr, 'E'},
    {"filesyms", required_argument, nullptr, 'F'},
    {"errsyms", no_argument, nullptr, 'e'},
    {"unresolved-error", no_argument, nullptr, 'u'},
    {"quiet", no_argument, nullptr, 'q'},
    {"root", no_argument, nullptr, 'r'},
    {"verbose", no_argument, nullptr, 'v'},
    {"show", no_argument, nullptr, 'n'},
    {"dry-run", no_argument, nullptr, 'n'},
    {"symbol-prefix", required_argument, nullptr, 'P'},
    {"warn", no_argument, nullptr, 'w'},
    {"map", no_argument, nullptr, opt_map},
    {"jobs", required_argument, nullptr, 'j'},
    {"no-cache", no_argument, nullptr, opt_no_cache},
    {"version", no_argument, nullptr, 'V'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

void help(const char *prog) {
  std::printf(
      "Usage:\n"
      "\t%s -[aA] [options] [forced_version]\n"
      "\n"
      "If no arguments (except options) are given, \"depmod -a\" is assumed\n"
      "\n"
      "depmod will output a dependency list suitable for the modprobe utility.\n"
      "\n"
      "Options:\n"
      "\t-a, --all            Probe all modules\n"
      "\t-A, --quick          Only does the work if there's a new module\n"
      "\t-e, --errsyms        Report not supplied symbols\n"
      "\t-n, --show           Write the dependency file on stdout only\n"
      "\t-P, --symbol-prefix  Architecture symbol prefix\n"
      "\t-C, --config=PATH    Read configuration from PATH\n"
      "\t-v, --verbose        Enable verbose mode\n"
      "\t-w, --warn           Warn on duplicates\n"
      "\t-V, --version        show version\n"
      "\t-h, --help           show this help\n"
      "\n"
      "The following options are useful for people managing distributions:\n"
      "\t-b, --basedir=DIR    Use an image of a module tree.\n"
      "\t-m, --moduledir=DIR  Module directory (default: /lib/modules).\n"
      "\t-o, --outdir=DIR     Output root path (default: same as <basedir>).\n"
      "\t-F, --filesyms=FILE  Use the file instead of the\n"
      "\t                     current kernel symbols.\n"
      "\t-E, --symvers=FILE   Use Module.symvers file to check\n"
      "\t                     symbol versions.\n"
      "\n"
      "kmx additions:\n"
      "\t-j, --jobs=N         Read modules with N threads (default: one per usable CPU)\n"
      "\t    --no-cache       Do not use or write the module metadata cache\n",
      prog);
}

std::string make_absolute(const std::string &p) {
  if (!p.empty() && p[0] == '/') return p;
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return p;
  return std::string(buf) + "/" + p;
}

bool is_version_number(const char *v) {
  unsigned a, b;
  return std::sscanf(v, "%u.%u", &a, &b) == 2;
}

// kmod's depfile_up_to_date_dir(): 1 when no module file is newer than modules.dep.
int up_to_date_dir(int dfd, time_t mtime, std::string &path, Diag &diag) {
  DIR *d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return 1;
  }
  int err = 1;
  size_t base = path.size();
  while (struct dirent *de = ::readdir(d)) {
    std::string name = de->d_name;
    if (name == "." || name == ".." || name == "build" || name == "source") continue;
    struct stat st;
    if (::fstatat(::dirfd(d), name.c_str(), &st, 0) < 0) {
      diag.error("fstatat(" + std::to_string(::dirfd(d)) + ", " + name + "): " + std::strerror(errno));
      continue;
    }
    path.resize(base);
    path += name;
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(::dirfd(d), name.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      path += '/';
      err = up_to_date_dir(fd, mtime, path, diag);
    } else if (S_ISREG(st.st_mode)) {
      if (!has_module_extension(name)) continue;
      err = st.st_mtime <= mtime ? 1 : 0;
    } else {
      char mode[16];
      std::snprintf(mode, sizeof mode, "%o", st.st_mode & S_IFMT);
      diag.error("unsupported file type " + path + ": " + mode);
      continue;
    }
    if (err == 0) break;
  }
  path.resize(base);
  ::closedir(d);
  return err;
}

int up_to_date(const std::string &dirname, Diag &diag) {
  int fd = ::open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    diag.error("could not open directory " + dirname + ": " + std::strerror(errno));
    return -1;
  }
  struct stat st;
  if (::fstatat(fd, "modules.dep", &st, 0) != 0) {
    diag.error("could not fstatat(" + dirname + ", modules.dep): " + std::strerror(errno));
    ::close(fd);
    return -1;
  }
  std::string path = dirname + "/";
  return up_to_date_dir(fd, st.st_mtime, path, diag);
}

int mkdir_p(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); i++) {
    if (i == dir.size() || dir[i] == '/') {
      std::string sub = dir.substr(0, i);
      if (::mkdir(sub.c_str(), 0755) != 0 && errno != EEXIST) return -errno;
    }
  }
  return 0;
}

// The metadata cache of one module tree: DIR/depmod-RELEASE-HASH.cache, HASH the FNV-1a of the
// tree's absolute path, so that trees of the same release under different roots never share
// a file.
std::string depmod_cache_path(const std::string &dir, const std::string &dirname, std::string kversion) {
  std::replace(kversion.begin(), kversion.end(), '/', '_');
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(ByteView(dirname))));
  return dir + "/depmod-" + kversion + "-" + hash + ".cache";
}

}  // namespace

int depmod_main(int argc, char **argv) {
  const char *prog = "depmod";
  int verbose = LOG_WARNING_LEVEL;
  bool all = false, maybe_all = false, dry_run = false, use_cache = true;
  std::string root, out_root, module_directory = "/lib/modules";
  std::vector<std::string> config_paths;
  std::string system_map, module_symvers;
  DepmodOptions opts;

  auto print = [&](const char *level, const std::string &msg) { std::fprintf(stderr, "%s: %s: %s\n", prog, level, msg.c_str()); };
  Diag diag([&](const DiagMessage &m) {
    switch (m.severity) {
      case Severity::error: print("ERROR", m.msg); break;
      case Severity::warning: print("WARNING", m.msg); break;
      case Severity::info:
        if (verbose >= LOG_INFO_LEVEL) print("INFO", m.msg);
        break;
    }
  });
  auto fatal = [&](const std::string &msg) {
    print("FATAL", msg);
    return EXIT_FAILURE;
  };

  if (const char *env = std::getenv("KMX_DEPMOD_CACHE"); env && std::strcmp(env, "0") == 0) use_cache = false;

  optind = 1;
  for (;;) {
    int idx = -1;
    int c = getopt_long(argc, argv, short_opts, long_opts, &idx);
    if (c == -1) break;
    switch (c) {
      case 'a': all = true; break;
      case 'A': maybe_all = true; break;
      case 'b': root = make_absolute(optarg); break;
      case 'm': module_directory = optarg; break;
      case 'o': out_root = make_absolute(optarg); break;
      case 'C': config_paths.push_back(optarg); break;
      case 'E':
        module_symvers = optarg;
        opts.check_symvers = true;
        break;
      case 'F': system_map = optarg; break;
      case 'e': opts.print_unknown = true; break;
      case 'v': verbose++; break;
      case 'n': dry_run = true; break;
      case 'P':
        if (optarg[0] == '\0' || optarg[1] != '\0') return fatal("-P only takes a single char");
        opts.sym_prefix = optarg[0];
        break;
      case 'w': opts.warn_dups = true; break;
      case 'j': {
        char *end;
        long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || n < 1 || n > 1024) {
          print("ERROR", std::string("invalid number of jobs: ") + optarg);
          return EXIT_FAILURE;
        }
        opts.jobs = static_cast<unsigned>(n);
        break;
      }
      case opt_no_cache: use_cache = false; break;
      case 'u':
      case 'q':
      case 'r':
      case opt_map:
        if (idx >= 0) print("WARNING", std::string("Ignored deprecated option --") + long_opts[idx].name);
        else print("WARNING", std::string("Ignored deprecated option -") + static_cast<char>(c));
        break;
      case 'h': help(prog); return EXIT_SUCCESS;
      case 'V':
        print_kmod_version();
        return EXIT_SUCCESS;
      case '?': return EXIT_FAILURE;
      default:
        print("ERROR", std::string("unexpected getopt_long() value '") + static_cast<char>(c) + "'.");
        return EXIT_FAILURE;
    }
  }

  std::string kversion;
  if (optind < argc) {
    if (!is_version_number(argv[optind])) {
      print("ERROR", std::string("Bad version passed ") + argv[optind]);
      return EXIT_FAILURE;
    }
    kversion = argv[optind++];
  } else {
    struct utsname un;
    if (::uname(&un) < 0) return fatal(std::string("uname() failed: ") + std::strerror(errno));
    kversion = un.release;
  }
  size_t skip = module_directory.find_first_not_of('/');
  std::string moddir = skip == std::string::npos ? "" : module_directory.substr(skip);
  opts.dirname = root + "/" + moddir + "/" + kversion;
  std::string outdir = (out_root.empty() ? root : out_root) + "/" + moddir + "/" + kversion;
  if (optind == argc) all = true;

  if (maybe_all) {
    if (dry_run) return EXIT_SUCCESS;
    if (up_to_date(opts.dirname, diag) == 1) return EXIT_SUCCESS;
    all = true;
  }

  bool print_unknown_warning = false;
  if (module_symvers.empty() && system_map.empty() && opts.print_unknown) {
    print_unknown_warning = true;
    opts.print_unknown = false;
  }
  if (use_cache && !dry_run) {
    std::string dir = kmx_cache_dir(root);
    if (!dir.empty() && mkdir_p(dir) == 0) opts.cache_path = depmod_cache_path(dir, opts.dirname, kversion);
  }
  // Where kmx kept its cache before: not left in a directory that a kernel package owns.
  if (!dry_run) ::unlink((outdir + "/modules.kmx-cache").c_str());
  opts.write_cache = all;
  Depmod depmod(opts, diag);
  if (verbose > LOG_WARNING_LEVEL) depmod.set_show([](const std::string &s) {
      std::fputs(s.c_str(), stdout);
      std::fflush(stdout);
    });

  if (!module_symvers.empty()) {
    if (auto st = depmod.load_symvers(module_symvers); !st)
      return fatal("could not load " + module_symvers + ": " + std::strerror(st.error().to_errno()));
  } else if (!system_map.empty()) {
    if (auto st = depmod.load_system_map(system_map); !st)
      return fatal("could not load " + system_map + ": " + std::strerror(st.error().to_errno()));
  } else if (print_unknown_warning) {
    print("WARNING", "-e needs -E or -F");
  }

  auto t_start = std::chrono::steady_clock::now();
  if (all) {
    DepmodConfig cfg = load_depmod_config(config_paths, kversion, diag);
    if (auto st = depmod.search(cfg); !st)
      return fatal(std::string("could not search modules: ") + std::strerror(st.error().to_errno()));
  } else {
    std::vector<std::string> files(argv + optind, argv + argc);
    if (auto st = depmod.add_files(files); !st) return fatal(st.error().msg);
  }

  auto t_search = std::chrono::steady_clock::now();
  if (auto st = depmod.load(); !st) return EXIT_FAILURE;
  auto t_load = std::chrono::steady_clock::now();
  const char *stats_env = std::getenv("KMX_DEPMOD_STATS");
  bool stats = stats_env && *stats_env == '1';
  if (stats) {
    std::fprintf(stderr, "kmx depmod: %zu modules read, %zu from cache\n", depmod.stats().read, depmod.stats().cached);
    std::fprintf(stderr, "kmx depmod: %u threads\n", opts.jobs ? opts.jobs : default_jobs());
  }

  if (dry_run) {
    std::string out = depmod.render_stdout();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  }

  if (outdir != opts.dirname) {
    if (int e = mkdir_p(outdir); e < 0) {
      print("ERROR", "could not create directory " + outdir + ": " + std::strerror(-e));
      return EXIT_FAILURE;
    }
  }
  // Render everything, write every changed file to a temporary, then rename them all: a
  // full disk or a kill while writing leaves the previous set whole. The directory lock keeps
  // two depmods from interleaving their renames, and makes any temporary found under it a
  // leftover of a killed run.
  std::vector<DepmodFile> files = depmod.render(true);
  auto t_render = std::chrono::steady_clock::now();
  int rc = EXIT_SUCCESS;
  auto lock = DirLock::acquire(outdir);
  if (!lock) {
    print("ERROR", lock.error().msg);
    return EXIT_FAILURE;
  }
  lock->remove_stale_temporaries();
  FileSet set;
  for (const DepmodFile &f : files) {
    if (auto st = set.stage(outdir + "/" + f.name, f.content, 0644, IfUnchanged::keep); !st) {
      print("ERROR", "Could not write index '" + f.name + "': " + st.error().msg);
      rc = EXIT_FAILURE;
      break;
    }
  }
  if (rc == EXIT_SUCCESS) {
    if (auto st = set.commit(); !st) {
      print("ERROR", "Could not write index: " + st.error().msg);
      rc = EXIT_FAILURE;
    }
  }
  if (stats) {
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    auto t_write = std::chrono::steady_clock::now();
    std::fprintf(stderr, "kmx depmod: phases (ms): search %.1f, load %.1f, render %.1f, write %.1f\n", ms(t_start, t_search),
                 ms(t_search, t_load), ms(t_load, t_render), ms(t_render, t_write));
  }
  return rc;
}

}  // namespace kmx
