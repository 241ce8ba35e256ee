# kmx check's output forms on real modules: text (verdict line, kernel lines, hints), --json
# fields, exit codes 0..4, the --kernels matrix and its self-contained HTML report, and
# --history / data/api-changes.tsv hints. Verdicts themselves are proven in the VM lab
# (tests/vm/scenarios/check-*.sh) and against kmod in check-trees.sh.
source "$(dirname "$0")/common.sh"
need python3
check_kernels
mod=$(find "$m1" -name 'dummy.ko' | head -n1)

# Exit 0: an in-tree module signed by its own kernel's key, in that kernel.
"$KMX" check -t "$r1,$s1" "$mod" >"$TMP/out" || fail "exit $? for a clean load"
grep -q "^$mod: loads in 6.1.0-54-amd64$" "$TMP/out" || fail "text: $(cat "$TMP/out")"
# Exit 2 and the text form of a refusal.
rc=0; "$KMX" check -t "$r2,$s2" "$mod" >"$TMP/out" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc for a refusal"
grep -q "REFUSED by 6.12.117+deb12-amd64 (ENOEXEC, C10)" "$TMP/out" || fail "text: $(cat "$TMP/out")"
grep -q "^  kernel: module dummy: .gnu.linkonce.this_module section size must match" "$TMP/out" || fail "kernel line"
grep -q "^  hint: rebuild against the headers of exactly this kernel" "$TMP/out" || fail "hint"
# JSON fields.
"$KMX" check --json -t "$r2,$s2" "$mod" >"$TMP/j" || true
python3 - "$TMP/j" <<'PY' || fail "json fields"
import json, sys
v = json.load(open(sys.argv[1]))
assert isinstance(v, list) and len(v) == 1, v
v = v[0]
for k in ("module", "path", "kernel", "loads", "errno", "check_id", "checks", "messages", "taint", "hints"):
    assert k in v, k
assert v["loads"] is False and v["errno"] == "ENOEXEC" and v["check_id"] == "C10", v
assert all({"id", "check", "result", "detail"} <= set(c) for c in v["checks"])
PY
# JSON strings: a file name with control characters, quotes and bytes that are not UTF-8 gives
# valid JSON (\u escapes, U+FFFD for each bad byte), as nlohmann::json writes it.
weird=$TMP/$'w\x01"\\\t\xff\xc3\xa9.ko'
cp "$mod" "$weird"
"$KMX" check --json -t "$r1,$s1" "$weird" >"$TMP/w" || true
grep -qF '\u0001\"\\\t' "$TMP/w" || fail "json escapes: $(grep path "$TMP/w")"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[0]; assert v["path"] == sys.argv[2] + "/w\x01\"\\\t\ufffd\u00e9.ko", v["path"]' "$TMP/w" "$TMP" ||
  fail "json path"
# Matrix over two kernels, HTML report.
"$KMX" check --html "$TMP/report.html" --kernels "$r1,$s1" "$r2,$s2" -- "$mod" >"$TMP/m" || true
grep -Eq "^dummy +loads +refused ENOEXEC C10" "$TMP/m" || fail "matrix: $(cat "$TMP/m")"
grep -q "<details class=\"group refused\"><summary>refused ENOEXEC (C10) &mdash; 1 module</summary>" "$TMP/report.html" ||
  fail "html"
! grep -Eq '(src|href)=' "$TMP/report.html" || fail "html is not self-contained"
# --all on the refused module shows its symbol findings too; --history says where a symbol is.
"$KMX" check --all --json -t "$r2,$s2" --history "$s1" "$mod" >"$TMP/all" || true
python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[0]; assert v["check_id"] == "C10" and any(c["id"] == "D2" for c in v["checks"]), v' "$TMP/all" ||
  fail "--all"
# Exit 3 on usage errors.
rc=0; "$KMX" check --no-such-option "$mod" 2>/dev/null || rc=$?
[ "$rc" = 4 ] || fail "bad option: exit $rc"
rc=0; "$KMX" check -t "$r1,$s1" 2>/dev/null || rc=$?
[ "$rc" = 4 ] || fail "no module: exit $rc"
printf 'broken line\n' >"$TMP/api.tsv"
rc=0; "$KMX" check --api-changes "$TMP/api.tsv" -t "$r1,$s1" "$mod" 2>"$TMP/err" || rc=$?
[ "$rc" = 4 ] && grep -q "api.tsv:1:" "$TMP/err" || fail "bad api-changes file: exit $rc $(cat "$TMP/err")"
# The shipped data file parses and cites commits.
"$KMX" check --api-changes "$KMX_SRC/data/api-changes.tsv" -t "$r1,$s1" "$mod" >/dev/null || fail "data/api-changes.tsv"
echo "ok: check-output"
