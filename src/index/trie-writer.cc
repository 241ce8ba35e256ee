// Writer of the kmod .bin trie index, byte-identical to kmod 30's depmod.
//
// FORMAT (kmod libkmod/libkmod-index.c, "INDEX_VERSION 2.1"; module-init-tools index.c)
//
// Every integer is a 32-bit unsigned big-endian word. The file starts with
//     u32 magic   = 0xB007F457   ("BOOTFAST"; 0xB007FA57 was the pre-versioned magic)
//     u32 version = 0x00020001   (major 2 in the high half, minor 1 in the low half;
//                                 readers only check the major)
//     u32 root    = node word of the root node
// A "node word" holds the node's file offset in its low 28 bits (INDEX_NODE_MASK) and, in
// the high nibble, which optional fields the node has:
//     0x80000000 INDEX_NODE_PREFIX  prefix present
//     0x40000000 INDEX_NODE_VALUES  values present
//     0x20000000 INDEX_NODE_CHILDS  child table present
// A word whose offset part is 0 means "no node". At the node's offset, in this order:
//     char prefix[]        NUL-terminated          (PREFIX only; absent means "")
//     u8   first, last     child character range   (CHILDS only; 0 <= first <= last < 128)
//     u32  child[last - first + 1]                 (CHILDS only; node words, 0 = no child)
//     u32  value_count                             (VALUES only)
//     { u32 priority; char value[] NUL-terminated } [value_count]
//
// The trie is a Patricia trie over 7-bit ASCII keys: the arc from a parent to a child is
// labelled with one character (the child's slot in the parent's table) and the child's
// prefix holds the characters that follow it up to the next branch or key end. A node that
// ends a key carries that key's values, sorted by ascending priority (depmod uses the
// module's position in its list as priority).
//
// Node order: kmod 30 writes nodes in post-order (all children, in character order, before
// their parent), so the root is the last node and child words point backwards. kmod 34
// writes the same content in a different order; readers do not care, byte comparisons do.
// The shape only depends on the key set; value order inside a node follows kmod's
// insertion rule (see IndexBuilder).
#include <algorithm>

#include "index/trie-index.h"

namespace kmx {

IndexBuilder::IndexBuilder() { nodes_.emplace_back(); }

namespace {

Status check_ascii(std::string_view s, const char *what) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0 || u >= INDEX_CHILDMAX)
      return fail(Errc::invalid_argument, std::string("index ") + what + " has a byte outside 7-bit ASCII (0x" +
                                              hex(ByteView(&u, 1)) + "): only 7-bit ASCII is supported: " +
                                              std::string(s));
  }
  return {};
}

// kmod's index_add_value(): insert before the first value whose priority is not lower, so
// equal priorities end up in reverse insertion order. Reports an equal existing value.
bool add_value(std::vector<IndexValue> &values, std::string_view value, u32 priority) {
  bool duplicate = false;
  for (const IndexValue &v : values)
    if (v.value == value) duplicate = true;
  auto pos = std::find_if(values.begin(), values.end(), [&](const IndexValue &v) { return v.priority >= priority; });
  values.insert(pos, IndexValue{priority, std::string(value)});
  return duplicate;
}

}  // namespace

Result<bool> IndexBuilder::insert(std::string_view key, std::string_view value, u32 priority) {
  TRY(check_ascii(key, "key"));
  TRY(check_ascii(value, "value"));

  u32 cur = 0;
  size_t i = 0;
  for (;;) {
    // Make nodes_[cur].prefix a prefix of key[i..], splitting the node if it is not.
    {
      std::string &prefix = nodes_[cur].prefix;
      size_t j = 0;
      for (; j < prefix.size(); j++) {
        char ch = prefix[j];
        if (i + j < key.size() && key[i + j] == ch) continue;
        // The tail moves into a new child at character ch; the node keeps prefix[0..j).
        Node tail;
        tail.prefix = prefix.substr(j + 1);
        tail.values = std::move(nodes_[cur].values);
        tail.children = std::move(nodes_[cur].children);
        nodes_[cur].values.clear();
        nodes_[cur].children.clear();
        nodes_[cur].prefix.resize(j);
        u32 tail_idx = static_cast<u32>(nodes_.size());
        nodes_.push_back(std::move(tail));
        nodes_[cur].children.emplace_back(static_cast<u8>(ch), tail_idx);
        break;
      }
      i += nodes_[cur].prefix.size();
    }

    if (i == key.size()) return add_value(nodes_[cur].values, value, priority);

    u8 ch = static_cast<u8>(key[i]);
    auto &children = nodes_[cur].children;
    auto it = std::lower_bound(children.begin(), children.end(), ch,
                               [](const std::pair<u8, u32> &c, u8 v) { return c.first < v; });
    if (it == children.end() || it->first != ch) {
      u32 idx = static_cast<u32>(nodes_.size());
      children.insert(it, {ch, idx});
      Node leaf;
      leaf.prefix = std::string(key.substr(i + 1));
      leaf.values.push_back(IndexValue{priority, std::string(value)});
      nodes_.push_back(std::move(leaf));
      return false;
    }
    cur = it->second;
    i++;
  }
}

// Post-order, children in character order: kmod 30's index_write__node().
Status IndexBuilder::write_node(u32 idx, Bytes &out, u32 &word) const {
  const Node &n = nodes_[idx];
  std::vector<u32> child_words;
  u8 first = 0, last = 0;
  if (!n.children.empty()) {
    first = n.children.front().first;
    last = n.children.back().first;
    child_words.assign(last - first + 1, 0);
    for (const auto &[ch, child] : n.children) TRY(write_node(child, out, child_words[ch - first]));
  }

  if (out.size() > INDEX_NODE_MASK)
    return fail(Errc::too_large, "index file exceeds the format's 256 MiB offset limit");
  u32 offset = static_cast<u32>(out.size());
  if (!n.prefix.empty()) {
    out.insert(out.end(), n.prefix.begin(), n.prefix.end());
    out.push_back(0);
    offset |= INDEX_NODE_PREFIX;
  }
  if (!child_words.empty()) {
    out.push_back(first);
    out.push_back(last);
    for (u32 w : child_words) put_be32(out, w);
    offset |= INDEX_NODE_CHILDS;
  }
  if (!n.values.empty()) {
    put_be32(out, static_cast<u32>(n.values.size()));
    for (const IndexValue &v : n.values) {
      put_be32(out, v.priority);
      out.insert(out.end(), v.value.begin(), v.value.end());
      out.push_back(0);
    }
    offset |= INDEX_NODE_VALUES;
  }
  word = offset;
  return {};
}

Result<Bytes> IndexBuilder::serialize() const {
  Bytes out;
  out.reserve(nodes_.size() * 16 + 12);
  put_be32(out, INDEX_MAGIC);
  put_be32(out, INDEX_VERSION);
  put_be32(out, 0);  // root word, patched below
  u32 root = 0;
  TRY(write_node(0, out, root));
  store<u32, false>(out.data() + 8, root);
  return out;
}

}  // namespace kmx
