// Loading BTF: raw, from an ELF's .BTF section, from a bzImage's payload (cached), and a
// module's split BTF over its base; bad input names the file.
#include "btf/btf.h"

#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "elf-builder.h"
#include "test-support.h"

namespace kmx {
namespace {

using test::TempDir;

std::string raw_of(struct btf *b) {
  u32 size = 0;
  const void *p = btf__raw_data(b, &size);
  return std::string(static_cast<const char *>(p), size);
}

// A base BTF: int and struct dev { int id; }.
std::string base_raw() {
  struct btf *b = btf__new_empty();
  int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  btf__add_struct(b, "dev", 4);
  btf__add_field(b, "id", i32, 0, 0);
  std::string r = raw_of(b);
  btf__free(b);
  return r;
}

std::string elf_with_btf(const std::string &btf, u16 type) {
  test::ElfBuilder e;
  e.type = type;
  e.add(".text", test::Bytes(16, 0x90));
  e.add(".BTF", test::bytes_of(btf));
  auto img = e.build();
  return std::string(img.bytes.begin(), img.bytes.end());
}

std::string gzip(const std::string &in) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A bzImage (boot protocol 2.15, one setup sector) whose payload is `payload`.
std::string bzimage(const std::string &payload) {
  std::string h(1024, '\0');
  h.replace(0x202, 4, "HdrS");
  h[0x206] = 0x0f, h[0x207] = 0x02, h[0x1f1] = 1;
  std::string body = payload + std::string(4, '\0');  // + the decompressed size (unused)
  u32 len = u32(body.size());
  for (int i = 0; i < 4; i++) h[size_t(0x24c + i)] = char(len >> (8 * i));
  return h + body;
}

TEST(Btf, RawElfAndImage) {
  TempDir t;
  std::string raw = base_raw();
  for (auto [name, content] : std::vector<std::pair<std::string, std::string>>{
           {"raw", raw}, {"vmlinux", elf_with_btf(raw, 2)}, {"vmlinuz", bzimage(gzip(elf_with_btf(raw, 2)))}}) {
    std::string p = t.path + "/" + name;
    test::write_file(p, content);
    auto b = load_vmlinux_btf(p, t.path + "/cache");
    ASSERT_TRUE(b) << name << ": " << b.error().msg;
    EXPECT_EQ((*b)->type_count(), 3u) << name;  // void, int, struct dev
    EXPECT_GT(btf__find_by_name_kind((*b)->get(), "dev", BTF_KIND_STRUCT), 0) << name;
    EXPECT_EQ((*b)->raw().as_string(), raw) << name;
  }
  // The image's BTF was cached: the second load says so and needs no payload.
  auto again = load_vmlinux_btf(t.path + "/vmlinuz", t.path + "/cache");
  ASSERT_TRUE(again);
  EXPECT_NE((*again)->source().find("(cached)"), std::string::npos) << (*again)->source();
  auto fresh = load_vmlinux_btf(t.path + "/vmlinuz", "");
  ASSERT_TRUE(fresh);
  EXPECT_NE((*fresh)->source().find("gzip payload of the bzImage"), std::string::npos) << (*fresh)->source();
}

TEST(Btf, ModuleSplitOverBase) {
  TempDir t;
  auto base = btf_from_raw(ByteView(base_raw()), "base");
  ASSERT_TRUE(base);
  struct btf *s = btf__new_empty_split(const_cast<struct btf *>((*base)->get()));
  int dev = btf__find_by_name_kind((*base)->get(), "dev", BTF_KIND_STRUCT);
  int dp = btf__add_ptr(s, dev);
  btf__add_struct(s, "mydrv", 8);
  btf__add_field(s, "dev", dp, 0, 0);
  std::string split = raw_of(s);
  btf__free(s);
  std::string ko = t.path + "/mydrv.ko.gz";
  test::write_file(ko, gzip(elf_with_btf(split, 1)));
  auto m = load_module_btf(ko, *base);
  ASSERT_TRUE(m) << m.error().msg;
  EXPECT_EQ((*m)->first_own_id(), 3u);
  EXPECT_EQ((*m)->type_count(), 5u);
  int mydrv = btf__find_by_name_kind((*m)->get(), "mydrv", BTF_KIND_STRUCT);
  ASSERT_EQ(mydrv, 4);
  // The member's pointer resolves into the base.
  const struct btf_type *ptr = btf__type_by_id((*m)->get(), btf_members(btf__type_by_id((*m)->get(), 4))[0].type);
  EXPECT_EQ(ptr->type, u32(dev));
}

TEST(Btf, BadInput) {
  TempDir t;
  std::string p = t.path + "/vmlinux";
  test::write_file(p, std::string("\x7f" "ELF") + std::string(60, '\0'));  // a broken ELF header
  auto r = load_vmlinux_btf(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find(p), std::string::npos) << r.error().msg;
  // An ELF without .BTF.
  test::ElfBuilder e;
  e.type = 2;
  e.add(".text", test::Bytes(16, 0x90));
  auto img = e.build();
  test::write_file(p, std::string(img.bytes.begin(), img.bytes.end()));
  r = load_vmlinux_btf(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, p + ": no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF)");
  // A .BTF section that is not BTF.
  test::write_file(p, elf_with_btf("not btf at all", 2));
  r = load_vmlinux_btf(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find(p + ": not valid BTF"), std::string::npos) << r.error().msg;
  // Neither raw BTF, ELF nor an image.
  test::write_file(p, "hello");
  r = load_vmlinux_btf(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("not a kernel image"), std::string::npos) << r.error().msg;
  EXPECT_FALSE(load_vmlinux_btf(t.path + "/missing"));
}

}  // namespace
}  // namespace kmx
