// Module signatures: modules signed here at test time the way scripts/sign-file does it
// (openssl cms -sign -binary -noattr -nocerts, DER, detached, then struct module_signature
// and the magic), checked three ways: the fields against what the key and certificate were
// made with, the signature bytes by verifying them with the certificate's public key, and
// every field against kmod's modinfo on the same file. Also the peer testsuite's legacy and
// PKCS#7 trailers, and malformed trailers (no signature, a stated problem, kmod agreeing).
#include "elf/module-signature.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>

#include "elf-builder.h"
#include "test-support.h"
#include "elf/module-elf.h"

using namespace kmx;
using namespace kmx::test;
namespace fs = std::filesystem;

namespace {

const std::string kMagic = "~Module signature appended~\n";

Bytes read_bytes(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_bytes(const std::string &p, const Bytes &b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes unsigned_module() {
  ElfBuilder b;
  b.add(".modinfo", nul_strings({"license=GPL", "name=signed_test", "vermagic=6.1.0 SMP mod_unload modversions "}));
  b.add(".gnu.linkonce.this_module", Bytes(0x380, 0));
  b.add(".text", Bytes(256, 0xc3));
  b.undef("printk");
  return b.build().bytes;
}

// body + blob + struct module_signature + magic.
Bytes with_trailer(Bytes body, const Bytes &blob, u8 algo, u8 hash, u8 id_type, u8 signer_len, u8 key_id_len,
                   u32 sig_len) {
  body.insert(body.end(), blob.begin(), blob.end());
  const u8 h[12] = {algo, hash, id_type, signer_len, key_id_len, 0, 0, 0, static_cast<u8>(sig_len >> 24),
                    static_cast<u8>(sig_len >> 16), static_cast<u8>(sig_len >> 8), static_cast<u8>(sig_len)};
  body.insert(body.end(), h, h + 12);
  body.insert(body.end(), kMagic.begin(), kMagic.end());
  return body;
}

// "AB:CD:..." as kmod prints key ids and signatures.
std::string colon_hex(const Bytes &b) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size(); i++) {
    std::snprintf(buf, sizeof buf, "%02X", b[i]);
    if (i) s += ':';
    s += buf;
  }
  return s;
}

// One field as kmod's modinfo prints it with -F, with its line wrapping ("\n\t\t") undone.
std::string kmod_field(const std::string &path, const std::string &field) {
  std::string out = run_cmd(std::string(kmod_modinfo) + " -F " + field + " '" + path + "' 2>/dev/null");
  std::string s;
  for (size_t i = 0; i < out.size(); i++) {
    if (out[i] == '\n' && out.compare(i + 1, 2, "\t\t") == 0) {
      i += 2;
      continue;
    }
    s += out[i];
  }
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void expect_same_as_kmod(const std::string &path, const ModuleInfo &mi) {
  if (!executable(kmod_modinfo)) return;
  SCOPED_TRACE(path);
  if (!mi.signature) {
    EXPECT_EQ(kmod_field(path, "sig_id"), "");
    EXPECT_EQ(kmod_field(path, "signature"), "");
    return;
  }
  const ModuleSignature &s = *mi.signature;
  EXPECT_EQ(kmod_field(path, "sig_id"), s.id_type_name);
  EXPECT_EQ(kmod_field(path, "signer"), s.signer);
  EXPECT_EQ(kmod_field(path, "sig_key"), colon_hex(s.key_id));
  EXPECT_EQ(kmod_field(path, "sig_hashalgo"), s.hash_algo);
  EXPECT_EQ(kmod_field(path, "signature"), colon_hex(s.signature));
}

class ModuleSignatureSigned : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (run_cmd("openssl version 2>/dev/null").find("OpenSSL") == std::string::npos) return;
    char tmpl[] = "/tmp/kmx-elftest-sig-XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir_ = new std::string(tmpl);
    // An RSA key as the kernel's default, and an EC key (CONFIG_MODULE_SIG_KEY_TYPE_ECDSA).
    std::string req = "openssl req -new -x509 -nodes -days 2 -batch -outform PEM ";
    bool ok = std::system((req + "-newkey rsa:2048 -keyout " + *dir_ + "/rsa.key -out " + *dir_ +
                           "/rsa.crt -subj '/O=kmx test/CN=kmx test RSA signing key' -set_serial 0x1A2B3C4D5E6F0718 "
                           ">/dev/null 2>&1")
                              .c_str()) == 0 &&
              std::system((req + "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout " + *dir_ + "/ec.key -out " +
                           *dir_ + "/ec.crt -subj '/CN=kmx test EC key/O=after the CN' -set_serial 0x00F1 >/dev/null 2>&1")
                              .c_str()) == 0;
    if (!ok) {
      fs::remove_all(*dir_);
      delete dir_;
      dir_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "skipped: openssl command not usable";
  }

  // Signs `body` with key `k` ("rsa" or "ec") and digest `md`; returns the DER blob.
  static Bytes sign(const Bytes &body, const std::string &k, const std::string &md) {
    std::string in = *dir_ + "/body", out = *dir_ + "/sig-" + k + "-" + md;
    write_bytes(in, body);
    std::string cmd = "openssl cms -sign -in " + in + " -signer " + *dir_ + "/" + k + ".crt -inkey " + *dir_ + "/" + k +
                      ".key -binary -noattr -nocerts -nosmimecap -outform DER -md " + md + " -out " + out + " 2>&1";
    std::string msg = run_cmd(cmd);
    Bytes b = read_bytes(out);
    EXPECT_FALSE(b.empty()) << cmd << ": " << msg;
    return b;
  }

  // Verifies `sig` over `body` with the certificate's public key and digest `md`.
  static bool verify(const std::string &k, const std::string &md, const Bytes &body, const Bytes &sig) {
    FILE *f = fopen((*dir_ + "/" + k + ".crt").c_str(), "r");
    if (!f) return false;
    X509 *cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    fclose(f);
    if (!cert) return false;
    EVP_PKEY *pk = X509_get0_pubkey(cert);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_get_digestbyname(md.c_str()), nullptr, pk) == 1 &&
              EVP_DigestVerify(ctx, sig.data(), sig.size(), body.data(), body.size()) == 1;
    EVP_MD_CTX_free(ctx);
    X509_free(cert);
    return ok;
  }

  static std::string *dir_;
};
std::string *ModuleSignatureSigned::dir_ = nullptr;

TEST_F(ModuleSignatureSigned, Pkcs7AsSignFileMakesIt) {
  Bytes body = unsigned_module();
  struct Case {
    const char *key, *md, *signer;
    Bytes serial;
  };
  const Case cases[] = {
      {"rsa", "sha256", "kmx test RSA signing key", {0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x07, 0x18}},
      {"rsa", "sha512", "kmx test RSA signing key", {0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x07, 0x18}},
      {"rsa", "sha1", "kmx test RSA signing key", {0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x07, 0x18}},
      {"ec", "sha384", "kmx test EC key", {0xf1}},
      {"ec", "sha224", "kmx test EC key", {0xf1}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(std::string(c.key) + "/" + c.md);
    Bytes der = sign(body, c.key, c.md);
    ASSERT_FALSE(der.empty());
    Bytes file = with_trailer(body, der, 0, 0, 2, 0, 0, static_cast<u32>(der.size()));

    SplitModule split = split_signature(ByteView(file));
    ASSERT_TRUE(split.has_signature) << split.problem;
    EXPECT_EQ(split.elf.size(), body.size());
    EXPECT_EQ(split.sig_len, der.size());

    auto r = parse_module(ByteView(file));
    ASSERT_TRUE(r) << r.error().msg;
    ASSERT_TRUE(r->signature) << r->signature_problem;
    const ModuleSignature &s = *r->signature;
    EXPECT_EQ(r->elf_size, body.size());
    EXPECT_EQ(r->get("name"), "signed_test");
    EXPECT_EQ(s.id_type, 2);
    EXPECT_EQ(s.id_type_name, "PKCS#7");
    EXPECT_EQ(s.signer, c.signer);
    EXPECT_EQ(s.key_id, c.serial);
    EXPECT_EQ(s.hash_algo, c.md);
    EXPECT_EQ(s.sig_len, der.size());
    EXPECT_TRUE(verify(c.key, c.md, body, s.signature)) << "the signature bytes do not verify";
    EXPECT_EQ(r->signature_problem, "");

    TempFile tmp(file);
    expect_same_as_kmod(tmp.path(), *r);
  }
}

TEST_F(ModuleSignatureSigned, SignedAndCompressed) {
  Bytes body = unsigned_module();
  Bytes der = sign(body, "ec", "sha256");
  Bytes file = with_trailer(body, der, 0, 0, 2, 0, 0, static_cast<u32>(der.size()));
  TempFile plain(file);
  std::string xz = plain.path() + ".xz";
  ASSERT_EQ(std::system(("xz -kc '" + plain.path() + "' > '" + xz + "'").c_str()), 0);
  auto r = read_module(xz);
  fs::remove(xz);
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->compression, Compression::xz);
  ASSERT_TRUE(r->signature) << r->signature_problem;
  EXPECT_EQ(r->signature->signer, "kmx test EC key");
  EXPECT_TRUE(verify("ec", "sha256", body, r->signature->signature));
}

// ---------------------------------------------------------------------------------------
// Legacy trailers (id_type 0 PGP, 1 X509): signer, key id and signature laid out in the blob.

TEST(ModuleSignature, LegacyLayout) {
  Bytes body = unsigned_module();
  Bytes blob;
  std::string signer = "Legacy Co: signing key";
  blob.insert(blob.end(), signer.begin(), signer.end());
  for (u8 i = 0; i < 20; i++) blob.push_back(static_cast<u8>(0xe0 + i));
  for (u8 i = 0; i < 100; i++) blob.push_back(i);
  const struct {
    u8 id_type, hash;
    const char *id_name, *hash_name;
  } cases[] = {{1, 2, "X509", "sha1"}, {1, 4, "X509", "sha256"}, {0, 6, "PGP", "sha512"}, {1, 8, "X509", "sm3"}};
  for (const auto &c : cases) {
    Bytes file = with_trailer(body, blob, 1, c.hash, c.id_type, static_cast<u8>(signer.size()), 20, 100);
    auto r = parse_module(ByteView(file));
    ASSERT_TRUE(r) << r.error().msg;
    ASSERT_TRUE(r->signature) << r->signature_problem;
    const ModuleSignature &s = *r->signature;
    EXPECT_EQ(s.id_type_name, c.id_name);
    EXPECT_EQ(s.hash_algo, c.hash_name);
    EXPECT_EQ(s.signer, signer);
    EXPECT_EQ(s.key_id, Bytes(blob.begin() + static_cast<long>(signer.size()), blob.begin() + static_cast<long>(signer.size()) + 20));
    EXPECT_EQ(s.signature, Bytes(blob.end() - 100, blob.end()));
    EXPECT_EQ(r->elf_size, body.size());
    TempFile tmp(file);
    expect_same_as_kmod(tmp.path(), *r);
  }
}

// kmod's own test trailers appended to its mod-simple.ko, as its testsuite does.
TEST(ModuleSignature, PeerTrailers) {
  std::string simple = peer_modules + "/mod-simple.ko";
  if (!fs::exists(simple)) GTEST_SKIP() << "skipped: " << simple << " not present";
  Bytes mod = read_bytes(simple);
  const struct {
    const char *file, *id, *hash;
  } cases[] = {{"dummy.sha1", "X509", "sha1"}, {"dummy.sha256", "X509", "sha256"}, {"dummy.pkcs7", "PKCS#7", "sha256"}};
  for (const auto &c : cases) {
    SCOPED_TRACE(c.file);
    Bytes file = mod, tail = read_bytes(peer_modules + "/" + c.file);
    ASSERT_FALSE(tail.empty());
    file.insert(file.end(), tail.begin(), tail.end());
    auto r = parse_module(ByteView(file));
    ASSERT_TRUE(r) << r.error().msg;
    ASSERT_TRUE(r->signature) << r->signature_problem;
    EXPECT_EQ(r->signature->id_type_name, c.id);
    EXPECT_EQ(r->signature->hash_algo, c.hash);
    EXPECT_FALSE(r->signature->signer.empty());
    EXPECT_FALSE(r->signature->key_id.empty());
    EXPECT_FALSE(r->signature->signature.empty());
    EXPECT_EQ(r->get("name"), "mod_simple");
    TempFile tmp(file);
    if (!executable(kmod_modinfo)) continue;
    ASSERT_NE(kmod_field(tmp.path(), "sig_id"), "");  // kmod does show this one
    expect_same_as_kmod(tmp.path(), *r);
  }
}

// ---------------------------------------------------------------------------------------
// Malformed trailers: no signature, the problem stated, the ELF still read, kmod agreeing.

TEST(ModuleSignature, MalformedTrailers) {
  Bytes body = unsigned_module();
  Bytes blob(64, 0x30);
  struct Case {
    const char *name;
    Bytes file;
    std::string problem;
  };
  std::string fits = "signature of 64 bytes does not fit the " + std::to_string(body.size() + 64) + " bytes before it";
  const Case cases[] = {
      {"sig_len 0", with_trailer(body, blob, 0, 0, 2, 0, 0, 0),
       "signature trailer: signature of 0 bytes does not fit the " + std::to_string(body.size() + 64) + " bytes before it"},
      {"sig_len past start", with_trailer(body, blob, 0, 0, 2, 0, 0, static_cast<u32>(body.size() + 65)),
       "signature trailer: signature of " + std::to_string(body.size() + 65) + " bytes does not fit the " +
           std::to_string(body.size() + 64) + " bytes before it"},
      {"sig_len 0xffffffff", with_trailer(body, blob, 0, 0, 2, 0, 0, 0xffffffffu),
       "signature trailer: signature of 4294967295 bytes does not fit the " + std::to_string(body.size() + 64) +
           " bytes before it"},
      {"legacy lengths past start", with_trailer(body, blob, 0, 0, 1, 255, 255, static_cast<u32>(body.size())),
       "signature trailer: signature of " + std::to_string(body.size() + 510) + " bytes does not fit the " +
           std::to_string(body.size() + 64) + " bytes before it"},
      {"unknown id_type", with_trailer(body, blob, 0, 0, 3, 0, 0, 64),
       "signature trailer: unknown algo 0, hash 0 or id_type 3"},
      {"unknown hash", with_trailer(body, blob, 0, 9, 2, 0, 0, 64),
       "signature trailer: unknown algo 0, hash 9 or id_type 2"},
      {"unknown algo", with_trailer(body, blob, 2, 0, 2, 0, 0, 64),
       "signature trailer: unknown algo 2, hash 0 or id_type 2"},
      {"undecodable PKCS#7", with_trailer(body, blob, 0, 0, 2, 0, 0, 64), "signature is not a valid PKCS#7 structure"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parse_module(ByteView(c.file));
    ASSERT_TRUE(r) << r.error().msg;  // the module itself is fine
    EXPECT_FALSE(r->signature);
    EXPECT_EQ(r->signature_problem, c.problem);
    EXPECT_EQ(r->get("name"), "signed_test");
    TempFile tmp(c.file);
    expect_same_as_kmod(tmp.path(), *r);
  }
}

TEST(ModuleSignature, SplitEdgeCases) {
  // No magic: the whole file, no problem.
  Bytes none = {1, 2, 3};
  SplitModule a = split_signature(ByteView(none));
  EXPECT_FALSE(a.has_signature);
  EXPECT_EQ(a.elf.size(), 3u);
  EXPECT_EQ(a.problem, "");
  // Only the magic, or fewer than 12 bytes before it.
  for (size_t pre : {size_t(0), size_t(11)}) {
    Bytes f(pre, 0);
    f.insert(f.end(), kMagic.begin(), kMagic.end());
    SplitModule s = split_signature(ByteView(f));
    EXPECT_FALSE(s.has_signature);
    EXPECT_EQ(s.elf.size(), f.size());
    EXPECT_EQ(s.problem, "signature trailer: file too small for struct module_signature");
  }
  // A signature that takes everything before the header: an empty module image.
  Bytes blob(8, 0x30);
  Bytes f = with_trailer({}, blob, 0, 0, 1, 0, 0, 8);
  SplitModule s = split_signature(ByteView(f));
  EXPECT_TRUE(s.has_signature);
  EXPECT_EQ(s.elf.size(), 0u);
  EXPECT_EQ(s.sig_blob.size(), 8u);
  auto r = parse_module(ByteView(f));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, "file too small for ELF identification (0 bytes)");
  EXPECT_EQ(r.error().to_errno(), ENOEXEC);
}

}  // namespace
