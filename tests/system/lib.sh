# The real-system lab, host side: Debian 12 root images built from Debian's packages, booted
# whole (systemd as PID 1, udev, an initramfs from initramfs-tools, root on a virtio disk) under
# QEMU TCG. Sourced by tests/system/*.sh after tests/cli/common.sh.
#
# Images are made on the host, never in the guest: mmdebstrap makes the root, packages are
# installed and update-initramfs runs in a chroot, mkfs.ext4 -d makes the disk. Everything is
# cached under $sys_cache, each file named by a hash of its inputs, so a change of any input
# (package list, kernel package, kmx's packages, this file) builds it again.
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

# sys_debs: a directory holding kmx_*.deb and kmx-as-kmod_*.deb. $KMX_DEBS when set; else built
# from the repository's files as tests/cli/debian-package.sh builds them (dpkg-buildpackage -b,
# nocheck), cached by a hash of the files that go into them (tests/ and bench/ do not, so that
# work on the lab itself does not rebuild them). Prints the directory.
sys_debs() {
  if [ -n "${KMX_DEBS:-}" ]; then
    ls "$KMX_DEBS"/kmx_*.deb "$KMX_DEBS"/kmx-as-kmod_*.deb >/dev/null || return 1
    echo "$KMX_DEBS"
    return
  fi
  local src key dir
  src=$(cd "$KMX_SRC" && git ls-files -co --exclude-standard | grep -v -e '^tests/' -e '^bench/' | LC_ALL=C sort | tar -cf - -T - --mtime=@0 --owner=0 --group=0 | sha256sum | cut -c1-16)
  dir=$sys_cache/debs-$src
  mkdir -p "$sys_cache"
  # One build per source at a time (a second caller waits for the first one's packages).
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/src"
    (cd "$KMX_SRC" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$dir/src"
    # ccache, when present, with paths relative to the copy: builds of other copies hit.
    local launch=()
    command -v ccache >/dev/null && launch=(env CCACHE_BASEDIR="$dir/src" CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache)
    (cd "$dir/src" && "${launch[@]}" env DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -us -uc -j2 >"$dir/build.log" 2>&1) ||
      { tail -n 30 "$dir/build.log" >&2; echo "syslab: dpkg-buildpackage failed" >&2; return 1; }
    rm -rf "$dir/src"
    touch "$dir/.done"
  fi
  exec {lock}>&-
  echo "$dir"
}

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
    declare -f sys_make_kernel_root sys_make_image sys_chroot sys_images
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
  deb=$("$KMX_SRC/tests/data/fetch-trees.sh" deb "$("$KMX_SRC/tests/data/fetch-trees.sh" list | awk -v k="$(sys_kernel_key "$k")" '$1 == k { print $2 }')") || return 1
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

# sys_images KERNEL: the lab's images for a kernel, each a directory under $sys_cache holding
# root.img, vmlinuz and initrd.img:
#   base    Debian 12 with kmod (the baseline);
#   kmx     base + kmx and kmx-as-kmod installed, then update-initramfs -u (kmx is the system's kmod);
#   purged  kmx + kmx-as-kmod purged, then update-initramfs -u (kmod again).
# Prints "base DIR", "kmx DIR" and "purged DIR" lines.
sys_images() {
  local k=$1 debs kkey xkey work
  kkey=$(sys_image_key "base" "$k" "$(sys_base_tar)")
  local base=$sys_cache/image-base-$k-$kkey tar=$sys_cache/root-$k-$kkey.tar
  work=$(mktemp -d "$sys_cache/work.XXXXXX")
  if [ ! -s "$tar" ] || [ ! -e "$base/root.img" ]; then
    echo "syslab: building the $k base image" >&2
    sys_make_kernel_root "$work/root" "$k" >"$work/log" 2>&1 &&
      sys_make_image "$work/root" "$base" >>"$work/log" 2>&1 &&
      tar -cf "$tar.tmp" -C "$work/root" . && mv "$tar.tmp" "$tar" ||
      { tail -n 40 "$work/log" >&2; rm -rf "$work"; return 1; }
    rm -rf "$work/root"
  fi
  debs=$(sys_debs) || { rm -rf "$work"; return 1; }
  xkey=$(sys_image_key "kmx" "$kkey" "$debs"/kmx_*.deb "$debs"/kmx-as-kmod_*.deb)
  local kmx=$sys_cache/image-kmx-$k-$xkey purged=$sys_cache/image-purged-$k-$xkey
  if [ ! -e "$kmx/root.img" ] || [ ! -e "$purged/root.img" ]; then
    echo "syslab: building the $k kmx images" >&2
    mkdir -p "$work/root"
    tar -xf "$tar" -C "$work/root"
    cp "$debs"/kmx_*.deb "$debs"/kmx-as-kmod_*.deb "$work/root/tmp/"
    {
      sys_chroot "$work/root" sh -c 'dpkg -i /tmp/kmx_*.deb && dpkg -i /tmp/kmx-as-kmod_*.deb && update-initramfs -u -k all' &&
        rm -f "$work/root"/tmp/*.deb &&
        sys_make_image "$work/root" "$kmx" &&
        sys_chroot "$work/root" sh -c 'dpkg --purge kmx-as-kmod && update-initramfs -u -k all' &&
        sys_make_image "$work/root" "$purged"
    } >"$work/log" 2>&1 || { tail -n 40 "$work/log" >&2; rm -rf "$work"; return 1; }
  fi
  rm -rf "$work"
  echo "base $base"
  echo "kmx $kmx"
  echo "purged $purged"
}

# sys_boot IMAGE_DIR SCRIPT RESULTS_DIR: boot the image (its root disk as a snapshot: the cached
# image is never written), run SCRIPT in it, extract what it wrote under $OUT into RESULTS_DIR;
# the console log is RESULTS_DIR/console, the host's wall time of the boot RESULTS_DIR/host-seconds.
sys_boot() {
  local img=$1 script=$2 res=$3 io t0 t1 rc=0
  mkdir -p "$res/in"
  io=$res/io.img
  cp "$script" "$res/in/guest.sh"
  tar -cf "$io" -C "$res/in" guest.sh
  truncate -s 64M "$io"
  # Two VMs on 2 cores would slow each other past their timeouts: wait for any other one.
  local waited=0
  while pgrep -f qemu-system >/dev/null && [ $waited -lt "${KMX_SYS_WAIT:-1200}" ]; do
    sleep 5
    waited=$((waited + 5))
  done
  t0=$(date +%s.%N)
  timeout --kill-after=10 "${KMX_SYS_TIMEOUT:-600}" qemu-system-x86_64 \
    -accel tcg -cpu max -smp "${KMX_SYS_SMP:-1}" -m 1024 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 quiet no_timer_check trace_event=module:module_load" \
    -drive "file=$img/root.img,format=raw,if=virtio,snapshot=on" \
    -drive "file=$io,format=raw,if=virtio" </dev/null >"$res/console" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$res/host-seconds"
  echo "$rc" >"$res/qemu-status"
  tar -xf "$io" -C "$res" 2>/dev/null || true
  rm -f "$io"
  [ -e "$res/guest.rc" ]
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
