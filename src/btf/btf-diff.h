// Which type changes lie behind an export's changed CRC: the types genksyms expands for an
// export's declaration, compared between two kernels' BTF.
//
// genksyms folds an export's whole declaration into its CRC: the function prototype (or the
// variable's type), and, recursively, every struct, union, enum and typedef it names, through
// pointers, arrays, qualifiers and function pointers. BtfDiff walks the same types in OLD's and
// NEW's BTF in lockstep:
//   - structs, unions, enums and typedefs are matched by name; an anonymous struct or union by
//     its place in its parent (the member it is, or the typedef that names it);
//   - pointers, arrays, qualifiers and function prototypes are compared in place, so a member
//     whose type became a different one (int -> long, struct a * -> struct b *, another
//     parameter list) is "retyped" in its parent;
//   - every named difference is a TypeChange (one root cause): a member added, removed or
//     retyped (old and new offset and size in bytes, bits for bitfields), members that moved
//     with nothing added, removed or resized before them, an enum value added, removed or
//     changed, a typedef retargeted, an export's parameter or return type changed.
// Members that moved because a member before them was added, removed or grew are not causes of
// their own: they are listed in the type's `moved` detail.
//
// Each compared pair of types (a "node") is built once per BtfDiff and shared by every export
// that reaches it, so whole kernels stay fast; split BTF of modules over the two vmlinux BTFs
// shares vmlinux's nodes. After finish(), an export's causes are the changes of every node it
// reaches, and path() gives the chain of members that leads there, for checking.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/types.h"
#include "btf/btf.h"

namespace kmx {

struct TypeChange {
  std::string type;    // "struct sk_buff", "enum foo", "typedef bar_t", "free_task()", "var x"
  std::string change;  // "member added", "member removed", "member retyped", "member moved",
                       // "enum value added", "enum value removed", "enum value changed",
                       // "enum size changed", "typedef retargeted", "parameter changed",
                       // "parameters changed", "return type changed", "variable retyped",
                       // "export kind changed"
  std::string member;  // the member, enumerator or parameter ("" for a whole-type change)
  std::string old_value, new_value;  // "offset 16, size 8" / "int" / "3" ("" when absent)
  std::string text() const;  // one line: "struct sk_buff: member xyz added (offset 200, size 8)"
};

// Members of a type pair that moved (offset or size differs) as a consequence of other changes.
struct MovedMember {
  std::string type, member, old_value, new_value;
};

class BtfDiff {
public:
  // The two vmlinux BTFs (or any two base BTFs) the exports are looked up in.
  BtfDiff(BtfPtr old_base, BtfPtr new_base);
  ~BtfDiff();
  BtfDiff(const BtfDiff &) = delete;
  BtfDiff &operator=(const BtfDiff &) = delete;

  enum class Found { both, old_only, new_only, neither };
  // Adds export `name` as a FUNC (else a VAR) of `old_btf` / `new_btf` (the bases, or a module's
  // split BTF over them). Returns a handle for causes()/path(), or -1 when a side has no BTF for
  // it (`found` says which).
  int add_export(const std::string &name, const BtfPtr &old_btf, const BtfPtr &new_btf, Found *found = nullptr);
  // Resolves what every added export reaches; call after the last add_export() (again after
  // adding more: the whole graph is resolved anew).
  void finish();

  // Indices into changes() of every cause `handle` reaches, ascending.
  const std::vector<u32> &causes(int handle) const;
  // The path from the export's declaration to each of up to `max` of its nearest causes (see
  // nearest()): {cause index, steps}, steps[0] the declaration ("free_task(struct task_struct
  // *)"), then the member or typedef taken at each type ("task_struct.nsproxy"), the last the
  // changed type. Not thread-safe (shared scratch).
  std::vector<std::pair<u32, std::vector<std::string>>> paths(int handle, size_t max) const;
  // The causes nearest to the export's declaration, and how many types away they are (0: the
  // declaration itself, 1: a struct, union, enum or typedef it names, through pointers, ...; each
  // such type passed counts one).
  // BTF reaches further than genksyms, which expands only the definitions a source file sees:
  // the nearest causes are the likeliest ones behind a CRC.
  std::vector<u32> nearest(int handle, size_t *depth) const;
  // For each change, a path to it from one of the exports (the shortest from any); empty for a
  // change no export reaches.
  std::vector<std::vector<std::string>> example_paths() const;
  const std::vector<TypeChange> &changes() const { return changes_; }
  // Moved members of the types reached by the exports (detail; not causes).
  const std::vector<MovedMember> &moved() const { return moved_; }
  size_t node_count() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
  std::vector<TypeChange> changes_;
  std::vector<MovedMember> moved_;
};

// A C declaration of type `id` of `btf` ("struct task_struct *", "int (*)(void *)"), declaring
// `name` when given.
std::string btf_type_text(const Btf &btf, u32 id, const std::string &name = "");

}  // namespace kmx
