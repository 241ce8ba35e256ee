// kmx scan DIR...: a one-screen summary of every module under the given directories
// (module count, compression by magic, ELF flavour and machine, licences, signatures,
// vermagic, struct module size), read in parallel. kmx's own tool; no kmod equivalent.
#include <getopt.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/parallel.h"
#include "elf/module-elf.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

const char *const prog = "kmx scan";

std::string machine_name(u16 m) {
  switch (m) {
  case 3: return "i386";
  case 8: return "mips";
  case 20: return "ppc";
  case 21: return "ppc64";
  case 22: return "s390";
  case 40: return "arm";
  case 62: return "x86_64";
  case 183: return "aarch64";
  case 243: return "riscv";
  case 258: return "loongarch";
  default: return "machine " + std::to_string(m);
  }
}

using Counts = std::map<std::string, size_t>;

void print_counts(const char *title, const Counts &c, size_t total, size_t limit = 8) {
  std::vector<std::pair<size_t, std::string>> v;
  for (auto &[k, n] : c) v.push_back({n, k});
  std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::printf("%s\n", title);
  size_t shown = 0, rest = 0;
  for (auto &[n, k] : v) {
    if (shown++ < limit) std::printf("  %6zu  %5.1f%%  %s\n", n, 100.0 * double(n) / double(total), k.c_str());
    else rest += n;
  }
  if (rest) std::printf("  %6zu  %5.1f%%  (%zu others)\n", rest, 100.0 * double(rest) / double(total), v.size() - limit);
}

}  // namespace

int scan_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  const char *usage = "Usage: kmx scan DIR...\n  Summarise every module (.ko, .ko.gz, .ko.xz, .ko.zst) under DIR.\n"
                      "Options:\n  -h, --help     this text\n  -V, --version  kmx's version\n";
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "hV", longopts, nullptr)) != -1;) {
    switch (c) {
    case 'h': std::fputs(usage, stdout); return 0;
    case 'V': return print_kmx_version();
    default: std::fputs(usage, stderr); return 2;
    }
  }
  if (optind >= argc) {
    log_error(prog, "no directory given\n");
    std::fputs(usage, stderr);
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> files;
  for (int i = optind; i < argc; i++) {
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(argv[i], ec), end;
    if (ec) {
      log_error(prog, "cannot read directory '{}': {}\n", argv[i], ec.message());
      return 1;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file() && has_module_extension(it->path().filename().string())) files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());

  std::vector<std::optional<Result<ModuleInfo>>> slots(files.size());
  ReadOptions ro;
  ro.symbols = true;
  parallel_for_each(files.size(), [&](size_t i) { slots[i].emplace(read_module(files[i], ro)); });

  Counts compression, flavour, license, signer, vermagic, this_size;
  size_t failed = 0, exports = 0, imports = 0;
  u64 bytes_disk = 0, bytes_elf = 0;
  for (size_t i = 0; i < files.size(); i++) {
    const auto &r = *slots[i];
    if (!r) {
      if (failed++ < 5) log_error(prog, "{}\n", r.error().msg);
      continue;
    }
    const ModuleInfo &m = *r;
    compression[std::string(compression_name(m.compression))]++;
    flavour[std::string(m.is64 ? "ELF64 " : "ELF32 ") + (m.little_endian ? "LE " : "BE ") + machine_name(m.e_machine)]++;
    license[m.get("license").value_or("(none)")]++;
    signer[m.signature ? m.signature->signer + " (" + m.signature->hash_algo + ")" : "(unsigned)"]++;
    vermagic[m.get("vermagic").value_or("(none)")]++;
    this_size[m.this_module_size ? fmt::format("0x{:x} bytes", *m.this_module_size) : "(no .gnu.linkonce.this_module)"]++;
    exports += m.exports.size();
    imports += m.imports.size();
    bytes_disk += m.file_size;
    bytes_elf += m.elf_size;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t ok = files.size() - failed;
  std::printf("%zu modules (%zu unreadable), %.1f MB on disk, %.1f MB as ELF; %zu exports, %zu imports\n", files.size(),
              failed, double(bytes_disk) / 1e6, double(bytes_elf) / 1e6, exports, imports);
  if (ok == 0) return failed ? 1 : 0;
  print_counts("compression (by magic):", compression, ok);
  print_counts("ELF flavour:", flavour, ok);
  print_counts("licence:", license, ok);
  print_counts("signature (signer, hash):", signer, ok);
  print_counts("vermagic:", vermagic, ok, 3);
  print_counts("struct module (.gnu.linkonce.this_module):", this_size, ok, 3);
  std::printf("read in %.2f s on %u threads\n", secs, default_jobs());
  return failed ? 1 : 0;
}

}  // namespace kmx
