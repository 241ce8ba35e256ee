// Reader of the kmod .bin trie index (format: see trie-writer.cc).
//
// Unlike kmod's index_mm_read_node(), nothing read from the file is trusted: node offsets,
// prefix and value strings, the child range and the value count are all checked against
// the file bounds through a Cursor, and whole-trie traversals count visited nodes so that a
// file whose child words form a cycle or an exponential DAG fails instead of hanging.
#include <fnmatch.h>

#include <cstdio>

#include <algorithm>

#include "base/checked.h"
#include "index/trie-index.h"

namespace kmx {

namespace {

std::string at(u32 off) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%x", off);
  return buf;
}

// kmod's add_value() on the search result list: ascending priority, a new value goes before
// existing ones of the same priority.
void add_result(std::vector<IndexValue> &out, const IndexValue &v) {
  auto pos = std::find_if(out.begin(), out.end(), [&](const IndexValue &o) { return o.priority >= v.priority; });
  out.insert(pos, v);
}

}  // namespace

u32 IndexReader::Node::child(int ch) const {
  if (ch < first || ch > last) return 0;
  u64 off = static_cast<u64>(ch - first) * 4;
  return load<u32, false>(children.data() + off);
}

Result<IndexReader> IndexReader::parse(ByteView data) {
  Cursor cur(data);
  u32 magic = cur.be32();
  u32 version = cur.be32();
  u32 root = cur.be32();
  if (!cur.ok()) return fail(Errc::invalid_format, "index file too short for its header (" + std::to_string(data.size()) + " bytes, need 12)");
  if (magic != INDEX_MAGIC) return fail(Errc::invalid_format, "bad index magic " + at(magic) + " (expected 0xb007f457)");
  if (version >> 16 != INDEX_VERSION_MAJOR)
    return fail(Errc::invalid_format, "unsupported index major version " + std::to_string(version >> 16) + " (expected 2)");
  IndexReader r;
  r.data_ = data;
  r.version_ = version;
  r.root_ = root;
  return r;
}

Result<std::optional<IndexReader::Node>> IndexReader::read_node(u32 raw) const {
  u32 off = raw & INDEX_NODE_MASK;
  if (off == 0) return std::optional<Node>();
  if (off < 12 || off > data_.size())
    return fail(Errc::invalid_format, "index node offset " + at(off) + " outside the file (" + std::to_string(data_.size()) + " bytes)");
  Node n;
  n.offset = off;
  Cursor cur(data_, off);
  if (raw & INDEX_NODE_PREFIX) {
    n.prefix = cur.cstr();
    if (!cur.ok()) return fail(Errc::invalid_format, "index node " + at(off) + ": prefix runs past the end of the file");
  }
  if (raw & INDEX_NODE_CHILDS) {
    n.first = cur.u8v();
    n.last = cur.u8v();
    if (!cur.ok()) return fail(Errc::invalid_format, "index node " + at(off) + ": child range runs past the end of the file");
    if (n.first > n.last || n.last >= INDEX_CHILDMAX)
      return fail(Errc::invalid_format, "index node " + at(off) + ": bad child range " + std::to_string(n.first) + ".." +
                                            std::to_string(n.last) + " (must be within 0..127)");
    n.children = cur.bytes(static_cast<u64>(n.last - n.first + 1) * 4);
    if (!cur.ok()) return fail(Errc::invalid_format, "index node " + at(off) + ": child table runs past the end of the file");
  }
  if (raw & INDEX_NODE_VALUES) {
    u32 count = cur.be32();
    if (!cur.ok()) return fail(Errc::invalid_format, "index node " + at(off) + ": value count runs past the end of the file");
    // Each value takes at least 5 bytes; refuse counts the file cannot hold before allocating.
    if (static_cast<u64>(count) * 5 > cur.remaining())
      return fail(Errc::invalid_format, "index node " + at(off) + ": value count " + std::to_string(count) + " exceeds the file");
    n.values.reserve(count);
    for (u32 i = 0; i < count; i++) {
      u32 prio = cur.be32();
      std::string_view v = cur.cstr();
      if (!cur.ok()) return fail(Errc::invalid_format, "index node " + at(off) + ": value " + std::to_string(i) + " runs past the end of the file");
      n.values.push_back(IndexValue{prio, std::string(v)});
    }
  }
  return std::optional<Node>(std::move(n));
}

// Bounds whole-trie walks: a well-formed file has fewer nodes than bytes, since every node
// but an empty root occupies at least one byte.
class IndexReader::Walk {
public:
  explicit Walk(const IndexReader &r) : r_(r), budget_(r.data_.size() + 1) {}
  Result<std::optional<Node>> read(u32 raw, size_t depth) {
    if (budget_ == 0 || depth > 4096)
      return fail(Errc::invalid_format, "index has more nodes than its size allows (cycle in child offsets?)");
    budget_--;
    return r_.read_node(raw);
  }

private:
  const IndexReader &r_;
  u64 budget_;
};

Result<std::optional<std::string>> IndexReader::lookup(std::string_view key) const {
  u32 raw = root_;
  size_t i = 0;
  // Every step consumes at least one key character, so the loop is bounded by key.size().
  for (size_t steps = 0; steps <= key.size() + 1; steps++) {
    TRY_ASSIGN(std::optional<Node> node, read_node(raw));
    if (!node) return std::optional<std::string>();
    for (size_t j = 0; j < node->prefix.size(); j++)
      if (i + j >= key.size() || key[i + j] != node->prefix[j]) return std::optional<std::string>();
    i += node->prefix.size();
    if (i == key.size()) {
      if (node->values.empty()) return std::optional<std::string>();
      return std::optional<std::string>(node->values.front().value);
    }
    raw = node->child(static_cast<unsigned char>(key[i]));
    i++;
  }
  return std::optional<std::string>();
}

Result<std::vector<IndexValue>> IndexReader::search_wild(std::string_view key_in) const {
  std::string key(key_in);  // NUL-terminated for fnmatch
  std::vector<IndexValue> out;
  Walk walk(*this);
  std::string buf;

  // kmod's index_mm_searchwild_all(): visit the whole subtree, children first, and keep the
  // values of every key (read as a pattern) that matches the rest of the search key.
  auto all = [&](auto &&self, const Node &node, size_t j, const char *subkey, size_t depth) -> Status {
    size_t pushed = node.prefix.size() - j;
    buf.append(node.prefix.substr(j));
    if (node.last >= node.first && node.first < INDEX_CHILDMAX) {
      for (int ch = node.first; ch <= node.last; ch++) {
        u32 w = node.child(ch);
        TRY_ASSIGN(std::optional<Node> child, walk.read(w, depth + 1));
        if (!child) continue;
        buf.push_back(static_cast<char>(ch));
        TRY(self(self, *child, 0, subkey, depth + 1));
        buf.pop_back();
      }
    }
    if (!node.values.empty() && ::fnmatch(buf.c_str(), subkey, 0) == 0)
      for (const IndexValue &v : node.values) add_result(out, v);
    buf.resize(buf.size() - pushed);
    return {};
  };

  TRY_ASSIGN(std::optional<Node> node, walk.read(root_, 0));
  size_t i = 0;
  size_t depth = 0;
  while (node) {
    for (size_t j = 0; j < node->prefix.size(); j++) {
      char ch = node->prefix[j];
      if (ch == '*' || ch == '?' || ch == '[') {
        TRY(all(all, *node, j, key.c_str() + std::min(i + j, key.size()), depth));
        return out;
      }
      if (i + j >= key.size() || ch != key[i + j]) return out;
    }
    i += node->prefix.size();
    for (char wild : {'*', '?', '['}) {
      TRY_ASSIGN(std::optional<Node> child, walk.read(node->child(wild), depth + 1));
      if (!child) continue;
      buf.push_back(wild);
      TRY(all(all, *child, 0, key.c_str() + i, depth + 1));
      buf.pop_back();
    }
    if (i == key.size()) {
      for (const IndexValue &v : node->values) add_result(out, v);
      return out;
    }
    u32 w = node->child(static_cast<unsigned char>(key[i]));
    TRY_ASSIGN(std::optional<Node> next, walk.read(w, ++depth));
    node = std::move(next);
    i++;
  }
  return out;
}

Result<std::vector<std::pair<std::string, IndexValue>>> IndexReader::entries() const {
  std::vector<std::pair<std::string, IndexValue>> out;
  Walk walk(*this);
  std::string buf;
  auto visit = [&](auto &&self, const Node &node, size_t depth) -> Status {
    size_t pushed = node.prefix.size();
    buf.append(node.prefix);
    for (const IndexValue &v : node.values) out.emplace_back(buf, v);
    if (node.first <= node.last && node.first < INDEX_CHILDMAX) {
      for (int ch = node.first; ch <= node.last; ch++) {
        TRY_ASSIGN(std::optional<Node> child, walk.read(node.child(ch), depth + 1));
        if (!child) continue;
        buf.push_back(static_cast<char>(ch));
        TRY(self(self, *child, depth + 1));
        buf.pop_back();
      }
    }
    buf.resize(buf.size() - pushed);
    return {};
  };
  TRY_ASSIGN(std::optional<Node> root, walk.read(root_, 0));
  if (root) TRY(visit(visit, *root, 0));
  return out;
}

Result<std::string> IndexReader::dump(std::string_view prefix) const {
  TRY_ASSIGN(auto all, entries());
  std::string out;
  for (const auto &[key, v] : all) {
    out.append(prefix);
    out.append(key);
    out.push_back(' ');
    out.append(v.value);
    out.push_back('\n');
  }
  return out;
}

}  // namespace kmx
