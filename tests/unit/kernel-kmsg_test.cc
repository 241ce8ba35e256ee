#include "kernel/kmsg.h"

#include <gtest/gtest.h>

#include <cerrno>

using namespace kmx;

TEST(Kmsg, ParsesRecordWithContinuation) {
  auto r = parse_kmsg_record("4,812,2769432,-,caller=T52;kmx_lab_a: loading out-of-tree module taints kernel.\n SUBSYSTEM=module\n");
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->level, 4);
  EXPECT_EQ(r->seq, 812u);
  EXPECT_EQ(r->usec, 2769432u);
  EXPECT_EQ(r->text, "kmx_lab_a: loading out-of-tree module taints kernel.");
}

TEST(Kmsg, FacilityIsMaskedOff) {
  auto r = parse_kmsg_record("14,1,2,-;user message\n");  // facility 1 (user), level 6
  ASSERT_TRUE(r);
  EXPECT_EQ(r->level, 6);
}

TEST(Kmsg, RejectsNonRecords) {
  for (const char *bad : {"no separator", "a,b,c;text", "1,2;text", ""}) {
    auto r = parse_kmsg_record(bad);
    EXPECT_FALSE(r) << bad;
  }
}

namespace {
std::vector<KmsgRecord> recs(std::initializer_list<const char *> lines) {
  std::vector<KmsgRecord> v;
  for (const char *l : lines) v.push_back(KmsgRecord{3, 0, 0, l});
  return v;
}
}  // namespace

// The kernel's own wording, as the lab's 6.1 and 6.12 kernels print it, and what kmx makes of it.
TEST(Kmsg, ExplainsRefusals) {
  struct Case {
    std::vector<KmsgRecord> log;
    int err;
    std::size_t lines;
    const char *hint_start;
  } cases[] = {
      {recs({"kmx_lab_a: loading out-of-tree module taints kernel.",
             "kmx_lab_a: module verification failed: signature and/or required key missing - tainting kernel",
             "kmx_lab_a: disagrees about version of symbol module_layout"}),
       ENOEXEC, 3, "it was built for another kernel"},
      {recs({"module kmx_lab_a: .gnu.linkonce.this_module section size must match the kernel's built struct module size at run time"}),
       ENOEXEC, 1, "it was built for another kernel"},
      {recs({"kmx_lab_a: version magic '6.12.117+deb12-amd64 SMP preempt mod_unload modversions ' should be '6.1.0-54-amd64 SMP preempt mod_unload modversions '"}),
       ENOEXEC, 1, "it was built for another kernel"},
      {recs({"kmx_lab_b: Unknown symbol kmx_lab_a_value (err -2)"}), ENOENT, 1,
       "a symbol it needs is absent: kmx_lab_a_value"},
      {recs({"kmx_lab_b: disagrees about version of symbol kmx_lab_a_value"}), EINVAL, 1,
       "it was built against a different version of symbol kmx_lab_a_value"},
      // 6.1 and later put the symbol in parentheses.
      {recs({"kmx_lab_b: module uses symbol (dma_buf_map) from namespace DMA_BUF, but does not import it."}), EINVAL, 1,
       "it uses symbol dma_buf_map from namespace DMA_BUF without importing"},
      {recs({"kmx_lab_b: uses symbol dma_buf_map from namespace DMA_BUF, but does not import it."}), EINVAL, 1,
       "it uses symbol dma_buf_map from namespace DMA_BUF without importing"},
      {recs({"Loading of unsigned module is rejected"}), EKEYREJECTED, 1, "the kernel requires a valid signature"},
      {recs({"Lockdown: insmod: unsigned module loading is restricted; see man kernel_lockdown.7"}), EPERM, 1,
       "the kernel requires a valid signature"},
      {recs({}), EKEYREJECTED, 0, "the kernel requires a valid signature"},
      {recs({"Module kmx_lab_b is blacklisted"}), EPERM, 1, "the kernel command line blacklists it"},
      {recs({"decompression failed with status 0"}), EINVAL, 1, "the kernel could not decompress the file"},
      {recs({"Invalid ELF section header overflow"}), ENOEXEC, 1, "the file is not a loadable module"},
      {recs({"kmx_lab_a: `x' invalid for parameter `answer'"}), EINVAL, 1, "the kernel refused a module parameter"},
      // Other modules' lines are not this load's business.
      {recs({"other_mod: Unknown symbol foo (err -2)", "kmx_lab_ab: version magic 'x' should be 'y'"}), ENOEXEC, 0,
       "the file is not a loadable module"},
  };
  for (const Case &c : cases) {
    std::string name = c.log.empty() || c.log[0].text.find("kmx_lab_b") == std::string::npos ? "kmx_lab_a" : "kmx_lab_b";
    if (c.log.size() == 2) name = "kmx_lab_a";
    LoadExplanation ex = explain_load_failure(c.log, {name}, c.err);
    EXPECT_EQ(ex.lines.size(), c.lines) << (c.log.empty() ? "" : c.log[0].text);
    EXPECT_TRUE(ex.hint.starts_with(c.hint_start)) << ex.hint << " / expected " << c.hint_start;
    if (!*c.hint_start) {
      EXPECT_EQ(ex.hint, "");
    }
  }
}

TEST(Kmsg, MatchesAnyOfTheModuleNames) {
  // The file kmx_lab_a_badmagic.ko holds module kmx_lab_a: the kernel uses the latter.
  auto log = recs({"kmx_lab_a: version magic '6.12 XMP' should be '6.12 SMP'", "Invalid ELF header magic: != \\x7fELF"});
  LoadExplanation ex = explain_load_failure(log, {"kmx_lab_a_badmagic"}, ENOEXEC);
  EXPECT_EQ(ex.lines.size(), 1u);  // only the name-less ELF header line
  ex = explain_load_failure(log, {"kmx_lab_a_badmagic", "kmx_lab_a"}, ENOEXEC);
  EXPECT_EQ(ex.lines.size(), 2u);
  EXPECT_TRUE(ex.hint.starts_with("it was built for another kernel")) << ex.hint;
}
