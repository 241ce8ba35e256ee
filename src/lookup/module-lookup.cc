#include "lookup/module-lookup.h"

#include "base/mapped-file.h"

namespace kmx {

std::optional<std::string> normalize_alias(const std::string &alias) {
  std::string out;
  out.reserve(alias.size());
  for (size_t i = 0; i < alias.size(); i++) {
    char c = alias[i];
    if (c == '[') {
      size_t close = alias.find(']', i);
      if (close == std::string::npos) return std::nullopt;
      out.append(alias, i, close - i + 1);
      i = close;
    } else if (c == ']') {
      return std::nullopt;
    } else {
      out.push_back(c == '-' ? '_' : c);
    }
  }
  return out;
}

Result<std::vector<std::string>> read_builtin_modinfo(const std::string &dir, const std::string &name) {
  auto text = read_file(dir + "/modules.builtin.modinfo");
  if (!text) return fail(std::move(text).error());
  std::vector<std::string> out;
  std::string prefix = name + ".";
  std::string_view all = *text;
  size_t i = 0;
  while (i < all.size()) {
    size_t end = all.find('\0', i);
    if (end == std::string_view::npos) end = all.size();
    std::string_view s = all.substr(i, end - i);
    i = end + 1;
    if (s.size() > prefix.size() && s.starts_with(prefix)) out.emplace_back(s.substr(prefix.size()));
  }
  return out;
}

}  // namespace kmx
