# kmx abi-diff explains CRC changes with BTF, on Debian's 6.1.0-53 -> 6.1.0-54 kernels (images
# and headers' Module.symvers). pahole, an independent BTF reader, over the same vmlinux BTF
# (unpacked here with Python's lzma or the zstd tool, not by kmx) must agree with every sampled
# member offset and size kmx prints, the changed struct must really differ between the two
# kernels in pahole's output, and each step of the example paths must be a member of its struct
# in both kernels. At least 95% of the CRC changes must be explained by a named type change.
# The same pahole check runs on 6.1.0-47 -> 6.1.0-57, 6.12.107 -> 6.12.118 and 6.1.0-54 ->
# 6.12.117, pairs that abi-diff-genksyms.sh cannot check for lack of sources (a pair whose trees
# are not fetched is left out). kmx check's hint for a CRC mismatch names the same change when
# --history gives the build kernel.
source "$(dirname "$0")/common.sh"
command -v python3 >/dev/null || skip "python3 not installed"
command -v pahole >/dev/null || skip "pahole not installed (apt-get install pahole)"
command -v zstd >/dev/null || skip "zstd not installed (apt-get install zstd), needed for Debian 6.12's vmlinuz"
r1=$(tree_root amd64-6.1-53)
r2=$(tree_root amd64-6.1)
h1=$(tree_root headers-6.1-53)
h2=$(tree_root headers-6.1)
s1=$(ls "$h1"/usr/src/linux-headers-*/Module.symvers)
s2=$(ls "$h2"/usr/src/linux-headers-*/Module.symvers)
export KMX_CACHE_DIR=$TMP/cache

rc=0; "$KMX" abi-diff --json "$r1,$s1" "$r2,$s2" >"$TMP/diff.json" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc for differing kernels, want 1"
# The same again, from the cache; and as text.
"$KMX" abi-diff --paths 1 "$r1,$s1" "$r2,$s2" >"$TMP/diff.txt" || true
grep -q "^BTF: vmlinux BTF of .*vmlinuz-6.1.0-53-amd64 (cached) -> " "$TMP/diff.txt" || fail "BTF not cached: $(grep ^BTF "$TMP/diff.txt")"
grep -qE "^CRC changes explained: [0-9]+ of [0-9]+" "$TMP/diff.txt" || fail "no summary line"
grep -qE "^  [0-9]+ exports changed because struct " "$TMP/diff.txt" || fail "no root-cause groups"
# One unit: bytes, a bitfield's bit only after its byte offset ("offset 1248:0, size 4, bit width 8").
! grep -qE "[0-9]+ bits\b" "$TMP/diff.txt" || fail "a place in bits: $(grep -m1 -E "[0-9]+ bits\b" "$TMP/diff.txt")"
"$KMX" abi-diff --no-explain "$r1,$s1" "$r2,$s2" >"$TMP/plain.txt" || true
! grep -q "^BTF:" "$TMP/plain.txt" || fail "--no-explain read BTF"

# pahole_check NAME OLD_ROOT NEW_ROOT JSON MIN_CHANGED MIN_BITFIELDS: kmx abi-diff --json's
# explanation of OLD_ROOT -> NEW_ROOT (unpacked image packages) against pahole over the same
# vmlinux BTF (unpacked here with Python's lzma or the zstd tool, not by kmx) and the modules'
# split BTF. The sample is by rule: the changes of kmx's first 25 root-cause groups, read where each group's
# example export lives, and the paths of the 40 exports with the longest paths.
pahole_check() {
  local name=$1 r1=$2 r2=$3 json=$4 k r
  for k in 1 2; do
    r=$([ $k = 1 ] && echo "$r1" || echo "$r2")
    python3 - "$(ls "$r"/boot/vmlinuz-*)" "$TMP/$name-vmlinux$k" <<'PY' || fail "$name: could not unpack $r's vmlinuz"
import lzma, struct, subprocess, sys
img = open(sys.argv[1], "rb").read()
assert img[0x202:0x206] == b"HdrS"
base = ((img[0x1F1] or 4) + 1) * 512
off, length = struct.unpack_from("<II", img, 0x248)
payload = img[base + off : base + off + length - 4]  # the kernel appends the size, 4 bytes
if payload[:4] == b"\x28\xb5\x2f\xfd":  # zstd (Debian's 6.12), by the zstd tool
    out = subprocess.run(["zstd", "-dcq"], input=payload, capture_output=True, check=True).stdout
else:
    out = lzma.LZMADecompressor().decompress(payload)
open(sys.argv[2], "wb").write(out)
PY
  done

  python3 - "$json" "$TMP/$name-vmlinux1" "$TMP/$name-vmlinux2" "$r1" "$r2" "$name" "$5" "$6" <<'PY' || fail "$name: kmx and pahole disagree"
import json, os, re, subprocess, sys
d = json.load(open(sys.argv[1]))["explanation"]
vml = sys.argv[2:4]
def path(e, p):  # an export's path: its declaration, then the shared steps
    return [e["declaration"]] + d["vias"][p["via"]] if "via" in p else p["path"]
# Module files of each tree by module name.
modfiles = []
pair, min_changed, min_bitfields = sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
for root in sys.argv[4:6]:
    m = {}
    for dirpath, _, files in os.walk(root + "/lib/modules"):
        for f in files:
            if f.endswith(".ko"):
                m[f[:-3].replace("-", "_")] = os.path.join(dirpath, f)
    modfiles.append(m)
owner = {e["symbol"]: e["owner"] for e in d["exports"] + d["silent"]}
c = d["counts"]
share = c["type changed"] / c["changed"]
print(f"{pair}: CRC changes {c['changed']}: type change {c['type changed']} ({100 * share:.1f}%), no type change "
      f"{c['no type change']}, no BTF {c['no BTF']}; silent {c['silent']}")
assert c["changed"] >= min_changed, c
assert share >= 0.95, f"only {100 * share:.1f}% explained"
assert c["type changed"] + c["no type change"] + c["no BTF"] == c["changed"], c
unexplained = [e["symbol"] for e in d["exports"] if e["category"] == "no type change"]
print(f"{pair}: unexplained:", unexplained[:20], "..." if len(unexplained) > 20 else "")

def pahole(names, k, module=None):
    cmd = ["pahole", "-F", "btf", "-C", ",".join(sorted(names))]
    cmd += [f"--btf_base={vml[k]}", modfiles[k][module]] if module else [vml[k]]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    blocks, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^(struct|union) (\w+) \{$", line)
        if m:
            cur = m.group(2)
            blocks[cur] = []
        elif line == "};":
            cur = None
        elif cur:
            blocks[cur].append(line)
    return blocks

def members(block, top_only=True):
    # Top-level members: one tab of indentation, "decl; /* offset size */", a bitfield
    # "decl:width; /* offset:bit size */". Places are (offset, size) or, for a bitfield,
    # (offset, bit, size, width).
    out = {}
    for line in block:
        if top_only and not re.match(r"^\t[^\t]", line):
            continue
        m = re.match(r"^\t+(.*?);\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/", line)
        if not m:
            continue
        decl, width = re.sub(r"\s*__attribute__\(\(.*\)\)$", "", m.group(1)), None  # "regs __attribute__((__aligned__(64)))"
        w = re.search(r":(\d+)$", decl)
        if w:
            decl, width = decl[: w.start()], int(w.group(1))
        f = re.search(r"\(\*\s*(\w+)\)", decl) or re.search(r"(\w+)\s*(\[[^\]]*\])*\s*$", decl)
        if f:
            out[f.group(1)] = ((int(m.group(2)), int(m.group(3)), int(m.group(4)), width) if width is not None
                               else (int(m.group(2)), int(m.group(4))))
    return out

place_re = re.compile(r"offset (\d+)(?::(\d+))?, size (\d+)(?:, bit width (\d+))?$")
def place(text):
    m = place_re.search(text) if text else None
    if not m:
        return None
    if m.group(4) is None:
        return (int(m.group(1)), int(m.group(3)))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)))
# The changes of the first groups, each read where its example export lives: vmlinux or the
# exporting module's split BTF over vmlinux's.
checked, held, bitfields, places = 0, 0, 0, 0
for g in d["groups"][:25]:
    ch = d["changes"][g["cause"]]
    sym = g["example"][0].split("(")[0]
    module = None if owner.get(sym, "vmlinux") == "vmlinux" else owner[sym]
    if module and not all(module in m for m in modfiles):
        continue
    steps = [tuple(s.split(".", 1)) for s in g["example"][1:-1] if "." in s and "(anonymous" not in s]
    names = {a for a, _ in steps}
    sample = (ch["type"].startswith("struct ") and "(anonymous" not in ch["type"] and ch["member"]
              and not ch["member"].startswith("(anonymous")
              and ch["change"] in ("member added", "member removed", "member retyped", "member moved"))
    name = ch["type"][len("struct "):]
    if sample:
        names.add(name)
    old, new = pahole(names, 0, module), pahole(names, 1, module)
    if sample:
        assert name in old and name in new, f"pahole does not find struct {name} ({module or 'vmlinux'})"
        assert old[name] != new[name], f"struct {name}: pahole shows no difference, kmx says {ch['text']}"
        mo, mn = members(old[name]), members(new[name])
        want_old, want_new = place(ch["old"]), place(ch["new"])
        m = ch["member"]
        if ch["change"] == "member added":
            assert m not in mo, f"{ch['text']}: pahole has {m} in OLD at {mo.get(m)}"
        if ch["change"] == "member removed":
            assert m not in mn, f"{ch['text']}: pahole has {m} in NEW at {mn.get(m)}"
        if want_old:
            assert mo.get(m) == want_old, f"{ch['text']}: pahole OLD says {mo.get(m)}"
        if want_new:
            assert mn.get(m) == want_new, f"{ch['text']}: pahole NEW says {mn.get(m)}"
        bitfields += sum(1 for w in (want_old, want_new) if w and len(w) == 4)
        places += sum(1 for w in (want_old, want_new) if w)
        checked += 1
    for a, b in steps:
        assert a in old and a in new, f"path step {a}.{b}: pahole does not find struct {a} ({module or 'vmlinux'})"
        for k, blocks in ((0, old), (1, new)):
            assert b in members(blocks[a], top_only=False), f"path step {a}.{b}: no member {b} in kernel {k + 1}"
        held += 1
# The paths of exports with the longest ones, vmlinux's and a few modules'.
by_module = {}
for e in sorted((e for e in d["exports"] if e["category"] == "type changed"), key=lambda e: -len(path(e, e["paths"][0])))[:40]:
    module = None if e["owner"] == "vmlinux" else e["owner"]
    if module and not all(module in m for m in modfiles):
        continue
    for p in e["paths"]:
        by_module.setdefault(module, set()).update(
            tuple(s.split(".", 1)) for s in path(e, p)[1:-1] if "." in s and "(anonymous" not in s)
for module, steps in by_module.items():
    old, new = pahole({a for a, _ in steps}, 0, module), pahole({a for a, _ in steps}, 1, module)
    for a, b in steps:
        assert a in old and a in new, f"path step {a}.{b}: pahole does not find struct {a} ({module or 'vmlinux'})"
        for k, blocks in ((0, old), (1, new)):
            assert b in members(blocks[a], top_only=False), f"path step {a}.{b}: no member {b} in kernel {k + 1}"
        held += 1
print(f"{pair}: pahole agrees with {places} member offsets/sizes ({bitfields} bitfield places) of {checked} "
      f"structs it confirms different; {held} path steps hold in both kernels")
assert bitfields >= min_bitfields, f"only {bitfields} bitfield places checked"
assert checked >= 10, f"only {checked} changes could be checked"
assert held >= 10, held
PY
}

pahole_check 6.1.0-53-54 "$r1" "$r2" "$TMP/diff.json" 7000 1

# The JSON holds what the text says: each export's "because CHANGE / via PATH" lines and "and N
# more", from changes[cause] and declaration + vias[via]; and a whole-kernel diff stays small.
"$KMX" abi-diff "$r1,$s1" "$r2,$s2" >"$TMP/full.txt" || true
python3 - "$TMP/diff.json" "$TMP/full.txt" <<'PY' || fail "the JSON does not hold what the text says"
import json, os, sys
size = os.path.getsize(sys.argv[1])
d = json.load(open(sys.argv[1]))["explanation"]
def lines(e):
    out = [f"  {e['symbol']} {e['old_crc']} -> {e['new_crc']}"]
    for p in e["paths"]:
        steps = [e["declaration"]] + d["vias"][p["via"]] if "via" in p else p["path"]
        out += [f"    because {d['changes'][p['cause']]['text']}", f"      via {' -> '.join(steps)}"]
    n = sum(b - a + 1 for a, b in e["cause_runs"])
    if n > len(e["paths"]):
        out.append(f"    and {n - len(e['paths'])} more type changes")
    return out
want = []
for e in d["exports"]:
    if e["category"] == "type changed":
        want += lines(e)
text = open(sys.argv[2]).read().split("\n")
start = text.index("CRC changes behind their types:") + 1
got = text[start : start + len(want)]
bad = [(w, g) for w, g in zip(want, got) if w != g]
assert not bad and len(got) == len(want), bad[:3]
silent = [l for e in d["silent"] if e["depth"] <= 1 for l in lines(e)]
s0 = next(i for i, l in enumerate(text) if l.startswith("silent type changes: ")) + 1
assert text[s0 : s0 + len(silent)] == silent, "silent exports differ"
print(f"JSON {size} bytes holds the text's {len(want) + len(silent)} explanation lines; {len(d['vias'])} distinct vias")
assert size < 10_000_000, f"--json of a whole-kernel diff is {size} bytes"
PY

# Kernels without CRCs (Module.symvers all 0x00000000, as without CONFIG_MODVERSIONS): the
# exports whose types changed are the list, exactly the vmlinux exports that reach a type
# change in the run with CRCs (changed or silent there).
for k in 1 2; do
  s=$([ $k = 1 ] && echo "$s1" || echo "$s2")
  sed 's/^0x[0-9a-f]*\t/0x00000000\t/' "$s" >"$TMP/Module.symvers-$k"
done
"$KMX" abi-diff --json "$(ls "$r1"/boot/vmlinuz-*),$TMP/Module.symvers-1" "$(ls "$r2"/boot/vmlinuz-*),$TMP/Module.symvers-2" \
  >"$TMP/nocrc.json" || true
python3 - "$TMP/diff.json" "$TMP/nocrc.json" <<'PY' || fail "without CRCs: not the type-changed exports"
import json, sys
d = json.load(open(sys.argv[1]))["explanation"]
n = json.load(open(sys.argv[2]))["explanation"]
assert n["crcs"] is False, n["crcs"]
want = {e["symbol"] for e in d["exports"] + d["silent"] if e["owner"] == "vmlinux" and e.get("cause_runs")}
got = {e["symbol"] for e in n["exports"]}
assert got == want, (len(got), len(want), sorted(got ^ want)[:10])
assert not n["silent"]
print(f"without CRCs: {len(got)} exports with changed types")
PY

# kmx check: a 6.1.0-53 module refused by 6.1.0-54 (F4) names the type change behind each CRC
# mismatch when --history gives the kernel it was built for, the same nearest change abi-diff
# names for that export.
mod=$(ls "$r1"/lib/modules/*/kernel/drivers/net/dummy.ko)
"$KMX" check --all -t "$r2,$s2" --history "$r1,$s1" "$mod" >"$TMP/check.txt" || true
grep -q "F4   symbol dev_lstats_read" "$TMP/check.txt" || fail "dummy.ko: no F4 for dev_lstats_read: $(head -5 "$TMP/check.txt")"
hint=$(grep -m1 "^  hint: dev_lstats_read: 6.1.0-53-amd64 -> 6.1.0-54-amd64: " "$TMP/check.txt") ||
  fail "no type-change hint for dev_lstats_read: $(grep hint "$TMP/check.txt" | head -3)"
python3 - "$TMP/diff.json" "$hint" <<'PY' || fail "check's hint is not abi-diff's nearest change: $hint"
import json, sys
d = json.load(open(sys.argv[1]))["explanation"]
e = next(e for e in d["exports"] if e["symbol"] == "dev_lstats_read")
texts = {d["changes"][c]["text"] for c in e["nearest"]}
assert any(f": {t}, via dev_lstats_read(" in sys.argv[2] for t in texts), (texts, sys.argv[2])
PY
"$KMX" check --all -t "$r2,$s2" "$mod" >"$TMP/check-plain.txt" || true
! grep -q "hint: dev_lstats_read: 6.1.0-53" "$TMP/check-plain.txt" || fail "a type-change hint without --history"

# The same pahole check on pairs without kernel sources for genksyms (abi-diff-genksyms.sh has
# the pairs with sources): a longer 6.1 series, a 6.12 series and the 6.1 -> 6.12 step. A pair
# whose trees are not fetched is left out with its reason; the others still run.
pahole_pair() {  # NAME OLD_IMAGE OLD_HEADERS NEW_IMAGE NEW_HEADERS
  local name=$1 key dir roots=() rc=0 t0=$SECONDS
  for key in "$2" "$3" "$4" "$5"; do
    dir=$("$KMX_SRC/tests/data/fetch-trees.sh" path "$key")
    [ -e "$dir/.done" ] || { echo "$name: skipped: tree $key not fetched (run tests/data/fetch-trees.sh $key)"; return 0; }
    roots+=("$dir")
  done
  "$KMX" abi-diff --json "${roots[0]},$(ls "${roots[1]}"/usr/src/linux-headers-*/Module.symvers)" \
    "${roots[2]},$(ls "${roots[3]}"/usr/src/linux-headers-*/Module.symvers)" >"$TMP/$name.json" || rc=$?
  [ "$rc" = 1 ] || fail "$name: exit $rc for differing kernels, want 1"
  pahole_check "$name" "${roots[0]}" "${roots[2]}" "$TMP/$name.json" 10000 0
  echo "$name: $((SECONDS - t0)) s"
}
pahole_pair 6.1.0-47-57 amd64-6.1-47 headers-6.1-47 amd64-6.1-57 headers-6.1-57
pahole_pair 6.12.107-118 amd64-6.12-107 headers-6.12-107 amd64-6.12-118 headers-6.12-118
pahole_pair 6.1.0-54-6.12.117 amd64-6.1 headers-6.1 amd64-6.12 headers-6.12
echo "ok: abi-diff-btf"
