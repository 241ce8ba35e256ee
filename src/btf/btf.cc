#include "btf/btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/core.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <mutex>

#include "base/atomic-file.h"
#include "base/dirs.h"
#include "base/mapped-file.h"
#include "decompress/decompress.h"
#include "decompress/kernel-image.h"
#include "elf/elf-file.h"
#include "elf/module-signature.h"

namespace kmx {

namespace {

// libbpf prints its own diagnostics to stderr; kmx reports errors itself, with the file.
int quiet_libbpf(enum libbpf_print_level, const char *, va_list) { return 0; }

void silence_libbpf() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(quiet_libbpf); });
}

bool is_raw_btf(ByteView d) {
  return d.size() >= 4 && ((d[0] == 0x9f && d[1] == 0xeb) || (d[0] == 0xeb && d[1] == 0x9f));
}

bool is_elf(ByteView d) { return d.size() >= 4 && d.as_string().substr(0, 4) == "\x7f" "ELF"; }

// Split BTF from memory. Debian's libbpf 1.1 declares btf__new_split() but does not export it
// (libbpf.so's version script and libbpf.a lack it), so the bytes go through a memfd that
// btf__parse_raw_split() reads.
struct btf *new_split(ByteView data, const struct btf *base) {
  int fd = memfd_create("kmx-btf", MFD_CLOEXEC);
  if (fd < 0) return nullptr;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      int e = n < 0 ? errno : EIO;
      ::close(fd);
      errno = e;
      return nullptr;
    }
    done += size_t(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  struct btf *b = btf__parse_raw_split(path.c_str(), const_cast<struct btf *>(base));
  int e = errno;
  ::close(fd);
  errno = e;
  return b;
}

}  // namespace

Btf::Btf(struct btf *b, std::shared_ptr<const Btf> base, std::string source)
    : btf_(b), base_(std::move(base)), source_(std::move(source)) {}

Btf::~Btf() { btf__free(btf_); }

u32 Btf::type_count() const { return btf__type_cnt(btf_); }

u32 Btf::first_own_id() const { return base_ ? base_->type_count() : 1; }

ByteView Btf::raw() const {
  u32 size = 0;
  const void *p = btf__raw_data(btf_, &size);
  return p ? ByteView(static_cast<const u8 *>(p), size) : ByteView();
}

Result<BtfPtr> btf_from_raw(ByteView data, const std::string &what, BtfPtr base) {
  silence_libbpf();
  if (data.size() > UINT32_MAX) return fail(Errc::too_large, what + ": BTF larger than 4 GiB");
  struct btf *b = base ? new_split(data, base->get()) : btf__new(data.data(), static_cast<u32>(data.size()));
  if (!b) {
    int e = errno;
    return fail(Errc::invalid_format, fmt::format("{}: not valid {}BTF ({} bytes; libbpf: {})", what, base ? "split " : "",
                                                  data.size(), std::strerror(e)));
  }
  return std::make_shared<const Btf>(b, std::move(base), what);
}

Result<BtfPtr> btf_from_elf(ByteView data, const std::string &what, BtfPtr base) {
  auto elf = ElfFile::parse(data);
  if (!elf) return fail(with_context(std::move(elf).error(), what));
  auto idx = elf->find_section(".BTF");
  if (!idx) return fail(Errc::no_data, what + ": no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF)");
  auto sec = elf->section_data(*idx);
  if (!sec) return fail(with_context(std::move(sec).error(), what));
  return btf_from_raw(*sec, what, std::move(base));
}

Result<BtfPtr> load_vmlinux_btf(const std::string &path, const std::string &cache_dir) {
  std::string cpath = source_cache_path(cache_dir, "kernel-btf", path);
  if (!cpath.empty())
    if (auto c = MappedFile::open(cpath); c && is_raw_btf(c->view()))
      if (auto b = btf_from_raw(c->view(), "vmlinux BTF of " + path + " (cached)")) return b;
  auto f = MappedFile::open(path);
  if (!f) return fail(with_context(std::move(f).error(), path));
  ByteView v = f->view();
  if (is_raw_btf(v)) return btf_from_raw(v, path);
  BtfPtr out;
  if (is_elf(v)) {
    TRY_ASSIGN(out, btf_from_elf(v, path));
  } else {
    std::string how;
    auto kernel = kernel_image_payload(v, how);
    if (!kernel) return fail(with_context(std::move(kernel).error(), path));
    TRY_ASSIGN(out, btf_from_elf(*kernel, "vmlinux BTF of " + path + " (" + how + ")"));
    if (!cpath.empty() && make_private_dirs(cache_dir)) (void)write_file_atomic(cpath, out->raw().as_string(), 0600);
  }
  return out;
}

Result<BtfPtr> load_module_btf(const std::string &path, BtfPtr base) {
  // Mapped: of an uncompressed module only the headers and .BTF are read.
  auto f = MappedFile::open(path, Access::sparse);
  if (!f) return fail(with_context(std::move(f).error(), path));
  ByteView v = f->view();
  Buffer owned;
  if (Compression c = detect_compression(v); c != Compression::none) {
    auto d = decompress(c, v);
    if (!d) return fail(with_context(std::move(d).error(), path));
    owned = std::move(*d);
    v = owned;
  }
  return btf_from_elf(split_signature(v).elf, path, std::move(base));
}

}  // namespace kmx
