// The kinds of the network links that exist now ("dummy", "bridge", "vlan", "bond", ...), from
// one RTM_GETLINK dump over NETLINK_ROUTE: each link's IFLA_LINKINFO / IFLA_INFO_KIND.
//
// Why autoclean needs it: a module that provides a link type through rtnl_link_ops (requested
// by the kernel as "rtnl-link-KIND") keeps refcount 0 while links of its kind exist, and
// unloading it deletes those links. Such a module is in use while a link of its kind exists.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace kmx {

// One entry per link that reports a kind (physical devices report none); in dump order.
Result<std::vector<std::string>> net_link_kinds();

// Parses the messages of one RTM_GETLINK dump reply buffer (a run of nlmsghdr), appending the
// kinds to `out`. Returns false at NLMSG_DONE. Malformed lengths end the buffer.
bool parse_link_dump(const unsigned char *buf, size_t len, std::vector<std::string> &out, int &error);

}  // namespace kmx
