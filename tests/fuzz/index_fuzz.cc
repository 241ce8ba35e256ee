// Fuzz target for the .bin trie index reader: parse, dump, exact and wildcard lookups must
// return a value or an Error for any input, never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "index/trie-index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto r = kmx::IndexReader::parse(kmx::ByteView(data, size));
  if (!r) return 0;
  (void)r->dump("x ");
  (void)r->lookup("snd_hda_intel");
  (void)r->lookup("");
  (void)r->search_wild("pci:v00008086d00001234sv00001028sd00000001bc03sc00i00");
  (void)r->search_wild("symbol:printk");
  (void)r->search_wild("");
  return 0;
}
