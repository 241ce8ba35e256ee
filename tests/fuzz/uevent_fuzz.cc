// Fuzz target for the uevent parser (daemon/uevent.h): any datagram the netlink socket can
// deliver. Checks that hostile bytes never crash, that an accepted event is consistent with
// the parser's rules (action non-empty, devpath rooted, no control characters in what reaches
// the loader), and that parsing is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/uevent.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmx::ByteView v(data, size);
  auto ev = kmx::parse_uevent(v);
  auto again = kmx::parse_uevent(v);
  if (ev.has_value() != again.has_value()) std::abort();
  if (!ev) {
    if (ev.error().msg.empty()) std::abort();
    return 0;
  }
  if (ev->action.empty() || ev->devpath.empty() || ev->devpath[0] != '/') std::abort();
  for (char c : ev->modalias)
    if (static_cast<unsigned char>(c) < 0x20) std::abort();
  if (ev->modalias != again->modalias || ev->env.size() != again->env.size()) std::abort();
  for (const auto &[k, val] : ev->env)
    if (k.empty()) std::abort();
  return 0;
}
