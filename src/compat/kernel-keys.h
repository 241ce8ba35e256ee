// The keys a kernel trusts for module signatures, and the kernel's verification of a module
// signature against them (kernel/module/signing.c mod_verify_sig() + verify_pkcs7_signature()).
//
// Where the keys come from:
//   kernel image  the decompressed kernel of a bzImage, EFI image, compressed or plain vmlinux
//                 (decompress/kernel-image.h kernel_image_payload).
//                 certs/system_certificates.S puts the DER X.509 certificates back to back at
//                 system_certificate_list, then (8-aligned) two LE quads: module_cert_size and
//                 system_certificate_list_size. kmx scans the image for runs of DER certificates
//                 (30 82 LL LL 30 82 ...) and takes the run followed by its own length; without
//                 that confirmation it takes every certificate it found and says so.
//   cert file     PEM (any number of CERTIFICATE blocks) or DER (one or more certificates back
//                 to back), as CONFIG_SYSTEM_TRUSTED_KEYS, MOK or the UEFI db would hold them.
//   module tree   the signer key ids of the tree's own signed modules: a fallback that can say
//                 "signed with this kernel's key" but cannot verify a signature.
//
// Extracting certificates decompresses the whole kernel image, so the result is cached in the
// directory the caller names (tools/common.h kmx_cache_dir decides where), keyed on the image's
// path, device, inode, size and mtime and named after its file (base/dirs.h source_cache_path);
// a cache that cannot be read or written is ignored.
//
// Verification, in the kernel's order (6.1 and 6.12 alike):
//   trailer   ~Module signature appended~\n after struct module_signature (12 bytes, sig_len
//             BE32). len <= 12 or sig_len >= len - 12: EBADMSG. id_type != 2: ENOPKG with
//             "module: not signed with expected PKCS#7 message".
//             algo/hash/signer_len/key_id_len != 0: EBADMSG with
//             "module: PKCS#7 signature info has unexpected non-zero params".
//   PKCS#7    unparseable: EBADMSG. Content type not data, EKEYREJECTED with
//             "PKCS7: Invalid module sig (not pkcs7-data)"; signed attributes, EKEYREJECTED with
//             "PKCS7: Invalid module sig (has authattrs)". Digest or key algorithm the kernel
//             has no crypto for: ENOPKG.
//   trust     the signer (issuer + serial, or subject key id) must name a certificate in the
//             keyring: else ENOKEY. The signature over the module bytes before the trailer must
//             verify with that key: else EKEYREJECTED.
// ENODATA (unsigned), ENOPKG and ENOKEY only taint (E) unless signatures are enforced or the
// kernel is locked down; every other error refuses the module even when nothing is enforced.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "decompress/kernel-image.h"

struct x509_st;

namespace kmx {

struct TrustedCert {
  std::shared_ptr<x509_st> x509;
  std::string subject;  // commonName (or the whole name when it has none)
  std::string issuer;
  Bytes serial;         // serial number bytes: what kmod's modinfo prints as sig_key
  Bytes skid;           // subject key identifier, if the certificate has one
  std::string source;   // file it came from
};

struct ImageCerts {
  std::vector<TrustedCert> certs;
  std::string how;  // e.g. "system_certificate_list (1 certificate) in the zstd payload"
  bool from_cache = false;
};

// Every DER certificate in `blob` (see the header comment for how the list is recognised).
ImageCerts certs_in_blob(ByteView blob, const std::string &source);

// The trusted certificates built into a kernel image (bzImage, compressed or plain vmlinux).
// `cache_dir` "" disables the cache.
Result<ImageCerts> certs_from_kernel_image(const std::string &path, const std::string &cache_dir);

// PEM or DER certificate file(s).
Result<std::vector<TrustedCert>> load_cert_file(const std::string &path);

// Whether `data` looks like a certificate file (by content, for target specs; a kernel image:
// decompress/kernel-image.h looks_like_kernel_image).
bool looks_like_cert_file(ByteView data);

struct SigCheck {
  int err = 0;                      // 0, ENODATA, ENOPKG, ENOKEY, EKEYREJECTED, EBADMSG
  std::vector<std::string> lines;   // what the verifier prints (pr_warn/pr_err)
  std::string detail;               // why, for humans
  const TrustedCert *signer = nullptr;
};

// The kernel's module signature check over a decompressed module image.
SigCheck verify_module_signature(ByteView image, const std::vector<TrustedCert> &keys);

}  // namespace kmx
