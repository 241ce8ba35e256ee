// Publish a file atomically: write to a temporary file in the same directory, fsync-free
// by default (as kmod), then rename() over the target. A reader sees either the old file
// or the complete new one; a crash leaves at most a stray temporary, never a half file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

enum class IfUnchanged { rewrite, keep };

// Write `content` to `path` atomically with the given mode. With IfUnchanged::keep an
// existing file whose bytes already equal `content` is left untouched (mtime preserved).
// Returns true if the file was (re)written.
Result<bool> write_file_atomic(const std::string &path, std::string_view content, unsigned mode = 0644,
                               IfUnchanged policy = IfUnchanged::rewrite);

// Files published together (depmod's index set). stage() writes each file to a temporary
// beside its target and commit() then renames them all, so a failed write (a full disk)
// leaves the previous set whole: the temporaries are removed and no target was touched. A
// kill during commit() leaves every file whole, each either the previous or the new one.
// Temporaries are named TARGET.kmx-tmp-XXXXXX; a set that is neither committed nor kept
// removes them when destroyed.
class FileSet {
public:
  FileSet() = default;
  FileSet(const FileSet &) = delete;
  FileSet &operator=(const FileSet &) = delete;
  ~FileSet() { abort(); }

  // Stages `content` for `path`. With IfUnchanged::keep, a file whose bytes already equal
  // `content` is not staged (its mtime is kept). On error nothing of the set is published.
  Status stage(const std::string &path, std::string_view content, unsigned mode = 0644,
               IfUnchanged policy = IfUnchanged::rewrite);
  // Renames every staged file over its target, in stage order.
  Status commit();
  // Removes the temporaries of anything not yet renamed.
  void abort();
  size_t staged() const { return staged_.size(); }

private:
  struct Staged {
    std::string tmp, path;
  };
  std::vector<Staged> staged_;
};

// Serialises publishers of one directory (flock on the directory itself, so no lock file is
// left behind); released by the destructor. While it is held, any TARGET.kmx-tmp-XXXXXX in
// the directory belongs to a publisher that died, and remove_stale_temporaries() may delete
// it without harming a live one.
class DirLock {
public:
  static Result<DirLock> acquire(const std::string &dir);
  DirLock(DirLock &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock &operator=(DirLock &&) = delete;
  ~DirLock();
  // Deletes temporaries left by killed publishers; returns how many.
  size_t remove_stale_temporaries() const;

private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace kmx
