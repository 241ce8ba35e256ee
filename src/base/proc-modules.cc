#include "base/proc-modules.h"

#include <charconv>
#include <string>

#include "base/strings.h"

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

// Keeps the first error of a line walk and ends the walk.
bool stop(Status &st, Failure f) {
  st = std::move(f);
  return false;
}

}  // namespace

Result<std::vector<LoadedModule>> parse_proc_modules(std::string_view text) {
  std::vector<LoadedModule> out;
  Status st;
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    std::vector<std::string_view> f = split_fields(line);
    if (f.empty()) return true;
    if (f.size() < 6)
      return stop(st, fail(Errc::invalid_format, "/proc/modules:" + std::to_string(lineno) + ": expected at least 6 fields, found " + std::to_string(f.size())));
    LoadedModule m;
    m.name = f[0];
    if (!parse_i64(f[1], m.size))
      return stop(st, fail(Errc::invalid_format, "/proc/modules:" + std::to_string(lineno) + ": size '" + std::string(f[1]) + "' is not a number"));
    if (f[2] != "-" && !parse_i64(f[2], m.refcnt))
      return stop(st, fail(Errc::invalid_format, "/proc/modules:" + std::to_string(lineno) + ": refcount '" + std::string(f[2]) + "' is not a number"));
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
    return true;
  });
  if (!st) return fail(st.error());
  return out;
}

}  // namespace kmx
