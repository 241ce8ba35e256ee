#include "kernel/module-load.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/mapped-file.h"
#include "elf/elf-file.h"

namespace kmx {
namespace {

int sys_finit_module(int fd, const char *args, unsigned flags) {
  return static_cast<int>(syscall(SYS_finit_module, fd, args, flags));
}

int sys_init_module(const void *mem, unsigned long len, const char *args) {
  return static_cast<int>(syscall(SYS_init_module, mem, len, args));
}

Failure os_fail(int err, const std::string &what) { return fail_errno(err, what + ": " + std::strerror(err)); }

// Clear SHF_ALLOC of a section so that the kernel ignores it (kmod_elf_strip_section); used
// for __versions when modversions are to be ignored on the init_module path.
void strip_section(Bytes &mem, const ElfFile &elf, std::string_view name) {
  std::optional<u32> idx = elf.find_section(name);
  if (!idx) return;
  ByteView v(mem);
  unsigned w = elf.is64() ? 8 : 4;
  std::optional<u64> shoff = elf.read_uint(v, elf.is64() ? 0x28 : 0x20, w);
  u64 shentsize = elf.is64() ? 64 : 40;
  if (!shoff) return;
  u64 flags_off = *shoff + *idx * shentsize + 8;
  if (!v.contains(flags_off, w)) return;
  const u64 SHF_ALLOC = 2;
  // The flag sits in the lowest byte in either byte order.
  u64 byte = elf.little_endian() ? flags_off : flags_off + w - 1;
  mem[byte] = static_cast<u8>(mem[byte] & ~SHF_ALLOC);
}

// Blank the "vermagic=..." string of .modinfo (kmod_elf_strip_vermagic).
void strip_vermagic(Bytes &mem, const ElfFile &elf) {
  std::optional<u32> idx = elf.find_section(".modinfo");
  if (!idx) return;
  const ElfSection &s = elf.sections()[*idx];
  if (!ByteView(mem).contains(s.offset, s.size)) return;
  u64 i = 0;
  while (i < s.size) {
    u64 start = i;
    while (i < s.size && mem[s.offset + i] != 0) ++i;
    std::string_view str(reinterpret_cast<const char *>(&mem[s.offset + start]), i - start);
    if (str.starts_with("vermagic=")) {
      std::memset(&mem[s.offset + start], 0, i - start);
      return;
    }
    ++i;
  }
}

Result<LoadResult> load_buffer(Bytes mem, const std::string &args, const LoadOptions &opt, LoadResult &res) {
  res.method = LoadMethod::init_module;
  if (opt.ignore_vermagic || opt.ignore_modversions) {
    auto elf = ElfFile::parse(ByteView(mem));
    if (elf) {
      if (opt.ignore_modversions) strip_section(mem, *elf, "__versions");
      if (opt.ignore_vermagic) strip_vermagic(mem, *elf);
    }
  }
  res.reached_kernel = true;
  if (sys_init_module(mem.data(), mem.size(), args.c_str()) != 0) return os_fail(errno, "init_module");
  return res;
}

}  // namespace

const char *load_method_name(LoadMethod m) {
  switch (m) {
  case LoadMethod::finit: return "finit_module";
  case LoadMethod::finit_compressed: return "finit_module(MODULE_INIT_COMPRESSED_FILE)";
  case LoadMethod::init_module: return "init_module";
  }
  return "?";
}

Result<LoadResult> load_module_file(const KernelRoots &r, const std::string &path, const std::string &args,
                                    const LoadOptions &opt, LoadResult *tried) {
  LoadResult dummy;
  LoadResult &res = tried ? *tried : dummy;
  res = LoadResult{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_fail(errno, "'" + path + "'");
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  u8 magic[6] = {};
  ssize_t n = ::pread(fd, magic, sizeof magic, 0);
  if (n < 0) return os_fail(errno, "'" + path + "'");
  res.compression = detect_compression(ByteView(magic, static_cast<size_t>(n)));

  unsigned kflags = 0;
  if (opt.ignore_modversions) kflags |= MODULE_INIT_IGNORE_MODVERSIONS;
  if (opt.ignore_vermagic) kflags |= MODULE_INIT_IGNORE_VERMAGIC;

  if (res.compression == Compression::none) {
    res.method = LoadMethod::finit;
    res.reached_kernel = true;
    if (sys_finit_module(fd, args.c_str(), kflags) == 0) return res;
    if (errno != ENOSYS) return os_fail(errno, "finit_module");
    TRY_ASSIGN(MappedFile f, MappedFile::open(path));
    return load_buffer(Bytes(f.view().begin(), f.view().end()), args, opt, res);
  }

  // The kernel decompresses only the one format it was built for; it says which in sysfs.
  // Without sysfs there is nothing to read, so ask the kernel and fall back on the errors that
  // mean "not this way": EINVAL (flag unknown before 6.4, or another format), EOPNOTSUPP (no
  // CONFIG_MODULE_DECOMPRESS), ENOSYS (no finit_module).
  std::optional<Compression> kc = kernel_decompression(r);
  bool probe = !kc && !sysfs_available(r);
  if (kc == res.compression || probe) {
    res.method = LoadMethod::finit_compressed;
    res.reached_kernel = true;
    if (sys_finit_module(fd, args.c_str(), kflags | MODULE_INIT_COMPRESSED_FILE) == 0) return res;
    int err = errno;
    bool fall_back = err == ENOSYS || (probe && (err == EINVAL || err == EOPNOTSUPP));
    // Otherwise the error is the kernel's verdict on the module.
    if (!fall_back) return os_fail(err, "finit_module");
  }
  res.reached_kernel = false;
  TRY_ASSIGN(MappedFile f, MappedFile::open(path));
  auto plain = decompress(res.compression, f.view());
  if (!plain) {
    Error e = std::move(plain).error();
    e.msg = "'" + path + "': " + e.msg;
    // kmod reports a file it cannot decompress as EINVAL ("Invalid parameters").
    e.sys_errno = EINVAL;
    return fail(std::move(e));
  }
  return load_buffer(Bytes(plain->begin(), plain->end()), args, opt, res);
}

Status unload_module(const std::string &name, unsigned flags) {
  if (syscall(SYS_delete_module, name.c_str(), flags) != 0) return os_fail(errno, "delete_module");
  return {};
}

}  // namespace kmx
