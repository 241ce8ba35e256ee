// The kernel's two lists of its own symbols, as depmod -E/-F and kmx check's
// profiles read them.
//
// Module.symvers, written by the kernel build's modpost, one export per line:
//
//   CRC <tab> SYMBOL <tab> MODULE <tab> EXPORT_TYPE [<tab> NAMESPACE]
//   0x1b6314fd	printk	vmlinux	EXPORT_SYMBOL
//
//   CRC          the symbol's modversion CRC in hex, "0x" first (0x00000000
//   when
//                CONFIG_MODVERSIONS is off);
//   MODULE       "vmlinux" or the exporting module's path without ".ko"
//   (drivers/net/mii); EXPORT_TYPE  EXPORT_SYMBOL, EXPORT_SYMBOL_GPL
//   (EXPORT_SYMBOL_GPL_FUTURE in old kernels); NAMESPACE    the symbol
//   namespace, often empty (the line then ends in a tab). Kernels 5.4 up
//                to the field's move to the end wrote it third, before MODULE.
//
// System.map, `nm -n vmlinux` output, one symbol per line:
//
//   ADDRESS <space> TYPE <space> NAME
//   ffffffff81e3a1c0 r __ksymtab_printk
//
//   ADDRESS is hex of the architecture's width, TYPE one nm letter; an export
//   shows as
//   __ksymtab_SYMBOL. Debian's linux-image packages ship a one-line placeholder
//   instead
//   ("ffffffffffffffff B The real System.map is in the
//   linux-image-<version>-dbg package").
//
// Text, no byte order; lines end in '\n' (the last may not). Fields are split
// the way kmod's depmod splits them: Module.symvers on runs of spaces and tabs
// (so empty fields vanish), System.map at its first two spaces (NAME is the
// rest of the line). These readers only split and classify; what a line that
// breaks the format means (skip, warn or refuse) is the caller's policy: depmod
// keeps kmod's lenient rules and messages, kmx check refuses the file.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/types.h"

namespace kmx {

enum class SymversProblem {
  none,
  few_fields, // fewer than CRC, SYMBOL, MODULE and EXPORT_TYPE
  bad_crc,    // the first field is not a hex number
};

struct SymversLine {
  size_t lineno = 0;
  std::string_view text; // the line, without its '\n'
  std::vector<std::string_view>
      fields; // never empty: lines without a field are left out
  // The first field read as strtoull(field, 16) reads it, the whole field
  // consumed (so "0x" and a sign are accepted, and an embedded NUL ends the
  // field); errno as that call left it.
  std::optional<u64> crc;
  int crc_errno = 0;
  // The third field is followed directly by the line's '\n': kmod's strtok("
  // \t") then keeps the newline in MODULE, so a three-field line never says
  // "vmlinux" to kmod's depmod.
  bool module_ends_line = false;
  SymversProblem problem = SymversProblem::none;

  std::string_view symbol() const { return field(1); }
  std::string_view module() const { return field(2); }
  std::string_view export_type() const { return field(3); }
  std::string_view ns() const { return field(4); }
  std::string_view field(size_t i) const {
    return i < fields.size() ? fields[i] : std::string_view();
  }
};

// Every line of `text` that has a field, in order; problems are per line, never
// fatal.
std::vector<SymversLine> parse_symvers_lines(std::string_view text);

enum class SystemMapProblem {
  none,
  few_fields, // fewer than two spaces: no NAME
};

struct SystemMapLine {
  size_t lineno = 0;
  std::string_view text;   // the line, without its '\n'
  bool terminated = false; // the line ended in '\n'
  std::string_view address, type,
      name; // name: the rest of the line, spaces included
  SystemMapProblem problem = SystemMapProblem::none;
};

// Every line of `text`, empty ones included (kmod's depmod reports them), in
// order.
std::vector<SystemMapLine> parse_system_map_lines(std::string_view text);

// The name of the export a System.map NAME announces ("__ksymtab_printk" ->
// "printk"), or nothing when NAME is not a __ksymtab_ entry.
std::optional<std::string_view> ksymtab_export(std::string_view name);

} // namespace kmx
