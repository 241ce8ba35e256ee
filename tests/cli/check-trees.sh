# kmx check on Debian's real 6.1 and 6.12 trees.
# 1. Differential vs kmod: every module of the 6.1 tree against the 6.12 kernel's exports
#    (vmlinux lines of 6.12's Module.symvers + the 6.1 tree's module exports, which is what
#    `depmod -e -E` resolves against), with --all: the (module, symbol) pairs kmx finds unknown
#    or with a different CRC must equal kmod depmod's warnings exactly:
#    "needs unknown symbol" / "disagrees about version of symbol".
# 2. Verdicts the lab proved on the real kernels (tests/vm/scenarios/check-*.sh), over whole
#    trees: every 6.1 module in 6.12 is refused by the struct module size check (ENOEXEC, C10),
#    every 6.12 module in 6.1 by module_layout (ENOEXEC, D2); each tree in its own kernel loads.
# 3. Target state: --cmdline (sig_enforce, lockdown, module_blacklist), --loaded, --insmod
#    (dependencies not loaded: the missing symbols are those of kmod's depends=), exit codes.
source "$(dirname "$0")/common.sh"
need_kmod depmod modinfo
need python3
check_kernels

# 1. vs depmod -e -E.
/usr/sbin/depmod -n -e -E "$s2" -b "$r1" "$rel1" 2>&1 >/dev/null |
  sed -n 's|^depmod: WARNING: \(.*\) disagrees about version of symbol \(.*\)|\1 CRC \2|p
          s|^depmod: WARNING: \(.*\) needs unknown symbol \(.*\)|\1 UNKNOWN \2|p' | sort >"$TMP/kmod.set"
(awk -F'\t' '$3 == "vmlinux"' "$s2"; awk -F'\t' '$3 != "vmlinux"' "$s1") >"$TMP/Module.symvers"
"$KMX" check --all --json -t "$TMP/Module.symvers" "$m1" >"$TMP/all.json" && rc=0 || rc=$?
[ "$rc" = 2 ] || fail "exit $rc, want 2 (refused)"
python3 - "$TMP/all.json" <<'PY' | sort >"$TMP/kmx.set"
import json, sys
kind = {"F1": "UNKNOWN", "F2": "UNKNOWN", "F4": "CRC", "F5": "CRC"}
for v in json.load(open(sys.argv[1])):
    for c in v["checks"]:
        if c["result"] != "refuse": continue
        if c["id"] in kind and c["check"].startswith("symbol "):
            print(v["path"], kind[c["id"]], c["check"][7:])
        elif c["id"] == "D2":
            print(v["path"], "CRC", "module_layout")
PY
n=$(wc -l <"$TMP/kmod.set")
[ "$n" -gt 1000 ] || fail "depmod reported only $n problems: test setup broken"
same "unknown/CRC findings (depmod -e -E vs kmx check --all)" "$TMP/kmod.set" "$TMP/kmx.set"
echo "ok: $n symbol findings equal depmod's"

# 2. Whole trees, verdict by verdict.
verdicts() {
  python3 -c '
import collections, json, sys
v = json.load(open(sys.argv[1]))
c = collections.Counter("loads" if x["loads"] else x["errno"] + " " + x["check_id"] for x in v)
print(len(v), " ".join(f"{k}={n}" for k, n in sorted(c.items())))' "$1"
}
count() { find "$1" -name '*.ko*' | wc -l; }
"$KMX" check --json -t "$r2,$s2" "$m1" >"$TMP/a.json" || true
[ "$(verdicts "$TMP/a.json")" = "$(count "$m1") ENOEXEC C10=$(count "$m1")" ] || fail "6.1 in 6.12: $(verdicts "$TMP/a.json")"
grep -q "section size must match the kernel's built struct module size at run time" "$TMP/a.json" || fail "C10 message"
"$KMX" check --json -t "$r1,$s1" "$m2" >"$TMP/b.json" || true
[ "$(verdicts "$TMP/b.json")" = "$(count "$m2") ENOEXEC D2=$(count "$m2")" ] || fail "6.12 in 6.1: $(verdicts "$TMP/b.json")"
"$KMX" check --json -t "$r1,$s1" "$m1" >"$TMP/c.json" || true
[ "$(verdicts "$TMP/c.json")" = "$(count "$m1") loads=$(count "$m1")" ] || fail "6.1 in 6.1: $(verdicts "$TMP/c.json")"
echo "ok: cross-tree verdicts"

# 3. Target state on one in-tree module with dependencies (signed by the tree's key).
mod=$(find "$m1" -name 'nf_nat.ko*' | head -n1)
[ -n "$mod" ] || fail "nf_nat not in the 6.1 tree"
t="$r1,$s1"
"$KMX" check -t "$t" "$mod" >"$TMP/out" || fail "nf_nat in 6.1: exit $? $(cat "$TMP/out")"
"$KMX" check -t "$t" --cmdline "module.sig_enforce=1 lockdown=integrity" "$mod" >/dev/null ||
  fail "a module signed by the tree's key must pass enforcement"
expect() { # expect EXIT ERRNO CHECK ARGS...
  local want=$1 errno=$2 id=$3 rc=0
  shift 3
  "$KMX" check --json "$@" >"$TMP/j" || rc=$?
  [ "$rc" = "$want" ] || fail "exit $rc, want $want: $*"
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[0]; print(v["errno"] or "-", v["check_id"] or "-")' "$TMP/j" >"$TMP/got"
  [ "$(cat "$TMP/got")" = "$errno $id" ] || fail "got $(cat "$TMP/got"), want $errno $id: $*"
}
expect 2 EPERM D1 -t "$t" --cmdline "module_blacklist=foo,nf_nat" "$mod"
printf 'nf_nat 57344 0 - Live 0x0000000000000000\n' >"$TMP/proc-modules"
expect 2 EEXIST D8 -t "$t" --loaded "$TMP/proc-modules" "$mod"
# insmod semantics: the symbols it lacks come from its depends= modules.
expect 2 ENOENT F1 -t "$t" --insmod "$mod"
python3 -c '
import json, re, sys
v = json.load(open(sys.argv[1]))[0]
print("\n".join(sorted({re.search(r"exported by module (\S+?):", h).group(1) for h in v["hints"] if "exported by module" in h})))' "$TMP/j" >"$TMP/owners"
/usr/sbin/modinfo -F depends "$mod" | tr ',' '\n' | tr '-' '_' | sort >"$TMP/depends"
same "modules providing nf_nat's missing symbols vs its depends=" "$TMP/depends" "$TMP/owners"
# Loaded dependencies make it load.
for d in $(cat "$TMP/depends"); do printf '%s 1 0 - Live 0x0\n' "$d"; done >"$TMP/deps-loaded"
"$KMX" check --insmod --loaded "$TMP/deps-loaded" -t "$t" "$mod" >/dev/null || fail "with its deps loaded: exit $?"

# An unsigned copy: taints E (exit 1); enforced -> EKEYREJECTED B4; lockdown -> EPERM B5.
python3 - "$(find "$m1" -name 'dummy.ko' | head -n1)" "$TMP/dummy.ko" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
marker = b"~Module signature appended~\n"
assert d.endswith(marker)
sig_len, = struct.unpack(">I", d[-len(marker) - 4:-len(marker)])
open(sys.argv[2], "wb").write(d[:len(d) - len(marker) - 12 - sig_len])
PY
rc=0; "$KMX" check -t "$t" "$TMP/dummy.ko" >"$TMP/out" || rc=$?
[ "$rc" = 1 ] || fail "unsigned in-tree module: exit $rc, want 1"
grep -q "kernel: dummy: module verification failed: signature and/or required key missing - tainting kernel" "$TMP/out" || fail "E line: $(cat "$TMP/out")"
expect 2 EKEYREJECTED B4 -t "$t" --cmdline "module.sig_enforce=1" "$TMP/dummy.ko"
expect 2 EPERM B5 -t "$t" --cmdline "lockdown=integrity" "$TMP/dummy.ko"

# Bad input: a missing module and a broken target name the file; exit 4.
rc=0; "$KMX" check -t "$t" "$TMP/nonexistent.ko" 2>"$TMP/err" || rc=$?
[ "$rc" = 4 ] && grep -q nonexistent.ko "$TMP/err" || fail "missing module: exit $rc $(cat "$TMP/err")"
printf 'CONFIG_X=y\n' >"$TMP/config-x"
rc=0; "$KMX" check -t "$TMP/nothing-here" "$mod" 2>"$TMP/err" || rc=$?
[ "$rc" = 4 ] && grep -q nothing-here "$TMP/err" || fail "missing target: exit $rc $(cat "$TMP/err")"
echo "ok: check-trees"
