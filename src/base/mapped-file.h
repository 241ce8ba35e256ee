// A read-only view of a whole file: mmap for regular files, a read() buffer otherwise
// (pipes, /proc, empty files), so callers always see one contiguous ByteView.
#pragma once

#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

// How a regular file is going to be used: read whole (read() is cheaper than mmap's page
// faults for small files), or looked up in a few places (an index: mmap, only the pages a
// lookup touches are read).
enum class Access { whole, sparse };

class MappedFile {
public:
  static Result<MappedFile> open(const std::string &path, Access access = Access::whole);

  MappedFile(MappedFile &&o) noexcept;
  MappedFile &operator=(MappedFile &&o) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  ByteView view() const { return map_ ? ByteView(static_cast<const u8 *>(map_), size_) : ByteView(buf_.get(), size_); }
  const std::string &path() const { return path_; }

private:
  MappedFile() = default;
  void reset();

  std::string path_;
  void *map_ = nullptr;
  size_t size_ = 0;   // bytes of the mapping, or of buf_ that hold the file
  // A read() buffer, deliberately not a Bytes: a vector value-initialises every byte it
  // grows by, and that memset of the whole capacity used to cost more than the read itself.
  std::unique_ptr<u8[]> buf_;
};

// Read a whole (small) file into a string; for config and text index files.
Result<std::string> read_file(const std::string &path);

}  // namespace kmx
