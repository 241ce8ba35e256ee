#include "tools/common.h"

#include <cstdio>

#include <sys/utsname.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace kmx {

void KmodLog::write(int prio, const std::string &msg) const {
  const char *level = prio == LOG_CRIT      ? "FATAL"
                      : prio == LOG_ERR     ? "ERROR"
                      : prio == LOG_WARNING ? "WARNING"
                      : prio == LOG_NOTICE  ? "NOTICE"
                      : prio == LOG_INFO    ? "INFO"
                      : prio == LOG_DEBUG   ? "DEBUG"
                                            : nullptr;
  std::string other;
  if (!level) level = (other = fmt::format("LOG-{:03d}", prio)).c_str();
  if (use_syslog)
    syslog(prio, "%s: %s", level, msg.c_str());
  else
    std::fprintf(stderr, "%s: %s: %s", prog, level, msg.c_str());
}

std::string error_string(const Error &e) { return std::strerror(e.to_errno()); }

std::string running_release() {
  struct utsname u;
  if (uname(&u) < 0) return "";
  return u.release;
}

std::string module_dir(const std::string &root, const std::string &kversion) {
  return root + "/lib/modules/" + (kversion.empty() ? running_release() : kversion);
}

std::string kmx_cache_dir(const std::string &root) {
  if (const char *e = std::getenv("KMX_CACHE_DIR")) return e;
  if (!root.empty() && root != "/") return root + "/var/cache/kmx";
  if (::geteuid() == 0) return "/var/cache/kmx";
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kmx";
  if (const char *h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kmx";
  return "";
}

Result<KmxConfig> load_kmx_config_from_env() {
  std::string path = kDefaultKmxConfigPath;
  if (const char *e = std::getenv("KMX_CONFIG"); e && *e) path = e;
  std::string db;
  if (const char *e = std::getenv("KMX_PERSIST_DB"); e && *e) db = e;
  return load_kmx_config(path, db);
}

std::string baseline_dir_from_env() {
  if (const char *e = std::getenv("KMX_BASELINE_DIR"); e && *e) return e;
  return kDefaultBaselineDir;
}

int kmx_usage_error(const char *prog, const std::string &msg, const char *usage) {
  std::fprintf(stderr, "%s: ERROR: %s\n%s", prog, msg.c_str(), usage);
  return 2;
}

PersistHooks make_persist_hooks(const KernelRoots &roots, bool verbose) {
  PersistHooks::Report report;
  if (verbose) report = [](const std::string &msg) { std::fprintf(stderr, "kmx: persist: %s\n", msg.c_str()); };
  return PersistHooks(roots, load_kmx_config_from_env, baseline_dir_from_env(), std::move(report));
}

int print_kmx_version() {
  std::printf("kmx version %s\n+ZSTD +XZ +ZLIB +LIBCRYPTO -EXPERIMENTAL\n", KMX_VERSION);
  return 0;
}

int print_kmod_version() {
  std::printf("kmod version 30\n+ZSTD +XZ +ZLIB +LIBCRYPTO -EXPERIMENTAL (kmx %s)\n", KMX_VERSION);
  return 0;
}

}  // namespace kmx
