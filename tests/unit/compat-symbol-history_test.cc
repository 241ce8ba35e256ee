// Unit tests for compat/symbol-history.cc: version order, the pair of versions named, kernels
// whose facts are unknown. Real trees: tests/cli/check-history.sh.
#include <gtest/gtest.h>

#include "compat/symbol-history.h"

using namespace kmx;

namespace {

KernelProfile kernel(const std::string &release, std::vector<std::string> syms, bool vmlinux_known = true) {
  KernelProfile k;
  k.release = release;
  parse_release(release, k.major, k.minor);
  for (const auto &s : syms) k.exports[s] = KernelExport{"vmlinux", ExportLicense::plain, "", std::nullopt};
  k.vmlinux_exports_known = vmlinux_known;
  return k;
}

TEST(SymbolHistory, RemovedBetweenOlderHistoryAndTarget) {
  KernelProfile t = kernel("6.12.117+deb12-amd64", {"a"});
  KernelProfile h = kernel("6.1.0-54-amd64", {"follow_pfn"});
  auto v = symbol_history_hints("follow_pfn", t, {&h});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "follow_pfn: removed between 6.1 and 6.12 (exported by 6.1.0-54-amd64, not by 6.12.117+deb12-amd64)");
}

TEST(SymbolHistory, ExactPairWithKernelsInBetweenInAnyOrder) {
  KernelProfile t = kernel("7.2.13+deb14-amd64", {});
  KernelProfile a = kernel("6.10.1", {"x"}), b = kernel("6.1.0-54-amd64", {"x"}), c = kernel("6.12.117", {});
  auto v = symbol_history_hints("x", t, {&c, &a, &b});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "x: removed between 6.10 and 6.12 (exported by 6.10.1, not by 6.12.117)");
}

TEST(SymbolHistory, AddedAfterTheTarget) {
  KernelProfile t = kernel("6.1.0-54-amd64", {});
  KernelProfile h = kernel("6.12.117+deb12-amd64", {"follow_pfnmap_start"});
  auto v = symbol_history_hints("follow_pfnmap_start", t, {&h});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "follow_pfnmap_start: added between 6.1 and 6.12 (not exported by 6.1.0-54-amd64, exported by "
                  "6.12.117+deb12-amd64)");
}

TEST(SymbolHistory, RemovedThenAddedBackGivesBothPairs) {
  KernelProfile t = kernel("6.12.1", {"x"});
  KernelProfile a = kernel("6.1.1", {"x"}), b = kernel("6.6.1", {});
  auto v = symbol_history_hints("x", t, {&a, &b});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].rfind("x: removed between 6.1 and 6.6 ", 0), 0u) << v[0];
  EXPECT_EQ(v[1].rfind("x: added between 6.6 and 6.12 ", 0), 0u) << v[1];
}

TEST(SymbolHistory, NowhereListsTheKernels) {
  KernelProfile t = kernel("6.12.1", {});
  KernelProfile a = kernel("6.1.1", {});
  auto v = symbol_history_hints("nope", t, {&a});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "nope: not exported by any given kernel (6.1.1, 6.12.1)");
}

TEST(SymbolHistory, UnknownFactsAreSkippedAndSameVersionsUseReleases) {
  KernelProfile t = kernel("6.12.117+deb12-amd64", {});
  // A tree without Module.symvers: absence of a vmlinux symbol is not known there.
  KernelProfile u = kernel("6.6.1", {}, false);
  KernelProfile a = kernel("6.12.100", {"x"});
  auto v = symbol_history_hints("x", t, {&u, &a});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "x: removed between 6.12.100 and 6.12.117+deb12-amd64 (exported by 6.12.100, not by "
                  "6.12.117+deb12-amd64)");
  EXPECT_EQ(v[1], "x: not known for 6.6.1 (only module exports: give its Module.symvers or System.map)");
}

TEST(SymbolHistory, KernelWithoutVersionIsReportedApart) {
  KernelProfile t = kernel("6.12.1", {});
  KernelProfile odd = kernel("custom", {"x"});
  auto v = symbol_history_hints("x", t, {&odd});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "x: not exported by any given kernel (6.12.1)");
  EXPECT_EQ(v[1], "x: exported by custom (its version is unknown)");
}

TEST(SymbolHistory, NoHistoryNoHint) {
  KernelProfile t = kernel("6.12.1", {});
  EXPECT_TRUE(symbol_history_hints("x", t, {}).empty());
}

}  // namespace
