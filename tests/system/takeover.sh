# The real-system lab on one kernel (KMX_SYS_KERNEL: 6.1 or 6.12): Debian 12 booted whole under
# QEMU TCG (systemd, udev, an initramfs from initramfs-tools, root on a virtio disk), three ways:
#   baseline  Debian's kmod;
#   takeover  kmx and kmx-as-kmod installed and update-initramfs -u run with kmx as the system's
#             kmod: multi-user.target is reached with no failed unit (kmod-static-nodes.service
#             included), the loaded module set equals the baseline's, modprobe, depmod and
#             /bin/kmod run kmx in the guest and in the initramfs;
#   removal   kmx-as-kmod purged and the initramfs rebuilt: kmod again, no failed unit, the same
#             module set;
#   upgrade   the other kernel's kmx image with this kernel's package installed by dpkg (its
#             postinst runs depmod: kmx's): every index file equals what kmod 30's depmod (the
#             host's) writes for a copy of the same tree; this kernel boots from it, with no
#             failed unit and the baseline's module set;
#   kerneld   kmx-drivers installed too: kmx's daemon, enabled by the package, loads the drivers
#             udev loaded (the baseline's set; after the initramfs, none by udev), a NIC
#             hot-plugged through QEMU's monitor, dummy through the kernel's request_module
#             (kmx as the kernel's modprobe) and releases it once idle (autoclean); e1000's
#             changed copybreak, saved at its unload, is given back at its load after a reboot.
# Every expectation is the baseline boot's own answer or kmod's package, never kmx's output.
# Who loaded each module (the kernel's module_load trace event names the calling task) and the
# boot times (systemd-analyze) are printed for each boot. Images are built and cached by lib.sh.
source "$(dirname "$0")/../cli/common.sh"
source "$KMX_SRC/tests/system/lib.sh"
k=${KMX_SYS_KERNEL:-6.1}
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts)"
for t in qemu-system-x86_64 qemu-img mmdebstrap mkfs.ext4 dpkg-buildpackage zstd cpio; do
  command -v "$t" >/dev/null || skip "$t not installed (scripts/setup.sh)"
done
{ mkfs.ext4 2>&1 || true; } | grep -q -- '-d ' || skip "mkfs.ext4 cannot populate an image (-d)"
[ -n "${KMX_DEBS:-}" ] || command -v dh >/dev/null || skip "debhelper not installed (the packages cannot be built)"
mkdir -p "$sys_cache"
t_start=$(date +%s)
sys_base_tar >/dev/null || skip "mmdebstrap could not build a Debian 12 root (network?)"
# The other kernel's images (its kmx image is the upgrade's start) are made at the same time:
# update-initramfs and dpkg keep one core busy each.
sys_images "$(sys_other_kernel "$k")" >"$TMP/other-images" 2>"$TMP/other-images.log" &
other=$!
sys_images "$k" >"$TMP/images" || fail "could not build the $k images"
wait $other || { cat "$TMP/other-images.log"; fail "could not build the $(sys_other_kernel "$k") images"; }
rel=$(ls "$("$KMX_SRC/tests/data/fetch-trees.sh" path "$(sys_kernel_key "$k")")/lib/modules" | head -n1)
up=$(sys_upgrade_image "$k" "$rel") || fail "could not build the $k upgrade image"
echo "upgrade $up" >>"$TMP/images"
t_images=$(date +%s)
img() { awk -v n="$1" '$1 == n { print $2 }' "$TMP/images"; }

res=${KMX_BUILD:-$KMX_SRC/build}/system-lab/$k
rm -rf "$res"
mkdir -p "$res"
failures=0
bad() {
  echo "FAIL [$k] $*"
  failures=$((failures + 1))
}
ok() { echo "ok   [$k] $*"; }

boot() {  # NAME IMAGE SCRIPT
  sys_boot "$(img "$2")" "$KMX_SRC/tests/system/guest/$3" "$res/$1" ||
    { tail -n 60 "$res/$1/console" | sed 's/^/  console| /'; fail "$1: the guest never ran its script (qemu status $(cat "$res/$1/qemu-status"))"; }
  echo "[$k] $1: booted and observed in $(cat "$res/$1/host-seconds") s (host); $(head -n1 "$res/$1/analyze")"
}
# The boots run in two lanes, one QEMU each (TCG runs a one-CPU guest on one host core):
#   kerneld: the drivers image, two boots on one writable disk (a qcow2 overlay), in order, so
#            that the second sees what the first saved; the guest hot-plugs a NIC through QEMU's
#            monitor;
#   others:  baseline, takeover, removal and upgrade.
lane_kerneld() {
  sys_overlay "$(img drivers)" "$TMP/drivers.qcow2" || fail "could not make the drivers overlay"
  SYS_DISK=$TMP/drivers.qcow2 SYS_MONITOR=1 boot kerneld drivers kerneld.sh
  SYS_DISK=$TMP/drivers.qcow2 SYS_MONITOR=1 boot kerneld-reboot drivers kerneld-reboot.sh
  rm -f "$TMP/drivers.qcow2"
}
lane_others() {
  for run in baseline:base takeover:kmx removal:purged upgrade:upgrade; do
    boot "${run%%:*}" "${run#*:}" observe.sh
  done
}
lane_kerneld >"$TMP/lane-kerneld" 2>&1 &
kpid=$!
lane_others >"$TMP/lane-others" 2>&1 &
opid=$!
lanes=0
wait $opid || lanes=1
wait $kpid || lanes=1
cat "$TMP/lane-others" "$TMP/lane-kerneld"
[ $lanes = 0 ] || fail "a boot failed"
boots="baseline takeover removal upgrade kerneld kerneld-reboot"

# --- every boot: the whole system came up ---
for name in $boots; do
  r=$res/$name
  [ "$(cat "$r/multi-user")" = active ] && ok "$name: multi-user.target active" || bad "$name: multi-user.target is $(cat "$r/multi-user")"
  if [ -s "$r/failed" ]; then
    bad "$name: failed units:"
    sed 's/^/    /' "$r/failed"
  else
    ok "$name: no failed unit"
  fi
  grep -qx 'Result=success' "$r/kmod-static-nodes" && grep -qx 'ActiveState=active' "$r/kmod-static-nodes" &&
    ok "$name: kmod-static-nodes.service succeeded" || { bad "$name: kmod-static-nodes.service:"; sed 's/^/    /' "$r/kmod-static-nodes"; }
  [ "$(cat "$r/release")" = "$rel" ] &&
    ok "$name: runs $(cat "$r/release")" || bad "$name: runs $(cat "$r/release")"
  grep -qx 'virtio_blk' "$r/modules" && ok "$name: $(wc -l <"$r/modules") modules loaded, virtio_blk among them" ||
    bad "$name: virtio_blk (the root disk's driver) is not in /proc/modules"
done

# --- the loaded set: the baseline's, with kmx, with kmx's daemon loading drivers, and after it ---
for name in takeover removal upgrade kerneld kerneld-reboot; do
  if cmp -s "$res/baseline/modules" "$res/$name/modules"; then
    ok "$name: the loaded module set equals the baseline's"
  else
    bad "$name: the loaded module set differs from the baseline's (< baseline, > $name):"
    diff "$res/baseline/modules" "$res/$name/modules" | grep '^[<>]' | sed 's/^/    /'
  fi
done

# --- which program each kmod name runs, in the root and in the initramfs ---
# kmx's -V ends with "(kmx VERSION)"; kmod's -V has no such word. kmod's programs, as its
# package installs them, resolve to /usr/bin/kmod (merged /usr) or /bin/kmod.
is_kmod() { grep -q "^$1 -> /\(usr/\)\?bin/kmod: kmod version" "$2" && ! grep -q "^$1 -> .*(kmx " "$2"; }
for n in /bin/kmod /sbin/modprobe /sbin/depmod /usr/sbin/modprobe /usr/sbin/depmod; do
  is_kmod "$n" "$res/baseline/tools" && ok "baseline: $n is kmod" || bad "baseline: $(grep "^$n " "$res/baseline/tools")"
  grep -q "^$n -> /usr/sbin/kmx: .*(kmx " "$res/takeover/tools" && ok "takeover: $n is kmx" || bad "takeover: $(grep "^$n " "$res/takeover/tools")"
  is_kmod "$n" "$res/removal/tools" && ok "removal: $n is kmod again" || bad "removal: $(grep "^$n " "$res/removal/tools")"
done
for run in baseline:base:kmod takeover:kmx:kmx removal:purged:kmod; do
  IFS=: read -r name image want <<<"$run"
  v=$(sys_initrd_kmod "$(img "$image")")
  case $v in *"(kmx "*) got=kmx ;; "kmod version"*) got=kmod ;; *) got=neither ;; esac
  [ "$got" = "$want" ] && ok "$name: the initramfs's kmod is $want: $v" || bad "$name: the initramfs's kmod is $got, expected $want: '$v'"
done
grep -q 'kmx-as-kmod' "$res/takeover/diversions" && ok "takeover: kmod's programs diverted by kmx-as-kmod" || bad "takeover: no diversion by kmx-as-kmod"
! grep -q 'kmx-as-kmod' "$res/removal/diversions" && ok "removal: no diversion left" || bad "removal: diversions left: $(grep kmx-as-kmod "$res/removal/diversions")"

# --- upgrade: the index files kmx's depmod wrote when dpkg installed the kernel, against kmod's ---
# kmod 30's depmod (the host's, as the package's postinst runs it: `depmod RELEASE`) over a copy
# of the installed tree.
mkdir -p "$TMP/mnt" "$TMP/kmod/lib/modules" "$TMP/kmx-index"
mount -o loop,ro "$(img upgrade)/root.img" "$TMP/mnt" || fail "cannot mount the upgrade image"
cp -a "$TMP/mnt/lib/modules/$rel" "$TMP/kmod/lib/modules/" && cp "$TMP/mnt/lib/modules/$rel"/modules.* "$TMP/kmx-index/"
# The copy keeps the package's own modules.* files (order, builtin, builtin.modinfo) and loses
# what depmod wrote, so that each file compared is one kmod's depmod wrote.
dpkg-deb -c "$(sys_kernel_deb "$k")" | sed -n "s|.* \./lib/modules/$rel/\(modules\.[^/]*\)$|\1|p" >"$TMP/packaged"
for f in "$TMP/kmod/lib/modules/$rel"/modules.*; do
  grep -qx "$(basename "$f")" "$TMP/packaged" || rm -f "$f"
done
[ "$(readlink "$TMP/mnt/usr/sbin/depmod")" = /usr/sbin/kmx ] || bad "upgrade: depmod in the image is not kmx"
umount "$TMP/mnt"
depmod -b "$TMP/kmod" "$rel" || fail "kmod's depmod failed on the copy"
n=0 extra=
for f in "$TMP/kmod/lib/modules/$rel"/modules.*; do
  b=$(basename "$f")
  grep -qx "$b" "$TMP/packaged" && continue
  if cmp -s "$f" "$TMP/kmx-index/$b"; then n=$((n + 1)); else bad "upgrade: $b differs from kmod's depmod"; fi
done
for f in "$TMP/kmx-index"/modules.*; do
  [ -e "$TMP/kmod/lib/modules/$rel/$(basename "$f")" ] || extra="$extra $(basename "$f")"
done
[ "$n" -gt 0 ] && ok "upgrade: the $n index files kmod 30's depmod writes for /lib/modules/$rel are byte-identical to those kmx's depmod wrote in the kernel's postinst${extra:+ (kmx also wrote:$extra)}" ||
  bad "upgrade: no index file compared"
rm -rf "$TMP/kmod" "$TMP/kmx-index"

# --- kerneld: kmx's daemon loads the drivers under systemd ---
# loads FILE: "SECONDS TASK MODULE" for each module_load event of a trace file.
loads() {
  sed -n 's/^ *\(.*\)-[0-9]* *\(( *[0-9-]*) *\)\{0,1\}\[[0-9]*\].* \([0-9]*\.[0-9]*\): module_load: \([^ ]*\).*/\3 \1 \4/p' "$1"
}
# The moment the root's init started (initramfs-tools' init runs no systemd: the first
# "systemd[1]: systemd VERSION running in system mode" is the root's), in seconds since boot.
switched() { sed -n 's/^\[ *\([0-9.]*\)\] .*systemd\[1\]: systemd [0-9].* running in system mode.*/\1/p' "$1/journal" | head -n1; }
kd=$res/kerneld kr=$res/kerneld-reboot
for r in "$kd" "$kr"; do
  n=$(basename "$r")
  grep -qx 'ActiveState=active' "$r/daemon-state" && grep -qx 'NRestarts=0' "$r/daemon-state" &&
    ok "$n: kmx-daemon.service active, never restarted" || { bad "$n: kmx-daemon.service:"; sed 's/^/    /' "$r/daemon-state"; }
  # After the switch to the root, udev no longer loads drivers: every load by udev's worker
  # happened in the initramfs (whose udev keeps its own rule), kmx's daemon made the root's.
  sw=$(switched "$r")
  if [ -z "$sw" ]; then
    bad "$n: the journal does not say when systemd started in the root"
  else
    late=$(loads "$r/trace" | awk -v t="$sw" '$1 > t && $2 == "(udev-worker)" { print $3 }' | tr '\n' ' ')
    bykmx=$(loads "$r/trace" | awk -v t="$sw" '$1 > t && $2 == "kmx" { print $3 }' | tr '\n' ' ')
    [ -z "$late" ] && ok "$n: after the switch to the root (${sw} s) no driver loaded by udev; by kmx's daemon: ${bykmx:-none}" ||
      bad "$n: udev still loaded after the switch to the root: $late"
    [ -n "$bykmx" ] || bad "$n: kmx's daemon loaded nothing after the switch to the root"
  fi
done
grep -qx 'status 0' "$kd/verify" && ! grep -v '^status' "$kd/verify" | grep -q 'kmx-daemon' &&
  ok "kerneld: systemd-analyze verify kmx-daemon.service is clean" || { bad "kerneld: systemd-analyze verify:"; sed 's/^/    /' "$kd/verify"; }
echo "[$k] kerneld: systemd-analyze security kmx-daemon.service: $(grep -o 'Overall exposure level.*' "$kd/security" | head -n1)"
# Hot-plug: e1000 is loaded, by the daemon (its task, and its on-demand record).
h=$(cat "$kd/hotplug")
if [ "$h" -ge 0 ] 2>/dev/null && loads "$kd/trace-end" | awk '$2 == "kmx" && $3 == "e1000"' | grep -q .; then
  ok "kerneld: a hot-plugged e1000 NIC (device_add) got its driver from kmx's daemon in $h s"
else
  bad "kerneld: hot-plugged e1000: '$h'; monitor: $(cat "$kd/monitor.log" 2>/dev/null); loads: $(loads "$kd/trace-end" | grep e1000)"
fi
grep -q 'e1000' "$kd/ondemand-after" && ok "kerneld: e1000 is in kmx's on-demand records" || { bad "kerneld: e1000 not recorded:"; sed 's/^/    /' "$kd/ondemand-after"; }
# The kernel's request_module("rtnl-link-dummy") runs /sbin/modprobe: kmx, which records it.
grep -qx 'status 0' "$kd/dummy-load" && grep -q '^dummy ' "$kd/dummy-load" && grep -q 'dummy' "$kd/ondemand-after" &&
  ok "kerneld: ip link add type dummy: dummy loaded through the kernel's modprobe, kmx ($(loads "$kd/trace-end" | awk '$3 == "dummy" { print $2 }'))" ||
  { bad "kerneld: dummy:"; sed 's/^/    /' "$kd/dummy-load" "$kd/ondemand-after"; }
a=$(cat "$kd/autoclean")
[ "$a" -ge 0 ] 2>/dev/null && ! grep -qx dummy "$kd/modules-end" &&
  ok "kerneld: autoclean released dummy $a s after its link was deleted" || bad "kerneld: dummy was not released: '$a'"
# A changed parameter survives an unload and a reboot.
[ "$(cat "$kd/copybreak-set")" = 128 ] && grep -qx 'status 0' "$kd/unload" && grep -qx 'e1000.copybreak=128' "$kd/persist-list" &&
  ok "kerneld: e1000's copybreak $(cat "$kd/copybreak-before") -> 128, saved when modprobe -r unloaded it" ||
  { bad "kerneld: copybreak not saved:"; sed 's/^/    /' "$kd/copybreak-before" "$kd/copybreak-set" "$kd/unload" "$kd/persist-list"; }
h=$(cat "$kr/hotplug")
[ "$h" -ge 0 ] 2>/dev/null && [ "$(cat "$kr/copybreak-reloaded")" = 128 ] &&
  ok "kerneld-reboot: after a reboot, e1000 hot-plugged again ($h s) is loaded with the saved copybreak 128" ||
  { bad "kerneld-reboot: e1000 after the reboot: hotplug '$h', copybreak '$(cat "$kr/copybreak-reloaded")'; the store:"; sed 's/^/    /' "$kr/persist-list"; }

# --- who loaded what (the kernel's module_load events: the calling task) ---
for name in $boots; do
  t=$res/$name/trace
  [ -e "$res/$name/trace-end" ] && t=$res/$name/trace-end
  echo "[$k] $name: modules loaded, by calling task (module_load trace events):"
  loads "$t" | awk '{ n[$2]++; m[$2] = m[$2] " " $3 } END { for (c in n) printf "    %-16s %3d:%s\n", c, n[c], m[c] }' | sort
done
for name in $boots; do
  echo "[$k] $name: $(head -n1 "$res/$name/analyze")"
done

t_end=$(date +%s)
echo "[$k] images ready in $((t_images - t_start)) s, boots and checks in $((t_end - t_images)) s; results in $res"
[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "ok: $k baseline, takeover, removal, upgrade and kerneld boots"
