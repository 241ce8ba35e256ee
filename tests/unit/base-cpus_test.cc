#include "base/cpus.h"

#include <gtest/gtest.h>
#include <sched.h>

#include "test-support.h"

namespace kmx {
namespace {

TEST(CpuMax, QuotaOverPeriodRoundedUp) {
  EXPECT_EQ(cpu_max_cpus("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpu_max_cpus("100000 100000\n"), 1u);
  EXPECT_EQ(cpu_max_cpus("150000 100000\n"), 2u);
  EXPECT_EQ(cpu_max_cpus("50000 100000"), 1u);
  EXPECT_EQ(cpu_max_cpus("400000 100000\n"), 4u);
  EXPECT_EQ(cpu_max_cpus("garbage"), std::nullopt);
  EXPECT_EQ(cpu_max_cpus("100 0"), std::nullopt);
  EXPECT_EQ(cpu_max_cpus(""), std::nullopt);
}

TEST(CgroupCpuLimit, SmallestAlongThePath) {
  test::TempDir d;
  test::write_file(d.path + "/system.slice/cpu.max", "300000 100000\n");
  test::write_file(d.path + "/system.slice/kmx.service/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/system.slice/kmx.service\n", d.path), 3u);
  test::write_file(d.path + "/system.slice/kmx.service/cpu.max", "100000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/system.slice/kmx.service\n", d.path), 1u);
  // cgroup v1 lines and a missing file: no limit.
  EXPECT_EQ(cgroup_cpu_limit("12:cpu,cpuacct:/x\n", d.path), std::nullopt);
  EXPECT_EQ(cgroup_cpu_limit("0::/user.slice\n", d.path), std::nullopt);
  EXPECT_EQ(cgroup_cpu_limit("0::/\n", d.path), std::nullopt);
}

TEST(UsableCpus, NoMoreThanTheAffinityMask) {
  cpu_set_t set;
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  unsigned n = usable_cpus();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, static_cast<unsigned>(CPU_COUNT(&set)));
}

}  // namespace
}  // namespace kmx
