#include "daemon/request-queue.h"

namespace kmx {

bool RequestQueue::push(const std::string &alias, const std::string &source) {
  counters_.pushed++;
  if (auto f = flight_.find(alias); f != flight_.end()) {
    f->second.requests++;
    counters_.merged++;
    return false;
  }
  auto [it, inserted] = waiting_.try_emplace(alias, LoadRequest{alias, source, 1});
  if (!inserted) {
    it->second.requests++;
    counters_.merged++;
    return false;
  }
  order_.push_back(alias);
  return true;
}

std::optional<LoadRequest> RequestQueue::pop() {
  if (order_.empty()) return std::nullopt;
  std::string alias = std::move(order_.front());
  order_.pop_front();
  auto it = waiting_.find(alias);
  LoadRequest r = std::move(it->second);
  waiting_.erase(it);
  flight_.emplace(alias, r);
  return r;
}

i64 RequestQueue::finish(const std::string &alias) {
  auto it = flight_.find(alias);
  if (it == flight_.end()) return 0;
  i64 n = it->second.requests;
  flight_.erase(it);
  counters_.done += n;
  return n;
}

}  // namespace kmx
