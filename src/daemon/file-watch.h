// Tells the daemon when files its loader reads may have changed, so that it looks at them only
// then (instead of stat()ing them on a timer): inotify(7) watches on a set of paths.
//
//   * a directory is watched itself: files created, removed, renamed into it or written in it
//     (depmod renames each new index into the module directory; an editor renames its copy
//     into modprobe.d or writes the file in place);
//   * a file is watched through its directory, counting only the events that name it;
//   * a path that does not exist yet is watched through its nearest existing ancestor, counting
//     only the events that name the path's next component, so that a directory created later
//     (a missing /etc/modprobe.d) is seen while the rest of /etc stays quiet; every counted
//     event re-arms the watches, which then follow the new directory itself.
// An event only says "look again": the caller's own comparison (the loader's stamps: device,
// inode, size, mtime) decides whether anything changed. Symlinked files are watched at their
// targets' directories too, when the caller passes those.
#pragma once

#include <sys/inotify.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace kmx {

class FileWatch {
public:
  static Result<FileWatch> open(std::vector<std::string> paths);
  FileWatch(FileWatch &&o) noexcept;
  FileWatch &operator=(FileWatch &&o) noexcept;
  FileWatch(const FileWatch &) = delete;
  FileWatch &operator=(const FileWatch &) = delete;
  ~FileWatch();

  int fd() const { return fd_; }
  // Watch these paths from now on (the caller's set can change after a reload).
  Status watch(std::vector<std::string> paths);
  // Reads every pending event without blocking; true when there was any (the watches are then
  // re-armed on the same paths).
  bool drain();
  // The directories watched now (for tests and the daemon's log).
  std::vector<std::string> watched() const;

private:
  struct Target {
    std::string dir;   // the directory watched
    std::string only;  // the entry of it that matters; empty: all of them
  };
  struct Watch {
    int wd;
    Target target;
  };
  FileWatch() = default;
  static Target target_for(std::string path);
  Status arm();
  bool counts(const struct inotify_event &ev) const;

  int fd_ = -1;
  std::vector<std::string> paths_;
  std::vector<Watch> watches_;
};

}  // namespace kmx
