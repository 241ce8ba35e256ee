#include "elf/module-signature.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <memory>

namespace kmx {

namespace {

constexpr u8 PKEY_ID_PKCS7 = 2;

// The kernel's hash_algo_name[] for the legacy `hash` field, and kmod's names for PKCS#7.
const char *const legacy_hash_names[] = {"md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3"};
const char *const id_type_names[] = {"PGP", "X509", "PKCS#7"};

std::string hash_name_for_nid(int nid) {
  switch (nid) {
  case NID_md4: return "md4";
  case NID_md5: return "md5";
  case NID_sha1: return "sha1";
  case NID_ripemd160: return "rmd160";
  case NID_sha256: return "sha256";
  case NID_sha384: return "sha384";
  case NID_sha512: return "sha512";
  case NID_sha224: return "sha224";
#ifdef NID_sm3
  case NID_sm3: return "sm3";
#endif
  default: return "unknown";
  }
}

Status parse_pkcs7(ByteView blob, ModuleSignature &sig) {
  const unsigned char *p = blob.data();
  std::unique_ptr<PKCS7, decltype(&PKCS7_free)> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(blob.size())), PKCS7_free);
  if (!p7) return fail(Errc::invalid_format, "signature is not a valid PKCS#7 structure");
  STACK_OF(PKCS7_SIGNER_INFO) *infos = PKCS7_get_signer_info(p7.get());
  if (!infos || sk_PKCS7_SIGNER_INFO_num(infos) < 1)
    return fail(Errc::invalid_format, "PKCS#7 signature has no signer info");
  PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(infos, 0);
  X509_ALGOR *dig = nullptr, *alg = nullptr;
  PKCS7_SIGNER_INFO_get0_algs(si, nullptr, &dig, &alg);
  if (dig) {
    const ASN1_OBJECT *obj = nullptr;
    X509_ALGOR_get0(&obj, nullptr, nullptr, dig);
    sig.hash_algo = hash_name_for_nid(OBJ_obj2nid(obj));
  }
  if (si->enc_digest) sig.signature.assign(si->enc_digest->data, si->enc_digest->data + si->enc_digest->length);
  if (si->issuer_and_serial) {
    if (ASN1_INTEGER *serial = si->issuer_and_serial->serial) {
      std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(serial, nullptr), BN_free);
      if (bn) {
        sig.key_id.resize(static_cast<size_t>(BN_num_bytes(bn.get())));
        BN_bn2bin(bn.get(), sig.key_id.data());
      }
    }
    if (X509_NAME *issuer = si->issuer_and_serial->issuer) {
      // The commonName; failing that, kmod shows the issuer's last entry, and so do we.
      int n = X509_NAME_entry_count(issuer);
      int idx = X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
      if (idx < 0) idx = n - 1;
      if (idx >= 0) {
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, idx));
        // kmod treats the value as a C string.
        std::string v(reinterpret_cast<const char *>(ASN1_STRING_get0_data(d)), static_cast<size_t>(ASN1_STRING_length(d)));
        sig.signer = v.substr(0, v.find('\0'));
      }
    }
  }
  return {};
}

}  // namespace

std::optional<SigTrailerHeader> read_sig_trailer_header(ByteView file) {
  if (!file.ends_with(module_sig_magic)) return std::nullopt;
  SigTrailerHeader t;
  u64 end = file.size() - module_sig_magic.size();
  if (end < module_sig_header_size) return t;
  ByteView h = *file.sub(end - module_sig_header_size, module_sig_header_size);
  t.fits = true;
  t.algo = h[0];
  t.hash = h[1];
  t.id_type = h[2];
  t.signer_len = h[3];
  t.key_id_len = h[4];
  t.pad[0] = h[5], t.pad[1] = h[6], t.pad[2] = h[7];
  t.sig_len = *h.read<u32, false>(8);
  t.before = end - module_sig_header_size;
  return t;
}

SplitModule split_signature(ByteView file) {
  SplitModule out;
  out.elf = file;
  auto t = read_sig_trailer_header(file);
  if (!t) return out;
  if (!t->fits) {
    out.problem = "signature trailer: file too small for struct module_signature";
    return out;
  }
  out.algo = t->algo;
  out.hash = t->hash;
  out.id_type = t->id_type;
  out.signer_len = t->signer_len;
  out.key_id_len = t->key_id_len;
  out.sig_len = t->sig_len;
  u64 body_end = t->before;
  u64 blob_len = u64(out.sig_len) + out.signer_len + out.key_id_len;
  if (out.algo >= 2 || out.hash >= std::size(legacy_hash_names) || out.id_type >= std::size(id_type_names)) {
    out.problem = "signature trailer: unknown algo " + std::to_string(out.algo) + ", hash " + std::to_string(out.hash) +
                  " or id_type " + std::to_string(out.id_type);
    return out;
  }
  if (out.sig_len == 0 || blob_len > body_end) {
    out.problem = "signature trailer: signature of " + std::to_string(blob_len) + " bytes does not fit the " +
                  std::to_string(body_end) + " bytes before it";
    return out;
  }
  out.has_signature = true;
  out.elf = *file.sub(0, body_end - blob_len);
  out.sig_blob = *file.sub(body_end - blob_len, blob_len);
  return out;
}

Result<ModuleSignature> parse_signature(const SplitModule &m) {
  ModuleSignature sig;
  sig.algo = m.algo;
  sig.hash = m.hash;
  sig.id_type = m.id_type;
  sig.sig_len = m.sig_len;
  if (m.id_type < std::size(id_type_names)) sig.id_type_name = id_type_names[m.id_type];
  if (m.id_type == PKEY_ID_PKCS7) {
    TRY(parse_pkcs7(*m.sig_blob.from(m.sig_blob.size() - m.sig_len), sig));
    return sig;
  }
  if (m.hash < std::size(legacy_hash_names)) sig.hash_algo = legacy_hash_names[m.hash];
  Cursor c(m.sig_blob);
  sig.signer = std::string(c.bytes(m.signer_len).as_string());
  ByteView kid = c.bytes(m.key_id_len);
  sig.key_id.assign(kid.begin(), kid.end());
  ByteView rest = c.bytes(c.remaining());
  sig.signature.assign(rest.begin(), rest.end());
  return sig;
}

}  // namespace kmx
