#include "daemon/uevent.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace kmx {
namespace {

bool has_control_char(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

Status set_rcvbuf(int fd, int size, int &got) {
  // SO_RCVBUFFORCE ignores rmem_max (CAP_NET_ADMIN); fall back to the capped SO_RCVBUF.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
    return fail_errno(errno, std::string("setting the uevent receive buffer: ") + std::strerror(errno));
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0) got = 0;
  return {};
}

}  // namespace

Result<Uevent> parse_uevent(ByteView msg) {
  if (msg.size() > kMaxUeventSize)
    return fail(Errc::too_large, "uevent of " + std::to_string(msg.size()) + " bytes (at most " + std::to_string(kMaxUeventSize) + ")");
  std::string_view text = msg.as_string();
  if (text.starts_with(std::string_view("libudev\0", 8))) return fail(Errc::invalid_format, "uevent from udev (libudev header), not from the kernel");
  size_t nul = text.find('\0');
  if (nul == std::string_view::npos) return fail(Errc::invalid_format, "uevent without a NUL after its header");
  std::string_view header = text.substr(0, nul);
  size_t at = header.find('@');
  if (at == std::string_view::npos) return fail(Errc::invalid_format, "uevent header has no '@'");
  Uevent ev;
  ev.action = std::string(header.substr(0, at));
  ev.devpath = std::string(header.substr(at + 1));
  if (ev.action.empty()) return fail(Errc::invalid_format, "uevent header has an empty action");
  if (ev.devpath.empty() || ev.devpath[0] != '/') return fail(Errc::invalid_format, "uevent devpath does not start with '/'");
  if (has_control_char(header)) return fail(Errc::invalid_format, "uevent header holds a control character");

  size_t pos = nul + 1;
  size_t index = 0;
  while (pos < text.size()) {
    size_t end = text.find('\0', pos);
    if (end == std::string_view::npos) end = text.size();  // the last entry may lack its NUL
    std::string_view entry = text.substr(pos, end - pos);
    pos = end + 1;
    index++;
    if (entry.empty()) continue;  // padding
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return fail(Errc::invalid_format, "uevent entry " + std::to_string(index) + " is not KEY=VALUE");
    std::string_view key = entry.substr(0, eq), value = entry.substr(eq + 1);
    // Values are the kernel's and may hold any byte but NUL (a device name with a tab, say);
    // keys never do, and MODALIAS must not, since it reaches the loader.
    if (has_control_char(key)) return fail(Errc::invalid_format, "uevent entry " + std::to_string(index) + " has a control character in its key");
    if (key == "SUBSYSTEM") ev.subsystem = std::string(value);
    else if (key == "MODALIAS") {
      // The cpu bus's uevent prints its modalias with the trailing newline of the sysfs file
      // (drivers/base/cpu.c, cpu_uevent() -> print_cpu_modalias()); the alias is without it.
      while (!value.empty() && value.back() == '\n') value.remove_suffix(1);
      if (has_control_char(value)) return fail(Errc::invalid_format, "uevent MODALIAS holds a control character");
      ev.modalias = std::string(value);
    }
    else if (key == "ACTION" && value != ev.action)
      return fail(Errc::invalid_format, "uevent ACTION=" + std::string(value) + " differs from its header's '" + ev.action + "'");
    else if (key == "DEVPATH" && value != ev.devpath)
      return fail(Errc::invalid_format, "uevent DEVPATH differs from its header's");
    else if (key == "SEQNUM") {
      i64 n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty() || n < 0)
        return fail(Errc::invalid_format, "uevent SEQNUM '" + std::string(value) + "' is not a decimal number");
      ev.seqnum = n;
    }
    ev.env.emplace_back(std::string(key), std::string(value));
  }
  return ev;
}

UeventSource::UeventSource(UeventSource &&o) noexcept
    : fd_(std::exchange(o.fd_, -1)), netlink_(o.netlink_), rcvbuf_(o.rcvbuf_), path_(std::move(o.path_)) {
  o.path_.clear();
}

UeventSource &UeventSource::operator=(UeventSource &&o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::exchange(o.fd_, -1);
    netlink_ = o.netlink_;
    rcvbuf_ = o.rcvbuf_;
    path_ = std::exchange(o.path_, {});
  }
  return *this;
}

UeventSource::~UeventSource() { release(); }

void UeventSource::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

Result<UeventSource> UeventSource::open_netlink(int rcvbuf) {
  UeventSource s;
  s.fd_ = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
  if (s.fd_ < 0) return fail_errno(errno, std::string("uevent netlink socket: ") + std::strerror(errno));
  s.netlink_ = true;
  TRY(set_rcvbuf(s.fd_, rcvbuf, s.rcvbuf_));
  struct sockaddr_nl addr {};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = 1;  // the kernel's uevent multicast group
  if (bind(s.fd_, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0)
    return fail_errno(errno, std::string("binding the uevent netlink socket: ") + std::strerror(errno));
  return s;
}

Result<UeventSource> UeventSource::open_unix(const std::string &path, int rcvbuf) {
  struct sockaddr_un addr {};
  if (path.size() >= sizeof addr.sun_path) return fail(Errc::invalid_argument, "uevent socket path '" + path + "' is too long");
  UeventSource s;
  s.fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s.fd_ < 0) return fail_errno(errno, std::string("uevent test socket: ") + std::strerror(errno));
  TRY(set_rcvbuf(s.fd_, rcvbuf, s.rcvbuf_));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  if (bind(s.fd_, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0)
    return fail_errno(errno, "binding the uevent socket '" + path + "': " + std::strerror(errno));
  s.path_ = path;
  return s;
}

Result<UeventSource::Recv> UeventSource::receive(std::string &buf) {
  buf.resize(kMaxUeventSize + 1);
  struct sockaddr_nl nl {};
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr mh {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (netlink_) {
    mh.msg_name = &nl;
    mh.msg_namelen = sizeof nl;
  }
  for (;;) {
    ssize_t n = recvmsg(fd_, &mh, 0);
    if (n >= 0) {
      if (mh.msg_flags & MSG_TRUNC || static_cast<size_t>(n) > kMaxUeventSize) return Recv::ignored;
      // Only the kernel (port id 0) sends uevents; anything else on the group is forged.
      if (netlink_ && nl.nl_pid != 0) return Recv::ignored;
      buf.resize(static_cast<size_t>(n));
      return Recv::message;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Recv::empty;
    if (errno == ENOBUFS) return Recv::overflow;
    return fail_errno(errno, std::string("receiving a uevent: ") + std::strerror(errno));
  }
}

}  // namespace kmx
