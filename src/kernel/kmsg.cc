#include "kernel/kmsg.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cctype>
#include <regex>

namespace kmx {
namespace {

bool parse_u64(std::string_view s, u64 &v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// Does `text` mention module `name` as a word ("name: ...", "module name: ...", "... name ...")?
bool mentions(std::string_view text, const std::string &name) {
  size_t pos = 0;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
  while ((pos = text.find(name, pos)) != std::string_view::npos) {
    bool left = pos == 0 || !word(text[pos - 1]);
    size_t end = pos + name.size();
    bool right = end >= text.size() || !word(text[end]);
    if (left && right) return true;
    pos = end;
  }
  return false;
}

// Lines about the signature checks, which print the reason, not the module.
bool signature_line(std::string_view text) {
  return text.find("Loading of unsigned module is rejected") != std::string_view::npos ||
         text.find("Loading of module with unavailable key is rejected") != std::string_view::npos ||
         text.find("Lockdown:") != std::string_view::npos;
}

// Lines about a module load that do not name the module: the signature checks, and the
// decompression and ELF checks, which run before the kernel knows the name.
bool generic_load_line(std::string_view text) {
  return signature_line(text) || text.find("Invalid ELF") != std::string_view::npos ||
         text.find("decompression failed") != std::string_view::npos;
}

}  // namespace

Result<KmsgRecord> parse_kmsg_record(std::string_view rec) {
  size_t semi = rec.find(';');
  if (semi == std::string_view::npos) return fail(Errc::invalid_format, "kmsg record without ';'");
  std::string_view head = rec.substr(0, semi);
  std::string_view body = rec.substr(semi + 1);
  std::vector<std::string_view> f;
  while (!head.empty()) {
    size_t c = head.find(',');
    f.push_back(head.substr(0, c));
    head = c == std::string_view::npos ? std::string_view() : head.substr(c + 1);
  }
  KmsgRecord r;
  u64 prio = 0;
  if (f.size() < 3 || !parse_u64(f[0], prio) || !parse_u64(f[1], r.seq) || !parse_u64(f[2], r.usec))
    return fail(Errc::invalid_format, "kmsg record header '" + std::string(rec.substr(0, semi)) + "' is not PRIO,SEQ,USEC,...");
  r.level = static_cast<int>(prio & 7);
  size_t nl = body.find('\n');
  r.text = body.substr(0, nl);
  return r;
}

Result<KmsgWatch> KmsgWatch::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, path + ": " + std::strerror(errno));
  if (::lseek(fd, 0, SEEK_END) < 0) {
    int err = errno;
    ::close(fd);
    return fail_errno(err, path + ": " + std::strerror(err));
  }
  return KmsgWatch(fd);
}

KmsgWatch::~KmsgWatch() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<KmsgRecord>> KmsgWatch::read_new() {
  std::vector<KmsgRecord> out;
  char buf[8192];
  // Bounded: the ring buffer holds a finite number of records; this guards against a kernel
  // that keeps logging faster than we read.
  for (int i = 0; i < 100000; ++i) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EPIPE) continue;
      if (errno == EAGAIN) break;
      return fail_errno(errno, std::string("/dev/kmsg: ") + std::strerror(errno));
    }
    if (n == 0) break;
    auto rec = parse_kmsg_record(std::string_view(buf, static_cast<size_t>(n)));
    if (rec) out.push_back(std::move(*rec));
  }
  return out;
}

LoadExplanation explain_load_failure(const std::vector<KmsgRecord> &records, const std::vector<std::string> &names,
                                     int err) {
  LoadExplanation ex;
  for (const KmsgRecord &r : records) {
    bool about = generic_load_line(r.text);
    for (const std::string &n : names) about = about || (!n.empty() && mentions(r.text, n));
    if (about) ex.lines.push_back(r.text);
  }

  // Rules in order of precedence, each over every line: a load can log a taint notice
  // ("module verification failed ... tainting kernel") before the line that explains it.
  static const std::regex crc_re(R"(disagrees about version of symbol (\S+))");
  static const std::regex ns_re(R"(uses symbol \(?([^\s)]+)\)? from namespace (\S+), but does not import it)");
  static const std::regex unknown_re(R"(Unknown symbol (\S+))");
  std::smatch m;
  auto any = [&](auto pred) {
    for (const std::string &l : ex.lines)
      if (pred(l)) return true;
    return false;
  };
  auto has = [](const std::string &l, const char *s) { return l.find(s) != std::string::npos; };
  if (any([&](const std::string &l) {
        return has(l, "version magic") || has(l, "of symbol module_layout") || has(l, "struct module size") ||
               has(l, "no symbol version for module_layout");
      })) {
    ex.hint = "it was built for another kernel (its vermagic/module_layout do not match the running kernel)";
  } else if (any([&](const std::string &l) { return std::regex_search(l, m, crc_re); })) {
    ex.hint = "it was built against a different version of symbol " + m[1].str() + " (symbol CRC mismatch: rebuild it for this kernel)";
  } else if (any([&](const std::string &l) { return std::regex_search(l, m, ns_re); })) {
    ex.hint = "it uses symbol " + m[1].str() + " from namespace " + m[2].str() + " without importing that namespace (MODULE_IMPORT_NS)";
  } else if (any([&](const std::string &l) { return std::regex_search(l, m, unknown_re); })) {
    ex.hint = "a symbol it needs is absent: " + m[1].str() + " (load the module that provides it first, e.g. with modprobe)";
  } else if (any([&](const std::string &l) { return signature_line(l); })) {
    ex.hint = "the kernel requires a valid signature (module.sig_enforce or lockdown) and this module has none it can verify";
  } else if (any([&](const std::string &l) { return has(l, "invalid for parameter") || has(l, "Unknown parameter"); })) {
    ex.hint = "the kernel refused a module parameter given on the command line (see modinfo -p for the valid ones)";
  } else if (any([&](const std::string &l) { return has(l, "blacklisted"); })) {
    ex.hint = "the kernel command line blacklists it (module_blacklist=)";
  } else if (any([&](const std::string &l) { return has(l, "decompression failed"); })) {
    ex.hint = "the kernel could not decompress the file: it is corrupt or truncated";
  } else if (any([&](const std::string &l) { return has(l, "Invalid ELF"); })) {
    ex.hint = "the file is not a loadable module for this kernel (wrong architecture, corrupt or not ELF)";
  }
  if (ex.hint.empty()) {
    if (err == EKEYREJECTED || err == ENOKEY)
      ex.hint = "the kernel requires a valid signature (module.sig_enforce or lockdown) and this module has none it can verify";
    else if (err == ENOEXEC && ex.lines.empty())
      ex.hint = "the file is not a loadable module for this kernel (wrong architecture, corrupt or not ELF)";
  }
  return ex;
}

}  // namespace kmx
