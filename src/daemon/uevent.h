// Kernel uevents: the messages the kernel multicasts on NETLINK_KOBJECT_UEVENT (group 1) when
// a device is added, removed or changed, and the source the daemon reads them from.
//
// Message format (lib/kobject_uevent.c, kobject_uevent_env(); one datagram per event):
//
//   "ACTION@DEVPATH" NUL  "KEY=VALUE" NUL  "KEY=VALUE" NUL ...
//   e.g. "add@/devices/pci0000:00/0000:00:03.0\0ACTION=add\0DEVPATH=/devices/pci0000:00/
//         0000:00:03.0\0SUBSYSTEM=pci\0MODALIAS=pci:v00008086d0000100Esv...\0SEQNUM=1234\0"
//
// The header's ACTION is one of add, remove, change, move, online, offline, bind, unbind;
// DEVPATH is relative to /sys and starts with '/'. The environment always holds ACTION,
// DEVPATH, SUBSYSTEM and SEQNUM (decimal, incremented per event; /sys/kernel/uevent_seqnum is
// the last one sent); MODALIAS is present when the device has one. The kernel caps the
// environment at UEVENT_BUFFER_SIZE (2048) bytes; the last entry may lack its NUL. Datagrams
// from udev's own multicast (group 2) start with "libudev\0" and a binary header instead; they
// are not kernel events and are refused here. No byte order: the message is text.
//
// The parser trusts nothing: every entry must be KEY=VALUE with a non-empty key, the header
// must have an action and a '/'-rooted devpath, the environment's ACTION/DEVPATH must agree
// with the header, and SEQNUM must be a decimal number. Control characters are refused in the
// header, in keys and in MODALIAS (which reaches the loader), not in other values: the kernel
// passes device attributes through as they are. A MODALIAS ending in '\n' loses it: the cpu
// bus sends "MODALIAS=cpu:type:...\n" (seen in the lab on 6.1 and 6.12). Errors name what is
// wrong.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

// A received datagram larger than this is refused (the kernel's own cap is 2048 bytes of
// environment plus the header; netlink adds nothing to the payload).
inline constexpr size_t kMaxUeventSize = 8192;

struct Uevent {
  std::string action;
  std::string devpath;
  std::string subsystem;
  std::string modalias;  // "" when the event has none
  i64 seqnum = -1;       // -1 when absent
  std::vector<std::pair<std::string, std::string>> env;  // every KEY=VALUE, in order
};

Result<Uevent> parse_uevent(ByteView msg);

// Where uevents come from: the kernel's netlink socket, or (tests) a Unix datagram socket
// bound at a path that carries the same messages.
class UeventSource {
public:
  UeventSource(UeventSource &&o) noexcept;
  UeventSource &operator=(UeventSource &&o) noexcept;
  UeventSource(const UeventSource &) = delete;
  UeventSource &operator=(const UeventSource &) = delete;
  ~UeventSource();

  // NETLINK_KOBJECT_UEVENT, group 1, non-blocking, with a receive buffer of `rcvbuf` bytes
  // (SO_RCVBUFFORCE, which needs CAP_NET_ADMIN; SO_RCVBUF, capped by rmem_max, otherwise).
  static Result<UeventSource> open_netlink(int rcvbuf);
  // A Unix datagram socket bound at `path` (replaced if it exists), non-blocking.
  static Result<UeventSource> open_unix(const std::string &path, int rcvbuf);

  int fd() const { return fd_; }
  bool is_netlink() const { return netlink_; }
  int rcvbuf() const { return rcvbuf_; }

  enum class Recv { message, empty, overflow, ignored };
  // Receive one datagram into `buf`. empty: nothing queued (EAGAIN). overflow: the kernel
  // dropped events because the receive buffer was full (ENOBUFS); the caller must rescan.
  // ignored: a datagram that is not from the kernel (netlink sender pid != 0) or truncated.
  Result<Recv> receive(std::string &buf);

private:
  UeventSource() = default;
  void release();  // close the socket, unlink a unix source's path
  int fd_ = -1;
  bool netlink_ = false;
  int rcvbuf_ = 0;
  std::string path_;  // unlinked on destruction (unix sources)
};

}  // namespace kmx
