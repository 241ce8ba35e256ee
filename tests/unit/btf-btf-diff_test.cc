// BtfDiff over small BTF built with libbpf's btf__add_* API: each fixture states the C types
// of OLD and NEW, and the expected changes are read off those declarations by hand.
#include "btf/btf-diff.h"

#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace kmx {
namespace {

// A BTF under construction, wrapped for BtfDiff once built.
struct Builder {
  struct btf *b;
  explicit Builder(const BtfPtr &base = nullptr)
      : b(base ? btf__new_empty_split(const_cast<struct btf *>(base->get())) : btf__new_empty()) {}
  BtfPtr done(const BtfPtr &base = nullptr) { return std::make_shared<const Btf>(b, base, "test"); }
};

std::set<std::string> texts(const BtfDiff &d, const std::vector<u32> &ids) {
  std::set<std::string> out;
  for (u32 i : ids) out.insert(d.changes()[i].text());
  return out;
}

// OLD:                                   NEW:
//   struct inner { int a; int b; };        struct inner { int a; long c; int b; };
//   struct node { struct node *next;       (same)
//                 struct inner *in; };
//   typedef struct node node_t;            (same)
//   enum color { RED, GREEN = 1 };         enum color { RED, GREEN = 2, BLUE = 3 };
//   void walk(node_t *);                   (same declaration: reaches struct inner)
//   void paint(enum color);                (same declaration: reaches enum color)
//   int width(int);                        int width(long);
//   int plain(int);                        int plain(int);
//   void asm_only(void);                   (no BTF in NEW)
struct Fixture {
  BtfPtr old_btf, new_btf;
  Fixture() { old_btf = build(false); new_btf = build(true); }
  static BtfPtr build(bool is_new) {
    Builder x;
    struct btf *b = x.b;
    int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    int i64 = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
    int inner = btf__add_struct(b, "inner", is_new ? 24 : 8);
    btf__add_field(b, "a", i32, 0, 0);
    if (is_new) {
      btf__add_field(b, "c", i64, 64, 0);
      btf__add_field(b, "b", i32, 128, 0);
    } else {
      btf__add_field(b, "b", i32, 32, 0);
    }
    // Members follow their struct directly (btf__add_field), so pointers are made first;
    // struct node's own pointer names the id the struct is about to get.
    int inner_ptr = btf__add_ptr(b, inner);
    int node_ptr = btf__add_ptr(b, int(btf__type_cnt(b)) + 1);
    int node = btf__add_struct(b, "node", 16);
    EXPECT_EQ(node_ptr + 1, node);
    EXPECT_EQ(btf__add_field(b, "next", node_ptr, 0, 0), 0);
    EXPECT_EQ(btf__add_field(b, "in", inner_ptr, 64, 0), 0);
    int node_t = btf__add_typedef(b, "node_t", node);
    int color = btf__add_enum(b, "color", 4);
    btf__add_enum_value(b, "RED", 0);
    btf__add_enum_value(b, "GREEN", is_new ? 2 : 1);
    if (is_new) btf__add_enum_value(b, "BLUE", 3);
    int node_t_ptr = btf__add_ptr(b, node_t);
    int p_walk = btf__add_func_proto(b, 0);
    btf__add_func_param(b, "n", node_t_ptr);
    btf__add_func(b, "walk", BTF_FUNC_GLOBAL, p_walk);
    int p_paint = btf__add_func_proto(b, 0);
    btf__add_func_param(b, "c", color);
    btf__add_func(b, "paint", BTF_FUNC_GLOBAL, p_paint);
    int p_width = btf__add_func_proto(b, i32);
    btf__add_func_param(b, "w", is_new ? i64 : i32);
    btf__add_func(b, "width", BTF_FUNC_GLOBAL, p_width);
    int p_plain = btf__add_func_proto(b, i32);
    btf__add_func_param(b, "x", i32);
    btf__add_func(b, "plain", BTF_FUNC_GLOBAL, p_plain);
    if (!is_new) btf__add_func(b, "asm_only", BTF_FUNC_GLOBAL, btf__add_func_proto(b, 0));
    return x.done();
  }
};

TEST(BtfDiff, NamesEachChangeWithItsPath) {
  Fixture f;
  BtfDiff d(f.old_btf, f.new_btf);
  int walk = d.add_export("walk", f.old_btf, f.new_btf);
  int paint = d.add_export("paint", f.old_btf, f.new_btf);
  int width = d.add_export("width", f.old_btf, f.new_btf);
  int plain = d.add_export("plain", f.old_btf, f.new_btf);
  BtfDiff::Found found;
  EXPECT_EQ(d.add_export("asm_only", f.old_btf, f.new_btf, &found), -1);
  EXPECT_EQ(found, BtfDiff::Found::old_only);
  EXPECT_EQ(d.add_export("nothing", f.old_btf, f.new_btf, &found), -1);
  EXPECT_EQ(found, BtfDiff::Found::neither);
  d.finish();

  // c added at 8 (8 bytes); b moved from 4 to 16, a consequence of c: detail, not a cause.
  EXPECT_EQ(texts(d, d.causes(walk)), (std::set<std::string>{"struct inner: member c added (offset 8, size 8)"}));
  ASSERT_EQ(d.moved().size(), 1u);
  EXPECT_EQ(d.moved()[0].member, "b");
  EXPECT_EQ(d.moved()[0].old_value, "offset 4, size 4");
  EXPECT_EQ(d.moved()[0].new_value, "offset 16, size 4");
  auto paths = d.paths(walk, 5);
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(paths[0].second, (std::vector<std::string>{"walk(node_t *)", "typedef node_t", "node.in", "struct inner"}));
  size_t depth = 99;
  EXPECT_EQ(d.nearest(walk, &depth).size(), 1u);
  EXPECT_EQ(depth, 3u);  // typedef node_t, struct node, struct inner

  EXPECT_EQ(texts(d, d.causes(paint)), (std::set<std::string>{"enum color: value GREEN changed (1 -> 2)",
                                                              "enum color: value BLUE added (3)"}));
  EXPECT_EQ(texts(d, d.causes(width)), (std::set<std::string>{"width(long): parameter w changed (int -> long)"}));
  EXPECT_EQ(d.paths(width, 5).at(0).second, (std::vector<std::string>{"width(long)"}));
  EXPECT_TRUE(d.causes(plain).empty());
  // The cycle through node.next is walked once: struct node and struct inner are one node each.
  EXPECT_LE(d.node_count(), 8u);
}

// Anonymous unions are matched by their place; bitfields are placed as pahole prints them
// (byte offset of the unsigned int holding them, bit in it, its size, the width); a typedef that
// names another type is retargeted; a member of a new type is retyped.
TEST(BtfDiff, AnonymousMembersBitfieldsTypedefs) {
  auto build = [](bool is_new) {
    Builder x;
    struct btf *b = x.b;
    int u8t = btf__add_int(b, "unsigned char", 1, 0);
    int u32t = btf__add_int(b, "unsigned int", 4, 0);
    int u64t = btf__add_int(b, "unsigned long", 8, 0);
    int id_t_ = btf__add_typedef(b, "id_t", is_new ? u64t : u32t);
    int anon = btf__add_union(b, nullptr, 8);
    btf__add_field(b, "raw", u64t, 0, 0);
    btf__add_field(b, is_new ? "words" : "word", u32t, 0, 0);
    int s = btf__add_struct(b, "flags", 16);
    btf__add_field(b, nullptr, anon, 0, 0);
    btf__add_field(b, "lo", u32t, 64, 3);                 // lo:3 at bit 64
    btf__add_field(b, "hi", u32t, is_new ? 68 : 67, 5);   // hi:5 at bit 67 -> 68
    btf__add_field(b, "id", id_t_, 96, 0);
    btf__add_field(b, "kind", is_new ? u32t : u8t, 128, 0);
    int sp = btf__add_ptr(b, s);
    int proto = btf__add_func_proto(b, 0);
    btf__add_func_param(b, "f", sp);
    btf__add_func(b, "set_flags", BTF_FUNC_GLOBAL, proto);
    return x.done();
  };
  BtfPtr o = build(false), n = build(true);
  BtfDiff d(o, n);
  int h = d.add_export("set_flags", o, n);
  d.finish();
  EXPECT_EQ(texts(d, d.causes(h)),
            (std::set<std::string>{"union (anonymous): member word removed (was offset 0, size 4)",
                                   "union (anonymous): member words added (offset 0, size 4)",
                                   "typedef id_t: typedef retargeted (unsigned int -> unsigned long)",
                                   "struct flags: member kind retyped (unsigned char at offset 16, size 1 -> unsigned int at offset 16, size 4)"}));
  // hi moved and id grew (its typedef's target did) while kind was retyped in the same
  // struct: details, not causes of their own.
  ASSERT_EQ(d.moved().size(), 2u);
  EXPECT_EQ(d.moved()[0].member, "hi");
  EXPECT_EQ(d.moved()[0].old_value, "offset 8:3, size 4, bit width 5");
  EXPECT_EQ(d.moved()[0].new_value, "offset 8:4, size 4, bit width 5");
  EXPECT_EQ(d.moved()[1].member, "id");
  EXPECT_EQ(d.moved()[1].old_value, "offset 12, size 4");
  EXPECT_EQ(d.moved()[1].new_value, "offset 12, size 8");
  // The export's paths go to its nearest causes: struct flags' own change, one type away.
  auto near = d.paths(h, 10);
  ASSERT_EQ(near.size(), 1u);
  EXPECT_EQ(d.changes()[near[0].first].member, "kind");
  EXPECT_EQ(near[0].second, (std::vector<std::string>{"set_flags(struct flags *)", "struct flags"}));
  size_t depth = 0;
  EXPECT_EQ(d.nearest(h, &depth), std::vector<u32>{near[0].first});
  EXPECT_EQ(depth, 1u);
  // Every change has an example path, the further ones included.
  std::set<std::vector<std::string>> ps;
  for (auto &p : d.example_paths()) ps.insert(p);
  EXPECT_TRUE(ps.contains({"set_flags(struct flags *)", "flags.(anonymous #1)", "union (anonymous)"}));
  EXPECT_TRUE(ps.contains({"set_flags(struct flags *)", "flags.id", "typedef id_t"}));
}

// Members that moved with nothing added, removed or resized (a reorder) are causes.
TEST(BtfDiff, MovesAloneAreCauses) {
  auto build = [](bool is_new) {
    Builder x;
    int i32 = btf__add_int(x.b, "int", 4, BTF_INT_SIGNED);
    int s = btf__add_struct(x.b, "pair", 8);
    btf__add_field(x.b, is_new ? "y" : "x", i32, 0, 0);
    btf__add_field(x.b, is_new ? "x" : "y", i32, 32, 0);
    int sp = btf__add_ptr(x.b, s);
    int proto = btf__add_func_proto(x.b, 0);
    btf__add_func_param(x.b, "p", sp);
    btf__add_func(x.b, "swap", BTF_FUNC_GLOBAL, proto);
    return x.done();
  };
  BtfPtr o = build(false), n = build(true);
  BtfDiff d(o, n);
  int h = d.add_export("swap", o, n);
  d.finish();
  EXPECT_EQ(texts(d, d.causes(h)), (std::set<std::string>{"struct pair: member x moved (offset 0, size 4 -> offset 4, size 4)",
                                                          "struct pair: member y moved (offset 4, size 4 -> offset 0, size 4)"}));
  EXPECT_TRUE(d.moved().empty());
}

// A module's split BTF over each kernel's base: the module's own struct is compared, and the
// base types it reaches are the base's nodes, shared with vmlinux's exports.
TEST(BtfDiff, SplitBtfOverBases) {
  auto base = [](bool is_new) {
    Builder x;
    int i32 = btf__add_int(x.b, "int", 4, BTF_INT_SIGNED);
    btf__add_struct(x.b, "dev", is_new ? 8 : 4);
    btf__add_field(x.b, "id", i32, 0, 0);
    if (is_new) btf__add_field(x.b, "flags", i32, 32, 0);
    return x.done();
  };
  auto module = [](const BtfPtr &b) {
    Builder x(b);
    int dev = btf__find_by_name_kind(b->get(), "dev", BTF_KIND_STRUCT);
    int dev_ptr = btf__add_ptr(x.b, dev);
    int priv = btf__add_struct(x.b, "mydrv", 8);
    EXPECT_EQ(btf__add_field(x.b, "dev", dev_ptr, 0, 0), 0);
    int priv_ptr = btf__add_ptr(x.b, priv);
    int proto = btf__add_func_proto(x.b, 0);
    EXPECT_EQ(btf__add_func_param(x.b, "p", priv_ptr), 0);
    btf__add_func(x.b, "mydrv_start", BTF_FUNC_GLOBAL, proto);
    return x.done(b);
  };
  BtfPtr ob = base(false), nb = base(true);
  BtfPtr om = module(ob), nm = module(nb);
  BtfDiff d(ob, nb);
  int h = d.add_export("mydrv_start", om, nm);
  ASSERT_GE(h, 0);
  d.finish();
  EXPECT_EQ(texts(d, d.causes(h)), (std::set<std::string>{"struct dev: member flags added (offset 4, size 4)"}));
  EXPECT_EQ(d.paths(h, 1).at(0).second,
            (std::vector<std::string>{"mydrv_start(struct mydrv *)", "mydrv.dev", "struct dev"}));
}

}  // namespace
}  // namespace kmx
