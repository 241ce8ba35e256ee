#include "compat/kernel-profile.h"

#include <algorithm>
#include <cstdio>
#include <charconv>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "base/mapped-file.h"
#include "base/parallel.h"
#include "base/strings.h"
#include "compat/load-check.h"
#include "compat/tree-facts.h"
#include "elf/kernel-symbols.h"
#include "elf/module-elf.h"

namespace kmx {

namespace fs = std::filesystem;

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); i++)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

}  // namespace

std::optional<bool> KernelProfile::config_on(const std::string &name) const {
  if (config.empty()) return std::nullopt;
  auto it = config.find(name);
  if (it == config.end()) return false;
  return it->second == "y" || it->second == "m";
}

std::optional<bool> KernelProfile::modversions() const {
  if (auto c = config_on("CONFIG_MODVERSIONS")) return *c;
  // VERMAGIC_STRING carries MODULE_VERMAGIC_MODVERSIONS ("modversions ") exactly when it is on.
  if (vermagic) return (" " + *vermagic + " ").find(" modversions ") != std::string::npos;
  if (module_layout_crc) return true;
  bool any_crc = false;
  for (const auto &[name, e] : exports) {
    if (e.crc && *e.crc != 0) return true;
    any_crc = any_crc || e.crc.has_value();
  }
  // Module.symvers of a kernel without modversions lists every CRC as 0x00000000.
  if (any_crc) return false;
  return std::nullopt;
}

std::string KernelProfile::modversions_source() const {
  if (config_on("CONFIG_MODVERSIONS")) return "config";
  if (vermagic) return "vermagic '" + *vermagic + "'";
  if (module_layout_crc) return "module_layout CRC";
  for (const auto &[name, e] : exports)
    if (e.crc) return "export CRCs";
  return "nothing: no config, vermagic or CRCs";
}

bool KernelProfile::knows_nothing() const {
  return !vermagic && exports.empty() && !this_module_size && !module_layout_crc && config.empty();
}

void parse_release(const std::string &release, int &major, int &minor) {
  major = minor = 0;
  auto parts = split(release, '.');
  if (parts.size() >= 2) {
    std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), major);
    std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), minor);
  }
}

// The profile trusts Module.symvers for every export's CRC, owner and licence, so any line
// that breaks the format refuses the whole file.
Status parse_module_symvers(std::string_view text, const std::string &what, KernelProfile &p) {
  std::vector<SymversLine> lines = parse_symvers_lines(text);
  for (const SymversLine &l : lines)
    if (l.problem != SymversProblem::none)
      return fail(Errc::invalid_format, what + ":" + std::to_string(l.lineno) +
                                            ": not a Module.symvers line (want CRC<tab>SYMBOL<tab>MODULE<tab>EXPORT_TYPE[<tab>NAMESPACE])");
  for (const SymversLine &l : lines) {
    KernelExport e;
    if (l.module() == "vmlinux") e.owner = "vmlinux";
    else e.owner = module_name_from_path(std::string(l.module()));
    if (l.export_type() == "EXPORT_SYMBOL_GPL") e.license = ExportLicense::gpl;
    else if (l.export_type() == "EXPORT_SYMBOL_GPL_FUTURE") e.license = ExportLicense::gpl_future;
    if (l.fields.size() >= 5) e.ns = std::string(l.ns());
    e.crc = *l.crc;
    p.exports.insert_or_assign(std::string(l.symbol()), std::move(e));
  }
  p.exports_have_licence = true;
  p.vmlinux_exports_known = true;
  p.sources.push_back("Module.symvers " + what);
  return {};
}

// System.map only adds names of vmlinux exports; a line that is not ADDRESS TYPE NAME (NAME
// without spaces) refuses the file, except Debian's placeholder line.
Status parse_system_map(std::string_view text, const std::string &what, KernelProfile &p) {
  size_t n = 0;
  for (const SystemMapLine &l : parse_system_map_lines(text)) {
    if (l.text.empty()) continue;
    bool spaces_in_name = l.name.find(' ') != std::string_view::npos;
    if (spaces_in_name && l.text.find("System.map is in") != std::string_view::npos) continue;  // Debian's stub
    if (l.problem != SystemMapProblem::none || spaces_in_name)
      return fail(Errc::invalid_format,
                  what + ":" + std::to_string(l.lineno) + ": not a System.map line (want ADDRESS TYPE NAME)");
    std::optional<std::string_view> sym = ksymtab_export(l.name);
    // __ksymtab_gpl and __ksymtab_strings are section boundary symbols, not exports.
    if (!sym || sym->starts_with("gpl") || sym->starts_with("strings")) continue;
    if (!p.exports.contains(std::string(*sym))) {
      KernelExport e;
      e.owner = "vmlinux";
      p.exports.emplace(std::string(*sym), std::move(e));
    }
    n++;
  }
  if (n == 0 && text.find("System.map is in") != std::string_view::npos) {
    // Debian ships a one-line placeholder ("The real System.map is in the linux-image-*-dbg package").
    p.sources.push_back("System.map " + what + " (placeholder, ignored)");
    return {};
  }
  if (n == 0) return fail(Errc::invalid_format, what + ": no __ksymtab_ symbols: not a System.map");
  p.vmlinux_exports_known = true;
  p.sources.push_back("System.map " + what);
  return {};
}

Status parse_kernel_config(std::string_view text, const std::string &what, KernelProfile &p) {
  size_t n = 0;
  for_each_line(text, [&](std::string_view line, size_t) {
    if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
      std::string_view name = line.substr(2, line.size() - 2 - 11);
      p.config[std::string(name)] = "n";
      n++;
    } else if (line.starts_with("CONFIG_")) {
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) return;
      p.config[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      n++;
    }
  });
  if (n == 0) return fail(Errc::invalid_format, what + ": no CONFIG_ lines: not a kernel config");
  p.sources.push_back("config " + what);
  return {};
}

void apply_cmdline(std::string_view cmdline, TargetState &s) {
  size_t i = 0;
  while (i < cmdline.size()) {
    while (i < cmdline.size() && std::isspace(static_cast<unsigned char>(cmdline[i]))) i++;
    size_t start = i;
    while (i < cmdline.size() && !std::isspace(static_cast<unsigned char>(cmdline[i]))) i++;
    std::string_view w = cmdline.substr(start, i - start);
    if (w.empty()) continue;
    size_t eq = w.find('=');
    std::string_view key = w.substr(0, eq);
    std::string_view val = eq == std::string_view::npos ? "" : w.substr(eq + 1);
    std::string k(key);
    std::replace(k.begin(), k.end(), '-', '_');
    if (k == "module.sig_enforce") {
      // bool_enable_only: any true value turns it on; a bare flag means on.
      if (val.empty() || val == "1" || val == "y" || val == "Y" || val == "on") s.sig_enforce = true;
    } else if (k == "lockdown") {
      if (val == "integrity" || val == "confidentiality") s.lockdown = std::string(val);
    } else if (k == "module_blacklist") {
      for (auto n : split(val, ','))
        if (!n.empty()) s.blacklist.insert(normalize_module_name(n));
    }
  }
}

Status learn_module_tree(const std::string &tree, bool read_exports, KernelProfile &p, const std::string &cache_dir) {
  std::error_code ec;
  if (!fs::is_directory(tree, ec))
    return fail(Errc::not_found, tree + ": not a module directory");
  p.tree = tree;
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(tree, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // build/ and source/ point into header trees; never walk them.
    if (it.depth() == 0 && it->is_symlink(ec)) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && has_module_extension(it->path().filename().string())) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto &f : files) p.tree_modules.emplace(module_name_from_path(f), f);
  if (auto b = read_file(tree + "/modules.builtin")) {
    for_each_line(*b, [&](std::string_view line, size_t) {
      if (!line.empty()) p.builtin.insert(module_name_from_path(std::string(line)));
    });
  }

  // Reference facts from in-tree modules (the first that says intree=Y).
  auto take_reference = [](const ModuleInfo &m, TreeFacts &f) {
    if (m.get("intree") != "Y") return false;
    if (!f.vermagic) f.vermagic = m.get("vermagic");
    if (!f.module_layout_crc)
      for (const auto &v : m.versions)
        if (v.name == "module_layout") f.module_layout_crc = v.crc;
    if (!f.this_module_size) f.this_module_size = m.this_module_size;
    if (!f.arch) f.arch = ElfArch{m.e_machine, m.is64, m.little_endian};
    if (m.signature && !m.signature->key_id.empty()) {
      bool seen = false;
      for (const auto &k : f.key_ids) seen = seen || k == m.signature->key_id;
      if (!seen) f.key_ids.push_back(m.signature->key_id);
    }
    return f.vermagic.has_value();
  };

  TreeFacts facts;
  if (read_exports) {
    // Every module's exports: the expensive case, cached (compat/tree-facts.h).
    std::string identity = tree_identity(files);
    if (auto cached = read_tree_facts(cache_dir, tree, identity)) {
      facts = std::move(*cached);
      if (!files.empty()) p.sources.push_back("module exports of " + tree + " (cached)");
    } else {
      std::vector<std::optional<ModuleInfo>> slots(files.size());
      parallel_for_each(files.size(), [&](size_t i) {
        if (auto m = read_module(files[i])) slots[i] = std::move(*m);
      });
      std::set<std::string> seen;
      for (auto &s : slots) {
        if (!s) continue;
        take_reference(*s, facts);
        std::string owner = normalize_module_name(s->get("name").value_or(module_name_from_path(s->path)));
        if (!license_is_gpl_compatible(s->get("license").value_or("unspecified"))) facts.proprietary.insert(owner);
        for (const auto &e : s->exports)
          if (seen.insert(e.name).second) facts.exports.emplace_back(e.name, KernelExport{owner, e.license, e.ns, e.crc});
      }
      write_tree_facts(cache_dir, tree, identity, facts);
      if (!files.empty()) p.sources.push_back("module exports of " + tree);
    }
    p.exports_have_licence = true;
  } else {
    size_t tried = 0;
    for (const auto &f : files) {
      if (tried++ > 50) break;
      auto m = read_module(f);
      if (m && take_reference(*m, facts)) break;
    }
  }
  if (!p.vermagic) p.vermagic = facts.vermagic;
  if (!p.module_layout_crc) p.module_layout_crc = facts.module_layout_crc;
  if (!p.this_module_size) p.this_module_size = facts.this_module_size;
  if (!p.arch) p.arch = facts.arch;
  for (auto &k : facts.key_ids)
    if (std::find(p.trusted_key_ids.begin(), p.trusted_key_ids.end(), k) == p.trusted_key_ids.end())
      p.trusted_key_ids.push_back(std::move(k));
  p.proprietary_modules.insert(facts.proprietary.begin(), facts.proprietary.end());
  for (auto &[name, e] : facts.exports) p.exports.try_emplace(name, std::move(e));
  p.sources.push_back("module tree " + tree + (files.empty() ? " (no modules in it)" : ""));
  return {};
}

static Status learn_trusted_keys(const std::vector<std::pair<std::string, std::string>> &files, KernelProfile &p,
                                 const std::string &cache_dir) {
  std::vector<std::string> from;
  for (const auto &[kind, f] : files) {
    if (kind == "image" || kind == "image-auto") {
      auto c = certs_from_kernel_image(f, cache_dir);
      if (!c) {
        if (kind == "image") return fail(c.error());
        p.sources.push_back("kernel image " + f + " not used: " + c.error().msg);
        continue;
      }
      for (auto &cert : c->certs) p.trusted_certs.push_back(std::move(cert));
      from.push_back(f + " (" + c->how + (c->from_cache ? ", cached" : "") + ")");
      p.sources.push_back("kernel image " + f);
    } else if (kind == "cert") {
      TRY_ASSIGN(std::vector<TrustedCert> certs, load_cert_file(f));
      from.push_back(fmt::format("{} ({} certificate{})", f, certs.size(), certs.size() == 1 ? "" : "s"));
      for (auto &cert : certs) p.trusted_certs.push_back(std::move(cert));
      p.sources.push_back("certificates " + f);
    }
  }
  if (!from.empty()) {
    p.keys_source = "certificates of ";
    for (size_t i = 0; i < from.size(); i++) p.keys_source += (i ? ", " : "") + from[i];
  } else if (!p.trusted_key_ids.empty()) {
    p.keys_source = "signer key ids of the tree's own modules (signatures matched by key id, not verified: give the kernel image)";
  }
  return {};
}

// The ELF identity of a kernel from its config, when no in-tree module gave it (the
// architectures Debian builds; elf_check_arch() of each).
static std::optional<ElfArch> arch_from_config(const KernelProfile &p) {
  if (!p.has_config()) return std::nullopt;
  auto on = [&](const char *name) { return p.config_on(name).value_or(false); };
  bool big = on("CONFIG_CPU_BIG_ENDIAN");
  if (on("CONFIG_X86_64")) return ElfArch{62, true, true};      // EM_X86_64
  if (on("CONFIG_X86_32")) return ElfArch{3, false, true};      // EM_386
  if (on("CONFIG_ARM64")) return ElfArch{183, true, !big};      // EM_AARCH64
  if (on("CONFIG_ARM")) return ElfArch{40, false, !big};        // EM_ARM
  if (on("CONFIG_RISCV")) return ElfArch{243, on("CONFIG_64BIT"), true};  // EM_RISCV
  if (on("CONFIG_PPC64")) return ElfArch{21, true, on("CONFIG_CPU_LITTLE_ENDIAN")};  // EM_PPC64
  if (on("CONFIG_S390")) return ElfArch{22, true, false};       // EM_S390
  return std::nullopt;
}

// A raw BTF file (/sys/kernel/btf/vmlinux): magic 0xeb9f in either byte order.
static bool raw_btf_file(const std::string &path) {
  unsigned char magic[2] = {0, 0};
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  size_t n = std::fread(magic, 1, 2, f);
  std::fclose(f);
  return n == 2 && ((magic[0] == 0x9f && magic[1] == 0xeb) || (magic[0] == 0xeb && magic[1] == 0x9f));
}

Result<KernelProfile> load_profile(const std::string &spec, const std::string &release, const std::string &cache_dir) {
  KernelProfile p;
  std::vector<std::string> trees;
  bool have_symvers = false;
  std::vector<std::pair<std::string, std::string>> files;  // kind, path
  std::error_code ec;
  for (auto part : split(spec, ',')) {
    std::string path(part);
    if (path.empty()) continue;
    if (fs::is_directory(path, ec)) {
      if (fs::is_directory(path + "/lib/modules", ec)) {
        // A root: lib/modules/REL, boot/{config,System.map}-REL, usr/src/linux-headers-REL.
        // Joined without a doubled slash ("/" gives "/boot/...", not "//boot/...").
        std::string r = path;
        while (!r.empty() && r.back() == '/') r.pop_back();
        std::string rel = release;
        if (rel.empty()) {
          std::vector<std::string> rels;
          for (auto &d : fs::directory_iterator(r + "/lib/modules", ec))
            if (d.is_directory()) rels.push_back(d.path().filename().string());
          std::sort(rels.begin(), rels.end());
          if (rels.size() != 1)
            return fail(Errc::invalid_argument,
                        path + ": " + std::to_string(rels.size()) +
                            " releases under lib/modules; say which with -k");
          rel = rels[0];
        }
        p.release = rel;
        trees.push_back(r + "/lib/modules/" + rel);
        for (const char *c : {"/boot/config-", "/boot/System.map-"}) {
          std::string f = r + c + rel;
          if (fs::exists(f, ec)) files.emplace_back(c[6] == 'c' ? "config" : "map", f);
        }
        if (std::string f = r + "/boot/vmlinuz-" + rel; fs::exists(f, ec)) files.emplace_back("image-auto", f);
        for (std::string f : {r + "/lib/modules/" + rel + "/build/Module.symvers",
                              r + "/usr/src/linux-headers-" + rel + "/Module.symvers"})
          if (fs::exists(f, ec)) {
            files.emplace_back("symvers", f);
            break;
          }
      } else {
        trees.push_back(path);
        if (p.release.empty()) p.release = fs::path(path).lexically_normal().filename().string();
        if (p.release.empty())
          p.release = fs::path(path).lexically_normal().parent_path().filename().string();
        if (fs::exists(path + "/build/Module.symvers", ec))
          files.emplace_back("symvers", path + "/build/Module.symvers");
        // ROOT/lib/modules/REL: the image of that release in ROOT/boot, as for a root.
        fs::path tree = fs::path(path).lexically_normal();
        if (tree.filename().empty()) tree = tree.parent_path();
        fs::path mods = tree.parent_path();
        if (mods.filename() == "modules" && mods.parent_path().filename() == "lib") {
          fs::path image = mods.parent_path().parent_path() / "boot" / ("vmlinuz-" + tree.filename().string());
          if (fs::exists(image, ec)) files.emplace_back("image-auto", image.string());
        }
      }
      continue;
    }
    if (!fs::exists(path, ec)) return fail(Errc::not_found, path + ": no such file or directory");
    std::string base = fs::path(path).filename().string();
    auto has_suffix = [&](std::string_view e) { return base.size() >= e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0; };
    if (raw_btf_file(path)) files.emplace_back("btf", path);
    else if (base.starts_with("vmlinuz") || base.starts_with("vmlinux") || base.starts_with("bzImage")) files.emplace_back("image", path);
    else if (has_suffix(".pem") || has_suffix(".der") || has_suffix(".crt") || has_suffix(".x509") || has_suffix(".cer"))
      files.emplace_back("cert", path);
    else if (base.find("symvers") != std::string::npos) files.emplace_back("symvers", path);
    else if (base.starts_with("System.map")) files.emplace_back("map", path);
    else if (base.starts_with("config") || base.starts_with(".config")) files.emplace_back("config", path);
    else {
      // By content: a tab-separated 0x... line is Module.symvers, "CONFIG_" is a config.
      TRY_ASSIGN(std::string text, read_file(path));
      if (looks_like_kernel_image(ByteView(text))) files.emplace_back("image", path);
      else if (looks_like_cert_file(ByteView(text))) files.emplace_back("cert", path);
      else if (text.starts_with("0x")) files.emplace_back("symvers", path);
      else if (text.find("CONFIG_") != std::string::npos) files.emplace_back("config", path);
      else files.emplace_back("map", path);
    }
    if (p.release.empty()) {
      size_t dash = base.find('-');
      if (dash != std::string::npos && base.size() > dash + 1 && std::isdigit(static_cast<unsigned char>(base[dash + 1])))
        p.release = base.substr(dash + 1);
    }
  }
  for (const auto &[kind, f] : files) {
    if (kind == "symvers") have_symvers = true;
    if (kind == "btf" || kind == "image" || (kind == "image-auto" && p.btf_file.empty())) p.btf_file = f;
    if (kind == "btf") p.sources.push_back("BTF " + f);
  }
  // Module.symvers first: it carries CRCs and licences; System.map only adds names.
  for (const auto &kind : {"symvers", "map", "config"})
    for (const auto &[k, f] : files) {
      if (k != kind) continue;
      TRY_ASSIGN(std::string text, read_file(f));
      if (k == "symvers") TRY(parse_module_symvers(text, f, p));
      else if (k == "map") TRY(parse_system_map(text, f, p));
      else TRY(parse_kernel_config(text, f, p));
    }
  for (const auto &t : trees) TRY(learn_module_tree(t, !have_symvers, p, cache_dir));
  TRY(learn_trusted_keys(files, p, cache_dir));
  // vmlinux exports module_layout (its CRC is struct module's) when modversions are on.
  if (!p.module_layout_crc)
    if (auto it = p.exports.find("module_layout"); it != p.exports.end() && it->second.owner == "vmlinux")
      p.module_layout_crc = it->second.crc;
  parse_release(p.release, p.major, p.minor);
  if (p.vermagic && p.major == 0) {
    std::string rel = p.vermagic->substr(0, p.vermagic->find(' '));
    parse_release(rel, p.major, p.minor);
    if (p.release.empty()) p.release = rel;
  }
  if (!p.arch) p.arch = arch_from_config(p);
  if (p.sources.empty()) return fail(Errc::invalid_argument, spec + ": nothing to learn the kernel from");
  if (p.knows_nothing()) {
    // Nothing a check could use: say what was read and what would help.
    std::string read;
    for (const auto &s : p.sources) read += (read.empty() ? "" : ", ") + s;
    std::string rel = p.major > 0 ? p.release : "REL";
    bool placeholder = read.find("(placeholder, ignored)") != std::string::npos;
    return fail(Errc::invalid_argument,
                fmt::format("{}: no kernel facts found (no vermagic, exports, struct module size or config); read: {}. {}"
                            "Give the module tree (lib/modules/{}), Module.symvers (package linux-headers-{}) or "
                            "config-{}",
                            spec, read,
                            placeholder ? "Debian's boot/System.map is a placeholder: install linux-headers-" + rel +
                                              " for Module.symvers. "
                                        : "",
                            rel, rel, rel));
  }
  return p;
}

}  // namespace kmx
