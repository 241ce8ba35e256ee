// The kmod .bin trie index (modules.dep.bin, modules.alias.bin, modules.symbols.bin,
// modules.builtin.bin, modules.builtin.alias.bin): an in-memory builder that serialises
// byte-identically to kmod 30's depmod, and a bounds-checked reader over the file bytes.
//
// The on-disk format is described once, at the top of trie-writer.cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/mapped-file.h"
#include "base/result.h"
#include "base/types.h"

namespace kmx {

inline constexpr u32 INDEX_MAGIC = 0xB007F457;
inline constexpr u32 INDEX_VERSION_MAJOR = 0x0002;
inline constexpr u32 INDEX_VERSION_MINOR = 0x0001;
inline constexpr u32 INDEX_VERSION = (INDEX_VERSION_MAJOR << 16) | INDEX_VERSION_MINOR;
inline constexpr u32 INDEX_CHILDMAX = 128;

inline constexpr u32 INDEX_NODE_FLAGS = 0xF0000000;
inline constexpr u32 INDEX_NODE_PREFIX = 0x80000000;
inline constexpr u32 INDEX_NODE_VALUES = 0x40000000;
inline constexpr u32 INDEX_NODE_CHILDS = 0x20000000;
inline constexpr u32 INDEX_NODE_MASK = 0x0FFFFFFF;

struct IndexValue {
  u32 priority = 0;
  std::string value;
  bool operator==(const IndexValue &) const = default;
};

// Builds the trie exactly as kmod's depmod index_insert() does: a Patricia trie whose shape
// depends only on the set of keys, and per-key value lists kept sorted by priority where a
// new value goes *before* existing values of equal priority (kmod's insertion rule).
class IndexBuilder {
public:
  IndexBuilder();

  // Adds value under key. Returns true when the key already held an equal value (kmod's
  // "duplicate" report, shown with depmod -w). Keys and values must be 7-bit ASCII without
  // NUL; anything else is refused (kmod would index out of its child array).
  Result<bool> insert(std::string_view key, std::string_view value, u32 priority);

  // The complete file: header, then nodes in kmod 30's post-order.
  Result<Bytes> serialize() const;

  size_t node_count() const { return nodes_.size(); }

private:
  struct Node {
    std::string prefix;
    std::vector<IndexValue> values;
    std::vector<std::pair<u8, u32>> children;  // (character, node index), sorted by character
  };
  Status write_node(u32 idx, Bytes &out, u32 &offset) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root
};

// A read-only view of an index file. Every offset, length and count read from the file is
// checked; a malformed file yields an Error naming the node offset and the problem, never
// an out-of-bounds read. Traversals are bounded by the file size, so cycles cannot hang.
class IndexReader {
public:
  static Result<IndexReader> parse(ByteView data);

  // The first value of `key` (kmod index_mm_search), or nullopt.
  Result<std::optional<std::string>> lookup(std::string_view key) const;

  // All values of every key that, read as an fnmatch(3) pattern, matches `key` (kmod
  // index_mm_searchwild), in kmod's result order: ascending priority, and among equal
  // priorities the value found last first.
  Result<std::vector<IndexValue>> search_wild(std::string_view key) const;

  // Every key/value as "KEY VALUE\n" lines in trie order, keys prefixed with `prefix`
  // (kmod index_mm_dump, as used by modprobe -c / libkmod dump).
  Result<std::string> dump(std::string_view prefix = "") const;

  // Every (key, value) in trie order, values in file order.
  Result<std::vector<std::pair<std::string, IndexValue>>> entries() const;

  u32 version() const { return version_; }

private:
  struct Node {
    u32 offset = 0;  // masked file offset, for messages
    std::string_view prefix;
    u8 first = INDEX_CHILDMAX, last = 0;
    ByteView children;  // (last - first + 1) big-endian u32 offsets
    std::vector<IndexValue> values;  // file order
    u32 child(int ch) const;         // raw child word for ch, 0 if none
  };
  class Walk;

  Result<std::optional<Node>> read_node(u32 raw) const;

  ByteView data_;
  u32 version_ = 0;
  u32 root_ = 0;
};

// An index file mapped read-only together with its reader (the reader borrows the mapping).
class IndexFile {
public:
  static Result<IndexFile> open(const std::string &path) {
    auto file = MappedFile::open(path, Access::sparse);
    if (!file) return fail(std::move(file).error());
    auto reader = IndexReader::parse(file->view());
    if (!reader) return fail(with_context(std::move(reader).error(), path));
    return IndexFile(std::move(*file), std::move(*reader));
  }
  const IndexReader &reader() const { return reader_; }
  const IndexReader *operator->() const { return &reader_; }

private:
  IndexFile(MappedFile f, IndexReader r) : file_(std::move(f)), reader_(std::move(r)) {}
  MappedFile file_;  // owns the bytes reader_ points into (mmap or heap buffer: stable on move)
  IndexReader reader_;
};

}  // namespace kmx
