// parallel_for_each: run fn(i) for i in [0, n) on a small thread pool.
//
// Work is handed out by an atomic counter, so the assignment of items to threads varies
// between runs; callers therefore write each result into its own pre-sized slot and merge
// serially afterwards, which keeps output independent of thread timing (mold's pattern).
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "base/cpus.h"

namespace kmx {

// One thread per CPU this process may run on (affinity mask and cgroup quota, base/cpus.h).
inline unsigned default_jobs() { return usable_cpus(); }

template <typename Fn>
void parallel_for_each(size_t n, Fn &&fn, unsigned jobs = 0) {
  if (jobs == 0) jobs = default_jobs();
  jobs = static_cast<unsigned>(std::min<size_t>(jobs, n));
  if (jobs <= 1) {
    for (size_t i = 0; i < n; i++) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
  };
  std::vector<std::jthread> threads;
  threads.reserve(jobs - 1);
  for (unsigned t = 1; t < jobs; t++) threads.emplace_back(worker);
  worker();
}

}  // namespace kmx
