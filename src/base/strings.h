// Small string helpers shared across layers.
#pragma once

#include <string>
#include <type_traits>
#include <string_view>
#include <vector>

namespace kmx {

// The words of `v` with `sep` between them.
inline std::string join(const std::vector<std::string> &v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// Calls fn(line, lineno) for each line of `text`: lines are numbered from 1 and given without
// their '\n'. A last line without '\n' is a line; text that ends in '\n' has no empty line after
// it, and empty text has no lines. Readers of whole files use it; a socket reader that keeps a
// partial line for the next read does not. When fn returns bool, false stops the walk.
template <typename Fn>
void for_each_line(std::string_view text, Fn &&fn) {
  size_t lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if constexpr (std::is_same_v<std::invoke_result_t<Fn &, std::string_view, size_t>, bool>) {
      if (!fn(text.substr(0, nl), ++lineno)) return;
    } else {
      fn(text.substr(0, nl), ++lineno);
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace kmx
