#include "kernel/module-name.h"

namespace kmx {

std::string normalize_module_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '.') break;
    out.push_back(c == '-' ? '_' : c);
  }
  return out;
}

std::string module_name_from_path(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return normalize_module_name(base);
}

}  // namespace kmx
