#include "kernel/proc-modules.h"

#include <charconv>
#include <string>

namespace kmx {
namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool parse_i64(std::string_view s, i64 &v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<std::vector<LoadedModule>> parse_proc_modules(std::string_view text) {
  std::vector<LoadedModule> out;
  size_t lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineno;
    std::vector<std::string_view> f = split_fields(line);
    if (f.empty()) continue;
    if (f.size() < 6)
      return fail(Errc::invalid_format, "/proc/modules:" + std::to_string(lineno) + ": expected at least 6 fields, found " + std::to_string(f.size()));
    LoadedModule m;
    m.name = f[0];
    if (!parse_i64(f[1], m.size))
      return fail(Errc::invalid_format, "/proc/modules:" + std::to_string(lineno) + ": size '" + std::string(f[1]) + "' is not a number");
    if (f[2] != "-" && !parse_i64(f[2], m.refcnt))
      return fail(Errc::invalid_format, "/proc/modules:" + std::to_string(lineno) + ": refcount '" + std::string(f[2]) + "' is not a number");
    if (f[3] != "-") {
      std::string_view users = f[3];
      while (!users.empty()) {
        size_t c = users.find(',');
        std::string_view u = users.substr(0, c);
        if (!u.empty()) m.users.emplace_back(u);
        users = c == std::string_view::npos ? std::string_view() : users.substr(c + 1);
      }
    }
    m.state = f[4];
    m.address = f[5];
    if (f.size() > 6) {
      std::string_view t = f[6];
      if (t.size() >= 2 && t.front() == '(' && t.back() == ')') t = t.substr(1, t.size() - 2);
      m.taints = t;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace kmx
