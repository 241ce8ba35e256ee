// Shared bits of the kmod-compatible tools: kmod's message shape ("prog: ERROR: ...").
#pragma once

#include <fmt/core.h>

#include <cstdio>
#include <string>

#include "base/result.h"

namespace kmx {

// kmod's log prefix uses the invoked tool's short name.
template <typename... Args>
void log_error(const char *prog, fmt::format_string<Args...> f, Args &&...args) {
  std::string msg = fmt::format(f, std::forward<Args>(args)...);
  std::fprintf(stderr, "%s: ERROR: %s", prog, msg.c_str());
}

template <typename... Args>
void log_warning(const char *prog, fmt::format_string<Args...> f, Args &&...args) {
  std::string msg = fmt::format(f, std::forward<Args>(args)...);
  std::fprintf(stderr, "%s: WARNING: %s", prog, msg.c_str());
}

// strerror() of the errno an Error maps to, as kmod prints it.
std::string error_string(const Error &e);

// /lib/modules/<release> under an optional root, as kmod computes it for -b/-k.
std::string module_dir(const std::string &root, const std::string &kversion);

// The running kernel's release (uname -r).
std::string running_release();

}  // namespace kmx
