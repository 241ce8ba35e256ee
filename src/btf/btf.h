// BTF (the kernel's BPF Type Format type information), read through libbpf.
//
// Where vmlinux's BTF comes from:
//   raw BTF      /sys/kernel/btf/vmlinux, or a file in that format (magic 0xeb9f, either byte
//                order: libbpf swaps);
//   vmlinux ELF  its .BTF section (CONFIG_DEBUG_INFO_BTF);
//   kernel image the .BTF section of the vmlinux inside a bzImage, EFI or compressed image
//                (decompress/kernel-image.h kernel_image_payload).
// A module's .BTF (CONFIG_DEBUG_INFO_BTF_MODULES) is split BTF: its type ids continue after
// its kernel's vmlinux BTF, which it names as base, so it is read over that base.
//
// Getting vmlinux's BTF out of a kernel image decompresses the whole kernel (about a second for
// Debian's xz-compressed 6.1 image), so load_vmlinux_btf() caches the raw BTF in the directory
// the caller names (tools/common.h kmx_cache_dir), keyed on the image's path, device, inode,
// size and mtime (base/dirs.h source_cache_path); a cache that cannot be read or written is
// ignored.
#pragma once

#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"

struct btf;

namespace kmx {

class Btf {
public:
  Btf(struct btf *b, std::shared_ptr<const Btf> base, std::string source);
  Btf(const Btf &) = delete;
  Btf &operator=(const Btf &) = delete;
  ~Btf();

  const struct btf *get() const { return btf_; }
  // One past the last type id (ids start at 1; 0 is void).
  u32 type_count() const;
  // The first id of this BTF's own types: 1, or one past the base's for split BTF.
  u32 first_own_id() const;
  const std::shared_ptr<const Btf> &base() const { return base_; }
  const std::string &source() const { return source_; }  // "vmlinux BTF of PATH (...)"
  // The raw BTF, as /sys/kernel/btf/vmlinux holds it (split BTF: the own types only).
  ByteView raw() const;

private:
  struct btf *btf_;
  std::shared_ptr<const Btf> base_;
  std::string source_;
};

using BtfPtr = std::shared_ptr<const Btf>;

// Raw BTF bytes; `base` for split BTF. `what` names the data in errors.
Result<BtfPtr> btf_from_raw(ByteView data, const std::string &what, BtfPtr base = nullptr);
// The .BTF section of an ELF file (vmlinux, or a module over `base`). Errc::no_data when the
// file has no .BTF section.
Result<BtfPtr> btf_from_elf(ByteView elf, const std::string &what, BtfPtr base = nullptr);
// vmlinux's BTF from a raw BTF file, a vmlinux ELF or a kernel image (see the top); `cache_dir`
// "" disables the cache.
Result<BtfPtr> load_vmlinux_btf(const std::string &path, const std::string &cache_dir = "");
// A module file's split BTF over its kernel's `base` (the file may be compressed).
Result<BtfPtr> load_module_btf(const std::string &path, BtfPtr base);

}  // namespace kmx
