// /dev/kmsg: the kernel log as records, one per read(2) (Documentation/ABI/testing/dev-kmsg):
//
//   PRIO,SEQ,TIMESTAMP_USEC,FLAGS[,...];MESSAGE\n
//    KEY=VALUE\n                 (optional continuation lines, each starting with a space)
//
// PRIO holds facility*8 + level; MESSAGE escapes non-printable bytes as \xNN. A reader that
// seeks to SEEK_END sees only records logged after that point, which is how a load's own
// messages are told apart from older ones; EPIPE means records were overwritten meanwhile
// (the next read goes on with the oldest one still there).
//
// explain_load_failure() then picks the lines that concern a module and turns the kernel's
// wording into a one-line hint (another kernel's module, missing symbol, namespace not
// imported, signature required, blacklisted).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/types.h"

namespace kmx {

struct KmsgRecord {
  int level = 0;  // 0 (emerg) .. 7 (debug)
  u64 seq = 0;
  u64 usec = 0;
  std::string text;  // MESSAGE, \xNN escapes kept as printed by the kernel
};

// Parse one record as read(2) returns it; Errc::invalid_format if it is not one.
Result<KmsgRecord> parse_kmsg_record(std::string_view rec);

// Watches the kernel log from the moment it is opened.
class KmsgWatch {
public:
  static Result<KmsgWatch> open(const std::string &path = "/dev/kmsg");
  KmsgWatch(KmsgWatch &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  KmsgWatch(const KmsgWatch &) = delete;
  KmsgWatch &operator=(const KmsgWatch &) = delete;
  KmsgWatch &operator=(KmsgWatch &&) = delete;
  ~KmsgWatch();

  // Every record logged since open() (or the previous call) that is still in the buffer.
  Result<std::vector<KmsgRecord>> read_new();

private:
  explicit KmsgWatch(int fd) : fd_(fd) {}
  int fd_ = -1;
};

struct LoadExplanation {
  std::vector<std::string> lines;  // the kernel's lines about this load
  std::string hint;                // one line, empty when nothing more can be said
};

// Given the records a failed load produced and its errno, pick the lines that concern the
// module (known by any of `names`: the file's and the one in its .modinfo, which the kernel
// uses) and say in words why the kernel refused it.
LoadExplanation explain_load_failure(const std::vector<KmsgRecord> &records, const std::vector<std::string> &names,
                                     int err);

}  // namespace kmx
