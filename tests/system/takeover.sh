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
#             failed unit and the baseline's module set.
# Every expectation is the baseline boot's own answer or kmod's package, never kmx's output.
# Who loaded each module (the kernel's module_load trace event names the calling task) and the
# boot times (systemd-analyze) are printed for each boot. Images are built and cached by lib.sh.
source "$(dirname "$0")/../cli/common.sh"
source "$KMX_SRC/tests/system/lib.sh"
k=${KMX_SYS_KERNEL:-6.1}
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts)"
for t in qemu-system-x86_64 mmdebstrap mkfs.ext4 dpkg-buildpackage zstd cpio; do
  command -v "$t" >/dev/null || skip "$t not installed (scripts/setup.sh)"
done
{ mkfs.ext4 2>&1 || true; } | grep -q -- '-d ' || skip "mkfs.ext4 cannot populate an image (-d)"
[ -n "${KMX_DEBS:-}" ] || command -v dh >/dev/null || skip "debhelper not installed (the packages cannot be built)"
mkdir -p "$sys_cache"
t_start=$(date +%s)
sys_base_tar >/dev/null || skip "mmdebstrap could not build a Debian 12 root (network?)"
sys_images "$k" >"$TMP/images" || fail "could not build the $k images"
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
for run in baseline:base takeover:kmx removal:purged; do
  boot "${run%%:*}" "${run#*:}" observe.sh
done
boot upgrade upgrade observe.sh

# --- every boot: the whole system came up ---
for name in baseline takeover removal upgrade; do
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

# --- the loaded set: the baseline's, with kmx and after it ---
for name in takeover removal upgrade; do
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

# --- who loaded what (the kernel's module_load events: the calling task) ---
for name in baseline takeover removal upgrade; do
  echo "[$k] $name: modules loaded, by calling task (module_load trace events):"
  sed -n 's/^ *\(.*\)-[0-9]* *\(( *[0-9-]*) *\)\{0,1\}\[[0-9]*\].* module_load: \([^ ]*\).*/\1 \3/p' "$res/$name/trace" |
    awk '{ n[$1]++; m[$1] = m[$1] " " $2 } END { for (c in n) printf "    %-16s %3d:%s\n", c, n[c], m[c] }' | sort
done

t_end=$(date +%s)
echo "[$k] images ready in $((t_images - t_start)) s, boots and checks in $((t_end - t_images)) s; results in $res"
[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "ok: $k baseline, takeover, removal and upgrade boots"
