#include "base/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kmx {
namespace {

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    EXPECT_EQ(lineno, out.size() + 1);
    out.emplace_back(line);
  });
  return out;
}

TEST(ForEachLine, SplitsOnNewlineNumberingFromOne) {
  struct Case {
    std::string_view text;
    std::vector<std::string> lines;
  } cases[] = {
      {"", {}},
      {"\n", {""}},
      {"a", {"a"}},
      {"a\n", {"a"}},
      {"a\nb", {"a", "b"}},
      {"a\n\nb\n", {"a", "", "b"}},
      {"\n\n", {"", ""}},
      {"a\r\nb\n", {"a\r", "b"}},
      {std::string_view("a\0b\nc", 5), {std::string("a\0b", 3), "c"}},
  };
  for (const Case &c : cases) EXPECT_EQ(lines_of(c.text), c.lines) << "text: " << c.text;
}

TEST(ForEachLine, FalseStopsTheWalk) {
  std::vector<size_t> seen;
  for_each_line("a\nstop\nc\n", [&](std::string_view line, size_t lineno) {
    seen.push_back(lineno);
    return line != "stop";
  });
  EXPECT_EQ(seen, (std::vector<size_t>{1, 2}));
}

TEST(Join, PutsTheSeparatorBetweenWords) {
  EXPECT_EQ(join({}, ", "), "");
  EXPECT_EQ(join({"a"}, ", "), "a");
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
}

}  // namespace
}  // namespace kmx
