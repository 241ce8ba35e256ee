// The daemon's load requests: one entry per alias waiting or being worked on, so that identical
// requests arriving together (a uevent storm, coldplug racing hotplug) are merged into one
// resolution and one load. This is kerneld's check_pending_load() idea: a request for an alias
// that is already queued or in flight joins it instead of starting another.
//
// FIFO over distinct aliases: the first request for an alias fixes its place; later ones only
// bump its count. An alias leaves the queue when popped and stays "in flight" until finish(),
// so a request arriving while its alias is being loaded (from another thread, or re-entrantly)
// is merged too. After finish() a new request for the alias is a new entry: the module may have
// been unloaded since, and the loader checks the kernel's state anyway.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/types.h"

namespace kmx {

struct LoadRequest {
  std::string alias;
  std::string source;  // "uevent", "coldplug", ...
  i64 requests = 1;    // how many requests this entry stands for
};

struct QueueCounters {
  i64 pushed = 0;  // every request
  i64 merged = 0;  // requests that joined an entry already queued or in flight
  i64 done = 0;    // requests completed by finish() (merged ones included)
};

class RequestQueue {
public:
  // Returns true when the request started a new entry, false when it was merged.
  bool push(const std::string &alias, const std::string &source);
  // The oldest waiting entry, now in flight; nullopt when nothing waits.
  std::optional<LoadRequest> pop();
  // The entry for `alias` is complete; returns how many requests it stood for (0 if unknown).
  i64 finish(const std::string &alias);

  size_t waiting() const { return order_.size(); }
  size_t in_flight() const { return flight_.size(); }
  bool idle() const { return order_.empty() && flight_.empty(); }
  const QueueCounters &counters() const { return counters_; }

private:
  std::deque<std::string> order_;
  std::unordered_map<std::string, LoadRequest> waiting_;
  std::unordered_map<std::string, LoadRequest> flight_;
  QueueCounters counters_;
};

}  // namespace kmx
