#include "base/cpus.h"

#include <sched.h>

#include <charconv>
#include <thread>

#include "base/mapped-file.h"
#include "base/strings.h"

namespace kmx {

std::optional<unsigned> cpu_max_cpus(std::string_view text) {
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view quota = text.substr(0, sp), period = text.substr(sp + 1);
  while (!period.empty() && (period.back() == '\n' || period.back() == ' ')) period.remove_suffix(1);
  unsigned long long q = 0, p = 0;
  auto r1 = std::from_chars(quota.data(), quota.data() + quota.size(), q);
  auto r2 = std::from_chars(period.data(), period.data() + period.size(), p);
  if (r1.ec != std::errc() || r1.ptr != quota.data() + quota.size() || r2.ec != std::errc() ||
      r2.ptr != period.data() + period.size() || p == 0 || q == 0)
    return std::nullopt;  // "max 100000" lands here: no limit
  unsigned long long n = (q + p - 1) / p;
  return static_cast<unsigned>(std::min<unsigned long long>(n, 1u << 20));
}

std::optional<unsigned> cgroup_cpu_limit(std::string_view proc_self_cgroup, const std::string &mount) {
  std::string_view path;
  for_each_line(proc_self_cgroup, [&](std::string_view line, size_t) {
    if (line.starts_with("0::")) path = line.substr(3);
  });
  if (path.empty() || path[0] != '/' || path.find("/..") != std::string_view::npos) return std::nullopt;
  std::optional<unsigned> limit;
  // The cgroup itself, then each ancestor up to the root (which has no cpu.max).
  std::string p(path);
  for (;;) {
    if (auto text = read_file((p == "/" ? mount : mount + p) + "/cpu.max")) {
      if (auto n = cpu_max_cpus(*text); n && (!limit || *n < *limit)) limit = n;
    }
    if (p == "/") break;
    size_t slash = p.rfind('/');
    p = slash == 0 ? std::string("/") : p.substr(0, slash);
  }
  return limit;
}

unsigned usable_cpus() {
  static const unsigned n = [] {
    unsigned cpus = 0;
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) cpus = static_cast<unsigned>(CPU_COUNT(&set));
    if (cpus == 0) cpus = std::thread::hardware_concurrency();
    if (auto text = read_file("/proc/self/cgroup")) {
      if (auto limit = cgroup_cpu_limit(*text, "/sys/fs/cgroup"); limit && *limit < cpus) cpus = *limit;
    }
    return cpus == 0 ? 1u : cpus;
  }();
  return n;
}

}  // namespace kmx
