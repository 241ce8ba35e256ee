// The service manager's readiness protocol (systemd's sd_notify(3), Type=notify units): each
// state change is one datagram of newline-separated KEY=VALUE lines ("READY=1",
// "RELOADING=1\nMONOTONIC_USEC=...", "STOPPING=1", "STATUS=free text") sent to the AF_UNIX
// datagram socket whose path the manager put in $NOTIFY_SOCKET; a path starting with '@' names
// an abstract socket. With no socket nothing is sent.
#pragma once

#include <string>

#include "base/result.h"

namespace kmx {

Status notify_service_manager(const std::string &socket_path, const std::string &state);

// CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it beside MONOTONIC_USEC=.
long long monotonic_usec();

}  // namespace kmx
