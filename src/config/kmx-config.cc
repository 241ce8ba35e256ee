#include "config/kmx-config.h"

#include <cstdlib>
#include <vector>

#include "base/mapped-file.h"
#include "base/strings.h"

namespace kmx {
namespace {

// 'word' (built by appending: GCC 12 warns -Wrestrict on "'" + std::string(...)).
std::string quoted(std::string_view w) {
  std::string s;
  s.reserve(w.size() + 2);
  s += '\'';
  s.append(w);
  s += '\'';
  return s;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') i++;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Module names as the kernel writes them in /proc/modules: letters, digits, '_' ('-' is
// accepted and normalised, as kmod does), at most 55 bytes (MODULE_NAME_LEN - 1 on 64-bit).
Result<std::string> module_name(std::string_view w) {
  if (w.size() > 55) return fail(Errc::invalid_argument, "module name " + quoted(w) + " is longer than 55 bytes");
  std::string out(w);
  for (char &c : out) {
    if (c == '-') c = '_';
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return fail(Errc::invalid_argument, quoted(w) + " is not a module name");
  }
  return out;
}

Result<std::string> abs_path(std::string_view w) {
  if (w.empty() || w[0] != '/') return fail(Errc::invalid_argument, "path " + quoted(w) + " is not absolute");
  return std::string(w);
}

Status parse_line(KmxConfig &cfg, const std::vector<std::string_view> &w) {
  std::string_view d = w[0];
  auto want = [&](size_t n, const char *shape) -> Status {
    if (w.size() != n) return fail(Errc::invalid_argument, quoted(d) + " takes " + shape);
    return {};
  };
  if (d == "persist") {
    TRY(want(2, "one word: on or off"));
    if (w[1] == "on") cfg.persist = true;
    else if (w[1] == "off") cfg.persist = false;
    else return fail(Errc::invalid_argument, "'persist' takes on or off, not " + quoted(w[1]));
    return {};
  }
  if (d == "persist-db") {
    TRY(want(2, "one PATH"));
    TRY_ASSIGN(cfg.persist_db, abs_path(w[1]));
    return {};
  }
  if (d == "control-socket") {
    TRY(want(2, "one PATH"));
    TRY_ASSIGN(cfg.control_socket, abs_path(w[1]));
    return {};
  }
  if (d == "kernel-check") {
    std::string_view v = w.size() == 3 && w[1] == "=" ? w[2] : w.size() == 2 ? w[1] : std::string_view();
    if (v == "strict") cfg.kernel_check_strict = true;
    else if (v == "warn") cfg.kernel_check_strict = false;
    else return fail(Errc::invalid_argument, "'kernel-check' takes warn or strict");
    return {};
  }
  if (d == "command-timeout") {
    TRY(want(2, "one number of SECONDS"));
    TRY_ASSIGN(cfg.command_timeout, parse_kmx_seconds(w[1], 1));
    return {};
  }
  if (d == "idle") {
    TRY(want(2, "one number of SECONDS"));
    TRY_ASSIGN(cfg.idle_seconds, parse_kmx_seconds(w[1], 1));
    return {};
  }
  if (d == "keep") {
    if (w.size() < 2) return fail(Errc::invalid_argument, "'keep' takes at least one MODULE");
    for (size_t i = 1; i < w.size(); i++) {
      TRY_ASSIGN(std::string m, module_name(w[i]));
      cfg.keep.insert(std::move(m));
    }
    return {};
  }
  if (d == "idle-module") {
    TRY(want(3, "MODULE SECONDS"));
    TRY_ASSIGN(std::string m, module_name(w[1]));
    TRY_ASSIGN(i64 s, parse_kmx_seconds(w[2], 0));
    cfg.module_idle[m] = s;
    return {};
  }
  return fail(Errc::invalid_argument, "unknown directive " + quoted(d));
}

}  // namespace

Result<i64> parse_kmx_seconds(std::string_view w, i64 min) {
  if (w.empty() || w.size() > 9) return fail(Errc::invalid_argument, quoted(w) + " is not a number of seconds");
  i64 v = 0;
  for (char c : w) {
    if (c < '0' || c > '9') return fail(Errc::invalid_argument, quoted(w) + " is not a number of seconds");
    v = v * 10 + (c - '0');
  }
  if (v < min || v > kMaxKmxSeconds)
    return fail(Errc::invalid_argument, "seconds " + std::to_string(v) + " out of range [" + std::to_string(min) + ", " +
                                            std::to_string(kMaxKmxSeconds) + "]");
  return v;
}

Status parse_kmx_config_text(KmxConfig &cfg, std::string_view text, const std::string &filename) {
  Status st;
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    auto where = [&] { return filename + ":" + std::to_string(lineno) + ": "; };
    if (line.find('\0') != std::string_view::npos) {
      st = fail(Errc::invalid_argument, where() + "NUL byte in line");
      return false;
    }
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> w = words(line);
    if (w.empty()) return true;
    if (Status r = parse_line(cfg, w); !r) {
      st = fail(Errc::invalid_argument, where() + r.error().msg);
      return false;
    }
    return true;
  });
  return st;
}

Result<KmxConfig> load_kmx_config(const std::string &path, const std::string &persist_db_override) {
  KmxConfig cfg;
  Result<std::string> text = read_file(path);
  if (text) {
    cfg.source = path;
    TRY(parse_kmx_config_text(cfg, *text, path));
  } else if (text.error().code != Errc::not_found) {
    return fail(with_context(text.error(), path));
  }
  if (!persist_db_override.empty()) cfg.persist_db = persist_db_override;
  return cfg;
}

}  // namespace kmx
