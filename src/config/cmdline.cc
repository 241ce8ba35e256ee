// Kernel command line options for modprobe; the format is described in cmdline.h.
#include "config/cmdline.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kmx {

std::string config_diag_text(ConfigDiagStyle style, int kmod_line, const char *kmod_fn,
                             std::string_view text) {
  std::string out;
  if (style == ConfigDiagStyle::libkmod) {
    out += "../libkmod/libkmod-config.c:";
    out += std::to_string(kmod_line);
    out += ' ';
    out += kmod_fn;
    out += ": ";
  }
  out += text;
  return out;
}

bool normalize_config_name(std::string &name) {
  for (size_t i = 0; i < name.size(); i++) {
    switch (name[i]) {
    case '-':
      name[i] = '_';
      break;
    case ']':
      return false;
    case '[': {
      // Everything up to the matching ']' is a glob class and stays as written.
      size_t close = name.find(']', i);
      if (close == std::string::npos) return false;
      i = close;
      break;
    }
    default:
      break;
    }
  }
  return true;
}

namespace {

enum class State { ignore, modname, param, value, complete };

bool is_cmdline_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\0';
}

// The NUL-terminated string that starts at `at` inside buf (which always ends in a NUL).
std::string_view cstr_at(const std::string &buf, size_t at) {
  size_t end = buf.find('\0', at);
  return std::string_view(buf).substr(at, end - at);
}

void add_result(KernelCmdlineConfig &out, std::string modname, std::string_view param,
                std::string_view value, Diag &diag, ConfigDiagStyle style) {
  if (modname == "modprobe" && param.substr(0, 10) == "blacklist=") {
    // Split on ',' keeping empty items, as strsep() does.
    for (;;) {
      size_t comma = value.find(',');
      out.blacklists.emplace_back(value.substr(0, comma));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
    return;
  }
  if (!normalize_config_name(modname)) {
    diag.error(config_diag_text(
        style, 489, "kcmdline_parse_result",
        "Ignoring bad option on kernel command line while parsing module name: '" + modname + "'"));
    return;
  }
  std::string opts(param);
  std::replace(opts.begin(), opts.end(), '\t', ' ');
  out.options.push_back(ModuleOption{std::move(modname), std::move(opts)});
}

}  // namespace

KernelCmdlineConfig parse_kernel_cmdline(std::string_view text, Diag &diag, ConfigDiagStyle style) {
  KernelCmdlineConfig out;
  constexpr size_t none = std::string::npos;

  // kmod edits its buffer in place (NUL after the module name and after each word, and a
  // shift to re-quote a word that opened with '"'); the same edits on a copy give the same
  // strings. The buffer always ends in the NUL that stops the scan.
  std::string buf(text.substr(0, std::min(text.size(), kcmdline_max_bytes)));
  if (size_t nul = buf.find('\0'); nul != none) buf.resize(nul);
  buf.push_back('\0');

  State state = State::modname;
  bool quoted = false;
  size_t modname = 0, param = none, value = none, quote_start = none;

  for (size_t p = 0; p < buf.size(); p++) {
    char c = buf[p];
    if (c == '"') {
      quoted = !quoted;
      // Only a quote that opens the word is accepted outside the value.
      if (quoted && state == State::modname && p == modname) {
        quote_start = p;
        modname = p + 1;
      } else if (state != State::value) {
        state = State::ignore;
      }
    } else if (is_cmdline_space(c)) {
      if (quoted && state == State::value) {
        // Whitespace inside a quoted value belongs to it.
      } else if (quoted) {
        state = State::ignore;
      } else if (state == State::value || state == State::param) {
        buf[p] = '\0';
        state = State::complete;
      } else {
        modname = p + 1;
        state = State::modname;
        quote_start = none;
      }
    } else if (c == '.') {
      if (state == State::modname) {
        buf[p] = '\0';
        param = p + 1;
        state = State::param;
      } else if (state == State::param) {
        state = State::ignore;
      }
    } else if (c == '=') {
      if (state == State::param) {
        value = p + 1;
        state = State::value;
      } else if (state == State::modname) {
        state = State::ignore;
      }
    }

    if (state != State::complete) continue;

    // A completed word that opened with '"' always went through '=' (a quote can only
    // close, and whitespace can only pass, inside the value), so value belongs to it.
    if (quote_start != none && quote_start < modname && value != none && value > modname) {
      // Turn `"mod\0p=v w"` into `mod\0p="v w"`: shift name and parameter left over the
      // opening quote, then put the quote in front of the value.
      std::memmove(&buf[quote_start], &buf[modname], value - modname);
      value--;
      modname--;
      param--;
      buf[value] = '"';
    }
    std::string_view v = value != none ? cstr_at(buf, value) : std::string_view();
    add_result(out, std::string(cstr_at(buf, modname)), cstr_at(buf, param), v, diag, style);
    modname = p + 1;
    state = State::modname;
    quote_start = none;
  }
  return out;
}

Result<std::string> read_kernel_cmdline(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Failure{Error{Errc::not_found, "could not open '" + path + "' for reading: " + std::strerror(err), err}};
  }
  std::string out(kcmdline_max_bytes, '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::read(fd, out.data() + done, out.size() - done);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      int err = errno;
      ::close(fd);
      // Errc::io marks a read failure (kmod reports it), as opposed to an open failure.
      return Failure{Error{Errc::io, "could not read from '" + path + "': " + std::strerror(err), err}};
    }
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

}  // namespace kmx
