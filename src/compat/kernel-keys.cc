#include "compat/kernel-keys.h"

#include <fmt/core.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "base/atomic-file.h"
#include "base/dirs.h"
#include "elf/module-signature.h"
#include "base/mapped-file.h"
#include "decompress/kernel-image.h"

namespace kmx {

namespace {

constexpr std::string_view cache_magic = "KMXCERTS1\n";

std::string name_text(X509_NAME *n) {
  if (!n) return "";
  int idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
  if (idx >= 0) {
    ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx));
    return std::string(reinterpret_cast<const char *>(ASN1_STRING_get0_data(d)), static_cast<size_t>(ASN1_STRING_length(d)));
  }
  char buf[256];
  X509_NAME_oneline(n, buf, sizeof buf);
  return buf;
}

Bytes integer_bytes(const ASN1_INTEGER *i) {
  Bytes out;
  BIGNUM *bn = ASN1_INTEGER_to_BN(i, nullptr);
  if (!bn) return out;
  out.resize(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

TrustedCert make_cert(X509 *x, const std::string &source) {
  TrustedCert c;
  c.x509 = std::shared_ptr<x509_st>(x, X509_free);
  c.subject = name_text(X509_get_subject_name(x));
  c.issuer = name_text(X509_get_issuer_name(x));
  c.serial = integer_bytes(X509_get0_serialNumber(x));
  if (const ASN1_OCTET_STRING *k = X509_get0_subject_key_id(x)) c.skid.assign(k->data, k->data + k->length);
  c.source = source;
  return c;
}

// A DER certificate starting at `off`: its length when d2i_X509 takes exactly the bytes the
// outer SEQUENCE header announces, else 0.
size_t der_cert_at(ByteView b, size_t off, X509 **out) {
  if (!b.contains(off, 8)) return 0;
  const u8 *p = b.data() + off;
  if (p[0] != 0x30 || p[1] != 0x82 || p[4] != 0x30 || p[5] != 0x82) return 0;
  size_t len = 4 + ((size_t(p[2]) << 8) | p[3]);
  size_t inner = 4 + ((size_t(p[6]) << 8) | p[7]);
  if (inner >= len || !b.contains(off, len)) return 0;
  const unsigned char *q = p;
  X509 *x = d2i_X509(nullptr, &q, static_cast<long>(len));
  if (!x) {
    ERR_clear_error();
    return 0;
  }
  if (static_cast<size_t>(q - p) != len) {
    X509_free(x);
    return 0;
  }
  *out = x;
  return len;
}

std::string hex_bytes(ByteView b) {
  std::string s;
  for (u8 c : b) s += fmt::format("{:02x}", c);
  return s;
}


bool read_cache(const std::string &path, const std::string &image, ImageCerts &out) {
  if (path.empty()) return false;
  auto f = MappedFile::open(path);
  if (!f) return false;
  ByteView v = f->view();
  std::string_view s = v.as_string();
  if (!s.starts_with(cache_magic)) return false;
  size_t nl = s.find('\n', cache_magic.size());
  if (nl == std::string_view::npos) return false;
  out.how = std::string(s.substr(cache_magic.size(), nl - cache_magic.size()));
  for (size_t off = nl + 1; off < v.size();) {
    X509 *x = nullptr;
    size_t len = der_cert_at(v, off, &x);
    if (!len) {
      out.certs.clear();
      return false;
    }
    out.certs.push_back(make_cert(x, image));
    off += len;
  }
  out.from_cache = true;
  return true;
}

void write_cache(const std::string &path, const ImageCerts &c) {
  if (path.empty()) return;
  std::string dir = path.substr(0, path.rfind('/'));
  if (!make_private_dirs(dir)) return;
  std::string content(cache_magic);
  content += c.how + "\n";
  for (const auto &cert : c.certs) {
    unsigned char *der = nullptr;
    int n = i2d_X509(cert.x509.get(), &der);
    if (n <= 0) return;
    content.append(reinterpret_cast<const char *>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
  }
  (void)write_file_atomic(path, content, 0600);
}

// Kernel crypto the module verifier has: digests (crypto/asymmetric_keys/pkcs7_parser.c, with the
// shash present in Debian's configs) and key types (RSA pkcs1pad, ECDSA NIST P-256/P-384).
bool digest_supported(int nid) {
  switch (nid) {
  case NID_sha1: case NID_sha224: case NID_sha256: case NID_sha384: case NID_sha512: return true;
#ifdef NID_sha3_256
  case NID_sha3_256: case NID_sha3_384: case NID_sha3_512: return true;
#endif
  default: return false;
  }
}

}  // namespace

ImageCerts certs_in_blob(ByteView blob, const std::string &source) {
  struct Run {
    size_t start = 0, end = 0;
    std::vector<X509 *> certs;
  };
  std::vector<Run> runs;
  const u8 *d = blob.data();
  size_t n = blob.size();
  for (size_t i = 0; i + 8 <= n;) {
    const void *hit = std::memchr(d + i, 0x30, n - i - 7);
    if (!hit) break;
    size_t off = static_cast<size_t>(static_cast<const u8 *>(hit) - d);
    X509 *x = nullptr;
    size_t len = der_cert_at(blob, off, &x);
    if (!len) {
      i = off + 1;
      continue;
    }
    if (!runs.empty() && runs.back().end == off) runs.back().certs.push_back(x), runs.back().end = off + len;
    else runs.push_back(Run{off, off + len, {x}});
    i = off + len;
  }
  ImageCerts out;
  // system_certificate_list: the run followed, 8-aligned, by module_cert_size <= length and
  // system_certificate_list_size == length.
  const Run *confirmed = nullptr;
  for (const auto &r : runs) {
    size_t a = (r.end + 7) & ~size_t(7);
    auto q1 = blob.read<u64, true>(a), q2 = blob.read<u64, true>(a + 8);
    u64 len = r.end - r.start;
    if (q1 && q2 && *q2 == len && *q1 <= len) confirmed = &r;
  }
  size_t total = 0;
  for (auto &r : runs) {
    for (X509 *x : r.certs) {
      if (confirmed && &r != confirmed) {
        X509_free(x);
        continue;
      }
      out.certs.push_back(make_cert(x, source));
      total++;
    }
  }
  out.how = confirmed ? fmt::format("system_certificate_list at offset {:#x} ({} certificate{})", confirmed->start, total,
                                    total == 1 ? "" : "s")
                      : fmt::format("{} DER certificate{} found by scanning (system_certificate_list not confirmed)", total,
                                    total == 1 ? "" : "s");
  return out;
}

bool looks_like_cert_file(ByteView d) {
  if (d.as_string().find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) return true;
  X509 *x = nullptr;
  if (der_cert_at(d, 0, &x)) {
    X509_free(x);
    return true;
  }
  return false;
}

Result<ImageCerts> certs_from_kernel_image(const std::string &path, const std::string &cache_dir) {
  std::string cpath = source_cache_path(cache_dir, "kernel-certs", path);
  ImageCerts cached;
  if (read_cache(cpath, path, cached)) return cached;
  TRY_ASSIGN(MappedFile f, MappedFile::open(path));
  std::string how;
  auto payload = kernel_image_payload(f.view(), how);
  if (!payload) return fail(payload.error().code, path + ": " + payload.error().msg);
  ImageCerts out = certs_in_blob(*payload, path);
  out.how += " in the " + how;
  if (out.certs.empty()) return fail(Errc::no_data, path + ": no X.509 certificates in the " + how);
  write_cache(cpath, out);
  return out;
}

Result<std::vector<TrustedCert>> load_cert_file(const std::string &path) {
  TRY_ASSIGN(std::string text, read_file(path));
  std::vector<TrustedCert> out;
  if (text.find("-----BEGIN") != std::string::npos) {
    BIO *bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    for (;;) {
      X509 *x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      if (!x) break;
      out.push_back(make_cert(x, path));
    }
    BIO_free(bio);
    ERR_clear_error();
    if (out.empty()) return fail(Errc::invalid_format, path + ": PEM file without a readable CERTIFICATE block");
    return out;
  }
  ByteView v(text);
  for (size_t off = 0; off < v.size();) {
    X509 *x = nullptr;
    size_t len = der_cert_at(v, off, &x);
    if (!len)
      return fail(Errc::invalid_format,
                  off == 0 ? path + ": neither a PEM nor a DER X.509 certificate"
                           : fmt::format("{}: bytes after the last DER certificate (offset {:#x}) are not a certificate", path, off));
    out.push_back(make_cert(x, path));
    off += len;
  }
  if (out.empty()) return fail(Errc::invalid_format, path + ": empty certificate file");
  return out;
}

SigCheck verify_module_signature(ByteView image, const std::vector<TrustedCert> &keys) {
  SigCheck r;
  // module_sig_check() looks for the marker only in a file longer than it; mod_check_sig()
  // then wants the header to fit and sig_len to leave at least one byte of module.
  auto t = image.size() > module_sig_magic.size() ? read_sig_trailer_header(image) : std::nullopt;
  if (!t) {
    r.err = ENODATA;
    r.detail = "no signature marker";
    return r;
  }
  if (!t->fits || t->before == 0) {
    r.err = EBADMSG;
    r.detail = "signature marker without room for struct module_signature";
    return r;
  }
  if (t->sig_len >= t->before) {
    r.err = EBADMSG;
    r.detail = fmt::format("sig_len {} does not fit the {} bytes before it", t->sig_len, t->before);
    return r;
  }
  if (t->id_type != 2) {
    r.err = ENOPKG;
    r.lines.push_back("module: not signed with expected PKCS#7 message");
    r.detail = fmt::format("id_type {} is not PKCS#7 (2)", t->id_type);
    return r;
  }
  if (t->algo || t->hash || t->signer_len || t->key_id_len || t->pad[0] || t->pad[1] || t->pad[2]) {
    r.err = EBADMSG;
    r.lines.push_back("module: PKCS#7 signature info has unexpected non-zero params");
    r.detail = fmt::format("algo/hash/signer_len/key_id_len/__pad are not all zero ({:02x} {:02x} {:02x} {:02x} {:02x} {:02x} {:02x})",
                           t->algo, t->hash, t->signer_len, t->key_id_len, t->pad[0], t->pad[1], t->pad[2]);
    return r;
  }
  u64 modlen = t->before - t->sig_len;
  ByteView content = *image.sub(0, modlen);
  ByteView blob = *image.sub(modlen, t->sig_len);

  const unsigned char *p = blob.data();
  std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(blob.size())), CMS_ContentInfo_free);
  ERR_clear_error();
  if (!cms) {
    r.err = EBADMSG;
    r.detail = "the PKCS#7 message does not parse";
    return r;
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    r.err = EINVAL;
    r.lines.push_back("PKCS7: Only support pkcs7_signedData type");
    r.detail = "PKCS#7 content is not signedData";
    return r;
  }
  ASN1_OCTET_STRING **content_ptr = CMS_get0_content(cms.get());
  if (content_ptr && *content_ptr) {
    r.err = EBADMSG;
    r.lines.push_back("PKCS#7 signature with non-detached data");
    r.detail = "the signature carries its own content";
    return r;
  }
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_pkcs7_data) {
    r.err = EKEYREJECTED;
    r.lines.push_back("PKCS7: Invalid module sig (not pkcs7-data)");  // pkcs7_verify.c pr_fmt
    r.detail = "signed content type is not data";
    return r;
  }
  STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms.get());
  int nsi = sis ? sk_CMS_SignerInfo_num(sis) : 0;
  // Signed attributes: pkcs7_parser.c reads each (pkcs7_sig_note_authenticated_attr(), in
  // their DER order) and refuses some outright; pkcs7_verify() then refuses any for a module.
  for (int i = 0; i < nsi; i++) {
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
    int na = CMS_signed_get_attr_count(si);
    if (na <= 0) continue;
    static const std::string ms_opus = "1.3.6.1.4.1.311.2.1.12", ms_statement = "1.3.6.1.4.1.311.2.1.11";
    std::set<std::string> seen;
    for (int a = 0; a < na; a++) {
      X509_ATTRIBUTE *attr = CMS_signed_get_attr(si, a);
      char oid[80] = "";
      OBJ_obj2txt(oid, sizeof oid, X509_ATTRIBUTE_get0_object(attr), 1);
      int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attr));
      bool noted = nid == NID_pkcs9_contentType || nid == NID_pkcs9_signingTime || nid == NID_pkcs9_messageDigest ||
                   nid == NID_SMIMECapabilities || oid == ms_opus || oid == ms_statement;
      if (noted && !seen.insert(oid).second) {
        r.err = EKEYREJECTED;
        r.lines.push_back("PKCS7: Repeated/multivalue AuthAttrs not permitted");
        r.detail = fmt::format("signed attribute {} appears twice", oid);
        return r;
      }
      if (nid == NID_SMIMECapabilities) {
        r.err = EKEYREJECTED;
        r.lines.push_back("PKCS7: S/MIME Caps only allowed with Authenticode");
        r.detail = "the signature has an S/MIME capabilities attribute (openssl cms without -noattr/-nosmimecap)";
        return r;
      }
      if (oid == ms_opus || oid == ms_statement) {
        r.err = EKEYREJECTED;
        r.lines.push_back("PKCS7: Authenticode AuthAttrs only allowed with Authenticode");
        r.detail = "the signature has Authenticode attributes";
        return r;
      }
    }
    if (!seen.contains("1.2.840.113549.1.9.3") || !seen.contains("1.2.840.113549.1.9.4")) {
      r.err = EBADMSG;
      r.lines.push_back("PKCS7: Missing required AuthAttr");
      r.detail = "signed attributes without content type or message digest";
      return r;
    }
  }
  for (int i = 0; i < nsi; i++)
    if (CMS_signed_get_attr_count(sk_CMS_SignerInfo_value(sis, i)) > 0) {
      r.err = EKEYREJECTED;
      r.lines.push_back("PKCS7: Invalid module sig (has authattrs)");
      r.detail = "the signature has signed attributes";
      return r;
    }
  // pkcs7_verify(): signer infos whose crypto is missing are skipped (ENOPKG if all are).
  // pkcs7_validate_trust(): every supported signer info must lead to a trusted key.
  int result = ENOPKG;
  std::string why = nsi ? "no signer uses a digest the kernel supports" : "no signer info";
  bool any_trusted = false;
  for (int i = 0; i < nsi; i++) {
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
    X509_ALGOR *dig = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig, nullptr);
    const ASN1_OBJECT *obj = nullptr;
    if (dig) X509_ALGOR_get0(&obj, nullptr, nullptr, dig);
    int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
    if (!digest_supported(nid)) continue;
    ASN1_OCTET_STRING *keyid = nullptr;
    X509_NAME *issuer = nullptr;
    ASN1_INTEGER *serial = nullptr;
    CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial);
    const TrustedCert *key = nullptr;
    for (const auto &k : keys) {
      X509 *x = k.x509.get();
      bool match = keyid ? (!k.skid.empty() && k.skid.size() == size_t(keyid->length) &&
                            std::memcmp(k.skid.data(), keyid->data, k.skid.size()) == 0)
                         : (issuer && serial && X509_NAME_cmp(issuer, X509_get_issuer_name(x)) == 0 &&
                            ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(x)) == 0);
      if (match) {
        key = &k;
        break;
      }
    }
    if (!key) {
      result = ENOKEY;
      why = keyid ? "no trusted certificate has the signer's subject key id " + hex_bytes(ByteView(keyid->data, size_t(keyid->length)))
                  : fmt::format("no trusted certificate has the signer's issuer '{}' and serial {}",
                                name_text(issuer), serial ? hex_bytes(integer_bytes(serial)) : "?");
      r.signer = nullptr;
      r.err = result;
      r.detail = why;
      return r;
    }
    EVP_PKEY *pkey = X509_get0_pubkey(key->x509.get());
    int kt = pkey ? EVP_PKEY_get_base_id(pkey) : NID_undef;
    if (kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC) {
      r.err = ENOPKG;
      r.detail = "the trusted key's algorithm is not one the kernel verifies modules with (RSA, ECDSA)";
      return r;
    }
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const EVP_MD *alg = EVP_get_digestbynid(nid);
    bool ok = md && alg && sig && EVP_DigestVerifyInit(md.get(), nullptr, alg, nullptr, pkey) == 1 &&
              EVP_DigestVerify(md.get(), sig->data, static_cast<size_t>(sig->length), content.data(), content.size()) == 1;
    ERR_clear_error();
    if (!ok) {
      r.err = EKEYREJECTED;
      r.signer = key;
      r.detail = fmt::format("the {} signature over the first {} bytes does not verify with '{}' ({})", OBJ_nid2sn(nid),
                             modlen, key->subject, key->source);
      return r;
    }
    any_trusted = true;
    r.signer = key;
  }
  if (!any_trusted) {
    r.err = result;
    r.detail = why;
    return r;
  }
  r.err = 0;
  r.detail = fmt::format("signature verifies with '{}' ({})", r.signer->subject, r.signer->source);
  return r;
}

}  // namespace kmx
