// Fuzz target for the Module.symvers and System.map readers: the input is read
// as both. Checks that hostile text never crashes, that every field and name
// lies inside its line, and that the line numbers only grow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "elf/kernel-symbols.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() &&
          part.data() + part.size() <= whole.data() + whole.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  size_t last = 0;
  for (const kmx::SymversLine &l : kmx::parse_symvers_lines(text)) {
    if (l.lineno <= last || l.fields.empty() || !inside(l.text, text))
      std::abort();
    last = l.lineno;
    for (std::string_view f : l.fields)
      if (f.empty() || !inside(f, l.text))
        std::abort();
    if ((l.fields.size() < 4) != (l.problem == kmx::SymversProblem::few_fields))
      std::abort();
    if (l.module_ends_line && l.fields.size() != 3)
      std::abort();
  }
  last = 0;
  for (const kmx::SystemMapLine &l : kmx::parse_system_map_lines(text)) {
    if (l.lineno != last + 1 || !inside(l.text, text) ||
        l.text.find('\n') != std::string_view::npos)
      std::abort();
    last = l.lineno;
    if (!inside(l.address, l.text) || !inside(l.type, l.text) ||
        !inside(l.name, l.text))
      std::abort();
    if (auto sym = kmx::ksymtab_export(l.name); sym && !inside(*sym, l.name))
      std::abort();
  }
  return 0;
}
