// Directory helpers for kmx's own state (the persistence store, the control socket).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace kmx {

// mkdir -p, creating every missing directory with mode 0700 (existing ones are left as they
// are). The error names the directory that could not be created.
Status make_private_dirs(const std::string &dir);

// A directory that holds kmx's own state must be one no other user can write into: owned by
// root or by the effective user, with no write permission for group or others. A sticky,
// world-writable directory such as /tmp is refused too: another user could create the files a
// state file needs beside it (SQLite's -wal and -shm) before kmx does. Symbolic links in the
// path are followed; the directory they lead to is what is checked. Errc::not_found when it
// is missing, Errc::permission naming the owner or the mode when it is not private.
Status check_private_dir(const std::string &dir);

// The file in cache directory `dir` that holds what was derived from `source` (a kernel image):
// DIR/PREFIX-<fnv1a64 hex of source's real path, device, inode, size and mtime>-<NAME>, so a
// replaced or touched source misses the cache. NAME (cache_name_of) is the real path's file
// name, so that what was cached from a kernel's files can be found by its release once they
// are gone (vmlinuz-REL; the kernel-install hook's postrm.d removes them). "" when `dir` is ""
// or `source` cannot be stat'ed.
std::string source_cache_path(const std::string &dir, std::string_view prefix, const std::string &source);

// The last component of `real_path` as it ends a cache file's name: at most 128 bytes, "root"
// for "/".
std::string cache_name_of(std::string_view real_path);

}  // namespace kmx
