#include "elf/kernel-symbols.h"

#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/strings.h"

namespace kmx {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> blank_separated(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i]))
      i++;
    size_t start = i;
    while (i < line.size() && !is_blank(line[i]))
      i++;
    if (i > start)
      out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool terminated_in(std::string_view line, std::string_view text) {
  return line.data() + line.size() != text.data() + text.size();
}

} // namespace

std::vector<SymversLine> parse_symvers_lines(std::string_view text) {
  std::vector<SymversLine> out;
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    SymversLine l;
    l.fields = blank_separated(line);
    if (l.fields.empty())
      return;
    l.lineno = lineno;
    l.text = line;
    std::string crc(l.fields[0]);
    char *end = nullptr;
    u64 v = std::strtoull(crc.c_str(), &end, 16);
    l.crc_errno = errno;
    if (*end == '\0')
      l.crc = v;
    std::string_view module = l.module();
    l.module_ends_line =
        l.fields.size() == 3 && terminated_in(line, text) &&
        module.data() + module.size() == line.data() + line.size();
    if (l.fields.size() < 4)
      l.problem = SymversProblem::few_fields;
    else if (!l.crc)
      l.problem = SymversProblem::bad_crc;
    out.push_back(std::move(l));
  });
  return out;
}

std::vector<SystemMapLine> parse_system_map_lines(std::string_view text) {
  std::vector<SystemMapLine> out;
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    SystemMapLine l;
    l.lineno = lineno;
    l.text = line;
    l.terminated = terminated_in(line, text);
    size_t p1 = line.find(' ');
    size_t p2 = p1 == std::string_view::npos ? p1 : line.find(' ', p1 + 1);
    if (p2 == std::string_view::npos) {
      l.problem = SystemMapProblem::few_fields;
    } else {
      l.address = line.substr(0, p1);
      l.type = line.substr(p1 + 1, p2 - p1 - 1);
      l.name = line.substr(p2 + 1);
    }
    out.push_back(l);
  });
  return out;
}

std::optional<std::string_view> ksymtab_export(std::string_view name) {
  constexpr std::string_view prefix = "__ksymtab_";
  if (!name.starts_with(prefix))
    return std::nullopt;
  return name.substr(prefix.size());
}

} // namespace kmx
