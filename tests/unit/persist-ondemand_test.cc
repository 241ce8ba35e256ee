#include "persist/ondemand.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

TEST(OnDemand, RecordForgetAndBootScope) {
  test::TempDir tmp("kmx-ondemand");
  fs::path dir = tmp.path;
  auto s = PersistStore::open((dir / "p.db").string(), OpenMode::read_write);
  ASSERT_TRUE(s) << s.error().msg;
  OnDemandRecord r{"dummy", "rtnl-link-dummy", "kernel", 0, "kernel", "boot-a", 1000};
  ASSERT_TRUE(record_on_demand(*s, r));
  r.module = "ext4";
  r.alias = "fs-ext4";
  ASSERT_TRUE(record_on_demand(*s, r));
  auto got = on_demand_records(*s, "boot-a");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].module, "dummy");
  EXPECT_EQ((*got)[0].alias, "rtnl-link-dummy");
  EXPECT_EQ((*got)[1].alias, "fs-ext4");
  EXPECT_TRUE(*forget_on_demand(*s, "ext4"));
  EXPECT_FALSE(*forget_on_demand(*s, "ext4"));
  // Another boot does not see these, and its first write drops them.
  EXPECT_TRUE(on_demand_records(*s, "boot-b")->empty());
  OnDemandRecord b{"loop", "block-major-7", "kernel", 0, "kernel", "boot-b", 2000};
  ASSERT_TRUE(record_on_demand(*s, b));
  EXPECT_TRUE(on_demand_records(*s, "boot-a")->empty());
  EXPECT_EQ(on_demand_records(*s, "boot-b")->size(), 1u);
  OnDemandRecord bad = b;
  bad.module = "x;rm";
  EXPECT_FALSE(record_on_demand(*s, bad));
}

TEST(OnDemand, BootIdAndCommFromFakeProc) {
  fs::path dir = fs::temp_directory_path() / ("kmx-ondemand-proc-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sys/kernel/random");
  fs::create_directories(dir / "42");
  std::ofstream(dir / "sys/kernel/random/boot_id") << "0f1e2d3c-aaaa-bbbb-cccc-000000000000\n";
  std::ofstream(dir / "42/comm") << "ip\n";
  KernelRoots kr;
  kr.proc = dir.string();
  EXPECT_EQ(current_boot_id(kr), "0f1e2d3c-aaaa-bbbb-cccc-000000000000");
  EXPECT_EQ(process_comm(kr, 42), "ip");
  EXPECT_EQ(process_comm(kr, 43), "");
  EXPECT_EQ(process_comm(kr, 0), "");
  fs::remove_all(dir);
}

TEST(OnDemand, KernelThreadParentFromFakeProc) {
  fs::path dir = fs::temp_directory_path() / ("kmx-ondemand-kthread-" + std::to_string(getpid()));
  fs::remove_all(dir);
  for (const char *p : {"2", "77", "100", "101", "102", "103"}) fs::create_directories(dir / p);
  // kthreadd and a kworker carry PF_KTHREAD (0x00200000) in field 9 of stat.
  std::ofstream(dir / "2/stat") << "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n";
  std::ofstream(dir / "77/stat") << "77 (kworker/u2:1) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n";
  // A user process whose comm mimics a kworker, with spaces and parentheses: flags 4194560.
  std::ofstream(dir / "100/stat") << "100 (kworker (x) 1) S 1 100 100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n";
  std::ofstream(dir / "100/cmdline") << "";
  // No stat: empty cmdline means a kernel thread, a user process has argv[0].
  std::ofstream(dir / "101/cmdline") << "";
  std::ofstream(dir / "102/cmdline") << std::string("sh\0-c\0", 6);
  std::ofstream(dir / "103/stat") << "garbage";
  KernelRoots kr;
  kr.proc = dir.string();
  EXPECT_TRUE(is_kernel_thread(kr, 2));
  EXPECT_TRUE(is_kernel_thread(kr, 77));
  EXPECT_FALSE(is_kernel_thread(kr, 100));
  EXPECT_TRUE(is_kernel_thread(kr, 101));
  EXPECT_FALSE(is_kernel_thread(kr, 102));
  EXPECT_FALSE(is_kernel_thread(kr, 103));
  EXPECT_FALSE(is_kernel_thread(kr, 104));  // gone
  EXPECT_TRUE(is_kernel_thread(kr, 0));
  EXPECT_FALSE(is_kernel_thread(kr, -1));
  fs::remove_all(dir);
}

TEST(OnDemand, BatchWritesValidRecordsAndNamesInvalidOnes) {
  test::TempDir dir("kmx-ondemand-batch");
  auto s = PersistStore::open(dir.path + "/p.db", OpenMode::read_write);
  ASSERT_TRUE(s) << s.error().msg;
  OnDemandRecord old{"loop", "block-major-7", "kernel", 0, "kernel", "boot-a", 1000};
  ASSERT_TRUE(record_on_demand(*s, old));
  std::vector<OnDemandRecord> batch = {
      {"e1000", "pci:v00008086d0000100Esv*", "uevent", 0, "uevent", "boot-b", 2000},
      {"bad name", "x", "uevent", 0, "uevent", "boot-b", 2000},
      {"psmouse", "serio:ty01pr00id00ex00", "uevent", 0, "uevent", "boot-b", 2001},
  };
  Status st = record_on_demand(*s, batch);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().msg.find("'bad name'"), std::string::npos) << st.error().msg;
  auto got = on_demand_records(*s, "boot-b");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].module, "e1000");
  EXPECT_EQ((*got)[1].module, "psmouse");
  EXPECT_EQ((*got)[1].loaded, 2001);
  // The batch's write dropped the other boot's record.
  EXPECT_TRUE(on_demand_records(*s, "boot-a")->empty());
  // An empty batch writes nothing and succeeds.
  EXPECT_TRUE(record_on_demand(*s, std::vector<OnDemandRecord>{}));
}
