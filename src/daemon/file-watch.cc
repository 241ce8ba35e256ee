#include "daemon/file-watch.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace kmx {

namespace {

constexpr uint32_t kEvents = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_MODIFY |
                             IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR;

bool is_dir(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

// Where to watch `path` from: the path itself when it is a directory (every event counts);
// otherwise the nearest existing ancestor, where only events naming the next component of the
// path count (a file's own name in its directory, or the missing directory appearing).
FileWatch::Target FileWatch::target_for(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (is_dir(path)) return {path, ""};
  for (;;) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    std::string child = path.substr(slash + 1);
    if (parent == "/" || is_dir(parent)) return {parent, child};
    path = parent;
  }
}


Result<FileWatch> FileWatch::open(std::vector<std::string> paths) {
  FileWatch w;
  w.fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w.fd_ < 0) return fail_errno(errno, std::string("inotify_init1: ") + std::strerror(errno));
  TRY(w.watch(std::move(paths)));
  return w;
}

FileWatch::FileWatch(FileWatch &&o) noexcept
    : fd_(o.fd_), paths_(std::move(o.paths_)), watches_(std::move(o.watches_)) {
  o.fd_ = -1;
}

FileWatch &FileWatch::operator=(FileWatch &&o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    paths_ = std::move(o.paths_);
    watches_ = std::move(o.watches_);
    o.fd_ = -1;
  }
  return *this;
}

FileWatch::~FileWatch() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileWatch::watch(std::vector<std::string> paths) {
  paths_ = std::move(paths);
  return arm();
}

// Adding a watch on an inode already watched returns its descriptor and changes nothing, so
// arming again only removes the watches no path needs any more (whose IN_IGNORED events
// drain() does not count).
Status FileWatch::arm() {
  std::vector<Watch> watches;
  Status st;
  for (const std::string &p : paths_) {
    Target t = target_for(p);
    int wd = ::inotify_add_watch(fd_, t.dir.c_str(), kEvents);
    if (wd < 0) {
      if (st) st = fail_errno(errno, "inotify_add_watch " + t.dir + ": " + std::strerror(errno));
      continue;
    }
    // inotify hands out one descriptor per inode: paths in one directory share it.
    watches.push_back({wd, std::move(t)});
  }
  for (const Watch &old : watches_)
    if (std::none_of(watches.begin(), watches.end(), [&](const Watch &w) { return w.wd == old.wd; }))
      ::inotify_rm_watch(fd_, old.wd);
  watches_ = std::move(watches);
  return st;
}

std::vector<std::string> FileWatch::watched() const {
  std::vector<std::string> dirs;
  for (const Watch &w : watches_)
    if (std::find(dirs.begin(), dirs.end(), w.target.dir) == dirs.end()) dirs.push_back(w.target.dir);
  return dirs;
}

bool FileWatch::counts(const struct inotify_event &ev) const {
  if (ev.mask & IN_IGNORED) return false;        // a watch removed by arm()
  if (ev.mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF)) return true;
  std::string_view name = ev.len ? std::string_view(ev.name) : std::string_view();
  for (const Watch &w : watches_)
    if (w.wd == ev.wd && (w.target.only.empty() || w.target.only == name)) return true;
  return false;
}

bool FileWatch::drain() {
  alignas(struct inotify_event) char buf[8192];
  bool any = false;
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing more
    for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(struct inotify_event)) <= n;) {
      const auto *ev = reinterpret_cast<const struct inotify_event *>(buf + off);
      if (counts(*ev)) any = true;
      off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
    }
  }
  // A directory that appeared or went away changes what to watch: arm again. An error keeps
  // what could be watched; the next event tries again.
  if (any) (void)arm();
  return any;
}

}  // namespace kmx
