// The module signature trailer, as scripts/sign-file appends it:
//
//   [ signature blob: sig_len bytes ]
//   [ struct module_signature, 12 bytes:
//       u8 algo; u8 hash; u8 id_type; u8 signer_len; u8 key_id_len; u8 pad[3]; __be32 sig_len ]
//   [ "~Module signature appended~\n", 28 bytes ]
//
// id_type 2 (PKCS#7) is what every kernel since 4.3 produces: the blob is a DER PKCS#7
// SignedData whose first SignerInfo gives the issuer (signer = its commonName), the serial
// number (the key id, as kmod prints it), the digest algorithm and the signature bytes; it is
// parsed with OpenSSL. For the legacy id types (0 PGP, 1 X.509) the blob is
// [signer_len bytes signer][key_id_len bytes key id][signature] and the hash comes from the
// `hash` field (kernel's hash_algo_name[] order).
#pragma once

#include <optional>

#include "base/bytes.h"
#include "base/result.h"
#include "elf/module-info.h"

namespace kmx {

constexpr std::string_view module_sig_magic = "~Module signature appended~\n";
constexpr size_t module_sig_header_size = 12;  // sizeof(struct module_signature)

// struct module_signature as found before the marker, not yet judged: kmod (split_signature
// below) and the kernel (compat/kernel-keys.h, mod_check_sig()) accept different trailers.
struct SigTrailerHeader {
  bool fits = false;  // the file has room for the header before the marker
  u8 algo = 0, hash = 0, id_type = 0, signer_len = 0, key_id_len = 0;
  u8 pad[3] = {0, 0, 0};
  u32 sig_len = 0;    // big-endian in the file
  u64 before = 0;     // bytes before the header (the module and the signature blob)
};
// nullopt when `file` does not end with the marker.
std::optional<SigTrailerHeader> read_sig_trailer_header(ByteView file);

struct SplitModule {
  ByteView elf;                          // the module without the trailer
  bool has_signature = false;
  ByteView sig_blob;                     // signature (and legacy signer/key id) bytes
  u8 algo = 0, hash = 0, id_type = 0, signer_len = 0, key_id_len = 0;
  u32 sig_len = 0;
  std::string problem;
};

// Split off the signature trailer. A file without the magic, or whose header is out of
// range (algo >= 2, hash >= 9, id_type >= 3, sig_len 0, lengths past the start of the file:
// the conditions under which kmod shows no signature), is returned whole with
// has_signature false and, in the latter case, `problem` saying what is wrong.
SplitModule split_signature(ByteView file);

// Decode the trailer found by split_signature(): signer, key id, hash algorithm, signature.
Result<ModuleSignature> parse_signature(const SplitModule &m);

}  // namespace kmx
