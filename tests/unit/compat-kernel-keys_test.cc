// Trusted keys and module signature verification (compat/kernel-keys.cc) on real Debian kernels
// and modules: the certificates built into each vmlinuz must verify every signed module of its
// own tree; a flipped byte must fail (EKEYREJECTED), a module signed by another key must be
// ENOKEY, malformed trailers must get the kernel's errno and lines. Test keys are made with
// OpenSSL here and modules signed the way scripts/sign-file does (CMS, detached, no certs, no
// signed attributes). Tree tests are skipped when the trees are not fetched.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/mapped-file.h"
#include "base/parallel.h"
#include "compat/kernel-keys.h"
#include "compat/load-check.h"
#include "elf/module-elf.h"
#include "decompress/decompress.h"
#include "elf/module-signature.h"
#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

std::string trees() {
  const char *c = std::getenv("KMX_CACHE");
  return std::string(c ? c : "/var/cache/kmx-test") + "/trees";
}

struct Kernel {
  const char *pkg, *release;
};
const Kernel k61{"linux-image-6.1.0-54-amd64", "6.1.0-54-amd64"};
const Kernel k612{"linux-image-6.12.117+deb12-amd64-unsigned", "6.12.117+deb12-amd64"};

std::string root(const Kernel &k) { return trees() + "/" + k.pkg; }
std::string vmlinuz(const Kernel &k) { return root(k) + "/boot/vmlinuz-" + k.release; }

// A profile of kernel `k` that trusts the certificates built into its image (empty when the
// image gives none: the caller asserts on trusted_certs).
KernelProfile profile_trusting_image(const Kernel &k) {
  KernelProfile p;
  p.release = k.release;
  parse_release(p.release, p.major, p.minor);
  if (auto certs = certs_from_kernel_image(vmlinuz(k), "")) p.trusted_certs = certs->certs;
  return p;
}

// The signature step of a verdict as "ID RESULT", or "none".
std::string signature_step(const LoadVerdict &v) {
  for (const auto &c : v.checks)
    if (c.name == "signature") return c.id + " " + result_name(c.result);
  return "none";
}
std::string moddir(const Kernel &k) { return root(k) + "/lib/modules/" + k.release; }

using test::TempDir;

void write(const std::string &path, ByteView b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes image_of(const std::string &path) {
  auto f = MappedFile::open(path);
  EXPECT_TRUE(f) << path;
  if (!f) return {};
  auto d = decompress(detect_compression(f->view()), f->view());
  EXPECT_TRUE(d);
  return d ? Bytes(d->begin(), d->end()) : Bytes{};
}

// A self-signed RSA certificate as a kernel build's signing_key.x509 would be.
struct TestKey {
  EVP_PKEY *key = nullptr;
  X509 *cert = nullptr;
  explicit TestKey(const char *cn, long serial) {
    key = EVP_RSA_gen(2048);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(cn), -1, -1, 0);
    X509_set_issuer_name(cert, n);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_key_identifier, "hash");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(cert, key, EVP_sha256());
  }
  ~TestKey() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::vector<TrustedCert> trusted(const std::string &dir) const {
    std::string p = dir + "/key.pem";
    FILE *f = std::fopen(p.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    auto c = load_cert_file(p);
    EXPECT_TRUE(c);
    return c ? *c : std::vector<TrustedCert>{};
  }
};

// scripts/sign-file: CMS over the module bytes, detached, no certificates, no signed
// attributes (unless asked), then struct module_signature and the marker.
Bytes sign(ByteView content, const TestKey &k, unsigned extra_flags = 0, bool attrs = false, u8 id_type = 2,
           u8 algo = 0, bool smime_caps = false) {
  BIO *in = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
  unsigned flags = CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED;
  CMS_ContentInfo *cms = CMS_sign(nullptr, nullptr, nullptr, nullptr, flags);
  CMS_add1_signer(cms, k.cert, k.key, EVP_sha256(),
                  CMS_NOCERTS | CMS_BINARY | (smime_caps ? 0 : CMS_NOSMIMECAP) | extra_flags | (attrs ? 0 : CMS_NOATTR));
  CMS_final(cms, in, nullptr, CMS_NOCERTS | CMS_BINARY);
  unsigned char *der = nullptr;
  int n = i2d_CMS_ContentInfo(cms, &der);
  CMS_ContentInfo_free(cms);
  BIO_free(in);
  Bytes out(content.begin(), content.end());
  out.insert(out.end(), der, der + n);
  OPENSSL_free(der);
  u8 hdr[12] = {algo, 0, id_type, 0, 0, 0, 0, 0, u8(n >> 24), u8(n >> 16), u8(n >> 8), u8(n)};
  out.insert(out.end(), hdr, hdr + 12);
  for (char c : module_sig_magic) out.push_back(static_cast<u8>(c));
  return out;
}

// An unsigned module image to sign: dummy.ko of the 6.1 tree without its trailer, or a small
// stand-in when the trees are absent (the verifier never parses the ELF).
Bytes content_to_sign() {
  std::string p = moddir(k61) + "/kernel/drivers/net/dummy.ko";
  if (fs::exists(p)) {
    Bytes img = image_of(p);
    SplitModule s = split_signature(ByteView(img));
    return Bytes(s.elf.begin(), s.elf.end());
  }
  Bytes b(4096);
  for (size_t i = 0; i < b.size(); i++) b[i] = static_cast<u8>(i * 7);
  return b;
}

std::vector<std::string> signed_modules(const Kernel &k) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(moddir(k), ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string p = it->path().string();
    if (p.ends_with(".ko") || p.ends_with(".ko.xz") || p.ends_with(".ko.zst")) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(KernelKeys, SignFileStyleSignatureVerifiesAndFailsAsTheKernelDoes) {
  TempDir t;
  TestKey k("kmx test key", 0x1234), other("kmx test key", 0x1234);
  auto keys = k.trusted(t.path);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].subject, "kmx test key");
  EXPECT_EQ(keys[0].serial, (Bytes{0x12, 0x34}));
  Bytes content = content_to_sign();
  Bytes mod = sign(content, k);

  SigCheck ok = verify_module_signature(ByteView(mod), keys);
  EXPECT_EQ(ok.err, 0) << ok.detail;
  EXPECT_TRUE(ok.lines.empty());
  ASSERT_NE(ok.signer, nullptr);

  // The subject key id form (sign-file -k) finds the key by its SKID.
  Bytes by_skid = sign(content, k, CMS_USE_KEYID);
  EXPECT_EQ(verify_module_signature(ByteView(by_skid), keys).err, 0);

  // One flipped byte of the signed content: the signature no longer verifies.
  Bytes flipped = mod;
  flipped[content.size() / 2] ^= 0xff;
  SigCheck bad = verify_module_signature(ByteView(flipped), keys);
  EXPECT_EQ(bad.err, EKEYREJECTED) << bad.detail;

  // Same issuer name and serial but another key: found by issuer+serial, rejected by the key.
  auto other_keys = other.trusted(t.path);
  EXPECT_EQ(verify_module_signature(ByteView(mod), other_keys).err, EKEYREJECTED);

  // Signed by a key the kernel does not have: ENOKEY (taints or refuses per policy).
  TestKey stranger("stranger", 77);
  SigCheck nokey = verify_module_signature(ByteView(sign(content, stranger)), keys);
  EXPECT_EQ(nokey.err, ENOKEY);
  EXPECT_NE(nokey.detail.find("serial 4d"), std::string::npos) << nokey.detail;

  // Signed attributes are refused for modules, before the key is looked for.
  SigCheck attrs = verify_module_signature(ByteView(sign(content, stranger, 0, true)), keys);
  EXPECT_EQ(attrs.err, EKEYREJECTED);
  EXPECT_EQ(attrs.lines, std::vector<std::string>{"PKCS7: Invalid module sig (has authattrs)"});
}

TEST(KernelKeys, MalformedTrailersGetTheKernelsErrno) {
  TempDir t;
  TestKey k("kmx test key", 5);
  auto keys = k.trusted(t.path);
  Bytes content = content_to_sign();

  EXPECT_EQ(verify_module_signature(ByteView(content), keys).err, ENODATA);

  SigCheck legacy = verify_module_signature(ByteView(sign(content, k, 0, false, 1)), keys);
  EXPECT_EQ(legacy.err, ENOPKG);
  EXPECT_EQ(legacy.lines, std::vector<std::string>{"module: not signed with expected PKCS#7 message"});

  SigCheck params = verify_module_signature(ByteView(sign(content, k, 0, false, 2, 1)), keys);
  EXPECT_EQ(params.err, EBADMSG);
  EXPECT_EQ(params.lines, std::vector<std::string>{"module: PKCS#7 signature info has unexpected non-zero params"});

  // sig_len reaching the start of the file.
  Bytes mod = sign(content, k);
  Bytes huge = mod;
  size_t h = huge.size() - module_sig_magic.size() - 4;
  huge[h] = 0x7f;
  EXPECT_EQ(verify_module_signature(ByteView(huge), keys).err, EBADMSG);

  // A PKCS#7 blob that does not parse.
  Bytes garbage = mod;
  size_t sig_start = content.size();
  for (size_t i = sig_start; i < sig_start + 16; i++) garbage[i] = 0xee;
  EXPECT_EQ(verify_module_signature(ByteView(garbage), keys).err, EBADMSG);

  // Only the marker, no room for struct module_signature.
  std::string tiny(module_sig_magic);
  EXPECT_EQ(verify_module_signature(ByteView(std::string("ab") + tiny), keys).err, EBADMSG);
}

TEST(KernelKeys, CertFiles) {
  TempDir t;
  TestKey a("a", 1), b("b", 2);
  // Two PEM blocks in one file; the DER of both back to back.
  std::string pem = t.path + "/two.pem", der = t.path + "/two.der";
  FILE *f = std::fopen(pem.c_str(), "w");
  PEM_write_X509(f, a.cert);
  PEM_write_X509(f, b.cert);
  std::fclose(f);
  Bytes d;
  for (X509 *x : {a.cert, b.cert}) {
    unsigned char *p = nullptr;
    int n = i2d_X509(x, &p);
    d.insert(d.end(), p, p + n);
    OPENSSL_free(p);
  }
  write(der, ByteView(d));
  for (const auto &p : {pem, der}) {
    auto c = load_cert_file(p);
    ASSERT_TRUE(c) << c.error().msg;
    ASSERT_EQ(c->size(), 2u);
    EXPECT_EQ((*c)[1].subject, "b");
    EXPECT_TRUE(looks_like_cert_file(ByteView(*read_file(p))));
  }
  d.push_back(0);
  write(der, ByteView(d));
  auto bad = load_cert_file(der);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("bytes after the last DER certificate"), std::string::npos) << bad.error().msg;
  write(der, ByteView(std::string("hello")));
  ASSERT_FALSE(load_cert_file(der));
  EXPECT_EQ(load_cert_file(der).error().msg, der + ": neither a PEM nor a DER X.509 certificate");
}

TEST(KernelKeys, SystemCertificateListIsRecognisedByItsSizeQuads) {
  TestKey a("a", 1), b("b", 2), stray("stray", 3);
  auto der = [](X509 *x) {
    unsigned char *p = nullptr;
    int n = i2d_X509(x, &p);
    Bytes out(p, p + n);
    OPENSSL_free(p);
    return out;
  };
  Bytes blob(100, 0x11);
  Bytes s = der(stray.cert);
  blob.insert(blob.end(), s.begin(), s.end());
  blob.resize((blob.size() + 64) & ~size_t(7), 0);
  size_t start = blob.size();
  for (X509 *x : {a.cert, b.cert}) {
    Bytes c = der(x);
    blob.insert(blob.end(), c.begin(), c.end());
  }
  u64 len = blob.size() - start;
  blob.resize((blob.size() + 7) & ~size_t(7), 0);
  for (u64 q : {u64(der(a.cert).size()), len})
    for (int i = 0; i < 8; i++) blob.push_back(static_cast<u8>(q >> (8 * i)));
  ImageCerts c = certs_in_blob(ByteView(blob), "blob");
  ASSERT_EQ(c.certs.size(), 2u);
  EXPECT_EQ(c.certs[0].subject, "a");
  EXPECT_NE(c.how.find("system_certificate_list at offset"), std::string::npos) << c.how;
  // Without the size quads every certificate found is taken, and the answer says so.
  blob.resize(blob.size() - 16);
  ImageCerts u = certs_in_blob(ByteView(blob), "blob");
  EXPECT_EQ(u.certs.size(), 3u);
  EXPECT_NE(u.how.find("not confirmed"), std::string::npos);
}

TEST(KernelKeys, BadKernelImages) {
  TempDir t;
  std::string p = t.path + "/vmlinuz";
  write(p, ByteView(std::string(100, 'x')));
  auto r = certs_from_kernel_image(p, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, p + ": not a kernel image (no bzImage header, no gzip/xz/zstd magic, not ELF)");
  // A bzImage header whose payload points past the end of the file.
  std::string h(0x300, '\0');
  h.replace(0x202, 4, "HdrS");
  h[0x206] = 0x0f;
  h[0x207] = 0x02;
  h[0x1f1] = 1;
  h[0x248] = 0x10;
  h[0x24d] = 0x10;  // payload_length 0x1000
  write(p, ByteView(h));
  r = certs_from_kernel_image(p, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("does not fit the 768 byte file"), std::string::npos) << r.error().msg;
  // A real image cut short: the decompressor says why.
  std::string real = vmlinuz(k612);
  if (!fs::exists(real)) GTEST_SKIP() << "skipped: " << real << " not fetched (tests/data/fetch-trees.sh amd64-6.12)";
  std::string cut = *read_file(real);
  cut.resize(cut.size() / 2);
  write(p, ByteView(cut));
  r = certs_from_kernel_image(p, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("does not fit"), std::string::npos) << r.error().msg;
}

// Every signed module of a Debian tree verifies against the certificates of its own vmlinuz;
// none verifies against the other kernel's (ENOKEY: each build signs with its own key).
// `stride` samples an xz tree (every module is decompressed) to keep the suite short.
void verify_tree(const Kernel &k, const Kernel &other, size_t stride) {
  if (!fs::exists(vmlinuz(k)) || !fs::exists(vmlinuz(other)))
    GTEST_SKIP() << "skipped: trees not fetched (tests/data/fetch-trees.sh amd64-6.1 amd64-6.12)";
  TempDir cache;
  auto t0 = std::chrono::steady_clock::now();
  auto certs = certs_from_kernel_image(vmlinuz(k), cache.path);
  ASSERT_TRUE(certs) << certs.error().msg;
  double extract = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(certs->certs.size(), 1u);
  EXPECT_EQ(certs->certs[0].subject, "Build time autogenerated kernel key");
  EXPECT_NE(certs->how.find("system_certificate_list at offset"), std::string::npos) << certs->how;
  auto again = certs_from_kernel_image(vmlinuz(k), cache.path);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->certs[0].serial, certs->certs[0].serial);
  auto other_certs = certs_from_kernel_image(vmlinuz(other), "");
  ASSERT_TRUE(other_certs);

  std::vector<std::string> all = signed_modules(k), files;
  ASSERT_GT(all.size(), 1000u);
  for (size_t i = 0; i < all.size(); i += stride) files.push_back(all[i]);
  std::vector<int> own(files.size(), -1), foreign(files.size(), -1);
  t0 = std::chrono::steady_clock::now();
  parallel_for_each(files.size(), [&](size_t i) {
    Bytes img = image_of(files[i]);
    own[i] = verify_module_signature(ByteView(img), certs->certs).err;
    foreign[i] = verify_module_signature(ByteView(img), other_certs->certs).err;
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t ok = 0, nokey = 0;
  for (size_t i = 0; i < files.size(); i++) {
    EXPECT_EQ(own[i], 0) << files[i];
    ok += own[i] == 0;
    nokey += foreign[i] == ENOKEY;
  }
  EXPECT_EQ(nokey, files.size());
  std::printf("%s: %zu/%zu signed modules (every %zu. of %zu) verify against %s (%s), %zu ENOKEY against %s; certificates %.2f s, "
              "read+verify both %.2f s\n",
              k.release, ok, files.size(), stride, all.size(), vmlinuz(k).c_str(), certs->how.c_str(), nokey, other.release, extract, secs);
}

TEST(KernelKeys, Debian61TreeVerifiesAgainstItsVmlinuz) { verify_tree(k61, k612, 1); }
TEST(KernelKeys, Debian612TreeVerifiesAgainstItsVmlinuz) { verify_tree(k612, k61, 8); }

// check_module() verifies a module from the image read_module_for_check() kept (one read of
// the file), and does no I/O of its own: without the image the signature is not decided.
TEST(KernelKeys, CheckModuleVerifiesFromTheImageItWasGiven) {
  std::string p = moddir(k612) + "/kernel/drivers/net/dummy.ko.xz";
  if (!fs::exists(p) || !fs::exists(vmlinuz(k612))) GTEST_SKIP() << "skipped: 6.12 tree not fetched";
  auto in = read_module_for_check(p);
  ASSERT_TRUE(in) << in.error().msg;
  EXPECT_EQ(in->info.compression, Compression::xz);
  EXPECT_EQ(in->info.file_size, fs::file_size(p));
  EXPECT_FALSE(in->image().empty());
  EXPECT_FALSE(in->mapped);
  auto plain = read_module(p);
  ASSERT_TRUE(plain);
  EXPECT_EQ(in->info.elf_size, plain->elf_size);
  KernelProfile k = profile_trusting_image(k612);
  ASSERT_FALSE(k.trusted_certs.empty());
  auto given = check_module(in->info, k, {}, {}, in->image());
  auto without = check_module(*plain, k, {});
  ASSERT_FALSE(given.checks.empty());
  EXPECT_EQ(signature_step(given), "B1 pass");
  EXPECT_EQ(signature_step(without), "B unknown");
  // A flipped byte in the given image is what gets verified.
  in->decompressed.data()[in->decompressed.size() / 3] ^= 1;
  EXPECT_EQ(check_module(in->info, k, {}, {}, in->image()).check_id, "B6");
  // An uncompressed module stays mapped: the mapping is the image.
  TempDir t;
  Bytes img = image_of(p);
  test::write_file(t.path + "/dummy.ko", std::string_view(reinterpret_cast<const char *>(img.data()), img.size()));
  auto flat = read_module_for_check(t.path + "/dummy.ko");
  ASSERT_TRUE(flat) << flat.error().msg;
  EXPECT_TRUE(flat->mapped);
  EXPECT_EQ(flat->info.compression, Compression::none);
  EXPECT_EQ(signature_step(check_module(flat->info, k, {}, {}, flat->image())), "B1 pass");
  // Unreadable files: read_module()'s errors.
  EXPECT_FALSE(read_module_for_check("/nonexistent/x.ko"));
}

namespace {
Bytes gzip_bytes(ByteView in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&z, in.size()) + 64);
  z.next_in = const_cast<Bytef *>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
}  // namespace

// EFI-stub images without a bzImage header: an uncompressed Image ("MZ", as Debian's arm64 6.1
// vmlinuz) and an EFI zboot image ("zimg", gzip payload).
TEST(KernelKeys, EfiStubAndZbootImages) {
  TempDir t;
  TestKey a("zboot key", 9);
  unsigned char *p = nullptr;
  int n = i2d_X509(a.cert, &p);
  Bytes vmlinux(0x2000, 0);
  vmlinux[0] = 'M';
  vmlinux[1] = 'Z';
  vmlinux.insert(vmlinux.end(), p, p + n);
  OPENSSL_free(p);
  write(t.path + "/Image", ByteView(vmlinux));
  auto raw = certs_from_kernel_image(t.path + "/Image", "");
  ASSERT_TRUE(raw) << raw.error().msg;
  ASSERT_EQ(raw->certs.size(), 1u);
  EXPECT_EQ(raw->certs[0].subject, "zboot key");
  EXPECT_NE(raw->how.find("uncompressed image"), std::string::npos);

  Bytes gz = gzip_bytes(ByteView(vmlinux));
  Bytes zboot(0x200, 0);
  zboot[0] = 'M';
  zboot[1] = 'Z';
  std::memcpy(&zboot[4], "zimg", 4);
  u32 off = 0x200, len = static_cast<u32>(gz.size());
  for (int i = 0; i < 4; i++) zboot[8 + i] = static_cast<u8>(off >> (8 * i)), zboot[12 + i] = static_cast<u8>(len >> (8 * i));
  std::memcpy(&zboot[0x18], "gzip", 4);
  zboot.insert(zboot.end(), gz.begin(), gz.end());
  write(t.path + "/vmlinuz.efi", ByteView(zboot));
  auto z = certs_from_kernel_image(t.path + "/vmlinuz.efi", "");
  ASSERT_TRUE(z) << z.error().msg;
  ASSERT_EQ(z->certs.size(), 1u);
  EXPECT_NE(z->how.find("gzip payload of the EFI zboot image"), std::string::npos) << z->how;
  zboot[12] = 0xff;
  zboot[13] = 0xff;
  zboot[14] = 0xff;
  write(t.path + "/vmlinuz.efi", ByteView(zboot));
  auto bad = certs_from_kernel_image(t.path + "/vmlinuz.efi", "");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("zboot payload at 0x200"), std::string::npos) << bad.error().msg;

  // Debian's arm64 6.1 tree: its modules verify against the certificate in its vmlinuz.
  std::string arm = trees() + "/linux-image-6.1.0-54-arm64-unsigned";
  std::string img = arm + "/boot/vmlinuz-6.1.0-54-arm64", mod = arm + "/lib/modules/6.1.0-54-arm64/kernel/drivers/net/dummy.ko";
  if (!fs::exists(img) || !fs::exists(mod)) GTEST_SKIP() << "skipped: arm64-6.1 tree not fetched";
  auto c = certs_from_kernel_image(img, "");
  ASSERT_TRUE(c) << c.error().msg;
  Bytes m = image_of(mod);
  EXPECT_EQ(verify_module_signature(ByteView(m), c->certs).err, 0);
}

// Hostile trailers: random bytes changed in the signature area give one of the kernel's
// errnos and never crash; a change the kernel ignores too (struct module_signature's pad bytes)
// still verifies. Every truncation fails.
TEST(KernelKeys, MutatedSignaturesNeverPass) {
  TempDir t;
  TestKey k("kmx test key", 42);
  auto keys = k.trusted(t.path);
  Bytes content(2048, 0x90);
  Bytes mod = sign(ByteView(content), k);
  ASSERT_EQ(verify_module_signature(ByteView(mod), keys).err, 0);
  u32 seed = 12345;
  auto rnd = [&] { return seed = seed * 1103515245 + 12345, (seed >> 8); };
  size_t tail = mod.size() - content.size();
  for (int i = 0; i < 2000; i++) {
    Bytes m = mod;
    int flips = 1 + static_cast<int>(rnd() % 4);
    for (int f = 0; f < flips; f++) m[content.size() + rnd() % (tail - module_sig_magic.size())] ^= static_cast<u8>(1 + rnd() % 255);
    SigCheck c = verify_module_signature(ByteView(m), keys);
    EXPECT_TRUE(c.err == EBADMSG || c.err == EKEYREJECTED || c.err == ENOKEY || c.err == ENOPKG || c.err == EINVAL ||
                c.err == 0)
        << c.err;
  }
  // Truncations at every length.
  for (size_t n = 0; n < mod.size(); n += 7) {
    Bytes m(mod.begin(), mod.begin() + static_cast<long>(n));
    EXPECT_NE(verify_module_signature(ByteView(m), keys).err, 0) << n;
  }
}

// check_module() on module files: an unknown signer is ENOKEY, unless the trailer header or the
// PKCS#7 message is one the kernel refuses first (non-zero params or padding: EBADMSG; signed
// attributes: EKEYREJECTED).
TEST(KernelKeys, CheckModuleSignatureVerdictsOnFiles) {
  TempDir t;
  TestKey k("kmx test key", 7), stranger("stranger", 8);
  KernelProfile prof;
  prof.release = "6.12.1";
  parse_release(prof.release, prof.major, prof.minor);
  prof.trusted_certs = k.trusted(t.path);
  Bytes content = content_to_sign();
  if (content.size() < 64 || content[0] != 0x7f) GTEST_SKIP() << "skipped: needs dummy.ko of the 6.1 tree";
  auto verdict = [&](const Bytes &file) {
    std::string p = t.path + "/m.ko";
    write(p, ByteView(file));
    auto m = read_module_for_check(p);
    EXPECT_TRUE(m && m->problem.empty()) << (m ? m->problem : m.error().msg);
    return m ? check_module(m->info, prof, {}, {}, m->image()) : LoadVerdict{};
  };
  auto step = [](const LoadVerdict &v) {
    for (const auto &c : v.checks)
      if (c.name == "signature") return c.id + " " + result_name(c.result);
    return std::string("none");
  };
  EXPECT_EQ(step(verdict(sign(ByteView(content), k))), "B1 pass");
  LoadVerdict nokey = verdict(sign(ByteView(content), stranger));
  EXPECT_EQ(step(nokey), "B3 taint");
  EXPECT_NE(nokey.taint.find('E'), std::string::npos);
  LoadVerdict params = verdict(sign(ByteView(content), stranger, 0, false, 2, 1));
  EXPECT_EQ(params.check_id, "B6");
  EXPECT_EQ(params.errno_name, "EBADMSG");
  EXPECT_EQ(params.messages.at(0), "module: PKCS#7 signature info has unexpected non-zero params");
  // A non-zero __pad byte (not in ModuleInfo): EBADMSG as well, not the unknown key's ENOKEY.
  Bytes pad = sign(ByteView(content), stranger);
  pad[pad.size() - module_sig_magic.size() - 5] = 1;
  LoadVerdict padv = verdict(pad);
  EXPECT_EQ(padv.check_id, "B6");
  EXPECT_EQ(padv.errno_name, "EBADMSG");
  // Signed attributes from an unknown signer: pkcs7_verify() refuses them before any key is
  // looked up (EKEYREJECTED, even when nothing is enforced).
  LoadVerdict attrs = verdict(sign(ByteView(content), stranger, 0, true));
  EXPECT_EQ(attrs.check_id, "B6");
  EXPECT_EQ(attrs.errno_name, "EKEYREJECTED");
  EXPECT_EQ(attrs.messages.at(0), "PKCS7: Invalid module sig (has authattrs)");
  // openssl cms's default attributes include S/MIME capabilities: the parser refuses those first.
  LoadVerdict caps = verdict(sign(ByteView(content), stranger, 0, true, 2, 0, true));
  EXPECT_EQ(caps.errno_name, "EKEYREJECTED");
  EXPECT_EQ(caps.messages.at(0), "PKCS7: S/MIME Caps only allowed with Authenticode");
  TargetState enforce;
  enforce.sig_enforce = true;
  std::string p = t.path + "/m.ko";
  write(p, ByteView(sign(ByteView(content), stranger)));
  auto in = read_module_for_check(p);
  ASSERT_TRUE(in);
  auto v = check_module(in->info, prof, enforce, {}, in->image());
  EXPECT_EQ(v.check_id, "B4");
  EXPECT_EQ(v.messages.at(0), "Loading of module with unavailable key is rejected");
}

// Machine Owner Keys: under Secure Boot a module signed by an enrolled MOK loads; signed by a
// key that is not enrolled it is refused (lockdown, EPERM) with the hint to enrol the key it
// was signed with; when the MOK list or the Secure Boot state cannot be read, the signature is
// not decided. Without Secure Boot the MOKs change nothing (taint E for an unknown key).
TEST(KernelKeys, EnrolledMachineOwnerKeysAreTrustedUnderSecureBoot) {
  std::string p = moddir(k61) + "/kernel/drivers/net/dummy.ko";
  if (!fs::exists(p) || !fs::exists(vmlinuz(k61))) GTEST_SKIP() << "skipped: 6.1 tree not fetched";
  TempDir t;
  TestKey dkms("DKMS module signing key", 0x4d4f4b), other("another key", 0x99);
  fs::create_directories(t.path + "/dkms");
  fs::create_directories(t.path + "/other");
  auto dkms_cert = dkms.trusted(t.path + "/dkms");
  auto other_cert = other.trusted(t.path + "/other");
  Bytes mod = sign(content_to_sign(), dkms);
  write(t.path + "/mod.ko", ByteView(mod));
  auto in = read_module_for_check(t.path + "/mod.ko");
  ASSERT_TRUE(in) << in.error().msg;
  KernelProfile k = profile_trusting_image(k61);
  ASSERT_FALSE(k.trusted_certs.empty());
  k.config["CONFIG_MODULE_SIG"] = "y";
  k.config["CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT"] = "y";
  auto has_hint = [](const LoadVerdict &v, const std::string &what) {
    for (const auto &h : v.hints)
      if (h.find(what) != std::string::npos) return true;
    return false;
  };
  TargetState sb;
  sb.secure_boot = true;
  sb.mok_certs = dkms_cert;
  EXPECT_EQ(signature_step(check_module(in->info, k, sb, {}, in->image())), "B1 pass");
  // The same without the kernel's certificates: the MOK alone verifies it.
  KernelProfile bare = k;
  bare.trusted_certs.clear();
  EXPECT_EQ(signature_step(check_module(in->info, bare, sb, {}, in->image())), "B1 pass");
  // Not enrolled: refused under Secure Boot, with the hint to enrol DKMS's key.
  sb.mok_certs = other_cert;
  for (auto &c : dkms_cert) c.source = "/var/lib/dkms/mok.pub";
  sb.enrol_candidates = dkms_cert;
  auto refused = check_module(in->info, k, sb, {}, in->image());
  EXPECT_FALSE(refused.loads);
  EXPECT_EQ(refused.err, EPERM);
  EXPECT_TRUE(has_hint(refused, "mokutil --import /var/lib/dkms/mok.pub"));
  // The MOK list unreadable: not decided, with the reason.
  sb.mok_certs.clear();
  sb.mok_unknown = "mokutil: EFI variables are not supported on this system";
  auto nd = check_module(in->info, k, sb, {}, in->image());
  EXPECT_EQ(signature_step(nd), "B3 unknown");
  EXPECT_TRUE(nd.loads);
  EXPECT_FALSE(nd.complete);
  // The Secure Boot state unreadable: not decided either.
  TargetState unknown_sb;
  unknown_sb.secure_boot_unknown = "/sys/firmware/efi absent";
  EXPECT_EQ(signature_step(check_module(in->info, k, unknown_sb, {}, in->image())), "B unknown");
  // No Secure Boot: enrolled MOKs are not asked; an unknown key taints E.
  TargetState plain;
  plain.mok_certs = dkms_cert;
  auto tainted = check_module(in->info, k, plain, {}, in->image());
  EXPECT_EQ(signature_step(tainted), "B3 taint");
  // Debian's own module verifies against the image's certificates under Secure Boot.
  auto own = read_module_for_check(p);
  ASSERT_TRUE(own);
  sb.mok_unknown.clear();
  EXPECT_EQ(signature_step(check_module(own->info, k, sb, {}, own->image())), "B1 pass");
}
