# kmx abi-diff's explanations checked against genksyms itself: for exports whose modversions
# CRC changed, the .symtypes genksyms writes for the exporting object in each kernel's own
# source (Debian's source package, patched, prepared with that kernel's .config by
# tests/data/kernel-source.sh all, which scripts/test.sh runs) must show that every type kmx names for the export is one that
# differs: its record (s#, u#, e#, t#, or the export's own prototype line), or for an enum
# one of its constants' E# values, is reachable from the export's line in both expansions and
# its text differs. One limit is known and counted, not failed: BTF is deduplicated over the
# whole kernel, so kmx may name a struct that the exporting file only declares (genksyms writes
# "struct X { UNKNOWN }" and no change of X reaches that CRC; a path through such a struct
# is not followed by genksyms either). Every export must still have at least one of its causes
# (all the type changes kmx attributes to it, printed or not) that genksyms confirms. Pairs with sources in Debian's archive: 6.1.0-47 -> 6.1.0-53 (one series)
# and 6.1.0-53 -> 6.12.107+deb12 (a major step, both built with gcc-12).
#
# The exports are chosen by a rule, not by hand: kmx's root-cause groups in kmx's order, each
# in turn giving its next export (by name) that names only non-anonymous types and whose
# EXPORT_SYMBOL is in exactly one C file, the same in both trees; up to 30 per pair, at least
# 20 of which must build and be checked.
source "$(dirname "$0")/common.sh"
command -v python3 >/dev/null || skip "python3 not installed"
ks=$KMX_SRC/tests/data/kernel-source.sh
export KMX_CACHE_DIR=$TMP/cache
[ -n "${KMX_GENKSYMS_FETCH:-}" ] || for s in linux-6.1.170-3 linux-6.1.187-1 linux-6.12-6.12.107-1~deb12u1; do
  [ -e "${KMX_CACHE:-/var/cache/kmx-test}/src/$s/.kmx-prepared" ] ||
    skip "source tree $s not prepared (run tests/data/kernel-source.sh all, or this test with KMX_GENKSYMS_FETCH=1)"
done

spec() {  # IMAGE_KEY HEADERS_KEY
  local r h
  r=$(tree_root "$1")
  h=$(tree_root "$2")
  echo "$r,$(ls "$h"/usr/src/linux-headers-*/Module.symvers)"
}

check_pair() {  # NAME OLD_IMAGE OLD_HEADERS OLD_SRC NEW_IMAGE NEW_HEADERS NEW_SRC
  local name=$1 rc=0
  local old new
  old=$(spec "$2" "$3")
  new=$(spec "$5" "$6")
  "$KMX" abi-diff --json "$old" "$new" >"$TMP/$name.json" || rc=$?
  [ "$rc" = 1 ] || fail "$name: exit $rc for differing kernels, want 1"
  "$ks" exports "$4" "$3" >"$TMP/$name.exports-old" || fail "$name: no export index of $4"
  "$ks" exports "$7" "$6" >"$TMP/$name.exports-new" || fail "$name: no export index of $7"
  python3 - select "$TMP/$name.json" "$TMP/$name.exports-old" "$TMP/$name.exports-new" >"$TMP/$name.chosen" <<<"$py" ||
    fail "$name: selection failed"
  cut -d' ' -f2 "$TMP/$name.chosen" | sort -u >"$TMP/$name.files"
  # shellcheck disable=SC2046
  "$ks" symtypes "$4" "$3" $(cat "$TMP/$name.files") >"$TMP/$name.st-old"
  # shellcheck disable=SC2046
  "$ks" symtypes "$7" "$6" $(cat "$TMP/$name.files") >"$TMP/$name.st-new"
  python3 - check "$name" "$TMP/$name.json" "$TMP/$name.chosen" "$TMP/$name.st-old" "$TMP/$name.st-new" <<<"$py" ||
    fail "$name: kmx and genksyms disagree"
}

py=$(cat <<'PY'
import json, re, sys

mode = sys.argv[1]
ANON = "(anonymous"

d = json.load(open(sys.argv[3 if mode == "check" else 2]))["explanation"]
def path(e, p):  # an export's path: its declaration, then the shared steps
    return [e["declaration"]] + d["vias"][p["via"]] if "via" in p else p["path"]
def named_types(e):
    return sorted({path(e, p)[-1] for p in e["paths"]})

if mode == "select":
    def index(path):
        files = {}
        for line in open(path):
            sym, f = line.split()
            files.setdefault(sym, set()).add(f)
        return files
    old, new = index(sys.argv[3]), index(sys.argv[4])
    def usable(e):
        if e["category"] != "type changed" or not e["paths"]:
            return False
        for t in named_types(e):
            if ANON in t:
                return False
            if "(" in t and not t.startswith(e["symbol"] + "("):
                return False  # a prototype other than the export's own
            if "(" not in t and t.split()[0] not in ("struct", "union", "enum", "typedef"):
                return False
        s = e["symbol"]
        return len(old.get(s, ())) == 1 and old[s] == new.get(s)
    cands = {}
    for e in sorted(d["exports"], key=lambda e: e["symbol"]):
        if usable(e):
            for p in e["paths"]:
                cands.setdefault(p["cause"], []).append(e["symbol"])
    chosen, order = [], [g["cause"] for g in d["groups"]]
    while len(chosen) < 30 and any(cands.get(c) for c in order):
        for c in order:
            while cands.get(c) and cands[c][0] in chosen:
                cands[c].pop(0)
            if cands.get(c) and len(chosen) < 30:
                chosen.append(cands[c].pop(0))
    for s in chosen:
        print(s, next(iter(old[s])))
    sys.exit(0)

# check NAME JSON CHOSEN SYMTYPES_OLD SYMTYPES_NEW
name = sys.argv[2]
exports = {e["symbol"]: e for e in d["exports"]}
chosen = [l.split() for l in open(sys.argv[4])]
def st_files(path):
    return dict(l.split() for l in open(path))
st_old, st_new = st_files(sys.argv[5]), st_files(sys.argv[6])
cache = {}
def records(path):
    if path not in cache:
        recs = {}
        for line in open(path):
            key, _, body = line.rstrip("\n").partition(" ")
            recs[key] = body
        cache[path] = recs
    return cache[path]
ref = re.compile(r"\b[stueE]#\w+")
def closure(recs, root):
    seen, todo = set(), [root]
    while todo:
        k = todo.pop()
        if k in seen or k not in recs:
            continue
        seen.add(k)
        todo.extend(ref.findall(recs[k]))
    return seen
def key_of(t, sym):
    if "(" in t:
        return sym
    kind, tname = t.split(" ", 1)
    return {"struct": "s#", "union": "u#", "enum": "e#", "typedef": "t#"}[kind] + tname
def enum_constants(body):
    m = re.search(r"\{(.*)\}", body)
    return {"E#" + c.split("=")[0].strip() for c in m.group(1).split(",") if c.strip()} if m else set()

checked, bad, opaque, confirmed_types, named = 0, [], [], 0, 0
for sym, f in chosen:
    if f not in st_old or f not in st_new:
        print(f"{name}: {sym}: {f} does not build alone; left out")
        continue
    a, b = records(st_old[f]), records(st_new[f])
    if sym not in a or sym not in b:
        bad.append(f"{sym}: genksyms has no record of it in {f}")
        continue
    ca, cb = closure(a, sym), closure(b, sym)
    e = exports[sym]
    def differs(k):
        if k not in ca or k not in cb:
            return False
        if a[k] != b[k]:
            return True
        return k.startswith("e#") and any(a.get(c) != b.get(c) for c in enum_constants(a[k]) | enum_constants(b[k]))
    def declared_only(k):
        return k in a and a[k].endswith("{ UNKNOWN } ")
    confirmed = []
    for p in e["paths"]:
        t = path(e, p)[-1]
        named += 1
        k = key_of(t, sym)
        steps = [("s#" + x.split(".")[0], "u#" + x.split(".")[0]) for x in path(e, p)[1:-1] if "." in x]
        if differs(k):
            confirmed.append(t)
        elif declared_only(k):
            opaque.append(f"{sym}: {t} is only declared in {f}")
        elif (k not in ca or k not in cb) and any(declared_only(s) or declared_only(u) for s, u in steps):
            opaque.append(f"{sym}: the path to {t} runs through a struct only declared in {f}")
        elif k not in ca or k not in cb:
            bad.append(f"{sym}: kmx names {t}, which genksyms' expansion of {sym} in {f} does not reach "
                       f"({'old' if k not in ca else 'new'} kernel)")
        else:
            bad.append(f"{sym}: kmx names {t}, whose genksyms record is the same in both kernels: {a[k][:200]}")
    causes = sorted({d["changes"][c]["type"] for a, z in e["cause_runs"] for c in range(a, z + 1)})
    confirmed_causes = [t for t in causes if ANON not in t and differs(key_of(t, sym))]
    if not confirmed_causes:
        bad.append(f"{sym}: genksyms confirms none of the {len(causes)} types kmx attributes its change to ({', '.join(causes)[:300]})")
    confirmed_types += len(confirmed)
    checked += 1
    print(f"{name}: {sym} ({f}): printed {', '.join(named_types(e))}; genksyms confirms {', '.join(confirmed) or 'none of them'}; "
          f"{len(confirmed_causes)} of its {len(causes)} causes confirmed")
print(f"{name}: {checked} of {len(chosen)} chosen exports checked against genksyms: {confirmed_types} of {named} "
      f"printed types differ in genksyms, {len(opaque)} only declared in the exporting file, {len(bad)} disagreements")
for x in opaque:
    print("  only declared: " + x)
for x in bad:
    print("  " + x)
assert not bad, bad[:5]
assert checked >= 20, f"only {checked} exports could be checked"
PY
)

check_pair 6.1-47-53 amd64-6.1-47 headers-6.1-47 linux=6.1.170-3 amd64-6.1-53 headers-6.1-53 linux=6.1.187-1
check_pair 6.1-53-6.12-107 amd64-6.1-53 headers-6.1-53 linux=6.1.187-1 amd64-6.12-107 headers-6.12-107 linux-6.12=6.12.107-1~deb12u1

# kmx check: a 6.1.0-47 module refused by 6.1.0-53 for module_layout's CRC (D2) names the type
# changes behind it when --history gives the kernel it was built for; module_layout's line in
# genksyms' .symtypes of kernel/module/version.c must reach each named type, changed.
mod=$(ls "$(tree_root amd64-6.1-47)"/lib/modules/*/kernel/drivers/net/dummy.ko)
"$KMX" check --all -t "$(spec amd64-6.1-53 headers-6.1-53)" --history "$(spec amd64-6.1-47 headers-6.1-47)" "$mod" \
  >"$TMP/check.txt" || true
grep -q "D2   module_layout" "$TMP/check.txt" || fail "dummy.ko: no D2 refusal: $(head -3 "$TMP/check.txt")"
grep "^  hint: module_layout: 6.1.0-47-amd64 -> 6.1.0-53-amd64: " "$TMP/check.txt" >"$TMP/d2-hints" ||
  fail "no type-change hint for module_layout: $(grep hint "$TMP/check.txt" | head -3)"
f=kernel/module/version.c
old_st=$("$ks" symtypes linux=6.1.170-3 headers-6.1-47 $f | cut -d' ' -f2)
new_st=$("$ks" symtypes linux=6.1.187-1 headers-6.1-53 $f | cut -d' ' -f2)
if [ -z "$old_st" ] || [ -z "$new_st" ]; then fail "$f does not build"; fi
python3 - "$TMP/d2-hints" "$old_st" "$new_st" <<'PY' || fail "check's module_layout hint is not a change genksyms sees"
import re, sys
def records(path):
    return dict(l.rstrip("\n").partition(" ")[::2] for l in open(path))
a, b = records(sys.argv[2]), records(sys.argv[3])
ref = re.compile(r"\b[stueE]#\w+")
def closure(recs):
    seen, todo = set(), ["module_layout"]
    while todo:
        k = todo.pop()
        if k not in seen and k in recs:
            seen.add(k)
            todo.extend(ref.findall(recs[k]))
    return seen
ca, cb = closure(a), closure(b)
assert "s#module" in ca and not a["s#module"].endswith("{ UNKNOWN } "), "struct module not expanded"
for line in open(sys.argv[1]):
    t = line.split(": ", 3)[3].split(": ")[0]
    kind, name = t.split(" ", 1)
    k = {"struct": "s#", "union": "u#", "enum": "e#", "typedef": "t#"}[kind] + name
    assert k in ca and k in cb, f"{t} is not reached from module_layout in genksyms' expansion"
    assert a[k] != b[k], f"{t}: genksyms' record is the same in both kernels"
    print(f"module_layout: kmx names {t}; genksyms' records differ")
PY
"$KMX" check --all -t "$(spec amd64-6.1-53 headers-6.1-53)" "$mod" >"$TMP/check-plain.txt" || true
! grep -q "hint: module_layout: 6.1.0-47" "$TMP/check-plain.txt" || fail "a module_layout type-change hint without --history"
echo "abi-diff-genksyms: ok"
