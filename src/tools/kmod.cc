// kmx called as `kmod` (Debian's /bin/kmod, which initramfs-tools copies into every initramfs
// and systemd's kmod-static-nodes.service runs at boot): kmod 30's own commands, `help`,
// `list` (lsmod) and `static-nodes`, with its texts and exit codes; and, as a kmx addition,
// `kmod TOOL ARGS` for each compat tool (kmod 30 answers "invalid command").
//
// static-nodes reads /lib/modules/$(uname -r)/modules.devname, depmod's list of the device
// nodes whose opening loads a module ("MODULE DEVNAME TYPEMAJOR:MINOR" per line, '#' comments,
// TYPE c or b), and writes it as text for humans, as systemd-tmpfiles lines (the nodes are
// created at boot so that the first open loads the module), or in devname's own format.
#include <getopt.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/atomic-file.h"
#include "base/mapped-file.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

constexpr const char *kKmodHelp =
    "kmod - Manage kernel modules: list, load, unload, etc\n"
    "Usage:\n"
    "\t%s [options] command [command_options]\n"
    "\n"
    "Options:\n"
    "\t-V, --version     show version\n"
    "\t-h, --help        show this help\n"
    "\n"
    "Commands:\n"
    "  help         Show help message\n"
    "  list         list currently loaded modules\n"
    "  static-nodes outputs the static-node information installed with the currently running kernel\n"
    "\n"
    "kmod also handles gracefully if called from following symlinks:\n"
    "  lsmod        compat lsmod command\n"
    "  rmmod        compat rmmod command\n"
    "  insmod       compat insmod command\n"
    "  modinfo      compat modinfo command\n"
    "  modprobe     compat modprobe command\n"
    "  depmod       compat depmod command\n";

// kmod prints its usage with the basename of the argv[0] it was given: "kmod" for `kmod -h`,
// "help" for `kmod help`.
void kmod_help(const char *argv0) {
  const char *slash = std::strrchr(argv0, '/');
  std::printf(kKmodHelp, slash ? slash + 1 : argv0);
}

struct Format {
  const char *name, *description;
};
constexpr Format kFormats[] = {
    {"human", "(default) a human readable format. Do not parse."},
    {"tmpfiles", "the tmpfiles.d(5) format used by systemd-tmpfiles."},
    {"devname", "the modules.devname format."},
};

void static_nodes_help() {
  std::printf("Usage:\n"
              "\tkmod static-nodes [options]\n"
              "\n"
              "kmod static-nodes outputs the static-node information of the currently running kernel.\n"
              "\n"
              "Options:\n"
              "\t-f, --format=FORMAT  choose format to use: see \"Formats\"\n"
              "\t-o, --output=FILE    write output to file\n"
              "\t-h, --help           show this help\n"
              "\n"
              "Formats:\n");
  for (const Format &f : kFormats) std::printf("\t%-12s %s\n", f.name, f.description);
}

// One modules.devname line as kmod reads it (sscanf "%s %s %c%u:%u"): two words, the type
// letter after optional blanks, major, ':' right after it, minor; the rest of the line is
// ignored. False when the line does not match (or the type is not c or b).
bool parse_devname_line(std::string_view line, std::string &mod, std::string &dev, char &type, unsigned &maj,
                        unsigned &min) {
  size_t i = 0;
  auto blanks = [&] {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) i++;
  };
  auto word = [&](std::string &out) {
    blanks();
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) i++;
    out.assign(line.substr(start, i - start));
    return !out.empty();
  };
  auto number = [&](unsigned &out) {
    blanks();
    size_t start = i;
    unsigned long long v = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])))
      v = v * 10 + static_cast<unsigned>(line[i++] - '0');
    out = static_cast<unsigned>(v);
    return i > start;
  };
  if (!word(mod) || !word(dev)) return false;
  blanks();
  if (i >= line.size()) return false;
  type = line[i++];
  if (!number(maj) || i >= line.size() || line[i] != ':') return false;
  i++;
  if (!number(min)) return false;
  return type == 'c' || type == 'b';
}

int static_nodes_main(int argc, char **argv) {
  static const option longopts[] = {{"output", required_argument, nullptr, 'o'},
                                    {"format", required_argument, nullptr, 'f'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  const char *output = nullptr;
  const Format *format = &kFormats[0];
  for (;;) {
    int c = getopt_long(argc, argv, "o:f:h", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
    case 'o': output = optarg; break;
    case 'f': {
      const Format *found = nullptr;
      for (const Format &f : kFormats)
        if (std::strcmp(f.name, optarg) == 0) found = &f;
      if (!found) {
        std::fprintf(stderr, "Unknown format: '%s'.\n", optarg);
        static_nodes_help();
        return 1;
      }
      format = found;
      break;
    }
    case 'h': static_nodes_help(); return 0;
    default: return 1;
    }
  }
  const std::string rel = running_release();
  const std::string path = module_dir("", rel) + "/modules.devname";
  auto in = read_file(path);
  if (!in) {
    if (in.error().code == Errc::not_found) {
      std::fprintf(stderr, "Warning: /lib/modules/%s/modules.devname not found - ignoring\n", rel.c_str());
      return 0;
    }
    std::fprintf(stderr, "Error: could not open /lib/modules/%s/modules.devname - %s\n", rel.c_str(),
                 error_string(in.error()).c_str());
    return 1;
  }
  int rc = 0;
  std::string out;
  std::string_view text = *in;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);  // with '\n'
    text.remove_prefix(line.size());
    if (line[0] == '#') continue;
    std::string mod, dev;
    char type = 0;
    unsigned maj = 0, min = 0;
    if (!parse_devname_line(line, mod, dev, type, maj, min)) {
      std::fprintf(stderr, "Error: invalid devname entry: %.*s", static_cast<int>(line.size()), line.data());
      rc = 1;
      continue;
    }
    std::string_view f = format->name;
    if (f == "human") {
      out += "Module: " + mod + "\n\tDevice node: /dev/" + dev + "\n\t\tType: " +
             (type == 'c' ? "character" : "block") + " device\n\t\tMajor: " + std::to_string(maj) +
             "\n\t\tMinor: " + std::to_string(min) + "\n";
    } else if (f == "tmpfiles") {
      if (size_t slash = dev.rfind('/'); slash != std::string::npos)
        out += "d /dev/" + dev.substr(0, slash) + " 0755 - - -\n";
      out += std::string(1, type) + "! /dev/" + dev + " 0600 - - - " + std::to_string(maj) + ":" + std::to_string(min) + "\n";
    } else {
      out += mod + " " + dev + " " + type + std::to_string(maj) + ":" + std::to_string(min) + "\n";
    }
  }
  if (!output) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return rc;
  }
  // systemd reads this file at boot: written whole or not at all (kmod truncates in place).
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(output).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      std::fprintf(stderr, "Error: could not create parent directory for %s - %s.\n", output, ec.message().c_str());
      return 1;
    }
    std::filesystem::permissions(parent, std::filesystem::perms(0755), ec);
  }
  if (auto w = write_file_atomic(output, out); !w) {
    std::fprintf(stderr, "Error: could not create %s - %s\n", output, error_string(w.error()).c_str());
    return 1;
  }
  return rc;
}

}  // namespace

int kmod_main(int argc, char **argv) {
  static const option longopts[] = {
      {"version", no_argument, nullptr, 'V'}, {"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
  for (;;) {
    int c = getopt_long(argc, argv, "+hV", longopts, nullptr);
    if (c == -1) break;
    if (c == 'h') {
      kmod_help(argv[0]);
      return 0;
    }
    if (c == 'V') return print_kmod_version();
    return 1;  // getopt has said what is wrong
  }
  if (optind >= argc) {
    std::fputs("missing command\n", stderr);
    kmod_help(argv[0]);
    return 1;
  }
  std::string_view cmd = argv[optind];
  int sub_argc = argc - optind;
  char **sub_argv = argv + optind;
  optind = 0;  // each command parses its own options from the start
  if (cmd == "help") {
    kmod_help(sub_argv[0]);
    return 0;
  }
  if (cmd == "list") return lsmod_main(sub_argc, sub_argv);
  if (cmd == "static-nodes") return static_nodes_main(sub_argc, sub_argv);
  if (auto fn = compat_tool(cmd)) return fn(sub_argc, sub_argv);
  std::fprintf(stderr, "invalid command '%.*s'\n", static_cast<int>(cmd.size()), cmd.data());
  kmod_help(argv[0]);
  return 1;
}

}  // namespace kmx
