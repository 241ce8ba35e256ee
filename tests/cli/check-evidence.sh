# kmx check gives no verdict without evidence, on Debian's real trees: a target that yields no
# kernel facts is an error naming what is missing (exit 4); a System.map says nothing about
# modversions and a target without keys nothing about the signer (not decided, exit 3, the
# summary names the checks); a directory without modules is an error; a module of another
# architecture is refused by the ELF header check (C4) with the kernel's message; empty,
# truncated and non-ELF files get the loader's answer; options may follow the modules and
# --kernels ends at the next option; findings repeated per symbol are grouped (--verbose lists
# each); several verdicts end with a summary line.
source "$(dirname "$0")/common.sh"
need python3
check_kernels
arm=$(tree_root arm64-6.1)
i386=$(tree_root i386-6.1)
mod=$(find "$m1" -name dummy.ko | head -n1)
export KMX_CACHE_DIR=$TMP/cache
run() { # run EXPECTED-RC ARGS...: output in $TMP/out, stderr in $TMP/err
  local want=$1 rc=0
  shift
  "$KMX" check "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [ "$rc" = "$want" ] || fail "kmx check $*: exit $rc, want $want: $(head -c 2000 "$TMP/out" "$TMP/err")"
}

# 1. Targets that say nothing: errors naming what is missing.
mkdir "$TMP/empty"
run 4 -t "$TMP/empty" "$mod"
grep -q "no kernel facts found" "$TMP/err" || fail "empty target: $(cat "$TMP/err")"
grep -q "Module.symvers" "$TMP/err" || fail "empty target names no remedy: $(cat "$TMP/err")"
run 4 -t "$r1/boot/System.map-$rel1" "$mod"
grep -q "placeholder: install linux-headers-$rel1" "$TMP/err" || fail "placeholder System.map: $(cat "$TMP/err")"

# 2. A real System.map's export names (made from vmlinux's lines of Module.symvers): nothing
#    about modversions, vermagic or keys. Not decided, and the summary line says which.
awk -F'\t' '$3 == "vmlinux" { printf "ffffffff81000000 r __ksymtab_%s\n", $2 }' "$s1" >"$TMP/System.map-$rel1"
run 3 -t "$TMP/System.map-$rel1" "$mod"
grep -q "^$mod: loads (.* checks not decided: .*D2 module_layout" "$TMP/out" || fail "summary: $(cat "$TMP/out")"
grep -q "D2 *module_layout *unknown" "$TMP/out" || fail "D2 not unknown: $(cat "$TMP/out")"
! grep -q "without CONFIG_MODVERSIONS" "$TMP/out" || fail "modversions claimed off: $(cat "$TMP/out")"
# With the config, modversions are known to be on; the kernel's module_layout CRC is still not.
run 3 --json -t "$TMP/System.map-$rel1,$r1/boot/config-$rel1" "$mod"
python3 - "$TMP/out" <<'PY' || fail "System.map + config: $(head -c 3000 "$TMP/out")"
import json, sys
v = json.load(open(sys.argv[1]))[0]
d2 = [c for c in v["checks"] if c["id"] == "D2"][0]
assert d2["result"] == "unknown" and "CRC is not known" in d2["detail"], d2
PY

# 3. Signed, but no keys of the target known (Module.symvers and config only): B3 not decided.
run 3 --json -t "$s1,$r1/boot/config-$rel1" "$mod"
python3 - "$TMP/out" <<'PY' || fail "B3 without keys: $(head -c 3000 "$TMP/out")"
import json, sys
v = json.load(open(sys.argv[1]))[0]
b3 = [c for c in v["checks"] if c["id"] == "B3"]
assert b3 and b3[0]["result"] == "unknown", v["checks"]
assert "E" not in v["taint"], v["taint"]
assert "B3 signature" in v["undecided"], v["undecided"]
PY
# With the tree (and its vmlinuz), everything is known: loads cleanly; --verbose names the sources.
run 0 -t "$r1,$s1" "$mod"
run 0 --verbose -t "$r1,$s1" "$mod"
grep -q "kernel facts from: Module.symvers $s1; .*module tree $r1/lib/modules/$rel1" "$TMP/out" ||
  fail "--verbose does not say where the facts came from: $(cat "$TMP/out")"

# 4. A directory without modules is an error.
run 4 -t "$r1,$s1" "$TMP/empty"
grep -q "no modules" "$TMP/err" || fail "empty dir: $(cat "$TMP/err")"

# 5. Another architecture: the ELF header check, with the kernel's message and errno.
run 2 --json -t "$arm" "$mod"
python3 - "$TMP/out" <<'PY' || fail "x86-64 module on arm64: $(head -c 3000 "$TMP/out")"
import json, sys
v = json.load(open(sys.argv[1]))[0]
assert (v["check_id"], v["errno"]) == ("C4", "ENOEXEC"), (v["check_id"], v["errno"])
assert "Invalid architecture in ELF header: 62" in v["messages"], v["messages"]
assert not any("module_layout" in h for h in v["hints"]), v["hints"]
PY
i386_mod=$(find "$i386/lib/modules" -name dummy.ko | head -n1)
run 2 -t "$r1,$s1" "$i386_mod"
grep -q "kernel: Invalid architecture in ELF header: 3$" "$TMP/out" || fail "i386 module on x86-64: $(cat "$TMP/out")"

# 6. Files that are not modules: the loader's answer (signature first, then the ELF header).
: >"$TMP/empty.ko"
run 2 --json -t "$r1,$s1" "$TMP/empty.ko"
grep -q '"errno": "EINVAL"' "$TMP/out" || fail "empty file: $(cat "$TMP/out")"
echo "not a module" >"$TMP/text.ko"
run 2 -t "$r1,$s1" "$TMP/text.ko"
grep -q "kernel: Invalid ELF header len 13" "$TMP/out" || fail "short file: $(cat "$TMP/out")"
head -c 200 /dev/zero | tr '\0' x >"$TMP/junk.ko"
run 2 -t "$r1,$s1" "$TMP/junk.ko"
grep -q "REFUSED by $rel1 (ENOEXEC, C2)" "$TMP/out" || fail "not ELF: $(cat "$TMP/out")"
run 2 -t "$r1,$s1" --cmdline module.sig_enforce=1 "$TMP/junk.ko"
grep -q "kernel: Loading of unsigned module is rejected" "$TMP/out" || fail "enforced: $(cat "$TMP/out")"
cp /bin/true "$TMP/exec.ko"
run 2 -t "$r1,$s1" "$TMP/exec.ko"
grep -q "kernel: Invalid ELF header type: 3 != 1" "$TMP/out" || fail "executable: $(cat "$TMP/out")"

# 7. Options after the modules; --kernels ends at the next option.
run 0 -t "$r1,$s1" "$mod" --json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out" || fail "--json after the module"
run 2 --kernels "$r1,$s1" "$r2,$s2" --json "$mod"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/out")" = 2 ] ||
  fail "--kernels A B --json: $(head -c 500 "$TMP/out")"
"$KMX" check --help | grep -q "certificate files" || fail "--help does not mention certificate files"

# 8. Grouping: a 6.1 module on 6.12 with --all fails the CRC check for many symbols.
mod61=$(find "$r1/lib/modules/$rel1" -name e1000e.ko | head -n1)
run 2 --all -t "$r2,$s2" "$mod61"
grouped=$(grep -c "^  F4 " "$TMP/out" || true)
"$KMX" check --all --verbose -t "$r2,$s2" "$mod61" >"$TMP/verbose" || true
each=$(grep -c "^  F4 " "$TMP/verbose" || true)
[ "$each" -gt 10 ] || fail "--verbose lists $each F4 findings"
[ "$grouped" -le 4 ] || fail "$grouped F4 lines without --verbose (of $each)"
grep -q "^  F4 .*and $((each - 3)) more symbols" "$TMP/out" || fail "no group line: $(grep F4 "$TMP/out")"

# 9. Several verdicts: one summary line with the counts.
run 2 -t "$r1,$s1" "$mod" "$TMP/junk.ko"
tail -n1 "$TMP/out" | grep -qx "2 modules x 1 kernel: 1 loads cleanly, 0 with taint, 1 refused, 0 not decided" ||
  fail "summary: $(tail -n1 "$TMP/out")"
# 10. Progress on a terminal (stderr, runs of more than one batch of 64 modules); none when
#     stderr is not a terminal, or with -q.
many=$r1/lib/modules/$rel1/kernel/drivers/net/ethernet
if command -v script >/dev/null; then
  script -qec "'$KMX' check -t '$r1,$s1' '$many' >/dev/null" /dev/null >"$TMP/tty" || true
  grep -q "modules checked" "$TMP/tty" || fail "no progress on a terminal: $(head -c 300 "$TMP/tty")"
  script -qec "'$KMX' check -q -t '$r1,$s1' '$many' >/dev/null" /dev/null >"$TMP/tty" || true
  ! grep -q "modules checked" "$TMP/tty" || fail "progress despite -q"
fi
"$KMX" check -t "$r1,$s1" "$many" >/dev/null 2>"$TMP/err" || true
! grep -q "modules checked" "$TMP/err" || fail "progress written to a file"
echo "ok: check-evidence"
