#include "tools/common.h"

#include <sys/utsname.h>

#include <cstring>

namespace kmx {

std::string error_string(const Error &e) { return std::strerror(e.to_errno()); }

std::string running_release() {
  struct utsname u;
  if (uname(&u) < 0) return "";
  return u.release;
}

std::string module_dir(const std::string &root, const std::string &kversion) {
  return root + "/lib/modules/" + (kversion.empty() ? running_release() : kversion);
}

}  // namespace kmx
