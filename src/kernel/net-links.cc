#include "kernel/net-links.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kmx {
namespace {

// rtattr walk within [p, p + len): calls fn(type, payload, payload_len) for each well-formed
// attribute, stops at the first malformed one.
template <typename Fn>
void for_each_attr(const unsigned char *p, size_t len, Fn &&fn) {
  while (len >= sizeof(struct rtattr)) {
    struct rtattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.rta_len < sizeof(struct rtattr) || a.rta_len > len) return;
    fn(a.rta_type & ~NLA_F_NESTED, p + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0));
    size_t step = RTA_ALIGN(a.rta_len);
    if (step >= len) return;
    p += step;
    len -= step;
  }
}

}  // namespace

bool parse_link_dump(const unsigned char *buf, size_t len, std::vector<std::string> &out, int &error) {
  while (len >= sizeof(struct nlmsghdr)) {
    struct nlmsghdr h;
    std::memcpy(&h, buf, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > len) return true;
    if (h.nlmsg_type == NLMSG_DONE) return false;
    if (h.nlmsg_type == NLMSG_ERROR) {
      struct nlmsgerr e;
      if (h.nlmsg_len >= NLMSG_LENGTH(sizeof e)) {
        std::memcpy(&e, buf + NLMSG_HDRLEN, sizeof e);
        error = -e.error;
      } else {
        error = EPROTO;
      }
      return false;
    }
    if (h.nlmsg_type == RTM_NEWLINK && h.nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
      size_t off = NLMSG_LENGTH(sizeof(struct ifinfomsg));
      size_t attrs = NLMSG_ALIGN(off);
      if (attrs <= h.nlmsg_len)
        for_each_attr(buf + attrs, h.nlmsg_len - attrs, [&](unsigned type, const unsigned char *p, size_t n) {
          if (type != IFLA_LINKINFO) return;
          for_each_attr(p, n, [&](unsigned t, const unsigned char *q, size_t m) {
            if (t != IFLA_INFO_KIND) return;
            std::string kind(reinterpret_cast<const char *>(q), strnlen(reinterpret_cast<const char *>(q), m));
            if (!kind.empty()) out.push_back(std::move(kind));
          });
        });
    }
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= len) return true;
    buf += step;
    len -= step;
  }
  return true;
}

Result<std::vector<std::string>> net_link_kinds() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return fail_errno(errno, std::string("socket(NETLINK_ROUTE): ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  struct sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &req, sizeof req, 0, reinterpret_cast<struct sockaddr *>(&kernel), sizeof kernel) < 0)
    return fail_errno(errno, std::string("RTM_GETLINK: ") + std::strerror(errno));
  std::vector<std::string> out;
  std::vector<unsigned char> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, std::string("RTM_GETLINK reply: ") + std::strerror(errno));
    }
    if (n == 0) break;
    int error = 0;
    if (!parse_link_dump(buf.data(), static_cast<size_t>(n), out, error)) {
      if (error) return fail_errno(error, std::string("RTM_GETLINK: ") + std::strerror(error));
      break;
    }
  }
  return out;
}

}  // namespace kmx
