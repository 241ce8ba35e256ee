# kmx check --installed names the device that needs a module missing after the reboot. A root
# with two kernels: OLD (Debian 12's 6.1, with e1000e and dummy) and NEW (6.12, dummy only),
# each indexed by kmod's depmod; /etc/modules names e1000e; ROOT/sys holds a PCI device whose
# modalias kmod's modprobe -R resolves to e1000e in OLD, and a platform device nothing claims.
#   * e1000e is missing after the reboot into NEW, "needed by device" that PCI device, in the
#     JSON and in the text summary;
#   * without that device, nothing is said to need it.
source "$(dirname "$0")/common.sh"
need jq
need_kmod depmod modprobe
r1=$(tree_root amd64-6.1)
r2=$(tree_root amd64-6.12)
old=$(ls "$r1/lib/modules")
new=$(ls "$r2/lib/modules")
R=$TMP/root
e1000e=kernel/drivers/net/ethernet/intel/e1000e
mkdir -p "$R/lib/modules/$old/$e1000e" "$R/lib/modules/$old/kernel/drivers/net" "$R/lib/modules/$new/kernel/drivers/net" "$R/etc"
cp "$r1/lib/modules/$old/$e1000e"/e1000e.ko* "$R/lib/modules/$old/$e1000e/"
cp "$r1/lib/modules/$old/kernel/drivers/net"/dummy.ko* "$R/lib/modules/$old/kernel/drivers/net/"
cp "$r2/lib/modules/$new/kernel/drivers/net"/dummy.ko* "$R/lib/modules/$new/kernel/drivers/net/"
depmod=$(command -v /sbin/depmod || command -v /usr/sbin/depmod)
modprobe=$(command -v /sbin/modprobe || command -v /usr/sbin/modprobe)
cp "$r1/lib/modules/$old"/modules.builtin* "$r1/lib/modules/$old"/modules.order "$R/lib/modules/$old/"
cp "$r2/lib/modules/$new"/modules.builtin* "$r2/lib/modules/$new"/modules.order "$R/lib/modules/$new/"
"$depmod" -b "$R" "$old" && "$depmod" -b "$R" "$new" || fail "kmod's depmod"
dev=/devices/pci0000:00/0000:00:19.0
alias=pci:v00008086d0000550Fsv00008086sd00000000bc02sc00i00
mkdir -p "$R/sys$dev" "$R/sys/devices/platform/serial8250"
echo "$alias" >"$R/sys$dev/modalias"
echo "platform:serial8250" >"$R/sys/devices/platform/serial8250/modalias"
[ "$("$modprobe" -d "$R" -S "$old" -R "$alias")" = e1000e ] || fail "fixture: kmod does not resolve $alias to e1000e in $old"
[ -z "$("$modprobe" -d "$R" -S "$old" -R platform:serial8250 2>/dev/null)" ] || fail "fixture: platform:serial8250 resolves"
echo e1000e >"$R/etc/modules"
export KMX_CACHE_DIR=$TMP/cache

detail() { jq -r '[.[] | select(.module == "e1000e")][0].checks[0].detail' "$TMP/j"; }
rc=0
"$KMX" check --installed -b "$R" -k "$new" --json >"$TMP/j" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc, want 2: $(head -c 1500 "$TMP/j")"
[ "$(jq -r '[.[] | select(.module == "e1000e")][0].check_id' "$TMP/j")" = M1 ] || fail "e1000e is not missing: $(head -c 1500 "$TMP/j")"
[ "$(detail)" = "named in /etc/modules; needed by device $dev ($alias)" ] || fail "detail: $(detail)"
"$KMX" check --installed -b "$R" -k "$new" >"$TMP/t" || true
grep -q "^  e1000e: missing after reboot (named in /etc/modules; needed by device $dev ($alias))" "$TMP/t" ||
  fail "text summary: $(sed '/^Details:/,$d' "$TMP/t")"

rm "$R/sys$dev/modalias"
"$KMX" check --installed -b "$R" -k "$new" --json >"$TMP/j" || true
[ "$(detail)" = "named in /etc/modules" ] || fail "without the device: $(detail)"
echo ok
