#include "compat/load-check.h"
#include "compat/symbol-history.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "base/mapped-file.h"
#include "base/strings.h"
#include "compat/kernel-keys.h"
#include "elf/module-elf.h"
#include "elf/module-signature.h"

namespace kmx {

namespace {

std::string hex(u64 v) { return fmt::format("0x{:08x}", v); }

std::string hex_string(const Bytes &b) {
  std::string out;
  for (u8 c : b) out += fmt::format("{:02X}", c);
  return out;
}

// Taint letters a module can carry, in taint bit order (kernel/panic.c taint_flags).
constexpr std::string_view taint_order = "PFCOEKXTN";

struct Run {
  const ModuleInfo &m;
  const KernelProfile &k;
  const TargetState &s;
  const CheckOptions &o;
  ByteView image;  // decompressed module given by the caller, or empty
  LoadVerdict v;
  std::string name;
  bool done = false;  // refused
  bool kernel_p = false;  // the kernel (not the module) got taint P (ndiswrapper)

  void step(const char *id, std::string what, StepResult result, std::string detail = {}) {
    v.checks.push_back(CheckStep{id, std::move(what), result, std::move(detail)});
  }
  void msg(std::string line) { v.messages.push_back(std::move(line)); }
  void refuse(const char *id, int err) {
    if (!v.loads) return;  // --all: the first refusal is the verdict
    v.loads = false;
    v.err = err;
    v.errno_name = errno_name(err);
    v.check_id = id;
    done = true;
  }
  // A refusing step: its line in the checks and, unless a refusal came first, the verdict.
  void refuse(const char *id, std::string what, int err, std::string detail) {
    step(id, std::move(what), StepResult::refuse, std::move(detail));
    refuse(id, err);
  }
  bool was_tainted(char c) const {
    return s.kernel_taint.find(c) != std::string::npos || v.taint.find(c) != std::string::npos || (c == 'P' && kernel_p);
  }
  // add_taint(..., LOCKDEP_NOW_UNRELIABLE) says so on the first such taint of the boot.
  void lockdep_off() {
    if (!was_tainted('P') && !was_tainted('F')) msg("Disabling lock debugging due to kernel taint");
  }
  void taint(char c) {
    if (v.taint.find(c) == std::string::npos) v.taint += c;
  }
  // The verdict as returned: complete unless a check is unknown, taint letters in bit order.
  LoadVerdict finish() {
    v.complete = v.undecided().empty();
    std::string ordered;
    for (char c : taint_order)
      if (v.taint.find(c) != std::string::npos) ordered += c;
    v.taint = ordered;
    return v;
  }
};

bool has_versions(const ModuleInfo &m) { return !m.versions.empty(); }
// info->index.vers: MODULE_INIT_IGNORE_MODVERSIONS pretends there is no __versions section.
bool versions_seen(const Run &r) { return !r.o.force_modversions && has_versions(r.m); }

const SymbolVersion *find_version(const ModuleInfo &m, std::string_view sym) {
  for (const auto &sv : m.versions)
    if (sv.name == sym) return &sv;
  return nullptr;
}

std::string after_space(const std::string &s) {
  size_t sp = s.find(' ');
  return sp == std::string::npos ? std::string() : s.substr(sp);
}

// "your headers' config differs in CONFIG_A (y -> n), ..." when both configs are known.
std::string config_delta(const Run &r) {
  if (!r.o.module_config || r.k.config.empty()) return "";
  std::vector<std::string> diffs;
  size_t n = 0;
  auto val = [](const std::map<std::string, std::string> &m, const std::string &k) {
    auto it = m.find(k);
    return it == m.end() ? std::string("unset") : it->second;
  };
  std::set<std::string> keys;
  for (const auto &[k, v] : *r.o.module_config) keys.insert(k);
  for (const auto &[k, v] : r.k.config) keys.insert(k);
  // Options that change struct module or vermagic (include/linux/module.h, vermagic.h) first.
  static const std::set<std::string> layout = {
      "CONFIG_SMP", "CONFIG_PREEMPT_BUILD", "CONFIG_PREEMPT_RT", "CONFIG_MODULE_UNLOAD",
      "CONFIG_MODVERSIONS", "CONFIG_RANDSTRUCT", "CONFIG_MODULE_SIG", "CONFIG_GENERIC_BUG",
      "CONFIG_KALLSYMS", "CONFIG_SYSFS", "CONFIG_CONSTRUCTORS", "CONFIG_TRACEPOINTS",
      "CONFIG_TREE_SRCU", "CONFIG_BPF_EVENTS", "CONFIG_JUMP_LABEL", "CONFIG_TRACING",
      "CONFIG_EVENT_TRACING", "CONFIG_FTRACE_MCOUNT_RECORD", "CONFIG_KPROBES", "CONFIG_LIVEPATCH",
      "CONFIG_PRINTK_INDEX", "CONFIG_DYNAMIC_DEBUG_CORE", "CONFIG_DEBUG_INFO_BTF_MODULES",
      "CONFIG_FUNCTION_ERROR_INJECTION", "CONFIG_KUNIT", "CONFIG_MODULE_UNLOAD_TAINT_TRACKING",
      "CONFIG_MITIGATION_RETPOLINE", "CONFIG_RETPOLINE", "CONFIG_MITIGATION_ITS",
      "CONFIG_CFI_CLANG", "CONFIG_ARCH_USES_CFI_TRAPS", "CONFIG_MODULE_DEBUGFS",
      "CONFIG_EXTENDED_MODVERSIONS", "CONFIG_BASIC_MODVERSIONS"};
  for (int pass = 0; pass < 2; pass++)
    for (const auto &k : keys) {
      if (layout.contains(k) != (pass == 0)) continue;
      std::string a = val(*r.o.module_config, k), b = val(r.k.config, k);
      if (a == b || (a == "unset" && b == "n") || (a == "n" && b == "unset")) continue;
      if (n++ < 12) diffs.push_back(fmt::format("{} ({} -> {})", k, a, b));
    }
  if (n == 0) return "; your headers' config equals this kernel's";
  std::string out = "; your headers' config differs in ";
  for (size_t i = 0; i < diffs.size(); i++) out += (i ? ", " : "") + diffs[i];
  if (n > diffs.size()) out += fmt::format(" and {} more", n - diffs.size());
  return out;
}

// The lockdown level the target runs at and why: lockdown= on the command line, the
// CONFIG_LOCK_DOWN_KERNEL_FORCE_* default, or Secure Boot on a kernel built with
// CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT (Debian prints at boot:
// "Kernel is locked down from EFI Secure Boot mode; see man kernel_lockdown.7").
std::pair<std::string, std::string> lockdown_state(const Run &r) {
  if (!r.s.lockdown.empty()) return {r.s.lockdown, "lockdown=" + r.s.lockdown};
  if (r.k.config_on("CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY").value_or(false))
    return {"confidentiality", "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y"};
  if (r.k.config_on("CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY").value_or(false))
    return {"integrity", "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y"};
  if (r.s.secure_boot) {
    auto sb = r.k.config_on("CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT");
    if (sb.value_or(true))
      return {"integrity", sb ? "Secure Boot with CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT=y"
                              : "Secure Boot (kernel config unknown: assuming Debian's CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT=y)"};
  }
  return {"", ""};
}

// module_sig_check(): ENODATA (unsigned), ENOPKG (unsupported crypto) and ENOKEY (unknown key)
// taint E, or refuse when enforced (EKEYREJECTED) or locked down (EPERM); any other failure
// (bad signature, malformed trailer or PKCS#7) refuses the module even when nothing is enforced.
void check_signature(Run &r) {
  auto sig_cfg = r.k.config_on("CONFIG_MODULE_SIG");
  if (sig_cfg && !*sig_cfg) {
    r.step("B", "signature", StepResult::skip, "CONFIG_MODULE_SIG is off: signatures are not checked");
    return;
  }
  bool enforced = r.s.sig_enforce || r.k.config_on("CONFIG_MODULE_SIG_FORCE").value_or(false);
  int err = ENODATA;
  std::string detail = "no signature";
  bool trailer = r.m.signature || !r.m.signature_problem.empty();
  // A forced load is a "mangled module": its signature is not even parsed (module_sig_check()).
  // That is finit_module()'s flags, which kmod 30 uses for uncompressed files only: a compressed
  // one it decompresses, edits itself (vermagic blanked, __versions no longer SHF_ALLOC) and
  // gives to init_module() with no flags, so the kernel checks a signature over bytes that
  // changed: a trusted signer's no longer verifies (EKEYREJECTED).
  bool forced = r.o.force_vermagic || r.o.force_modversions;
  bool edited = forced && r.m.compression != Compression::none;
  if (forced && !edited && trailer) {
    detail = "signature not looked at: a forced load (IGNORE_VERMAGIC/IGNORE_MODVERSIONS) counts as unsigned";
    trailer = false;
  }
  // A well-formed issuer+serial signature whose serial no trusted certificate has cannot verify:
  // ENOKEY without reading the module again (as sign-file writes it; signed attributes or a
  // non-data content type would make the kernel say EKEYREJECTED instead).
  bool fast_nokey = false;
  // Under Secure Boot the enrolled Machine Owner Keys are trusted too.
  std::vector<TrustedCert> with_mok;
  if (r.s.secure_boot && !r.s.mok_certs.empty() && !r.k.trusted_certs.empty()) {
    with_mok = r.k.trusted_certs;
    with_mok.insert(with_mok.end(), r.s.mok_certs.begin(), r.s.mok_certs.end());
  } else if (r.s.secure_boot && !r.s.mok_certs.empty() && trailer && !r.image.empty()) {
    // The kernel's own certificates are not known: a module an enrolled MOK verifies loads;
    // any other falls through to what the kernel's key ids say.
    SigCheck c = verify_module_signature(r.image, r.s.mok_certs);
    if (c.err == 0 && !edited) {
      r.step("B1", "signature", StepResult::pass, c.detail + " (an enrolled Machine Owner Key)");
      return;
    }
  }
  const std::vector<TrustedCert> &keys = with_mok.empty() ? r.k.trusted_certs : with_mok;
  // Only when the module's image is not at hand: the header's padding and signer/key-id lengths
  // and the signed attributes are not in ModuleInfo, and each changes the kernel's answer
  // (EBADMSG, EKEYREJECTED).
  if (trailer && r.m.signature && !keys.empty() && r.image.empty()) {
    static const std::set<std::string> digests = {"sha1", "sha224", "sha256", "sha384", "sha512"};
    // The raw header fields the kernel insists on (mod_check_sig(); signer_len and key_id_len
    // are not kept by the reader and are zero in everything sign-file writes).
    const ModuleSignature &sig = *r.m.signature;
    fast_nokey = sig.id_type == 2 && sig.algo == 0 && sig.hash == 0 && digests.contains(sig.hash_algo);
    for (const auto &c : keys) fast_nokey = fast_nokey && c.serial != r.m.signature->key_id;
  }
  if (fast_nokey) {
    err = ENOKEY;
    detail = fmt::format("signed by '{}' (serial {}); no trusted certificate has that serial", r.m.signature->signer,
                         hex_string(r.m.signature->key_id));
  } else if (trailer && !keys.empty()) {
    if (r.image.empty()) {
      r.step("B", "signature", StepResult::unknown,
             "signature trailer present, but the module's bytes were not given: it cannot be verified");
      return;
    }
    SigCheck c = verify_module_signature(r.image, keys);
    for (auto &l : c.lines) r.msg(l);
    err = c.err;
    detail = c.detail;
    if (edited && err == 0) {
      err = EKEYREJECTED;
      detail = "a forced load of a compressed module: kmod edits the decompressed image (vermagic, __versions) and "
               "loads it with init_module(), so the signature of '" + std::string(c.signer ? c.signer->subject : "?") +
               "' no longer matches";
    }
  }
  if (!fast_nokey && trailer && keys.empty()) {
    if (r.m.signature) {
      if (r.k.trusted_key_ids.empty()) {
        // Whether the kernel trusts the signer decides between "loads cleanly" and taint E (or a
        // refusal when enforced or locked down): nothing here says.
        r.step("B3", "signature", StepResult::unknown,
               fmt::format("signed by '{}' (key id {}); no certificates or module key ids of this kernel are "
                           "known: give its image (boot/vmlinuz-REL), a module tree or its certificate files",
                           r.m.signature->signer, hex_string(r.m.signature->key_id)));
        return;
      }
      bool known = false;
      for (const auto &id : r.k.trusted_key_ids) known = known || id == r.m.signature->key_id;
      err = known ? (edited ? EKEYREJECTED : 0) : ENOKEY;
      detail = known ? "signed by " + r.m.signature->signer + " with a key id this kernel's modules use (not verified: " +
                           "no certificates of this kernel; give its image or certificate files)"
                     : "signed by " + r.m.signature->signer + ", a key this kernel's modules do not use";
    } else {
      err = EBADMSG;
      detail = "signature trailer present but unusable: " + r.m.signature_problem;
    }
  }
  if (err == ENOKEY && !r.k.keys_source.empty()) detail += "; trusted: " + r.k.keys_source;
  if (err == ENOKEY && r.s.secure_boot && !r.s.mok_unknown.empty()) {
    r.step("B3", "signature", StepResult::unknown,
           detail + "; under Secure Boot an enrolled Machine Owner Key may trust it, but the MOK list could not be read (" +
               r.s.mok_unknown + ")");
    return;
  }
  if (err == ENOKEY && r.m.signature)
    for (const auto &c : r.s.enrol_candidates)
      if (c.serial == r.m.signature->key_id)
        r.v.hints.push_back("signed by " + c.source + ", which is not enrolled: mokutil --import " + c.source +
                            ", then confirm the enrolment at the next boot");
  if (err == 0) {
    r.step("B1", "signature", StepResult::pass, detail);
    return;
  }
  const char *reason = err == ENODATA ? "unsigned module"
                       : err == ENOPKG ? "module with unsupported crypto"
                       : err == ENOKEY ? "module with unavailable key"
                                       : nullptr;
  if (!reason) {
    r.refuse("B6", "signature", err, fmt::format("{} ({}): refused even when signatures are not enforced", detail, errno_name(err)));
    if (edited && err == EKEYREJECTED)
      r.v.hints.push_back("decompress the module first: insmod -f on an uncompressed file passes the flags to "
                          "finit_module() and the kernel then ignores the signature (taint E), where that is allowed");
    else
      r.v.hints.push_back("the signature does not match the module: re-sign it after the last change (scripts/sign-file), "
                          "or strip it (strip -g / objcopy --remove-section) to load it unsigned where that is allowed");
    return;
  }
  if (enforced) {
    r.msg(fmt::format("Loading of {} is rejected", reason));
    r.refuse("B4", "signature", EKEYREJECTED,
             fmt::format("{}: {} and signatures are enforced ({})", reason, detail,
                         r.s.sig_enforce ? "module.sig_enforce=1" : "CONFIG_MODULE_SIG_FORCE=y"));
    r.v.hints.push_back("sign the module with a key the kernel trusts (scripts/sign-file, "
                        "a key enrolled with mokutil, or the kernel's own signing key)");
    return;
  }
  auto [level, why] = lockdown_state(r);
  if (level.empty() && !r.s.secure_boot_unknown.empty()) {
    r.step("B", "signature", StepResult::unknown,
           fmt::format("{}: {}; under Secure Boot the kernel would refuse it (lockdown), otherwise it loads with taint E, "
                       "and the Secure Boot state could not be read ({})", reason, detail, r.s.secure_boot_unknown));
    return;
  }
  if (!level.empty()) {
    r.msg(fmt::format("Lockdown: {}: unsigned module loading is restricted; see man kernel_lockdown.7", r.s.comm));
    r.step("B5", "signature", StepResult::refuse, fmt::format("{}: {}; kernel locked down ({}, {})", reason, detail, level, why));
    r.refuse("B5", EPERM);
    r.v.hints.push_back(r.s.secure_boot ? "under Secure Boot the kernel loads only modules signed by a trusted key: sign it "
                                          "and enroll the certificate with mokutil --import (MOK)"
                                        : "a locked-down kernel loads only modules signed by a trusted key");
    return;
  }
  r.step(err == ENODATA ? "B2" : "B3", "signature", StepResult::taint, std::string(reason) + ": " + detail + ": loads, taints E");
}

std::string arch_name(u16 machine) {
  switch (machine) {
  case 3: return "i386";
  case 62: return "x86-64";
  case 183: return "arm64";
  case 40: return "arm";
  case 243: return "riscv";
  case 21: return "ppc64";
  case 22: return "s390";
  default: return fmt::format("e_machine {}", machine);
  }
}
std::string arch_desc(const ElfArch &a) {
  return fmt::format("{} (ELF{}, {}-endian)", arch_name(a.machine), a.is64 ? 64 : 32, a.little_endian ? "little" : "big");
}

// elf_validity_check()'s header checks, C1..C5 in the kernel's order, on the ELF header as the
// kernel reads it: in its own byte order and class (e_type and e_machine sit at the same offsets
// in ELF32 and ELF64). `len` is the image without its signature trailer. Returns whether the
// header passes. `shentsize_known` is false when `hdr` was rebuilt from a parsed module of
// another class: the bytes where the kernel looks for e_shentsize are then not at hand.
bool elf_header_checks(Run &r, ByteView hdr, u64 len, bool shentsize_known = true) {
  if (!r.k.arch) {
    r.step("C4", "architecture", StepResult::unknown, "the kernel's architecture is not known (no in-tree module, no config)");
    return true;
  }
  const ElfArch &k = *r.k.arch;
  const u64 ehdr_size = k.is64 ? 64 : 52, shdr_size = k.is64 ? 64 : 40;
  auto refuse = [&](const char *id, const char *what, std::string line, std::string detail) {
    r.msg(std::move(line));
    r.refuse(id, what, ENOEXEC, std::move(detail));
    return false;
  };
  if (len < ehdr_size)
    return refuse("C1", "ELF header", fmt::format("Invalid ELF header len {}", len),
                  fmt::format("{} bytes, shorter than an ELF header ({} bytes)", len, ehdr_size));
  if (hdr.size() < 4 || std::memcmp(hdr.data(), "\x7f" "ELF", 4) != 0)
    return refuse("C2", "ELF magic", "Invalid ELF header magic: != \x7f" "ELF", "not an ELF file");
  auto native16 = [&](size_t off) -> u16 {
    return k.little_endian ? hdr.read<u16, true>(off).value_or(0) : hdr.read<u16, false>(off).value_or(0);
  };
  u16 type = native16(16), machine = native16(18);
  std::string other = hdr.size() > 6 && (hdr[4] != (k.is64 ? 2 : 1) || hdr[5] != (k.little_endian ? 1 : 2))
                          ? fmt::format("; the file is ELF{}, {}-endian", hdr[4] == 2 ? 64 : 32, hdr[5] == 2 ? "big" : "little")
                          : "";
  auto arch_hint = [&] {
    r.v.hints.push_back(fmt::format("the module is not built for this kernel's architecture, {}: build it against "
                                    "this kernel's headers with its ARCH= and CROSS_COMPILE=",
                                    arch_desc(k)));
  };
  if (type != 1) {
    if (other.empty())
      r.v.hints.push_back(fmt::format("e_type {} is not a relocatable object (ET_REL): a module is the .ko that kbuild "
                                      "links (obj-m), not an executable or shared library",
                                      type));
    else
      arch_hint();
    return refuse("C3", "ELF type", fmt::format("Invalid ELF header type: {} != 1", type),
                  fmt::format("e_type {} as this kernel reads it (ET_REL is 1){}", type, other));
  }
  bool arch_ok = machine == k.machine || (k.machine == 3 && machine == 6);  // i386 takes EM_486 too
  if (!arch_ok) {
    arch_hint();
    return refuse("C4", "architecture", fmt::format("Invalid architecture in ELF header: {}", machine),
                  fmt::format("e_machine {} as this kernel reads it; the kernel is {}{}", machine, arch_desc(k), other));
  }
  if (!shentsize_known) {
    r.step("C5", "ELF section headers", StepResult::unknown,
           fmt::format("the module is ELF{}, the kernel {}: its section header size as the kernel reads it is not "
                       "decided here",
                       hdr[4] == 2 ? 64 : 32, arch_desc(k)));
    return true;
  }
  u16 shentsize = native16(k.is64 ? 58 : 46);
  if (hdr.size() < ehdr_size || shentsize != shdr_size) {
    arch_hint();
    return refuse("C5", "ELF section headers", "Invalid ELF section header size",
                  fmt::format("e_shentsize {} as this kernel reads it, want {}{}", shentsize, shdr_size, other));
  }
  r.step("C4", "architecture", StepResult::pass, arch_desc(k));
  return true;
}

// The header checks for a parsed module: its identity against the kernel's.
// The parser kept the header's identity, not its bytes: they are rebuilt (in the file's own
// class and byte order) and judged as the kernel reads them.
void check_elf_arch(Run &r) {
  u8 hdr[64] = {0x7f, 'E', 'L', 'F', static_cast<u8>(r.m.is64 ? 2 : 1), static_cast<u8>(r.m.little_endian ? 1 : 2), 1};
  auto put16 = [&](size_t off, u16 v) {
    hdr[off] = static_cast<u8>(r.m.little_endian ? v : v >> 8);
    hdr[off + 1] = static_cast<u8>(r.m.little_endian ? v >> 8 : v);
  };
  put16(16, r.m.e_type);
  put16(18, r.m.e_machine);
  put16(r.m.is64 ? 58 : 46, r.m.is64 ? 64 : 40);  // the parser accepted the file's own e_shentsize
  elf_header_checks(r, ByteView(hdr, sizeof hdr), r.m.elf_size, !r.k.arch || r.m.is64 == r.k.arch->is64);
}

void check_this_module_size(Run &r) {
  if (!r.k.version_at_least(6, 4)) return;
  if (!r.m.this_module_size) {
    r.msg(fmt::format("module {}: Exactly one .gnu.linkonce.this_module section must exist.", r.name));
    r.refuse("C8", "struct module", ENOEXEC, "no .gnu.linkonce.this_module section");
    return;
  }
  if (!r.k.this_module_size) {
    r.step("C10", "struct module size", StepResult::unknown, "the kernel's sizeof(struct module) is not known");
    return;
  }
  if (*r.m.this_module_size != *r.k.this_module_size) {
    // clang-format off
    r.msg(fmt::format("module {}: .gnu.linkonce.this_module section size must match the kernel's built struct module size at run time", r.name));
    // clang-format on
    r.refuse("C10", "struct module size", ENOEXEC,
             fmt::format("module {:#x} bytes, kernel {:#x}", *r.m.this_module_size, *r.k.this_module_size));
    r.v.hints.push_back(fmt::format("rebuild against the headers of exactly this kernel ({}): struct "
                                    "module differs, so the module was built for another kernel{}",
                                    r.k.release, config_delta(r)));
    return;
  }
  r.step("C10", "struct module size", StepResult::pass, fmt::format("{:#x} bytes", *r.m.this_module_size));
}

// Compressed modules: kmod hands the file to finit_module(MODULE_INIT_COMPRESSED_FILE) when the
// kernel decompresses that format (/sys/module/compression), else decompresses it itself and
// uses init_module(); either way the loader sees the plain image, so this never refuses.
void check_compression(Run &r) {
  if (r.m.compression == Compression::none) return;
  std::string fmt_name(compression_name(r.m.compression));
  std::string upper = fmt_name;
  for (auto &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto dec = r.k.config_on("CONFIG_MODULE_DECOMPRESS");
  auto fmt_on = r.k.config_on("CONFIG_MODULE_COMPRESS_" + upper);
  std::string how = !dec ? "kernel config unknown"
                    : *dec && fmt_on.value_or(false)
                        ? "the kernel decompresses " + fmt_name + " (finit_module MODULE_INIT_COMPRESSED_FILE)"
                        : "the kernel cannot decompress " + fmt_name + ": kmod decompresses it and uses init_module";
  r.step("A5", "compression", StepResult::pass, how);
}

void check_blacklist(Run &r) {
  if (r.s.blacklist.contains(r.name)) {
    r.msg(fmt::format("Module {} is blacklisted", r.name));
    r.refuse("D1", "module_blacklist", EPERM, "listed in module_blacklist=");
    return;
  }
  r.step("D1", "module_blacklist", StepResult::pass);
}

// try_to_force_load(): taint F, message only the first time.
bool force_load(Run &r, const std::string &reason) {
  if (!r.k.config_on("CONFIG_MODULE_FORCE_LOAD").value_or(true)) return false;
  if (!r.was_tainted('F')) {
    r.msg(fmt::format("{}: {}: kernel tainted.", r.name, reason));
    r.lockdep_off();
  }
  r.taint('F');
  return true;
}

// A check that a forced load skips: the step taints F where the kernel allows forcing
// (`forced` says what was skipped), else it refuses with ENOEXEC (`refused` says why).
void force_or_refuse(Run &r, const char *id, const char *check, const std::string &reason, std::string forced,
                     std::string refused) {
  if (force_load(r, reason)) {
    r.step(id, check, StepResult::taint, std::move(forced));
    return;
  }
  r.refuse(id, check, ENOEXEC, std::move(refused));
}

void check_module_layout(Run &r) {
  auto modv = r.k.modversions();
  if (!modv) {
    r.step("D2", "module_layout", StepResult::unknown,
           "whether this kernel compares CRCs (CONFIG_MODVERSIONS) is not known: no config, vermagic or CRCs "
           "(a System.map does not say)");
    return;
  }
  if (!*modv) {
    r.step("D2", "module_layout", StepResult::pass, "kernel built without CONFIG_MODVERSIONS (" + r.k.modversions_source() + ")");
    return;
  }
  if (!versions_seen(r)) {
    force_or_refuse(r, "D4", "module_layout", "module_layout",
                    r.o.force_modversions ? "__versions ignored (forced load, MODULE_INIT_IGNORE_MODVERSIONS): taints F"
                                          : "no __versions: forced load, taints F",
                    "no __versions and CONFIG_MODULE_FORCE_LOAD off");
    return;
  }
  const SymbolVersion *sv = find_version(r.m, "module_layout");
  if (!sv) {
    r.msg(fmt::format("{}: no symbol version for module_layout", r.name));
    if (r.o.upstream_missing_crc) {
      r.step("D3", "module_layout", StepResult::pass, "no module_layout CRC (upstream accepts)");
      return;
    }
    r.refuse("D3", "module_layout", ENOEXEC, "no module_layout entry in __versions (Debian refuses)");
    return;
  }
  if (!r.k.module_layout_crc) {
    r.step("D2", "module_layout", StepResult::unknown, "the kernel's module_layout CRC is not known");
    return;
  }
  if (sv->crc != *r.k.module_layout_crc) {
    r.msg(fmt::format("{}: disagrees about version of symbol module_layout", r.name));
    r.refuse("D2", "module_layout", ENOEXEC,
             fmt::format("module {} kernel {}", hex(sv->crc), hex(*r.k.module_layout_crc)));
    r.v.hints.push_back(fmt::format("rebuild against the headers of exactly this kernel ({}): "
                                    "struct module's layout differs{}",
                                    r.k.release, config_delta(r)));
    // module_layout()'s CRC covers struct module and every type it reaches: with the build
    // kernel's BTF (--history), the type changes behind it, as for any other export's CRC.
    if (r.o.explain_crc)
      for (auto &h : r.o.explain_crc(r.k, "module_layout", sv->crc)) r.v.hints.push_back(std::move(h));
    return;
  }
  r.step("D2", "module_layout", StepResult::pass, hex(sv->crc));
}

void check_vermagic(Run &r) {
  auto mm = r.o.force_vermagic ? std::nullopt : r.m.get("vermagic");
  if (!mm) {
    force_or_refuse(r, "D6", "vermagic", "bad vermagic",
                    r.o.force_vermagic ? "vermagic ignored (forced load, MODULE_INIT_IGNORE_VERMAGIC): taints F"
                                       : "no vermagic: forced load, taints F",
                    "no vermagic");
    return;
  }
  if (!r.k.vermagic) {
    r.step("D5", "vermagic", StepResult::unknown, "the kernel's vermagic is not known");
    return;
  }
  bool crcs = r.k.modversions().value_or(false) && versions_seen(r);
  bool same = crcs ? after_space(*mm) == after_space(*r.k.vermagic) : *mm == *r.k.vermagic;
  if (!same) {
    r.msg(fmt::format("{}: version magic '{}' should be '{}'", r.name, *mm, *r.k.vermagic));
    r.refuse("D5", "vermagic", ENOEXEC,
             crcs ? "differs after the release word (the release is ignored with modversions)"
                  : "differs (compared in full: no modversions)");
    r.v.hints.push_back(fmt::format("rebuild against the headers of exactly this kernel ({}); "
                                    "module vermagic '{}', kernel '{}'{}",
                                    r.k.release, *mm, *r.k.vermagic, config_delta(r)));
    return;
  }
  r.step("D5", "vermagic", StepResult::pass, crcs && *mm != *r.k.vermagic ? "release word differs, ignored" : "");
}

void check_loaded(Run &r) {
  if (r.s.loaded.contains(r.name)) {
    r.refuse("D8", "already loaded", EEXIST, "a module of this name is loaded");
    return;
  }
  r.step("D8", "already loaded", StepResult::pass);
}

bool proprietary(const ModuleInfo &m) {
  auto lic = m.get("license");
  return !license_is_gpl_compatible(lic.value_or("unspecified"));
}

bool livepatch_on(const Run &r) { return r.k.config_on("CONFIG_LIVEPATCH").value_or(true); }

// check_modinfo_livepatch(): a livepatch module on a kernel without CONFIG_LIVEPATCH. 6.1 runs it
// inside check_modinfo() after the O and C taints; 6.4+ runs it in early_mod_check() right after
// vermagic (and taints K later, in module_augment_kernel_taints()).
bool livepatch_refused(Run &r) {
  if (!r.m.get("livepatch") || livepatch_on(r)) return false;
  r.msg(fmt::format("{}: module is marked as livepatch module, but livepatch support is disabled", r.name));
  r.refuse("D7", "livepatch", ENOEXEC, "livepatch module, kernel built without CONFIG_LIVEPATCH");
  return true;
}

void check_livepatch(Run &r) { livepatch_refused(r); }

// The .modinfo taints: the kernel tests presence (get_modinfo() != NULL), not the value.
void modinfo_taints(Run &r) {
  if (!r.m.get("intree")) {
    if (!r.was_tainted('O')) r.msg(fmt::format("{}: loading out-of-tree module taints kernel.", r.name));
    r.taint('O');
    r.step("E", "out-of-tree", StepResult::taint, "no intree in .modinfo: taints O");
  }
  if (r.m.get("staging")) {
    r.msg(fmt::format("{}: module is from the staging directory, the quality is unknown, you have been warned.", r.name));
    r.taint('C');
    r.step("E", "staging", StepResult::taint, "staging in .modinfo (drivers/staging): taints C, printed on every load");
  }
  if (r.m.get("livepatch")) {
    if (!r.k.version_at_least(6, 4) && livepatch_refused(r)) return;
    if (livepatch_on(r)) {
      if (!r.was_tainted('K')) r.msg(fmt::format("{}: tainting kernel with TAINT_LIVEPATCH", r.name));
      r.taint('K');
      r.step("E", "livepatch", StepResult::taint, "livepatch module: taints K (the line is printed once per boot)");
    }
  }
  if (proprietary(r.m)) {
    std::string lic = r.m.get("license").value_or("unspecified");
    if (!r.was_tainted('P')) {
      r.msg(fmt::format("{}: module license '{}' taints kernel.", r.name, lic));
      r.lockdep_off();
    }
    r.taint('P');
    r.step("E", "licence", StepResult::taint, "licence '" + lic + "' is not GPL-compatible: taints P");
  }
  if (r.m.get("test")) {
    if (!r.was_tainted('N')) r.msg(fmt::format("{}: loading test module taints kernel.", r.name));
    r.taint('N');
    r.step("E", "test", StepResult::taint, "test in .modinfo: taints N");
  }
}

// Names the loader taints P whatever their licence says (6.1 check_module_license_and_versions(),
// 6.4+ module_augment_kernel_taints(); 6.13+ lists the last two in module_license_offenders[]).
// ndiswrapper taints only the kernel (add_taint), so that it keeps its GPL-only symbols.
// Then "module license taints kernel." when the kernel was not P before: 6.4+ samples that at the
// start of module_augment_kernel_taints() (so a P licence prints it too, after the N and E
// lines), 6.1 after check_modinfo() has applied the licence (only the names print it). Seen on
// 6.12 and 6.1 in the lab (prop: the line on 6.12 only).
void name_taints(Run &r) {
  bool prev = r.s.kernel_taint.find('P') != std::string::npos ||
              (!r.k.version_at_least(6, 4) && r.v.taint.find('P') != std::string::npos);
  bool kernel_only = r.name == "ndiswrapper";
  if (kernel_only || r.name == "driverloader" || r.name == "lve") {
    if (!r.was_tainted('P')) r.lockdep_off();
    if (kernel_only) {
      r.kernel_p = true;
      r.step("E", "name", StepResult::taint, "ndiswrapper taints the kernel P (not the module: it keeps its GPL-only symbols)");
    } else {
      r.taint('P');
      r.step("E", "name", StepResult::taint, r.name + " is on the loader's list of modules that lie about their licence: taints P");
    }
  }
  if (!prev && (r.kernel_p || r.v.taint.find('P') != std::string::npos))
    r.msg(fmt::format("{}: module license taints kernel.", r.name));
}

void unsigned_taint(Run &r) {
  for (const auto &c : r.v.checks)
    if ((c.id == "B2" || c.id == "B3") && c.result == StepResult::taint) {
      if (!r.was_tainted('E')) r.msg(fmt::format("{}: module verification failed: signature and/or required key missing - tainting kernel",
                        r.name));
      r.taint('E');
    }
}

void export_versions(Run &r) {
  if (r.m.exports.empty()) return;
  bool missing = std::any_of(r.m.exports.begin(), r.m.exports.end(), [](const auto &e) { return !e.crc; });
  auto modv = r.k.modversions();
  if (!modv && missing) {
    r.step("G3", "export CRCs", StepResult::unknown, "exports without CRCs taint F when the kernel uses modversions, which is not known");
    return;
  }
  if (!modv.value_or(false)) return;
  if (missing) {
    if (!r.was_tainted('F')) {
      r.msg(fmt::format("{}: no versions for exported symbols: kernel tainted.", r.name));
      r.lockdep_off();
    }
    r.taint('F');
    r.step("G3", "export CRCs", StepResult::taint, "exports without CRCs: taints F");
  }
}

void unknown_symbol_hints(Run &r, const std::string &sym, const KernelExport *e, bool gpl_blocked) {
  if (e && gpl_blocked)
    r.v.hints.push_back(fmt::format("{} is EXPORT_SYMBOL_GPL in {}: a module with licence '{}' cannot use it",
                                    sym, r.k.release, r.m.get("license").value_or("unspecified")));
  else if (e && e->owner != "vmlinux")
    r.v.hints.push_back(fmt::format("{} is exported by module {}: load it first (modprobe does)", sym, e->owner));
  if (r.o.api_changes)
    for (const auto &c : *r.o.api_changes)
      if (c.symbol == sym)
        r.v.hints.push_back(api_change_hint(c));
  if (r.o.history)
    for (auto &h : symbol_history_hints(sym, r.k, *r.o.history)) r.v.hints.push_back(std::move(h));
}

// The kernel's module_match(): comma-separated names, '-' and '_' equal, a trailing '*' globs.
bool module_namespace_matches(std::string_view patterns, std::string_view modname) {
  auto norm = [](char c) { return c == '-' ? '_' : c; };
  while (!patterns.empty()) {
    size_t comma = patterns.find(',');
    std::string_view pat = patterns.substr(0, comma);
    patterns = comma == std::string_view::npos ? std::string_view() : patterns.substr(comma + 1);
    bool glob = !pat.empty() && pat.back() == '*';
    if (glob) pat.remove_suffix(1);
    if (modname.size() < pat.size() || (!glob && modname.size() != pat.size())) continue;
    bool same = true;
    for (size_t i = 0; i < pat.size() && same; i++) same = norm(pat[i]) == norm(modname[i]);
    if (same) return true;
  }
  return false;
}

// setup_modinfo() (6.16+): an explicit import of a "module:" namespace is refused.
void module_namespace_imports(Run &r) {
  if (!r.k.version_at_least(6, 16)) return;
  for (const auto &ns : r.m.get_all("import_ns"))
    if (ns.starts_with("module:")) {
      r.msg(fmt::format("{}: module tries to import module namespace: {}", r.name, ns));
      r.refuse("D9", "import_ns", EPERM, "imports " + ns + ": module: namespaces are implicit and may not be imported");
      r.v.hints.push_back("drop MODULE_IMPORT_NS(" + ns + "): since 6.16 the exporter names the modules it exports to");
      return;
    }
}

void resolve_symbols(Run &r) {
  if (r.k.exports.empty()) {
    r.step("F", "symbols", StepResult::unknown, "no export list for this kernel (give Module.symvers or System.map)");
    return;
  }
  auto modv_known = r.k.modversions();
  bool modv = modv_known.value_or(false);
  bool vers = versions_seen(r);
  if (!modv_known)
    r.step("F4", "symbol CRCs", StepResult::unknown,
           "whether this kernel compares symbol CRCs (CONFIG_MODVERSIONS) is not known: no config, vermagic or CRCs");
  bool prop = proprietary(r.m) || r.v.taint.find('P') != std::string::npos;
  bool using_gpl = false;  // mod->using_gplonly_symbols
  auto imports_ns = r.m.get_all("import_ns");
  int last_err = 0;
  const char *last_id = nullptr;
  size_t n = 0, bad = 0;
  std::vector<std::string> unknown;
  for (const auto &imp : r.m.imports) {
    if (imp.weak || imp.name == "_GLOBAL_OFFSET_TABLE_") continue;
    n++;
    auto it = r.k.exports.find(imp.name);
    const KernelExport *e = it == r.k.exports.end() ? nullptr : &it->second;
    if (!e && !r.k.vmlinux_exports_known) {
      // Not a module export, and vmlinux's exports are not known: cannot tell.
      unknown.push_back(imp.name);
      continue;
    }
    bool available = e && (e->owner == "vmlinux" || r.o.modprobe || r.s.loaded.contains(e->owner));
    // find_symbol() hides GPL-only exports from a module tainted P (its licence, a name-based
    // taint, or a taint inherited from an earlier symbol of this same load).
    bool gpl_blocked = available && prop && e->license != ExportLicense::plain;
    int err = 0;
    const char *id = nullptr;
    if (!available || gpl_blocked) {
      err = ENOENT;
      id = gpl_blocked ? "F2" : "F1";
      r.step(id, "symbol " + imp.name, StepResult::refuse,
             gpl_blocked ? (proprietary(r.m) ? "GPL-only export, module is not GPL-compatible"
                                             : "GPL-only export, and the module is tainted P by now")
             : e         ? "exported by module " + e->owner + ", which is not loaded"
                         : "not exported by this kernel");
      unknown_symbol_hints(r, imp.name, e, gpl_blocked);
    }
    if (!err && e->license != ExportLicense::plain) using_gpl = true;
    // inherit_taint() (5.9+; the symbol name is in the lines since 5.19).
    if (!err && e->owner != "vmlinux" && r.k.version_at_least(5, 9) &&
        (r.k.proprietary_modules.contains(e->owner) || r.s.proprietary.contains(e->owner))) {
      bool named = r.k.version_at_least(5, 19);
      std::string sym_part = named ? " " + imp.name : "";
      if (using_gpl) {
        r.msg(fmt::format("{}: module using GPL-only symbols uses symbols{} from proprietary module {}.", r.name, sym_part, e->owner));
        err = ENOENT;
        id = "F3";
        r.step(id, "symbol " + imp.name, StepResult::refuse,
               "exported by proprietary module " + e->owner + ", and this module uses GPL-only symbols");
        r.v.hints.push_back(fmt::format("{} comes from {}, which taints P: a module using GPL-only exports cannot link "
                                        "against it",
                                        imp.name, e->owner));
      } else if (!prop) {
        r.msg(fmt::format("{}: module uses symbols{} from proprietary module {}, inheriting taint.", r.name, sym_part, e->owner));
        prop = true;
        r.taint('P');
        r.step("F3", "inherited taint", StepResult::taint, "uses " + imp.name + " from proprietary module " + e->owner + ": the module is tainted P");
      }
    }
    if (err) {
      // refused above
    } else if (modv && vers) {
      const SymbolVersion *sv = find_version(r.m, imp.name);
      if (!sv) {
        r.msg(fmt::format("{}: no symbol version for {}", r.name, imp.name));
        if (!r.o.upstream_missing_crc) {
          err = EINVAL;
          id = "F5";
          r.step(id, "symbol " + imp.name, StepResult::refuse, "no CRC in __versions (Debian refuses)");
          r.v.hints.push_back(fmt::format("{} has no CRC in the module's __versions: rebuild so that modpost "
                                          "finds it in this kernel's Module.symvers",
                                          imp.name));
        }
      } else if (e->crc && *e->crc != sv->crc) {
        r.msg(fmt::format("{}: disagrees about version of symbol {}", r.name, imp.name));
        err = EINVAL;
        id = "F4";
        r.step(id, "symbol " + imp.name, StepResult::refuse,
               fmt::format("module CRC {} kernel {}", hex(sv->crc), hex(*e->crc)));
        r.v.hints.push_back(fmt::format("{}'s prototype or types changed: rebuild against this kernel's headers",
                                        imp.name));
        if (r.o.explain_crc)
          for (auto &h : r.o.explain_crc(r.k, imp.name, sv->crc)) r.v.hints.push_back(std::move(h));
      }
    } else if (modv && !vers) {
      force_load(r, imp.name);  // already tainted by module_layout: silent
    }
    // verify_module_namespace() (6.16+): "module:PAT,..." namespaces admit the named modules
    // without an import.
    bool module_ns_ok = !err && r.k.version_at_least(6, 16) && e->ns.starts_with("module:") &&
                        module_namespace_matches(std::string_view(e->ns).substr(7), r.name);
    if (!err && !module_ns_ok && !e->ns.empty() &&
        std::find(imports_ns.begin(), imports_ns.end(), e->ns) == imports_ns.end()) {
      r.msg(fmt::format("{}: module uses symbol ({}) from namespace {}, but does not import it.", r.name,
                        imp.name, e->ns));
      if (!r.k.config_on("CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS").value_or(false)) {
        err = EINVAL;
        id = "F9";
        r.step(id, "symbol " + imp.name, StepResult::refuse, "namespace " + e->ns + " not imported");
        std::string quoted = "\"" + e->ns + "\"";
        if (std::find(imports_ns.begin(), imports_ns.end(), quoted) != imports_ns.end())
          r.v.hints.push_back(fmt::format(
              "import_ns={} has quotes: MODULE_IMPORT_NS(\"{}\") is the 6.13+ spelling (commit cdd30ebb1b9f); "
              "headers before 6.13 want MODULE_IMPORT_NS({}). Portable: #if LINUX_VERSION_CODE >= "
              "KERNEL_VERSION(6,13,0) around the two spellings",
              quoted, e->ns, e->ns));
        else if (e->ns.starts_with("module:") && r.k.version_at_least(6, 16))
          r.v.hints.push_back(fmt::format("{} is exported only to the modules {} (EXPORT_SYMBOL_GPL_FOR_MODULES); "
                                          "this module's name does not match and importing module: namespaces is "
                                          "refused since 6.16",
                                          imp.name, e->ns.substr(7)));
        else if (e->ns.starts_with("module:"))
          r.v.hints.push_back(fmt::format("{} is exported for the modules {} (EXPORT_SYMBOL_GPL_FOR_MODULES); this "
                                          "kernel's loader predates module: namespaces (6.16) and treats it as a plain "
                                          "namespace: MODULE_IMPORT_NS({}) loads here, but 6.16+ refuses that import",
                                          imp.name, e->ns.substr(7), e->ns));
        else
          r.v.hints.push_back(fmt::format("add MODULE_IMPORT_NS({}) (6.13+: MODULE_IMPORT_NS(\"{}\"))", e->ns, e->ns));
      }
    }
    if (err) {
      r.msg(fmt::format("{}: Unknown symbol {} (err -{})", r.name, imp.name, err));
      last_err = err;
      last_id = id;
      bad++;
    }
  }
  if (!unknown.empty())
    r.step("F", "symbols", StepResult::unknown,
           fmt::format("{} symbol(s) not exported by modules, and vmlinux's exports are not known "
                       "(give Module.symvers or System.map): {}{}",
                       unknown.size(), unknown[0], unknown.size() > 1 ? ", ..." : ""));
  if (last_err) {
    r.refuse(last_id, last_err);
    return;
  }
  r.step("F", "symbols", StepResult::pass, fmt::format("{} symbols resolve", n - unknown.size()));
}

void duplicate_exports(Run &r) {
  for (const auto &e : r.m.exports) {
    auto it = r.k.exports.find(e.name);
    if (it == r.k.exports.end()) continue;
    const std::string &owner = it->second.owner;
    if (owner == r.name) continue;
    if (owner != "vmlinux" && !r.s.loaded.contains(owner)) continue;
    r.msg(fmt::format("{}: exports duplicate symbol {} (owned by {})", r.name, e.name,
                      owner == "vmlinux" ? "kernel" : owner));
    r.refuse("G1", "duplicate export", ENOEXEC, e.name + " is already exported by " + owner);
    return;
  }
}

}  // namespace

const char *result_name(StepResult r) {
  switch (r) {
  case StepResult::pass: return "pass";
  case StepResult::refuse: return "refuse";
  case StepResult::taint: return "taint";
  case StepResult::unknown: return "unknown";
  case StepResult::skip: return "skip";
  }
  return "?";
}

const char *errno_name(int err) {
  switch (err) {
  case 0: return "";
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case ENOEXEC: return "ENOEXEC";
  case EEXIST: return "EEXIST";
  case EBUSY: return "EBUSY";
  case EINVAL: return "EINVAL";
  case EKEYREJECTED: return "EKEYREJECTED";
  case ENOKEY: return "ENOKEY";
  case EBADMSG: return "EBADMSG";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  default: return "E?";
  }
}

bool license_is_gpl_compatible(std::string_view l) {
  return l == "GPL" || l == "GPL v2" || l == "GPL and additional rights" || l == "Dual BSD/GPL" ||
         l == "Dual MIT/GPL" || l == "Dual MPL/GPL";
}

std::string api_change_hint(const ApiChange &c) {
  return fmt::format("{}: changed in {} ({}): {}", c.symbol, c.version, c.commit, c.recipe);
}

Result<std::vector<ApiChange>> parse_api_changes(std::string_view text, const std::string &what) {
  std::vector<ApiChange> out;
  Status st;
  for_each_line(text, [&](std::string_view line, size_t lineno) {
    if (line.empty() || line[0] == '#') return true;
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); i++)
      if (i == line.size() || line[i] == '\t') {
        f.emplace_back(line.substr(start, i - start));
        start = i + 1;
      }
    if (f.size() != 4 || f[0].empty() || f[1].empty() || f[2].empty() || f[3].empty()) {
      st = fail(Errc::invalid_format, fmt::format("{}:{}: want SYMBOL<tab>VERSION<tab>COMMIT<tab>RECIPE", what, lineno));
      return false;
    }
    out.push_back(ApiChange{f[0], f[1], f[2], f[3]});
    return true;
  });
  if (!st) return fail(st.error());
  return out;
}

Result<CheckInput> read_module_for_check(const std::string &path) {
  CheckInput in;
  auto f = MappedFile::open(path);
  if (!f) return fail(with_context(std::move(f).error(), path));
  const u64 file_size = f->view().size();
  Compression c = detect_compression(f->view());
  if (c == Compression::none) {
    in.mapped.emplace(std::move(*f));
  } else {
    auto d = decompress(c, f->view());
    if (!d) return fail(with_context(std::move(d).error(), path));
    in.decompressed = std::move(*d);
  }
  auto m = parse_module(in.image());
  if (!m) {
    // Readable but not a module (empty, truncated, not ELF, malformed): the loader judges it.
    // A decompressed image that does not parse is the loader's too, whatever the reason.
    Error e = std::move(m).error();
    if (c == Compression::none && e.code != Errc::invalid_format && e.code != Errc::unsupported)
      return fail(with_context(std::move(e), path));
    in.problem = c == Compression::none ? with_context(std::move(e), path).msg : e.msg;
    in.info.path = path;
    in.info.compression = c;
    return in;
  }
  in.info = std::move(*m);
  in.info.path = path;
  in.info.compression = c;
  in.info.file_size = file_size;
  return in;
}

LoadVerdict check_unparsed_module(const std::string &path, ByteView image, const std::string &problem,
                                  const KernelProfile &k, const TargetState &s, const CheckOptions &opts) {
  ModuleInfo m;
  m.path = path;
  Run r{m, k, s, opts, image, {}, {}};
  r.name = normalize_module_name(module_name_from_path(path));
  r.v.module = r.name;
  r.v.path = path;
  if (image.empty()) {
    // finit_module(): kernel_read_file() refuses a file of 0 bytes before the loader sees it.
    r.refuse("C1", "ELF header", EINVAL, "the file is empty: finit_module() fails in kernel_read_file()");
    return r.finish();
  }
  if (image.ends_with(module_sig_magic)) {
    r.step("B", "signature", StepResult::unknown, "a signature trailer on a file that is not a module: " + problem);
    return r.finish();
  }
  check_signature(r);  // no trailer: unsigned (B2), or refused when enforced or locked down
  if (r.done) return r.finish();
  if (!elf_header_checks(r, *image.sub(0, std::min<size_t>(image.size(), 64)), image.size())) return r.finish();
  r.step("C", "ELF sections", StepResult::unknown,
         "the header passes but the file is not a well-formed module (" + problem +
             "): the loader refuses it (ENOEXEC) at one of its section checks, which one is not decided");
  return r.finish();
}

std::vector<std::string> LoadVerdict::undecided() const {
  std::vector<std::string> out;
  for (const auto &c : checks)
    if (c.result == StepResult::unknown) out.push_back(c.id + " " + c.name);
  return out;
}

LoadVerdict check_module(const ModuleInfo &m, const KernelProfile &k, const TargetState &s,
                         const CheckOptions &opts, ByteView image) {
  Run r{m, k, s, opts, image, {}, {}};
  r.name = normalize_module_name(m.get("name").value_or(module_name_from_path(m.path)));
  r.v.module = r.name;
  r.v.path = m.path;
  bool new_order = k.version_at_least(6, 4);
  auto stages = new_order
                    ? std::vector<void (*)(Run &)>{check_compression, check_signature, check_elf_arch, check_this_module_size, check_blacklist,
                                                   check_module_layout, check_vermagic, check_livepatch, check_loaded,
                                                   modinfo_taints, unsigned_taint, name_taints, export_versions,
                                                   module_namespace_imports, resolve_symbols, duplicate_exports}
                    : std::vector<void (*)(Run &)>{check_compression, check_signature, check_elf_arch, check_blacklist, check_module_layout,
                                                   check_vermagic, modinfo_taints, check_loaded,
                                                   unsigned_taint, name_taints, export_versions, module_namespace_imports,
                                                   resolve_symbols, duplicate_exports};
  for (auto fn : stages) {
    fn(r);
    if (r.done && !opts.all) break;
  }
  return r.finish();
}

}  // namespace kmx
