// How many CPUs this process may use: the parallelism a worker pool should have.
//
// std::thread::hardware_concurrency() counts the machine's online CPUs. A process under
// `taskset`, a cpuset or a container sees fewer: its affinity mask (sched_getaffinity) and
// the cgroup v2 bandwidth limit `cpu.max` ("QUOTA PERIOD" in microseconds, or "max PERIOD"
// for none) of its cgroup and of every ancestor, which together cap how much CPU time it gets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kmx {

// CPUs allowed by one cpu.max text: ceil(QUOTA / PERIOD), nullopt for "max" or text that does
// not parse.
std::optional<unsigned> cpu_max_cpus(std::string_view cpu_max);

// The smallest cpu.max limit along the cgroup path named by a /proc/self/cgroup text (the
// "0::PATH" line of cgroup v2) under the cgroup2 mount `mount`; nullopt when none limits.
std::optional<unsigned> cgroup_cpu_limit(std::string_view proc_self_cgroup, const std::string &mount);

// min(affinity mask, cgroup limit), at least 1; computed once per process.
unsigned usable_cpus();

}  // namespace kmx
