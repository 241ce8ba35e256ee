#include "elf/kernel-symbols.h"

#include <gtest/gtest.h>

#include <string>

namespace kmx {
namespace {

TEST(SymversLines, ReadsEveryFieldOfAWellFormedFile) {
  std::string text =
      "0x1b6314fd\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
      "0x0000abcd\tmii_link_ok\tdrivers/net/mii\tEXPORT_SYMBOL_GPL\tNS\n";
  std::vector<SymversLine> lines = parse_symvers_lines(text);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].lineno, 1u);
  EXPECT_EQ(*lines[0].crc, 0x1b6314fdu);
  EXPECT_EQ(lines[0].symbol(), "printk");
  EXPECT_EQ(lines[0].module(), "vmlinux");
  EXPECT_EQ(lines[0].export_type(), "EXPORT_SYMBOL");
  EXPECT_EQ(lines[0].ns(), "");
  EXPECT_EQ(lines[0].problem, SymversProblem::none);
  EXPECT_EQ(lines[1].lineno, 2u);
  EXPECT_EQ(lines[1].module(), "drivers/net/mii");
  EXPECT_EQ(lines[1].export_type(), "EXPORT_SYMBOL_GPL");
  EXPECT_EQ(lines[1].ns(), "NS");
  EXPECT_EQ(lines[1].text,
            "0x0000abcd\tmii_link_ok\tdrivers/net/mii\tEXPORT_SYMBOL_GPL\tNS");
}

TEST(SymversLines, HostileLines) {
  struct Case {
    std::string text;
    size_t fields;
    std::optional<u64> crc;
    bool module_ends_line;
    SymversProblem problem;
  } cases[] = {
      {"0x1 sym vmlinux EXPORT_SYMBOL\n", 4, 1, false,
       SymversProblem::none}, // spaces split too
      {"0x1\tsym\tvmlinux\n", 3, 1, true, SymversProblem::few_fields},
      {"0x1\tsym\tvmlinux", 3, 1, false,
       SymversProblem::few_fields}, // no final newline
      {"0x1\tsym\tvmlinux \n", 3, 1, false, SymversProblem::few_fields},
      {"0x1\tsym\tvmlinux\r\n", 3, 1, true,
       SymversProblem::few_fields}, // MODULE is "vmlinux\r"
      {"0x1\tsym\n", 2, 1, false, SymversProblem::few_fields},
      {"zz\tsym\tvmlinux\tEXPORT_SYMBOL\n", 4, std::nullopt, false,
       SymversProblem::bad_crc},
      {"0x\tsym\tvmlinux\tEXPORT_SYMBOL\n", 4, std::nullopt, false,
       SymversProblem::bad_crc},
      {"0x1g\tsym\tvmlinux\tEXPORT_SYMBOL\n", 4, std::nullopt, false,
       SymversProblem::bad_crc},
      {"-1\tsym\tvmlinux\tEXPORT_SYMBOL\n", 4, ~u64{0}, false,
       SymversProblem::none}, // strtoull's sign
      {"0xffffffffffffffffff\tsym\tvmlinux\tEXPORT_SYMBOL\n", 4, ~u64{0}, false,
       SymversProblem::none},
      {std::string("0x1\0zz\tsym\tvmlinux\tEXPORT_SYMBOL\n", 32), 4, 1, false,
       SymversProblem::none},
      {"0x1\t\t\tsym\t\tvmlinux\t\tEXPORT_SYMBOL\t\t\n", 4, 1, false,
       SymversProblem::none},
  };
  for (const Case &c : cases) {
    std::vector<SymversLine> lines = parse_symvers_lines(c.text);
    ASSERT_EQ(lines.size(), 1u) << c.text;
    EXPECT_EQ(lines[0].fields.size(), c.fields) << c.text;
    EXPECT_EQ(lines[0].crc, c.crc) << c.text;
    EXPECT_EQ(lines[0].module_ends_line, c.module_ends_line) << c.text;
    EXPECT_EQ(lines[0].problem, c.problem) << c.text;
  }
}

TEST(SymversLines, LinesWithoutAFieldAreLeftOutButCounted) {
  std::vector<SymversLine> lines =
      parse_symvers_lines("\n \t \n\n0x2\ts\tvmlinux\tEXPORT_SYMBOL\n\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].lineno, 4u);
  EXPECT_TRUE(parse_symvers_lines("").empty());
}

TEST(SystemMapLines, SplitsAtTheFirstTwoSpaces) {
  std::vector<SystemMapLine> lines = parse_system_map_lines(
      "ffffffff81000000 T _stext\nffffffff82000000 r __ksymtab_printk\n"
      "ffffffffffffffff B The real System.map is in the linux-image-6.1-dbg "
      "package");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].address, "ffffffff81000000");
  EXPECT_EQ(lines[0].type, "T");
  EXPECT_EQ(lines[0].name, "_stext");
  EXPECT_TRUE(lines[0].terminated);
  EXPECT_EQ(ksymtab_export(lines[1].name), "printk");
  EXPECT_EQ(lines[2].name,
            "The real System.map is in the linux-image-6.1-dbg package");
  EXPECT_FALSE(lines[2].terminated);
  EXPECT_EQ(lines[2].lineno, 3u);
}

TEST(SystemMapLines, HostileLines) {
  struct Case {
    std::string_view text;
    SystemMapProblem problem;
    std::string_view address, type, name;
  } cases[] = {
      {"", SystemMapProblem::few_fields, "", "", ""},
      {"nospace", SystemMapProblem::few_fields, "", "", ""},
      {"one space", SystemMapProblem::few_fields, "", "", ""},
      {"a b ", SystemMapProblem::none, "a", "b", ""},
      {"  x", SystemMapProblem::none, "", "", "x"},
      {"a b  __ksymtab_x", SystemMapProblem::none, "a", "b", " __ksymtab_x"},
      {"a b __ksymtab_x\r", SystemMapProblem::none, "a", "b", "__ksymtab_x\r"},
      {"a\tb c", SystemMapProblem::few_fields, "", "",
       ""}, // tabs do not separate
  };
  for (const Case &c : cases) {
    std::vector<SystemMapLine> lines = parse_system_map_lines(c.text);
    if (c.text.empty()) {
      EXPECT_TRUE(lines.empty());
      continue;
    }
    ASSERT_EQ(lines.size(), 1u) << c.text;
    EXPECT_EQ(lines[0].problem, c.problem) << c.text;
    EXPECT_EQ(lines[0].address, c.address) << c.text;
    EXPECT_EQ(lines[0].type, c.type) << c.text;
    EXPECT_EQ(lines[0].name, c.name) << c.text;
  }
  // An empty line in a file is a line with a problem.
  std::vector<SystemMapLine> lines = parse_system_map_lines("\na b c\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].problem, SystemMapProblem::few_fields);
  EXPECT_TRUE(lines[0].terminated);
}

TEST(KsymtabExport, OnlyTheKsymtabPrefixNamesAnExport) {
  EXPECT_EQ(ksymtab_export("__ksymtab_printk"), "printk");
  EXPECT_EQ(ksymtab_export("__ksymtab_"), "");
  EXPECT_EQ(ksymtab_export("___ksymtab_printk"), std::nullopt);
  EXPECT_EQ(ksymtab_export("__kstrtab_printk"), std::nullopt);
}

} // namespace
} // namespace kmx
