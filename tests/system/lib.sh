# The real-system lab, host side: Debian 12 root images built from Debian's packages, booted
# whole (systemd as PID 1, udev, an initramfs from initramfs-tools, root on a virtio disk) under
# QEMU TCG. Sourced by tests/system/*.sh after tests/cli/common.sh.
#
# Images are made on the host, never in the guest: mmdebstrap makes the root, packages are
# installed and update-initramfs runs in a chroot, mkfs.ext4 -d makes the base disk; the images
# with kmx are copies of another image's disk, mounted, changed in a chroot. Everything is cached
# under $sys_cache, each named by a hash of its inputs (package list, kernel package, kmx's
# packages, the functions that make it), so a change of any input builds it again.
#
# A boot runs one scenario script. The root holds a generic runner (syslab.service, started
# once multi-user.target is reached); the scenario script reaches it on a second virtio disk,
# /dev/vdb, which holds a tar archive; the runner extracts it, runs guest.sh, writes everything
# the script put under $OUT back to /dev/vdb as a tar archive and powers the machine off. The
# host reads the results with tar. The serial console (ttyS0) is kept as the boot log.

sys_cache=${KMX_CACHE:-/var/cache/kmx-test}/system
sys_suite=bookworm
sys_include=systemd-sysv,udev,kmod,iproute2,initramfs-tools,linux-base,zstd
sys_lib_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)

# Lab kernel (6.1, 6.12) -> fetch-trees.sh key of its image package.
sys_kernel_key() { echo "amd64-$1"; }

# Lab kernel -> its image package (a cached .deb, tests/data/fetch-trees.sh).
sys_kernel_deb() {
  "$KMX_SRC/tests/data/fetch-trees.sh" deb "$("$KMX_SRC/tests/data/fetch-trees.sh" list | awk -v k="$(sys_kernel_key "$1")" '$1 == k { print $2 }')"
}

# The lab's other kernel.
sys_other_kernel() { if [ "$1" = 6.1 ]; then echo 6.12; else echo 6.1; fi; }

# Hash of strings and files, 16 hex digits.
sys_hash() { { printf '%s\n' "$@"; } | sha256sum | cut -c1-16; }

# sys_base_tar: the Debian root without a kernel (tar), cached. Prints its path.
sys_base_tar() {
  local tar=$sys_cache/root-$sys_suite-$(sys_hash "$sys_suite" "$sys_include").tar
  if [ ! -s "$tar" ]; then
    mkdir -p "$sys_cache"
    # mmdebstrap picks the output format by the name's extension: the temporary name ends in .tar.
    mmdebstrap --quiet --variant=minbase --include="$sys_include" "$sys_suite" "${tar%.tar}.tmp.tar" >&2 || return 1
    mv "${tar%.tar}.tmp.tar" "$tar"
  fi
  echo "$tar"
}

# sys_debs: a directory holding kmx's packages (kmx_*.deb, kmx-as-kmod_*.deb, kmx-drivers_*.deb):
# scripts/debs.sh's, built once per source and cached, shared with tests/cli/debian-package.sh
# ($KMX_DEBS when set). Prints the directory.
sys_debs() { "$KMX_SRC/scripts/debs.sh"; }

# sys_image_key NAME INPUTS...: cache key of an image: its name, its inputs (strings, or files,
# which count by content) and the text of the functions that make images.
sys_image_key() {
  local name=$1 a
  shift
  {
    echo "$name"
    for a in "$@"; do
      if [ -f "$a" ]; then sha256sum <"$a"; else echo "$a"; fi
    done
    declare -f sys_make_kernel_root sys_make_image sys_chroot
    cat "$KMX_SRC"/tests/system/guest/syslab-run "$KMX_SRC"/tests/system/guest/syslab.service
  } | sha256sum | cut -c1-16
}

# sys_chroot ROOT CMD...: run CMD in ROOT with /proc, /sys and /dev mounted, as a package
# install needs them (update-initramfs reads /proc; postinsts see no running system, and
# policy-rc.d keeps them from starting services).
sys_chroot() {
  local root=$1 rc=0
  shift
  mount -t proc proc "$root/proc"
  mount -t sysfs sys "$root/sys"
  mount --bind /dev "$root/dev"
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
  umount "$root/dev" "$root/sys" "$root/proc"
  return $rc
}

# sys_make_kernel_root ROOT KERNEL: the Debian root with the lab runner and the kernel package,
# installed with dpkg in the chroot (its postinst runs depmod and update-initramfs).
sys_make_kernel_root() {
  local root=$1 k=$2 deb
  mkdir -p "$root"
  tar -xf "$(sys_base_tar)" -C "$root" || return 1
  deb=$(sys_kernel_deb "$k") || return 1
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  install -m 755 "$KMX_SRC/tests/system/guest/syslab-run" "$root/usr/local/sbin/syslab-run"
  install -m 644 "$KMX_SRC/tests/system/guest/syslab.service" "$root/etc/systemd/system/syslab.service"
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sf /etc/systemd/system/syslab.service "$root/etc/systemd/system/multi-user.target.wants/syslab.service"
  echo syslab >"$root/etc/hostname"
  # A machine id of its own: not a first boot (no systemd-firstboot prompts on the console).
  echo 5ec1ab5ec1ab5ec1ab5ec1ab5ec1ab00 >"$root/etc/machine-id"
  printf '/dev/vda / ext4 rw 0 1\n' >"$root/etc/fstab"
  cp "$deb" "$root/tmp/"
  sys_chroot "$root" dpkg -i "/tmp/$(basename "$deb")" || return 1
  rm -f "$root/tmp/$(basename "$deb")"
}

# sys_make_image ROOT DIR: DIR/root.img (ext4 made from ROOT), DIR/vmlinuz and DIR/initrd.img
# (the kernel and the initramfs update-initramfs made in ROOT).
sys_make_image() {
  local root=$1 dir=$2 size
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  cp "$root"/boot/vmlinuz-* "$dir.tmp/vmlinuz"
  cp "$root"/boot/initrd.img-* "$dir.tmp/initrd.img"
  size=$(du -sm "$root" | cut -f1)
  mkfs.ext4 -q -F -L syslab -d "$root" "$dir.tmp/root.img" "$((size + size / 2 + 256))M" || return 1
  mv "$dir.tmp" "$dir"
}

# sys_derive FROM TO SCRIPT FILES...: the image TO made from the image FROM: a copy of FROM's
# disk, mounted (loop), FILES copied to its /tmp, SCRIPT run there in a chroot (sh -e), the files
# taken away again; TO's vmlinuz and initrd.img are the root's /boot files of release
# $SYS_RELEASE (default: FROM's only kernel). No tar and no mkfs: a derived image costs its
# package installs and the update-initramfs they need.
sys_derive() {
  local from=$1 to=$2 script=$3 mnt rc=0 f rel=${SYS_RELEASE:-}
  shift 3
  rm -rf "$to" "$to.tmp"
  mkdir -p "$to.tmp/mnt"
  mnt=$to.tmp/mnt
  cp --sparse=always "$from/root.img" "$to.tmp/root.img" || return 1
  mount -o loop "$to.tmp/root.img" "$mnt" || return 1
  for f in "$@"; do cp "$f" "$mnt/tmp/" || rc=1; done
  [ $rc != 0 ] || sys_chroot "$mnt" sh -ec "$script" || rc=$?
  for f in "$@"; do rm -f "$mnt/tmp/$(basename "$f")"; done
  if [ $rc = 0 ]; then
    [ -n "$rel" ] || rel=$(basename "$(ls "$mnt"/boot/vmlinuz-*)" | sed 's/^vmlinuz-//')
    cp "$mnt/boot/vmlinuz-$rel" "$to.tmp/vmlinuz" && cp "$mnt/boot/initrd.img-$rel" "$to.tmp/initrd.img" || rc=1
  fi
  umount "$mnt" || rc=1
  rmdir "$mnt"
  if [ $rc = 0 ]; then mv "$to.tmp" "$to"; else rm -rf "$to.tmp"; return 1; fi
}

# sys_image NAME KEY FROM SCRIPT FILES...: the cached image $sys_cache/image-NAME-KEY, made by
# sys_derive from the image FROM when missing (one maker at a time per image: a lock). Prints
# its directory.
sys_image() {
  local name=$1 key=$2 from=$3 script=$4 dir lock
  shift 4
  dir=$sys_cache/image-$name-$key
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [ ! -e "$dir/root.img" ]; then
    echo "syslab: building the $name image" >&2
    sys_derive "$from" "$dir" "$script" "$@" >"$dir.log" 2>&1 || { tail -n 40 "$dir.log" >&2; exec {lock}>&-; return 1; }
  fi
  exec {lock}>&-
  echo "$dir"
}

# The scripts the derived images are made with (run in the image's root).
sys_script_kmx='dpkg -i /tmp/kmx_*.deb /tmp/kmx-as-kmod_*.deb && update-initramfs -u'
sys_script_purged='dpkg --purge kmx-as-kmod && update-initramfs -u'
sys_script_drivers='dpkg -i /tmp/kmx-drivers_*.deb && update-initramfs -u'

# sys_images KERNEL: the lab's images for a kernel, each a directory under $sys_cache holding
# root.img, vmlinuz and initrd.img:
#   base     Debian 12 with kmod (the baseline);
#   kmx      base + kmx and kmx-as-kmod installed, then update-initramfs -u (kmx is the system's
#            kmod);
#   purged   kmx + kmx-as-kmod purged, then update-initramfs -u (kmod again);
#   drivers  kmx + kmx-drivers installed (udev's driver loading handed to kmx's daemon, which
#            the package enables), then update-initramfs -u (its hook keeps udev's rule there).
# Prints "NAME DIR" lines.
sys_images() {
  local k=$1 debs kkey xkey work
  kkey=$(sys_image_key "base" "$k" "$(sys_base_tar)")
  local base=$sys_cache/image-base-$k-$kkey lock
  exec {lock}>"$base.lock"
  flock "$lock"
  if [ ! -e "$base/root.img" ]; then
    echo "syslab: building the $k base image" >&2
    work=$(mktemp -d "$sys_cache/work.XXXXXX")
    sys_make_kernel_root "$work/root" "$k" >"$work/log" 2>&1 &&
      sys_make_image "$work/root" "$base" >>"$work/log" 2>&1 ||
      { tail -n 40 "$work/log" >&2; rm -rf "$work"; exec {lock}>&-; return 1; }
    rm -rf "$work"
  fi
  exec {lock}>&-
  debs=$(sys_debs) || return 1
  # Each derived image's key: what it is made from, the packages, and how.
  xkey=$(sys_hash "$kkey" "$(cat "$debs"/kmx_*.deb "$debs"/kmx-as-kmod_*.deb | sha256sum)" "$sys_script_kmx" "$(declare -f sys_derive sys_chroot)")
  local kmx purged drivers
  kmx=$(sys_image "kmx-$k" "$xkey" "$base" "$sys_script_kmx" "$debs"/kmx_*.deb "$debs"/kmx-as-kmod_*.deb) || return 1
  purged=$(sys_image "purged-$k" "$(sys_hash "$xkey" "$sys_script_purged")" "$kmx" "$sys_script_purged") || return 1
  drivers=$(sys_image "drivers-$k" "$(sys_hash "$xkey" "$(sha256sum <"$(ls "$debs"/kmx-drivers_*.deb)")" "$sys_script_drivers")" \
    "$kmx" "$sys_script_drivers" "$debs"/kmx-drivers_*.deb) || return 1
  echo "base $base"
  echo "kmx $kmx"
  echo "purged $purged"
  echo "drivers $drivers"
}

# sys_upgrade_image KERNEL RELEASE: the other kernel's kmx image with KERNEL's image package
# installed by dpkg (its postinst runs depmod, which is kmx's there, and update-initramfs for
# RELEASE); vmlinuz and initrd.img are RELEASE's. The disk grows first by the package's
# installed size and 256 MiB (e2fsck, resize2fs on a copy). Prints its directory.
sys_upgrade_image() {
  local k=$1 rel=$2 from deb key grown= mb dir
  from=$(sys_images "$(sys_other_kernel "$k")" | awk '$1 == "kmx" { print $2 }')
  [ -n "$from" ] || return 1
  deb=$(sys_kernel_deb "$k") || return 1
  key=$(sys_hash "$from" "$(basename "$deb")" "$(declare -f sys_upgrade_image)")
  dir=$sys_cache/image-upgrade-$k-$key
  if [ ! -e "$dir/root.img" ]; then
    grown=$(mktemp -d "$sys_cache/work.XXXXXX")
    mb=$(($(dpkg-deb -f "$deb" Installed-Size) / 1024 + 256))
    cp --sparse=always "$from/root.img" "$grown/root.img" && truncate -s "+${mb}M" "$grown/root.img" &&
      { e2fsck -fp "$grown/root.img" && resize2fs "$grown/root.img"; } >"$grown/log" 2>&1 ||
      { cat "$grown/log" >&2; rm -rf "$grown"; return 1; }
  fi
  SYS_RELEASE=$rel sys_image "upgrade-$k" "$key" "${grown:-$from}" "dpkg -i /tmp/$(basename "$deb")" "$deb"
  local rc=$?
  [ -z "$grown" ] || rm -rf "$grown"
  return $rc
}

# sys_boot IMAGE_DIR SCRIPT RESULTS_DIR: boot the image (its root disk as a snapshot: the cached
# image is never written), run SCRIPT in it (observe.sh and wait.sh go along beside it), extract
# what it wrote under $OUT into RESULTS_DIR; the console log is RESULTS_DIR/console, the host's wall
# time of the boot RESULTS_DIR/host-seconds.
#   SYS_DISK=FILE    boot from FILE (a qcow2 overlay over the image's root.img, sys_overlay)
#                    instead, written: what one boot leaves on the disk the next boot sees;
#   SYS_MONITOR=1    the guest may ask for QEMU monitor commands: each "SYSLAB-MONITOR CMD;"
#                    written to the console is sent once, as it appears, to the monitor (HMP on a
#                    unix socket), e.g. device_add to hot-plug a device; the commands sent are
#                    RESULTS_DIR/monitor.log.
sys_boot() {
  local img=$1 script=$2 res=$3 io t0 t1 rc=0 disk watcher=
  mkdir -p "$res/in"
  io=$res/io.img
  cp "$script" "$res/in/guest.sh"
  cp "$KMX_SRC/tests/system/guest/observe.sh" "$KMX_SRC/tests/system/guest/wait.sh" "$res/in/"
  tar -cf "$io" -C "$res/in" guest.sh observe.sh wait.sh
  truncate -s 64M "$io"
  # One QEMU per host core (KMX_SYS_VMS, default: the number of cores): more would slow each
  # other past their timeouts. QEMU's process name is cut to 15 characters by the kernel.
  local waited=0
  while [ "$(pgrep -c -x qemu-system-x86)" -ge "${KMX_SYS_VMS:-$(nproc)}" ] && [ $waited -lt "${KMX_SYS_WAIT:-1200}" ]; do
    sleep 5
    waited=$((waited + 5))
  done
  disk="file=$img/root.img,format=raw,if=virtio,snapshot=on"
  [ -z "${SYS_DISK:-}" ] || disk="file=$SYS_DISK,format=qcow2,if=virtio"
  local monitor=()
  if [ "${SYS_MONITOR:-0}" = 1 ]; then
    rm -f "$res/monitor" "$res/monitor.log"
    monitor=(-monitor "unix:$res/monitor,server=on,wait=off")
    sys_monitor_watch "$res" &
    watcher=$!
  fi
  : >"$res/console"
  t0=$(date +%s.%N)
  timeout --kill-after=10 "${KMX_SYS_TIMEOUT:-600}" qemu-system-x86_64 \
    -accel tcg -cpu max -smp "${KMX_SYS_SMP:-1}" -m 1024 -nographic -no-reboot -nodefaults -serial stdio \
    "${monitor[@]}" \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 quiet no_timer_check trace_event=module:module_load trace_options=record-tgid" \
    -drive "$disk" \
    -drive "file=$io,format=raw,if=virtio" </dev/null >"$res/console" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  [ -z "$watcher" ] || { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$res/host-seconds"
  echo "$rc" >"$res/qemu-status"
  tar -xf "$io" -C "$res" 2>/dev/null || true
  rm -f "$io"
  [ -e "$res/guest.rc" ]
}

# sys_monitor_watch RESULTS_DIR: while the boot runs, send each new "SYSLAB-MONITOR CMD;" of
# RESULTS_DIR/console to QEMU's monitor socket RESULTS_DIR/monitor, once, in order; log
# "CMD -> reply" to RESULTS_DIR/monitor.log.
sys_monitor_watch() {
  local res=$1 done=0 n cmd
  while sleep 1; do
    n=$(grep -ao 'SYSLAB-MONITOR [^;]*;' "$res/console" 2>/dev/null | wc -l)
    while [ "$done" -lt "$n" ]; do
      done=$((done + 1))
      cmd=$(grep -ao 'SYSLAB-MONITOR [^;]*;' "$res/console" | sed -n "${done}p" | sed 's/^SYSLAB-MONITOR //; s/;$//')
      python3 - "$res/monitor" "$cmd" >>"$res/monitor.log" 2>&1 <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
def drain():
    out = b""
    try:
        while not out.endswith(b"(qemu) "):
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    return out
drain()
s.sendall(sys.argv[2].encode() + b"\n")
reply = drain().decode(errors="replace").replace("\r", "")
print(sys.argv[2], "->", " ".join(l for l in reply.splitlines()[1:] if l and not l.startswith("(qemu)")) or "ok")
PY
    done
  done
}

# sys_overlay IMAGE_DIR FILE: FILE, a new qcow2 overlay over the image's root.img: a writable disk
# for boots that must see what an earlier boot wrote (the cached image stays as it is).
sys_overlay() {
  rm -f "$2"
  qemu-img create -q -f qcow2 -F raw -b "$1/root.img" "$2"
}

# sys_initrd_kmod IMAGE_DIR: the output of `kmod -V` (on one line) run from the image's initramfs, in a
# chroot of its unpacked contents: which program the initramfs loads modules with.
sys_initrd_kmod() {
  local d
  d=$(mktemp -d)
  (cd "$d" && zstd -dc "$1/initrd.img" 2>/dev/null | cpio -id --quiet 2>/dev/null)
  chroot "$d" /bin/kmod -V 2>&1 | tr '\n' ' '
  echo
  rm -rf "$d"
}
