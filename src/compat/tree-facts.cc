#include "compat/tree-facts.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/atomic-file.h"
#include "base/dirs.h"
#include "base/mapped-file.h"

namespace kmx {
namespace {

constexpr int kFormat = 2;

std::optional<Bytes> unhex(const std::string &s) {
  if (s.size() % 2) return std::nullopt;
  Bytes out;
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    for (size_t j = i; j < i + 2; j++) {
      char c = s[j];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else return std::nullopt;
    }
    out.push_back(static_cast<u8>(v));
  }
  return out;
}

std::string cache_file(const std::string &dir, const std::string &tree) {
  char real[4096];
  std::string p = ::realpath(tree.c_str(), real) ? real : tree;
  return fmt::format("{}/tree-facts-{:016x}-{}.json", dir, fnv1a64(ByteView(p)), cache_name_of(p));
}

}  // namespace

std::string tree_identity(const std::vector<std::string> &files) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return "";
  }
  for (const std::string &f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) {
      EVP_MD_CTX_free(ctx);
      return "";
    }
    std::string rec = fmt::format("{}\n{}\n{}.{}\n{}\n{}\n", f, i64(st.st_size), i64(st.st_mtim.tv_sec),
                                  i64(st.st_mtim.tv_nsec), u64(st.st_ino), u64(st.st_dev));
    EVP_DigestUpdate(ctx, rec.data(), rec.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  return hex(ByteView(md, n));
}

std::optional<TreeFacts> read_tree_facts(const std::string &cache_dir, const std::string &tree,
                                         const std::string &identity) {
  if (cache_dir.empty() || identity.empty()) return std::nullopt;
  auto text = read_file(cache_file(cache_dir, tree));
  if (!text) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&](const nlohmann::json &v) -> const std::string * { return v.is_string() ? v.get_ptr<const std::string *>() : nullptr; };
  if (j.value("format", 0) != kFormat || !j.contains("identity") || !str(j["identity"]) ||
      *str(j["identity"]) != identity)
    return std::nullopt;
  TreeFacts f;
  auto opt_u64 = [&](const char *key, std::optional<u64> &out) {
    const auto &v = j[key];
    if (v.is_number_unsigned()) out = v.get<u64>();
    else if (!v.is_null()) return false;
    return true;
  };
  if (const auto &v = j["vermagic"]; str(v)) f.vermagic = *str(v);
  else if (!v.is_null()) return std::nullopt;
  if (!opt_u64("module_layout_crc", f.module_layout_crc) || !opt_u64("this_module_size", f.this_module_size))
    return std::nullopt;
  if (const auto &a = j["arch"]; a.is_array() && a.size() == 3 && a[0].is_number_unsigned() && a[1].is_boolean() &&
                                 a[2].is_boolean() && a[0].get<u64>() <= 0xffff)
    f.arch = ElfArch{static_cast<u16>(a[0].get<u64>()), a[1].get<bool>(), a[2].get<bool>()};
  else if (!a.is_null()) return std::nullopt;
  if (!j["key_ids"].is_array() || !j["proprietary"].is_array() || !j["exports"].is_array()) return std::nullopt;
  for (const auto &k : j["key_ids"]) {
    auto b = str(k) ? unhex(*str(k)) : std::nullopt;
    if (!b) return std::nullopt;
    f.key_ids.push_back(std::move(*b));
  }
  for (const auto &p : j["proprietary"]) {
    if (!str(p)) return std::nullopt;
    f.proprietary.insert(*str(p));
  }
  for (const auto &e : j["exports"]) {
    if (!e.is_array() || e.size() != 5 || !str(e[0]) || !str(e[1]) || !e[2].is_number_unsigned() || !str(e[3]) ||
        !(e[4].is_null() || e[4].is_number_unsigned()))
      return std::nullopt;
    unsigned lic = e[2].get<unsigned>();
    if (lic > 2) return std::nullopt;
    KernelExport x{*str(e[1]), static_cast<ExportLicense>(lic), *str(e[3]), std::nullopt};
    if (!e[4].is_null()) x.crc = e[4].get<u64>();
    f.exports.emplace_back(*str(e[0]), std::move(x));
  }
  return f;
}

void write_tree_facts(const std::string &cache_dir, const std::string &tree, const std::string &identity,
                      const TreeFacts &f) {
  if (cache_dir.empty() || identity.empty()) return;
  // Only text that round-trips: JSON would have to replace invalid UTF-8.
  auto ascii = [](const std::string &t) {
    for (unsigned char c : t)
      if (c >= 0x80) return false;
    return true;
  };
  if (f.vermagic && !ascii(*f.vermagic)) return;
  for (const auto &p : f.proprietary)
    if (!ascii(p)) return;
  for (const auto &[name, e] : f.exports)
    if (!ascii(name) || !ascii(e.owner) || !ascii(e.ns)) return;
  if (!make_private_dirs(cache_dir)) return;
  nlohmann::json j;
  j["format"] = kFormat;
  j["tree"] = tree;
  j["identity"] = identity;
  j["vermagic"] = f.vermagic ? nlohmann::json(*f.vermagic) : nlohmann::json(nullptr);
  j["module_layout_crc"] = f.module_layout_crc ? nlohmann::json(*f.module_layout_crc) : nlohmann::json(nullptr);
  j["this_module_size"] = f.this_module_size ? nlohmann::json(*f.this_module_size) : nlohmann::json(nullptr);
  j["arch"] = f.arch ? nlohmann::json::array({f.arch->machine, f.arch->is64, f.arch->little_endian})
                    : nlohmann::json(nullptr);
  j["key_ids"] = nlohmann::json::array();
  for (const Bytes &k : f.key_ids) j["key_ids"].push_back(hex(k));
  j["proprietary"] = f.proprietary;
  nlohmann::json ex = nlohmann::json::array();
  for (const auto &[name, e] : f.exports)
    ex.push_back({name, e.owner, static_cast<unsigned>(e.license), e.ns,
                  e.crc ? nlohmann::json(*e.crc) : nlohmann::json(nullptr)});
  j["exports"] = std::move(ex);
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)write_file_atomic(cache_file(cache_dir, tree), text, 0600);
}

}  // namespace kmx
