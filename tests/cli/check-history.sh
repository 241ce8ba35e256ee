# kmx check --history: for a symbol the target kernel does not export, the pair of versions
# between which it was removed or added, over real Debian kernels 6.1, 6.12 and 7.2 (unstable).
# 1. Differential: every refused symbol of the 6.1 tree's drivers/net modules checked against
#    6.12, with 6.1 and 7.2 as history; the expected hints are computed here from the three
#    Module.symvers files (names only), independently of kmx.
# 2. follow_pfn (removed in 6.10): the lab's check_pfn module built against 6.12's headers
#    says "removed between 6.1 and 6.12" (needs gcc and make); with the 6.1 image root as
#    history (no vmlinux export list there) it says that 6.1 is not known.
source "$(dirname "$0")/common.sh"
need python3
check_kernels
h2=$(tree_root headers-6.12)
s3=$(tree_symvers headers-7.2)

# 1. The history kernels are bare Module.symvers files: their releases come from the directory.
rc=0
"$KMX" check --all --json -t "$r2,$s2" --history "$s3" --history "$s1" "$m1/kernel/drivers/net" >"$TMP/net.json" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc checking 6.1 modules against 6.12"
python3 - "$TMP/net.json" "$s1" "$s2" "$s3" <<'PY' || fail "history hints differ from the Module.symvers files"
import json, re, sys
verdicts = json.load(open(sys.argv[1]))
def names(path):
    return {line.split("\t")[1] for line in open(path) if line.count("\t") >= 3}
kernels = [("6.1", "6.1.0-54-amd64", names(sys.argv[2])),
           ("6.12", "6.12.117+deb12-amd64", names(sys.argv[3])),
           ("7.2", "7.2.13+deb14-amd64", names(sys.argv[4]))]
def expected(sym):
    out = []
    for (va, ra, a), (vb, rb, b) in zip(kernels, kernels[1:]):
        if sym in a and sym not in b:
            out.append(f"{sym}: removed between {va} and {vb} (exported by {ra}, not by {rb})")
        elif sym not in a and sym in b:
            out.append(f"{sym}: added between {va} and {vb} (not exported by {ra}, exported by {rb})")
    if not any(sym in s for _, _, s in kernels):
        out.append(f"{sym}: not exported by any given kernel ({', '.join(r for _, r, _ in kernels)})")
    return out
pat = re.compile(r"^(\S+): (removed between|added between|not exported by any given kernel)")
checked = removed = added = nowhere = 0
for v in verdicts:
    syms = [c["check"][len("symbol "):] for c in v["checks"] if c["id"] == "F1"]
    got = {}
    for h in v["hints"]:
        m = pat.match(h)
        if m:
            got.setdefault(m.group(1), []).append(h)
    for s in syms:
        want = expected(s)
        if got.get(s, []) != want:
            sys.exit(f"{v['module']}: {s}: kmx {got.get(s)} expected {want}")
        checked += 1
        removed += any(" removed " in w for w in want)
        added += any(" added " in w for w in want)
        nowhere += any("any given" in w for w in want)
    extra = set(got) - set(syms)
    if extra:
        sys.exit(f"{v['module']}: history hints for symbols that are not unknown: {sorted(extra)}")
if checked < 1000 or not removed or not added:
    sys.exit(f"too few cases: {checked} symbols, {removed} removed, {added} added")
print(f"history: {checked} unknown symbols in {len(verdicts)} modules agree with the Module.symvers files "
      f"({removed} removed, {added} added again, {nowhere} nowhere)")
PY

# 2. follow_pfn in a module built against 6.12 (the symbol exists in 6.1 only).
grep -qP '^0x[0-9a-f]+\tfollow_pfn\t' "$s1" || fail "6.1 Module.symvers lacks follow_pfn"
! grep -qP '^0x[0-9a-f]+\tfollow_pfn\t' "$s2" "$s3" || fail "follow_pfn in 6.12/7.2 Module.symvers"
command -v make >/dev/null && command -v gcc >/dev/null || skip "gcc/make not installed (part 1 passed)"
kb=$(tree_root kbuild-6.12)
hc=$(tree_root headers-common-6.12)
# One headers tree as linux-headers-*.deb installs it: the arch part, common part and kbuild.
mkdir -p "$TMP/hdr"
for d in "$h2" "$hc" "$kb"; do cp -al "$d/usr" "$TMP/hdr/" 2>/dev/null || cp -a "$d/usr" "$TMP/hdr/"; done
hdr=$(ls -d "$TMP"/hdr/usr/src/linux-headers-*-amd64)
common=$(sed -n 's|^include /usr/src/\(.*\)/Makefile$|\1|p' "$hdr/Makefile")
rm -f "$hdr/Makefile"
echo "include $TMP/hdr/usr/src/$common/Makefile" >"$hdr/Makefile"
mkdir -p "$TMP/pfn"
cp "$KMX_SRC/tests/vm/check-modules/check_pfn.c" "$TMP/pfn/"
echo 'obj-m := check_pfn.o' >"$TMP/pfn/Kbuild"
make -s -C "$hdr" M="$TMP/pfn" CONFIG_DEBUG_INFO_BTF_MODULES= KBUILD_MODPOST_WARN=1 modules >"$TMP/make.log" 2>&1 ||
  { cat "$TMP/make.log" >&2; fail "building check_pfn against 6.12 headers"; }
rc=0
"$KMX" check --insmod -t "$r2,$s2" --history "$s1" --history "$s3" "$TMP/pfn/check_pfn.ko" >"$TMP/pfn.txt" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc for check_pfn in 6.12: $(cat "$TMP/pfn.txt")"
grep -qx "  hint: follow_pfn: removed between 6.1 and 6.12 (exported by 6.1.0-54-amd64, not by 6.12.117+deb12-amd64)" \
  "$TMP/pfn.txt" || fail "follow_pfn history: $(cat "$TMP/pfn.txt")"
# An image root as history: Debian's System.map there is a placeholder, so only module exports
# are known and the hint says so instead of guessing.
"$KMX" check --insmod -t "$r2,$s2" --history "$r1" "$TMP/pfn/check_pfn.ko" >"$TMP/pfn-root.txt" || true
grep -qx "  hint: follow_pfn: not known for 6.1.0-54-amd64 (only module exports: give its Module.symvers or System.map)" \
  "$TMP/pfn-root.txt" || fail "history from an image root: $(cat "$TMP/pfn-root.txt")"
echo "ok: check-history"
