#include "kernel/net-links.h"

#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

using namespace kmx;

namespace {

// Appends one RTM_NEWLINK message; `kind` empty: no IFLA_LINKINFO (a physical device).
void add_link(std::vector<unsigned char> &buf, const std::string &kind) {
  std::vector<unsigned char> attrs;
  auto put_attr = [](std::vector<unsigned char> &to, unsigned short type, const void *data, size_t n) {
    struct rtattr a{};
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(n));
    a.rta_type = type;
    size_t at = to.size();
    to.resize(at + RTA_SPACE(n));
    std::memcpy(to.data() + at, &a, sizeof a);
    std::memcpy(to.data() + at + RTA_LENGTH(0), data, n);
  };
  const char name[] = "x0";
  put_attr(attrs, IFLA_IFNAME, name, sizeof name);
  if (!kind.empty()) {
    std::vector<unsigned char> info;
    put_attr(info, IFLA_INFO_KIND, kind.c_str(), kind.size() + 1);
    put_attr(attrs, IFLA_LINKINFO | NLA_F_NESTED, info.data(), info.size());
  }
  struct nlmsghdr h{};
  h.nlmsg_type = RTM_NEWLINK;
  h.nlmsg_len = static_cast<unsigned>(NLMSG_LENGTH(sizeof(struct ifinfomsg)) + attrs.size());
  size_t at = buf.size();
  buf.resize(at + NLMSG_ALIGN(h.nlmsg_len));
  std::memcpy(buf.data() + at, &h, sizeof h);
  std::memcpy(buf.data() + at + NLMSG_LENGTH(sizeof(struct ifinfomsg)), attrs.data(), attrs.size());
}

void add_done(std::vector<unsigned char> &buf) {
  struct nlmsghdr h{};
  h.nlmsg_type = NLMSG_DONE;
  h.nlmsg_len = NLMSG_LENGTH(sizeof(int));
  size_t at = buf.size();
  buf.resize(at + NLMSG_ALIGN(h.nlmsg_len));
  std::memcpy(buf.data() + at, &h, sizeof h);
}

}  // namespace

TEST(NetLinks, KindsOfVirtualLinksInOrderUntilDone) {
  std::vector<unsigned char> buf;
  add_link(buf, "");
  add_link(buf, "dummy");
  add_link(buf, "vlan");
  add_done(buf);
  add_link(buf, "bridge");  // after DONE: not read
  std::vector<std::string> kinds;
  int error = 0;
  EXPECT_FALSE(parse_link_dump(buf.data(), buf.size(), kinds, error));
  EXPECT_EQ(error, 0);
  EXPECT_EQ(kinds, (std::vector<std::string>{"dummy", "vlan"}));
}

TEST(NetLinks, MultipartBufferAsksForMore) {
  std::vector<unsigned char> buf;
  add_link(buf, "bond");
  std::vector<std::string> kinds;
  int error = 0;
  EXPECT_TRUE(parse_link_dump(buf.data(), buf.size(), kinds, error));
  EXPECT_EQ(kinds, (std::vector<std::string>{"bond"}));
}

TEST(NetLinks, ErrorMessageAndTruncationsNeverOverread) {
  std::vector<unsigned char> buf;
  struct nlmsghdr h{};
  h.nlmsg_type = NLMSG_ERROR;
  h.nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
  struct nlmsgerr e{};
  e.error = -EPERM;
  buf.resize(NLMSG_ALIGN(h.nlmsg_len));
  std::memcpy(buf.data(), &h, sizeof h);
  std::memcpy(buf.data() + NLMSG_HDRLEN, &e, sizeof e);
  std::vector<std::string> kinds;
  int error = 0;
  EXPECT_FALSE(parse_link_dump(buf.data(), buf.size(), kinds, error));
  EXPECT_EQ(error, EPERM);

  std::vector<unsigned char> full;
  add_link(full, "dummy");
  add_link(full, "veth");
  for (size_t cut = 0; cut < full.size(); cut++) {
    std::vector<unsigned char> part(full.begin(), full.begin() + static_cast<long>(cut));
    std::vector<std::string> k;
    int err = 0;
    parse_link_dump(part.data(), part.size(), k, err);
    EXPECT_LE(k.size(), 2u);
  }
}
