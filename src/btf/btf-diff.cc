#include "btf/btf-diff.h"

#include <bpf/btf.h>
#include <fmt/core.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <string_view>
#include <unordered_set>

namespace kmx {

namespace {

const struct btf_type *type_of(const Btf &b, u32 id) { return btf__type_by_id(b.get(), id); }

std::string_view name_of(const Btf &b, const struct btf_type *t) {
  const char *n = btf__name_by_offset(b.get(), t->name_off);
  return n ? std::string_view(n) : std::string_view();
}

bool is_composite(u16 k) { return k == BTF_KIND_STRUCT || k == BTF_KIND_UNION; }
bool is_enum(u16 k) { return k == BTF_KIND_ENUM || k == BTF_KIND_ENUM64; }

std::string tag_name(const Btf &b, const struct btf_type *t) {
  u16 k = btf_kind(t);
  std::string_view n = name_of(b, t);
  std::string tag = k == BTF_KIND_UNION ? "union" : is_enum(k) ? "enum" : "struct";
  if (k == BTF_KIND_FWD) tag = btf_kflag(t) ? "union" : "struct";
  return tag + " " + (n.empty() ? std::string("(anonymous)") : std::string(n));
}

// The C declaration of `id` around the declarator `inner`.
std::string decl(const Btf &b, u32 id, const std::string &inner, int depth = 0) {
  auto with = [&](const std::string &base) { return inner.empty() ? base : base + (inner[0] == '[' ? "" : " ") + inner; };
  if (id == 0) return with("void");
  const struct btf_type *t = type_of(b, id);
  if (!t || depth > 64) return with("?");
  switch (btf_kind(t)) {
  case BTF_KIND_INT:
  case BTF_KIND_FLOAT:
  case BTF_KIND_TYPEDEF: return with(std::string(name_of(b, t)));
  case BTF_KIND_STRUCT:
  case BTF_KIND_UNION:
  case BTF_KIND_ENUM:
  case BTF_KIND_ENUM64:
  case BTF_KIND_FWD: return with(tag_name(b, t));
  case BTF_KIND_PTR: return decl(b, t->type, "*" + inner, depth + 1);
  case BTF_KIND_CONST:
  case BTF_KIND_VOLATILE:
  case BTF_KIND_RESTRICT: {
    const char *q = btf_kind(t) == BTF_KIND_CONST ? "const" : btf_kind(t) == BTF_KIND_VOLATILE ? "volatile" : "restrict";
    const struct btf_type *target = type_of(b, t->type);
    if (target && btf_kind(target) == BTF_KIND_PTR) return decl(b, t->type, std::string(q) + (inner.empty() ? "" : " " + inner), depth + 1);
    return std::string(q) + " " + decl(b, t->type, inner, depth + 1);
  }
  case BTF_KIND_TYPE_TAG: return decl(b, t->type, inner, depth + 1);
  case BTF_KIND_ARRAY: {
    const struct btf_array *a = btf_array(t);
    std::string d = (!inner.empty() && inner[0] == '*') ? "(" + inner + ")" : inner;
    return decl(b, a->type, d + "[" + std::to_string(a->nelems) + "]", depth + 1);
  }
  case BTF_KIND_FUNC_PROTO: {
    std::string d = (!inner.empty() && inner[0] == '*') ? "(" + inner + ")" : inner;
    std::string params;
    const struct btf_param *p = btf_params(t);
    for (u16 i = 0; i < btf_vlen(t); i++) {
      if (i) params += ", ";
      params += p[i].type == 0 ? "..." : decl(b, p[i].type, "", depth + 1);
    }
    if (btf_vlen(t) == 0) params = "void";
    return decl(b, t->type, d + "(" + params + ")", depth + 1);
  }
  case BTF_KIND_FUNC:
  case BTF_KIND_VAR: return decl(b, t->type, std::string(name_of(b, t)), depth + 1);
  default: return with(std::string(name_of(b, t)));
  }
}

// "name(type, type)" of a FUNC, "name" of a VAR.
std::string signature(const Btf &b, u32 id) {
  const struct btf_type *t = type_of(b, id);
  std::string name(name_of(b, t));
  if (btf_kind(t) != BTF_KIND_FUNC) return name;
  const struct btf_type *proto = type_of(b, t->type);
  if (!proto || btf_kind(proto) != BTF_KIND_FUNC_PROTO) return name + "()";
  std::string s = name + "(";
  const struct btf_param *p = btf_params(proto);
  for (u16 i = 0; i < btf_vlen(proto); i++) s += (i ? ", " : "") + (p[i].type == 0 ? std::string("...") : decl(b, p[i].type, ""));
  return s + ")";
}

u32 unqualified(const Btf &b, u32 id) {
  for (int i = 0; i < 8 && id; i++) {
    const struct btf_type *t = type_of(b, id);
    if (!t || (btf_kind(t) != BTF_KIND_CONST && btf_kind(t) != BTF_KIND_VOLATILE)) break;
    id = t->type;
  }
  return id;
}

// Bytes, as pahole prints a member; a bitfield as pahole does too: the byte offset of its
// storage unit (the size of its type, the unit aligned to that size), the bit within it, the
// unit's size, and the field's width in bits ("offset 2344:1, size 4, bit width 1").
std::string member_place(const Btf &b, const struct btf_type *t, u32 i) {
  const struct btf_member *m = btf_members(t) + i;
  u32 off = btf_member_bit_offset(t, i), bits = btf_member_bitfield_size(t, i);
  long long size = btf__resolve_size(b.get(), m->type);
  if (size < 0) size = 0;
  if (!bits && off % 8 == 0) return fmt::format("offset {}, size {}", off / 8, size);
  u64 unit = size > 0 ? u64(size) : 1, byte = off / (unit * 8) * unit;
  std::string place = fmt::format("offset {}:{}, size {}", byte, off - byte * 8, size);
  return bits ? place + fmt::format(", bit width {}", bits) : place;
}

std::string enum_value(const struct btf_type *t, u32 i) {
  if (btf_kind(t) == BTF_KIND_ENUM) {
    const struct btf_enum *e = btf_enum(t) + i;
    return btf_kflag(t) || e->val >= 0 ? std::to_string(btf_kflag(t) ? i64(e->val) : i64(u32(e->val))) : std::to_string(u32(e->val));
  }
  u64 v = btf_enum64_value(btf_enum64(t) + i);
  return btf_kflag(t) ? std::to_string(i64(v)) : std::to_string(v);
}

u32 enum_name_off(const struct btf_type *t, u32 i) {
  return btf_kind(t) == BTF_KIND_ENUM ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
}

struct Key {
  const Btf *ob;
  u32 oid;
  const Btf *nb;
  u32 nid;
  bool operator==(const Key &) const = default;
};
struct KeyHash {
  size_t operator()(const Key &k) const {
    size_t h = std::hash<const void *>()(k.ob) * 31 + k.oid;
    h = h * 1000003 + std::hash<const void *>()(k.nb);
    return h * 31 + k.nid;
  }
};

// The BTF that defines `id`: a split BTF's own ids are its own, lower ones its base's.
const Btf *owner(const Btf *b, u32 id) {
  while (b->base() && id < b->first_own_id()) b = b->base().get();
  return b;
}

}  // namespace

std::string btf_type_text(const Btf &btf, u32 id, const std::string &name) { return decl(btf, id, name); }

std::string TypeChange::text() const {
  std::string s = type + ": ";
  if (!member.empty()) {
    // "member added" -> "member x added", "enum value added" -> "value X added".
    std::string_view c = change;
    if (c.starts_with("enum ")) c.remove_prefix(5);
    size_t sp = c.find(' ');
    s += std::string(c.substr(0, sp)) + " " + member + std::string(c.substr(sp));
  } else {
    s += change;
  }
  if (!old_value.empty() && !new_value.empty()) s += " (" + old_value + " -> " + new_value + ")";
  else if (!old_value.empty()) s += " (was " + old_value + ")";
  else if (!new_value.empty()) s += " (" + new_value + ")";
  return s;
}

struct BtfDiff::Impl {
  struct Edge {
    u32 to;
    std::string label;  // the step taken: "task_struct.nsproxy"; "" from an export
  };
  struct Node {
    const Btf *ob, *nb;
    u32 oid, nid;
    std::string name;  // "struct task_struct", or the export's signature
    std::vector<u32> local;
    std::vector<Edge> edges;
  };
  struct NameIndex {
    std::unordered_map<std::string_view, u32> funcs, vars;
  };

  BtfPtr old_base, new_base;
  std::vector<Node> nodes;
  std::unordered_map<Key, u32, KeyHash> index;
  std::deque<u32> pending;
  std::vector<u32> roots;  // handle -> node
  std::unordered_map<const Btf *, NameIndex> names;
  std::vector<BtfPtr> keep;  // split BTFs whose nodes are in the graph
  std::vector<TypeChange> *changes;
  std::vector<MovedMember> *moved;
  // After finish(): the causes each node reaches (shared between nodes with equal sets).
  std::vector<std::shared_ptr<const std::vector<u32>>> reach;
  std::shared_ptr<const std::vector<u32>> none = std::make_shared<const std::vector<u32>>();
  // Scratch of nearest_level(): a node is visited in the current walk when its stamp is
  // `generation`.
  mutable std::vector<u32> stamp;
  mutable std::vector<std::pair<u32, const std::string *>> parent;
  mutable u32 generation = 0;

  std::vector<std::pair<u32, std::vector<std::string>>> nearest_level(u32 root, size_t max_paths, std::vector<u32> *ids,
                                                                      size_t *depth) const;

  const NameIndex &names_of(const Btf *b) {
    auto [it, fresh] = names.try_emplace(b);
    if (fresh)
      for (u32 id = b->first_own_id(); id < b->type_count(); id++) {
        const struct btf_type *t = type_of(*b, id);
        u16 k = btf_kind(t);
        if (k == BTF_KIND_FUNC) it->second.funcs.try_emplace(name_of(*b, t), id);
        else if (k == BTF_KIND_VAR) it->second.vars.try_emplace(name_of(*b, t), id);
      }
    return it->second;
  }

  // FUNC, else VAR, named `name` in `b` or its bases: {btf, id}, or id 0.
  std::pair<const Btf *, u32> find(const Btf *b, const std::string &name) {
    for (const Btf *x = b; x; x = x->base().get()) {
      const NameIndex &ni = names_of(x);
      if (auto it = ni.funcs.find(name); it != ni.funcs.end()) return {b, it->second};
    }
    for (const Btf *x = b; x; x = x->base().get()) {
      const NameIndex &ni = names_of(x);
      if (auto it = ni.vars.find(name); it != ni.vars.end()) return {b, it->second};
    }
    return {b, 0};
  }

  u32 node(const Btf *ob, u32 oid, const Btf *nb, u32 nid, std::string name) {
    ob = owner(ob, oid);
    nb = owner(nb, nid);
    Key k{ob, oid, nb, nid};
    auto [it, fresh] = index.try_emplace(k, u32(nodes.size()));
    if (fresh) {
      nodes.push_back(Node{ob, nb, oid, nid, std::move(name), {}, {}});
      pending.push_back(it->second);
    }
    return it->second;
  }

  // One id per distinct change: a type a module's split BTF repeats (not deduplicated against
  // vmlinux) changes the same way as vmlinux's.
  std::unordered_map<std::string, u32> interned;

  u32 add_change(std::vector<u32> &local, TypeChange c) {
    std::string key = c.type + '\0' + c.change + '\0' + c.member + '\0' + c.old_value + '\0' + c.new_value;
    auto [it, fresh] = interned.try_emplace(std::move(key), u32(changes->size()));
    if (fresh) changes->push_back(std::move(c));
    if (std::find(local.begin(), local.end(), it->second) == local.end()) local.push_back(it->second);
    return it->second;
  }

  // Compares the types `oid` and `nid` in place (through pointers, arrays, qualifiers and
  // function prototypes): false when they are different types; named and anonymous structs,
  // unions, enums and typedefs they reach become edges.
  bool same(const Btf *ob, u32 oid, const Btf *nb, u32 nid, const std::string &label, std::vector<Edge> &edges) {
    for (int depth = 0; depth < 256; depth++) {
      if (oid == 0 || nid == 0) return oid == nid;
      const struct btf_type *a = type_of(*ob, oid), *b = type_of(*nb, nid);
      if (!a || !b) return false;
      u16 ka = btf_kind(a), kb = btf_kind(b);
      std::string_view na = name_of(*ob, a), nb_name = name_of(*nb, b);
      if (ka != kb) {
        // A declaration on one side and the definition on the other: the same type.
        if ((ka == BTF_KIND_FWD && is_composite(kb)) || (kb == BTF_KIND_FWD && is_composite(ka)))
          return na == nb_name && !na.empty();
        if (is_enum(ka) && is_enum(kb) && na == nb_name && !na.empty()) {
          edges.push_back(Edge{node(ob, oid, nb, nid, tag_name(*nb, b)), label});
          return true;
        }
        return false;
      }
      switch (ka) {
      case BTF_KIND_INT:
        // By name and size: the C type. The encoding flags are the BTF producer's (pahole
        // versions disagree on whether "char" is signed), not the source's.
        return na == nb_name && a->size == b->size && btf_int_bits(a) == btf_int_bits(b) &&
               btf_int_offset(a) == btf_int_offset(b);
      case BTF_KIND_FLOAT: return na == nb_name && a->size == b->size;
      case BTF_KIND_FWD: return na == nb_name && btf_kflag(a) == btf_kflag(b);
      case BTF_KIND_TYPE_TAG:
        if (na != nb_name) return false;
        [[fallthrough]];
      case BTF_KIND_PTR:
      case BTF_KIND_CONST:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_RESTRICT:
        oid = a->type, nid = b->type;
        continue;
      case BTF_KIND_ARRAY:
        if (btf_array(a)->nelems != btf_array(b)->nelems) return false;
        oid = btf_array(a)->type, nid = btf_array(b)->type;
        continue;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_TYPEDEF:
        if (na != nb_name) return false;
        edges.push_back(Edge{node(ob, oid, nb, nid, ka == BTF_KIND_TYPEDEF ? "typedef " + std::string(na) : tag_name(*nb, b)), label});
        return true;
      case BTF_KIND_FUNC_PROTO: {
        if (btf_vlen(a) != btf_vlen(b)) return false;
        const struct btf_param *pa = btf_params(a), *pb = btf_params(b);
        for (u16 i = 0; i < btf_vlen(a); i++)
          if (!same(ob, pa[i].type, nb, pb[i].type, label, edges)) return false;
        oid = a->type, nid = b->type;
        continue;
      }
      default: return na == nb_name && oid == nid;
      }
    }
    return false;
  }

  // "task_struct" for a label prefix; "(anonymous)" for an anonymous type.
  static std::string short_name(const std::string &name) {
    size_t sp = name.find(' ');
    return sp == std::string::npos ? name : name.substr(sp + 1);
  }

  void build(u32 i) {
    const Btf *ob = nodes[i].ob, *nb = nodes[i].nb;
    u32 oid = nodes[i].oid, nid = nodes[i].nid;
    std::string name = nodes[i].name;
    const struct btf_type *a = type_of(*ob, oid), *b = type_of(*nb, nid);
    std::vector<u32> local;
    std::vector<Edge> edges;
    if (!a || !b) return;
    u16 ka = btf_kind(a), kb = btf_kind(b);
    if (ka == BTF_KIND_FUNC || ka == BTF_KIND_VAR) {
      build_export(ob, a, nb, b, name, local, edges);
    } else if (is_composite(ka)) {
      build_composite(ob, a, nb, b, name, local, edges);
    } else if (is_enum(ka) && is_enum(kb)) {
      std::unordered_map<std::string_view, u32> values;
      for (u32 j = 0; j < btf_vlen(b); j++) values.try_emplace(btf__name_by_offset(nb->get(), enum_name_off(b, j)), j);
      std::unordered_set<std::string_view> seen;
      for (u32 j = 0; j < btf_vlen(a); j++) {
        std::string_view en = btf__name_by_offset(ob->get(), enum_name_off(a, j));
        seen.insert(en);
        auto it = values.find(en);
        if (it == values.end()) add_change(local, {name, "enum value removed", std::string(en), enum_value(a, j), ""});
        else if (enum_value(a, j) != enum_value(b, it->second))
          add_change(local, {name, "enum value changed", std::string(en), enum_value(a, j), enum_value(b, it->second)});
      }
      for (u32 j = 0; j < btf_vlen(b); j++) {
        std::string_view en = btf__name_by_offset(nb->get(), enum_name_off(b, j));
        if (!seen.contains(en)) add_change(local, {name, "enum value added", std::string(en), "", enum_value(b, j)});
      }
      if (a->size != b->size)
        add_change(local, {name, "enum size changed", "", std::to_string(a->size), std::to_string(b->size)});
    } else if (ka == BTF_KIND_TYPEDEF) {
      if (!same(ob, a->type, nb, b->type, name, edges))
        add_change(local, {name, "typedef retargeted", "", decl(*ob, a->type, ""), decl(*nb, b->type, "")});
    }
    nodes[i].local = std::move(local);
    nodes[i].edges = std::move(edges);
  }

  void build_export(const Btf *ob, const struct btf_type *a, const Btf *nb, const struct btf_type *b, const std::string &name,
                    std::vector<u32> &local, std::vector<Edge> &edges) {
    u16 ka = btf_kind(a), kb = btf_kind(b);
    if (ka != kb) {
      add_change(local, {name, "export kind changed", "", ka == BTF_KIND_FUNC ? "function" : "variable",
                         kb == BTF_KIND_FUNC ? "function" : "variable"});
      return;
    }
    if (ka == BTF_KIND_VAR) {
      if (!same(ob, a->type, nb, b->type, "", edges))
        add_change(local, {name, "variable retyped", "", decl(*ob, a->type, ""), decl(*nb, b->type, "")});
      return;
    }
    const struct btf_type *pa = type_of(*ob, a->type), *pb = type_of(*nb, b->type);
    if (!pa || !pb || btf_kind(pa) != BTF_KIND_FUNC_PROTO || btf_kind(pb) != BTF_KIND_FUNC_PROTO) return;
    if (!same(ob, pa->type, nb, pb->type, "", edges))
      add_change(local, {name, "return type changed", "", decl(*ob, pa->type, ""), decl(*nb, pb->type, "")});
    if (btf_vlen(pa) != btf_vlen(pb)) {
      std::string os = "(", ns = "(";
      for (u16 i = 0; i < btf_vlen(pa); i++) os += (i ? ", " : "") + decl(*ob, btf_params(pa)[i].type, "");
      for (u16 i = 0; i < btf_vlen(pb); i++) ns += (i ? ", " : "") + decl(*nb, btf_params(pb)[i].type, "");
      add_change(local, {name, "parameters changed", "", os + ")", ns + ")"});
      return;
    }
    for (u16 i = 0; i < btf_vlen(pa); i++) {
      const struct btf_param &x = btf_params(pa)[i], &y = btf_params(pb)[i];
      // A parameter's own qualifier (char *const p) is the definition's, not the prototype's.
      if (!same(ob, unqualified(*ob, x.type), nb, unqualified(*nb, y.type), "", edges)) {
        std::string pname(btf__name_by_offset(nb->get(), y.name_off));
        add_change(local, {name, "parameter changed", pname.empty() ? fmt::format("#{}", i + 1) : pname,
                           decl(*ob, x.type, ""), decl(*nb, y.type, "")});
      }
    }
  }

  void build_composite(const Btf *ob, const struct btf_type *a, const Btf *nb, const struct btf_type *b, const std::string &name,
                       std::vector<u32> &local, std::vector<Edge> &edges) {
    std::string prefix = short_name(name) + ".";
    auto member_name = [](const Btf *bt, const struct btf_type *t, u32 j) {
      return std::string_view(btf__name_by_offset(bt->get(), btf_members(t)[j].name_off));
    };
    // New members by name; anonymous ones in order.
    std::unordered_map<std::string_view, u32> by_name;
    std::vector<u32> anon_new;
    for (u32 j = 0; j < btf_vlen(b); j++) {
      std::string_view mn = member_name(nb, b, j);
      if (mn.empty()) anon_new.push_back(j);
      else by_name.try_emplace(mn, j);
    }
    std::vector<bool> matched(btf_vlen(b), false);
    std::vector<MovedMember> moves;
    bool structural = false;  // a member added, removed, retyped or resized
    size_t anon_seen = 0;
    for (u32 j = 0; j < btf_vlen(a); j++) {
      std::string_view mn = member_name(ob, a, j);
      std::optional<u32> k;
      std::string shown;
      if (mn.empty()) {
        if (anon_seen < anon_new.size()) k = anon_new[anon_seen];
        shown = fmt::format("(anonymous #{})", ++anon_seen);
      } else {
        shown = std::string(mn);
        if (auto it = by_name.find(mn); it != by_name.end()) k = it->second;
      }
      if (!k) {
        add_change(local, {name, "member removed", shown, member_place(*ob, a, j), ""});
        structural = true;
        continue;
      }
      matched[*k] = true;
      const struct btf_member &x = btf_members(a)[j], &y = btf_members(b)[*k];
      if (!same(ob, x.type, nb, y.type, prefix + shown, edges)) {
        add_change(local, {name, "member retyped", shown, decl(*ob, x.type, "") + " at " + member_place(*ob, a, j),
                           decl(*nb, y.type, "") + " at " + member_place(*nb, b, *k)});
        structural = true;
        continue;
      }
      std::string op = member_place(*ob, a, j), np = member_place(*nb, b, *k);
      if (op != np) {
        if (btf_member_bitfield_size(a, j) != btf_member_bitfield_size(b, *k) ||
            btf__resolve_size(ob->get(), x.type) != btf__resolve_size(nb->get(), y.type))
          structural = true;  // resized: explained by its type's own change
        moves.push_back(MovedMember{name, shown, op, np});
      }
    }
    for (u32 k = 0; k < btf_vlen(b); k++)
      if (!matched[k]) {
        std::string_view mn = member_name(nb, b, k);
        add_change(local, {name, "member added", mn.empty() ? std::string("(anonymous)") : std::string(mn), "",
                           member_place(*nb, b, k)});
        structural = true;
      }
    if (!structural) {
      for (auto &m : moves) add_change(local, {name, "member moved", m.member, m.old_value, m.new_value});
      if (moves.empty() && a->size != b->size)
        add_change(local, {name, "size changed", "", std::to_string(a->size), std::to_string(b->size)});
    } else {
      for (auto &m : moves) moved->push_back(std::move(m));
    }
  }

  void drain() {
    while (!pending.empty()) {
      u32 i = pending.front();
      pending.pop_front();
      build(i);
    }
  }

  // Tarjan's strongly connected components (iteratively), emitted callees first; each
  // component's causes are its nodes' own plus those of the components it reaches.
  void resolve() {
    size_t n = nodes.size();
    reach.assign(n, nullptr);
    std::vector<u32> idx(n, UINT32_MAX), low(n, 0), stack;
    std::vector<bool> on(n, false);
    std::vector<std::pair<u32, size_t>> call;  // node, next edge
    u32 counter = 0;
    for (u32 s = 0; s < n; s++) {
      if (idx[s] != UINT32_MAX) continue;
      call.push_back({s, 0});
      idx[s] = low[s] = counter++;
      stack.push_back(s);
      on[s] = true;
      while (!call.empty()) {
        auto &[v, e] = call.back();
        if (e < nodes[v].edges.size()) {
          u32 w = nodes[v].edges[e++].to;
          if (idx[w] == UINT32_MAX) {
            idx[w] = low[w] = counter++;
            stack.push_back(w);
            on[w] = true;
            call.push_back({w, 0});
          } else if (on[w]) {
            low[v] = std::min(low[v], idx[w]);
          }
          continue;
        }
        u32 done = v;
        call.pop_back();
        if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[done]);
        if (low[done] != idx[done]) continue;
        std::vector<u32> members;
        for (;;) {
          u32 w = stack.back();
          stack.pop_back();
          on[w] = false;
          members.push_back(w);
          if (w == done) break;
        }
        component(members);
      }
    }
  }

  void component(const std::vector<u32> &members) {
    std::vector<u32> own;
    std::vector<const std::vector<u32> *> parts;
    std::shared_ptr<const std::vector<u32>> single;
    for (u32 m : members) {
      own.insert(own.end(), nodes[m].local.begin(), nodes[m].local.end());
      for (const Edge &e : nodes[m].edges) {
        const auto &r = reach[e.to];
        if (!r || r->empty()) continue;  // inside this component (not yet set) or nothing
        if (single == r) continue;
        if (!single) single = r;
        parts.push_back(r.get());
      }
    }
    std::shared_ptr<const std::vector<u32>> result;
    bool one_part = single && std::all_of(parts.begin(), parts.end(), [&](auto *p) { return p == single.get(); });
    if (own.empty() && !single) result = none;
    else if (own.empty() && one_part) result = single;
    else {
      std::vector<u32> all = own;
      for (auto *p : parts) all.insert(all.end(), p->begin(), p->end());
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
      result = std::make_shared<const std::vector<u32>>(std::move(all));
    }
    for (u32 m : members) reach[m] = result;
  }
};

BtfDiff::BtfDiff(BtfPtr old_base, BtfPtr new_base) : impl_(std::make_unique<Impl>()) {
  impl_->old_base = std::move(old_base);
  impl_->new_base = std::move(new_base);
  impl_->changes = &changes_;
  impl_->moved = &moved_;
}

BtfDiff::~BtfDiff() = default;

size_t BtfDiff::node_count() const { return impl_->nodes.size(); }

int BtfDiff::add_export(const std::string &name, const BtfPtr &old_btf, const BtfPtr &new_btf, Found *found) {
  Impl &m = *impl_;
  auto [ob, oid] = m.find(old_btf.get(), name);
  auto [nb, nid] = m.find(new_btf.get(), name);
  if (found) *found = oid && nid ? Found::both : oid ? Found::old_only : nid ? Found::new_only : Found::neither;
  if (!oid || !nid) return -1;
  if (old_btf != m.old_base) m.keep.push_back(old_btf);
  if (new_btf != m.new_base) m.keep.push_back(new_btf);
  u32 root = m.node(ob, oid, nb, nid, signature(*nb, nid));
  m.drain();
  m.roots.push_back(root);
  return int(m.roots.size() - 1);
}

void BtfDiff::finish() { impl_->resolve(); }

const std::vector<u32> &BtfDiff::causes(int handle) const {
  const Impl &m = *impl_;
  if (handle < 0 || size_t(handle) >= m.roots.size() || m.reach.empty()) return *m.none;
  return *m.reach[m.roots[size_t(handle)]];
}

std::vector<std::vector<std::string>> BtfDiff::example_paths() const {
  const Impl &m = *impl_;
  std::vector<std::vector<std::string>> out(changes_.size());
  if (m.reach.empty()) return out;
  // Breadth first from every export at once: each node keeps the step it was first reached by.
  std::vector<std::pair<u32, const std::string *>> parent(m.nodes.size(), {UINT32_MAX, nullptr});
  std::vector<bool> seen(m.nodes.size(), false);
  std::deque<u32> queue;
  for (u32 r : m.roots)
    if (!seen[r] && !m.reach[r]->empty()) seen[r] = true, queue.push_back(r);
  while (!queue.empty()) {
    u32 v = queue.front();
    queue.pop_front();
    for (u32 c : m.nodes[v].local) {
      if (!out[c].empty()) continue;
      std::vector<std::string> steps;
      u32 x = v;
      for (; parent[x].first != UINT32_MAX; x = parent[x].first)
        if (!parent[x].second->empty()) steps.push_back(*parent[x].second);
      steps.push_back(m.nodes[x].name);
      std::reverse(steps.begin(), steps.end());
      if (v != x) steps.push_back(m.nodes[v].name);
      out[c] = std::move(steps);
    }
    for (const auto &e : m.nodes[v].edges)
      if (!seen[e.to] && !m.reach[e.to]->empty()) {
        seen[e.to] = true;
        parent[e.to] = {v, &e.label};
        queue.push_back(e.to);
      }
  }
  return out;
}

// Breadth first from the export through the nodes that reach a cause, level by level, up to
// and including the first level that holds causes: the nearest ones.
std::vector<std::pair<u32, std::vector<std::string>>> BtfDiff::Impl::nearest_level(u32 root, size_t max_paths,
                                                                                    std::vector<u32> *ids,
                                                                                    size_t *depth) const {
  std::vector<std::pair<u32, std::vector<std::string>>> out;
  if (stamp.size() < nodes.size()) stamp.assign(nodes.size(), 0), parent.assign(nodes.size(), {UINT32_MAX, nullptr});
  if (++generation == 0) std::fill(stamp.begin(), stamp.end(), 0), generation = 1;
  std::vector<u32> level{root}, next;
  stamp[root] = generation;
  parent[root] = {UINT32_MAX, nullptr};
  for (size_t d = 0; !level.empty(); d++) {
    bool found = false;
    for (u32 v : level) {
      if (nodes[v].local.empty()) continue;
      found = true;
      if (ids) ids->insert(ids->end(), nodes[v].local.begin(), nodes[v].local.end());
      if (out.size() >= max_paths) continue;
      std::vector<std::string> steps;
      for (u32 x = v; x != UINT32_MAX; x = parent[x].first)
        if (parent[x].second && !parent[x].second->empty()) steps.push_back(*parent[x].second);
      steps.push_back(nodes[root].name);
      std::reverse(steps.begin(), steps.end());
      if (v != root) steps.push_back(nodes[v].name);
      for (u32 c : nodes[v].local)
        if (out.size() < max_paths) out.emplace_back(c, steps);
    }
    if (found) {
      if (depth) *depth = d;
      break;
    }
    next.clear();
    for (u32 v : level)
      for (const auto &e : nodes[v].edges)
        if (stamp[e.to] != generation && !reach[e.to]->empty()) {
          stamp[e.to] = generation;
          parent[e.to] = {v, &e.label};
          next.push_back(e.to);
        }
    std::swap(level, next);
  }
  if (ids) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }
  return out;
}

std::vector<u32> BtfDiff::nearest(int handle, size_t *depth) const {
  std::vector<u32> out;
  if (handle < 0 || size_t(handle) >= impl_->roots.size() || impl_->reach.empty()) return out;
  impl_->nearest_level(impl_->roots[size_t(handle)], 0, &out, depth);
  return out;
}

std::vector<std::pair<u32, std::vector<std::string>>> BtfDiff::paths(int handle, size_t max) const {
  if (handle < 0 || size_t(handle) >= impl_->roots.size() || impl_->reach.empty()) return {};
  return impl_->nearest_level(impl_->roots[size_t(handle)], max, nullptr, nullptr);
}

}  // namespace kmx
