# kmx check --installed on a root with two installed Debian kernels (6.1 old, 6.12 NEW) and the
# machine's out-of-tree modules: a module built against the 6.1 headers only (missing after the
# reboot into 6.12), the same kind of module copied by hand into 6.12's extra/ (refused: its
# vermagic is 6.1's), a name in etc/modules that no kernel has, a DKMS package whose build for
# 6.12 failed (its make.log's error is quoted) and a blacklisted module (not reported).
# Expectations come from the files: the modules' vermagic against an in-tree module's, and
# which names each tree holds.
source "$(dirname "$0")/common.sh"
need jq
check_kernels
# The VM lab's test modules, built against linux-headers-6.1 (cached, shared with tests/vm).
source "$KMX_SRC/tests/vm/lib.sh"
command -v make >/dev/null && command -v gcc >/dev/null || skip "make and gcc are needed to build the test modules"
lab=$(lab_test_modules 6.1) || fail "could not build the test modules against linux-headers-6.1"
vermagic() { /sbin/modinfo -F vermagic "$1" 2>/dev/null || "$KMX" modinfo -F vermagic "$1"; }
[ "$(vermagic "$lab/kmx_lab_a.ko")" = "$(vermagic "$(find "$m1/kernel" -name dummy.ko | head -n1)")" ] ||
  skip "$lab was built for another 6.1 release than $rel1"

R=$TMP/root
export KMX_CACHE_DIR=$TMP/cache
mkdir -p "$R/lib/modules" "$R/boot" "$R/usr/src" "$R/etc/modprobe.d" "$R/etc/default"
for t in "$r1" "$r2"; do
  rel=$(ls "$t/lib/modules")
  cp -rs "$t/lib/modules/$rel" "$R/lib/modules/$rel"
  for f in "$t"/boot/*; do ln -s "$f" "$R/boot/"; done
done
ln -s "$(dirname "$s1")" "$R/usr/src/linux-headers-$rel1"
ln -s "$(dirname "$s2")" "$R/usr/src/linux-headers-$rel2"
mkdir -p "$R/lib/modules/$rel1/updates" "$R/lib/modules/$rel2/extra"
cp "$lab/kmx_lab_a.ko" "$lab/kmx_lab_b.ko" "$lab/kmx_lab_ns.ko" "$R/lib/modules/$rel1/updates/"
cp "$lab/kmx_lab_b.ko" "$R/lib/modules/$rel2/extra/"
printf '# comment\nvpoll_test\nkmx_lab_a\n' >"$R/etc/modules"
echo "blacklist kmx_lab_ns" >"$R/etc/modprobe.d/local.conf"
echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' >"$R/etc/default/grub"
d=$R/var/lib/dkms/vpoll/0.1
mkdir -p "$d/build" "$d/source"
echo 'BUILT_MODULE_NAME[0]="vpoll_test"' >"$d/source/dkms.conf"
printf 'DKMS make.log for vpoll-0.1 for kernel %s (x86_64)\n/var/lib/dkms/vpoll/0.1/build/vpoll.c:12:9: error: implicit declaration of function %s\n' \
  "$rel2" "'strlcpy'" >"$d/build/make.log"

# The facts the verdicts must follow.
[ -z "$(find "$R/lib/modules/$rel2" -name 'kmx_lab_a.ko*')" ] || fail "fixture: kmx_lab_a exists for $rel2"
[ -z "$(find -L "$R/lib/modules" -name 'vpoll_test.ko*')" ] || fail "fixture: vpoll_test exists"
new_magic=$(vermagic "$(find -L "$R/lib/modules/$rel2/kernel" -name dummy.ko* | head -n1)")
[ "$(vermagic "$lab/kmx_lab_b.ko")" != "$new_magic" ] || fail "fixture: kmx_lab_b has $rel2's vermagic"

rc=0
"$KMX" check --installed -b "$R" --json >"$TMP/j" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc, want 2 (refused or missing): $(head -c 2000 "$TMP/j")"
q() { jq -r "$1" "$TMP/j"; }
want() { # want JQ-EXPR VALUE
  local got
  got=$(q "$1")
  [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"
}
# Missing after the reboot into 6.12: the module built for 6.1 only, with why.
want "[.[] | select(.kernel == \"$rel2\" and .module == \"kmx_lab_a\")][0].check_id" M1
want "[.[] | select(.kernel == \"$rel2\" and .module == \"kmx_lab_a\")][0].errno" ENOENT
# Copied by hand into 6.12's extra/: refused (built for 6.1); in 6.1 its vermagic passes.
want "[.[] | select(.kernel == \"$rel2\" and .module == \"kmx_lab_b\")][0].loads" false
want "[.[] | select(.kernel == \"$rel2\" and .module == \"kmx_lab_b\")][0].path" "$R/lib/modules/$rel2/extra/kmx_lab_b.ko"
want "[.[] | select(.kernel == \"$rel1\" and .module == \"kmx_lab_b\")][0].checks[] | select(.id == \"D5\") | .result" pass
want "[.[] | select(.kernel == \"$rel1\" and .module == \"kmx_lab_a\")][0].checks[] | select(.id == \"D5\") | .result" pass
# Named in etc/modules, built by no one for 6.12: the DKMS build's error is quoted.
want "[.[] | select(.kernel == \"$rel2\" and .module == \"vpoll_test\")][0].check_id" M1
q "[.[] | select(.kernel == \"$rel2\" and .module == \"vpoll_test\")][0].checks[0].detail" | grep -q "strlcpy" ||
  fail "vpoll_test: the failed DKMS build's error is not named"
# strlcpy is declared by 6.1's headers and by none of 6.12's (removed in 6.8): the fix given is
# data/api-changes.tsv's recipe for it.
hc1=$(tree_root headers-common-6.1)
hc2=$(tree_root headers-common-6.12)
grep -qw strlcpy "$hc1"/usr/src/*/include/linux/string.h || fail "fixture: 6.1's headers do not declare strlcpy"
! grep -rqw strlcpy "$hc2"/usr/src/*/include/linux/ || fail "fixture: 6.12's headers declare strlcpy"
q "[.[] | select(.kernel == \"$rel2\" and .module == \"vpoll_test\")][0].hints[0]" | grep -q "^strlcpy: changed in 6.8 (.*): removed.*strscpy" ||
  fail "vpoll_test: the fix is not the strlcpy recipe: $(q "[.[] | select(.kernel == \"$rel2\" and .module == \"vpoll_test\")][0].hints[0]")"
# For 6.1 no make.log says the build failed: the hint is to build it.
q "[.[] | select(.kernel == \"$rel1\" and .module == \"vpoll_test\")][0].hints[0]" | grep -q "dkms install vpoll/0.1 -k $rel1" ||
  fail "vpoll_test on $rel1: no dkms install hint"
# Blacklisted: not reported anywhere.
want '[.[] | select(.module == "kmx_lab_ns")] | length' 0

# Text: the summary names each problem with a fix; the blacklisted one is listed as not reported.
rc=0
"$KMX" check --installed -b "$R" >"$TMP/t" || rc=$?
[ "$rc" = 2 ] || fail "text: exit $rc"
sed '/^Details:/,$d' "$TMP/t" >"$TMP/summary"
grep -q "^kernel $rel2: 1 out-of-tree module checked, 2 missing after reboot" "$TMP/summary" || fail "summary: $(cat "$TMP/summary")"
grep -q "kmx_lab_a: missing after reboot" "$TMP/summary" || fail "no kmx_lab_a line: $(cat "$TMP/summary")"
grep -q "kmx_lab_b: refused" "$TMP/summary" || fail "no kmx_lab_b line"
grep -q "not reported (blacklisted or forbidden): kmx_lab_ns" "$TMP/summary" || fail "blacklist line"
# -k: the one kernel; module_blacklist= on the command line counts as a blacklist too.
rc=0
"$KMX" check --installed -b "$R" -k "$rel2" --cmdline "module_blacklist=kmx_lab_b" --json >"$TMP/j" || rc=$?
want '[.[] | select(.module == "kmx_lab_b")] | length' 0
want "[.[] | select(.kernel != \"$rel2\")] | length" 0
# HTML matrix.
"$KMX" check --installed -b "$R" --html "$TMP/r.html" >/dev/null || true
grep -q "missing after reboot" "$TMP/r.html" || fail "HTML report has no missing module"
not "$KMX" check --installed -b "$TMP/nowhere"

# The kernel-install hook (packaging/kernel-hooks/zz-kmx-check) on the same root: nothing before
# NEW's headers are in place, then one summary and the reports; a second run says nothing; it
# never fails the installation unless kmx.conf says kernel-check strict; postrm removes the
# reports, the stamp and everything kmx cached from NEW's files (the certificates read from its
# image among them).
hook=$KMX_SRC/packaging/kernel-hooks/zz-kmx-check
mkdir -p "$TMP/hooks/postinst.d" "$TMP/hooks/postrm.d"
ln -s "$hook" "$TMP/hooks/postinst.d/zz-kmx-check"
ln -s "$hook" "$TMP/hooks/postrm.d/zz-kmx-check"
unset KMX_CACHE_DIR
export KMX_HOOK_ROOT=$R
rm "$R/usr/src/linux-headers-$rel2"
"$TMP/hooks/postinst.d/zz-kmx-check" "$rel2" "/boot/vmlinuz-$rel2" >"$TMP/h0"
[ ! -s "$TMP/h0" ] || fail "hook ran before the headers of $rel2 were installed: $(cat "$TMP/h0")"
mkdir "$R/usr/src/linux-headers-$rel2"
ln -s "$s2" "$R/usr/src/linux-headers-$rel2/Module.symvers"
touch "$R/usr/src/linux-headers-$rel2/Makefile"
"$TMP/hooks/postinst.d/zz-kmx-check" "$rel2" "/boot/vmlinuz-$rel2" >"$TMP/h1" || fail "hook failed: $(cat "$TMP/h1")"
grep -q "kmx_lab_a: missing after reboot" "$TMP/h1" || fail "hook output: $(cat "$TMP/h1")"
grep -q "kmx_lab_b: refused" "$TMP/h1" || fail "hook output: $(cat "$TMP/h1")"
grep -q "fix: " "$TMP/h1" || fail "hook output has no fix hint"
not grep -q "^Details:" "$TMP/h1"
[ -s "$R/var/log/kmx/check-$rel2.txt" ] && grep -q "^Details:" "$R/var/log/kmx/check-$rel2.txt" || fail "no text report"
jq -e "[.[] | select(.module == \"kmx_lab_a\")][0].check_id == \"M1\"" "$R/var/log/kmx/check-$rel2.json" >/dev/null ||
  fail "JSON report"
[ ! -e "$R/var/log/kmx/check-$rel1.txt" ] || fail "hook reported on $rel1 too"
"$TMP/hooks/postinst.d/zz-kmx-check" "$rel2" "/boot/vmlinuz-$rel2" >"$TMP/h2"
[ ! -s "$TMP/h2" ] || fail "second hook run reported again: $(cat "$TMP/h2")"
# strict: the refused module fails the installation.
mkdir -p "$R/etc/kmx"
echo "kernel-check = strict" >"$R/etc/kmx/kmx.conf"
rm "$R/var/cache/kmx/kernel-check-$rel2.stamp"
not "$TMP/hooks/postinst.d/zz-kmx-check" "$rel2" "/boot/vmlinuz-$rel2" >/dev/null
[ -e "$R/var/cache/kmx/kernel-check-$rel2.stamp" ] || fail "no stamp"
ls "$R/var/cache/kmx" | grep -q -- "^kernel-certs-.*-vmlinuz-$rel2\$" || fail "no certificates cached from $rel2's image: $(ls "$R/var/cache/kmx")"
"$TMP/hooks/postrm.d/zz-kmx-check" "$rel2" "/boot/vmlinuz-$rel2"
left=$(ls "$R/var/cache/kmx" | grep -F -- "$rel2" || true)
[ -z "$left" ] || fail "postrm left cached files of $rel2: $left"
[ ! -e "$R/var/log/kmx/check-$rel2.txt" ] && [ ! -e "$R/var/log/kmx/check-$rel2.json" ] || fail "postrm left the reports"
[ ! -e "$R/var/cache/kmx/kernel-check-$rel2.stamp" ] || fail "postrm left the stamp"
echo ok
