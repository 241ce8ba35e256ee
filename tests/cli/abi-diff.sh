# kmx abi-diff between Debian's 6.1 and 6.12 kernels (headers' Module.symvers): every removed,
# added, CRC-changed, namespace-moved and licence-changed export must equal what a plain join of
# the two Module.symvers files says; and the kernels' facts (struct module size from in-tree
# modules, vermagic) must be reported as differing.
source "$(dirname "$0")/common.sh"
need python3
s1=$(tree_symvers headers-6.1)
s2=$(tree_symvers headers-6.12)

"$KMX" abi-diff --json "$s1" "$s2" >"$TMP/diff.json" && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "exit $rc for differing kernels, want 1"
python3 - "$s1" "$s2" "$TMP/diff.json" <<'PY' || fail "abi-diff disagrees with Module.symvers"
import json, sys
def load(p):
    d = {}
    for line in open(p):
        f = line.rstrip("\n").split("\t")
        d[f[1]] = (f[0], f[2], f[3], f[4] if len(f) > 4 else "")
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
want = set()
for s in a.keys() - b.keys(): want.add((s, "removed"))
for s in b.keys() - a.keys(): want.add((s, "added"))
for s in a.keys() & b.keys():
    if int(a[s][0], 16) != int(b[s][0], 16): want.add((s, "crc"))
    if a[s][3] != b[s][3]: want.add((s, "namespace"))
    if a[s][2] != b[s][2]: want.add((s, "licence"))
got = {(e["symbol"], e["change"]) for e in json.load(open(sys.argv[3]))["exports"] if e["change"] != "owner"}
if got != want:
    print("missing:", sorted(want - got)[:10], "extra:", sorted(got - want)[:10])
    sys.exit(1)
print(f"ok: {len(want)} export changes agree")
PY
grep -q '"follow_pfn"' "$TMP/diff.json" || fail "follow_pfn removal not reported"

# Whole kernels: the struct module size and vermagic facts.
r1=$(tree_root amd64-6.1)
r2=$(tree_root amd64-6.12)
"$KMX" abi-diff --no-explain "$r1,$s1" "$r2,$s2" >"$TMP/diff.txt" || true
grep -q '^struct module size: 0x380 -> 0x500$' "$TMP/diff.txt" || fail "struct module size change not reported"
grep -q '^vermagic: 6.1.0-54-amd64 SMP' "$TMP/diff.txt" || fail "vermagic change not reported"
# A kernel against itself: no difference, exit 0.
"$KMX" abi-diff "$s1" "$s1" >"$TMP/same.txt" || fail "same kernel: exit $?"
# Bad input names the file.
printf 'garbage\n' >"$TMP/Module.symvers"
"$KMX" abi-diff "$TMP/Module.symvers" "$s1" 2>"$TMP/err" && fail "garbage accepted" || true
grep -q "$TMP/Module.symvers:1: not a Module.symvers line" "$TMP/err" || fail "bad message: $(cat "$TMP/err")"
# Package roots without Module.symvers: vmlinux's exports are unknown on both sides. Nothing is
# called removed or added for lack of them (846 vmlinux exports were once reported "removed");
# the top says what was not compared.
"$KMX" abi-diff --no-explain --json "$r1" "$r2" >"$TMP/roots.json" || true
python3 - "$TMP/roots.json" <<'PY' || fail "roots without Module.symvers: $(head -c 2000 "$TMP/roots.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["notes"]) == 2 and all("vmlinux's exports" in n for n in d["notes"]), d["notes"]
assert d["not_comparable"] > 800, d["not_comparable"]
assert not [e for e in d["exports"] if e["change"] in ("removed", "added")], "removed/added without vmlinux's exports"
PY
"$KMX" abi-diff --no-explain "$r1" "$r2" >"$TMP/roots.txt" || true
sed -n 2p "$TMP/roots.txt" | grep -q "^note: vmlinux's exports of 6.1.0-54-amd64 are not known" ||
  fail "text: no note at the top: $(head -n3 "$TMP/roots.txt")"
rc=0; "$KMX" abi-diff "$s1" 2>/dev/null || rc=$?
[ "$rc" = 4 ] || fail "one kernel: exit $rc, want 4"
echo "ok: abi-diff"
