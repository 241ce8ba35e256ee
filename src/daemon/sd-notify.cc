#include "daemon/sd-notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace kmx {

Status notify_service_manager(const std::string &socket_path, const std::string &state) {
  if (socket_path.empty()) return {};
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path || (socket_path[0] != '/' && socket_path[0] != '@'))
    return fail(Errc::invalid_argument, "NOTIFY_SOCKET '" + socket_path + "' is not a socket path");
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + socket_path.size());
  if (socket_path[0] == '@') addr.sun_path[0] = '\0';  // abstract: no terminating NUL counted
  else len++;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_errno(errno, std::string("socket: ") + std::strerror(errno));
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr *>(&addr), len);
  int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(state.size()))
    return fail_errno(e, "notifying the service manager at '" + socket_path + "': " + std::strerror(e));
  return {};
}

long long monotonic_usec() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace kmx
