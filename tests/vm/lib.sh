# The VM lab, host side: kernels, test modules, initramfs, boot, console parsing.
# Sourced by tests/vm/run.sh; needs KMX_SRC (repository) and KMX (the kmx binary).
#
# Lab kernels are named by their short version ("6.1", "6.12"); each maps to the Debian
# packages fetched by tests/data/fetch-trees.sh. Everything built from them (merged header
# trees, out-of-tree test modules) is cached under $lab_cache, outside the repository.
#
# Console protocol (printed by tests/vm/guest/init and guest/lib.sh, one record a line):
#   KMX-BEGIN <scenario>               scenario started
#   KMX-RESULT <scenario> <key> <value...>
#   KMX-OUT <scenario> <name>|<line>   one stdout line of a command run with `run`
#   KMX-ERR <scenario> <name>|<line>   one stderr line of it
#   KMX-RC <scenario> <name> <code>    its exit code
#   KMX-END <scenario> <rc>            scenario finished with this status (124: guest timeout)
#   KMX-DONE                           every scenario of this boot has run
# Anything else on the console (kernel messages, boot noise) is ignored by the parser.

lab_fetch=${KMX_SRC:?}/tests/data/fetch-trees.sh
lab_cache=${KMX_LAB_CACHE:-${KMX_CACHE:-/var/cache/kmx-test}/lab}

# Package keys of fetch-trees.sh for a lab kernel.
lab_keys() {
  echo "amd64-$1 headers-$1 headers-common-$1 kbuild-$1"
}

# The other lab kernel: modules built for it must be refused by this one.
lab_other_kernel() {
  case $1 in
  6.1) echo 6.12 ;;
  *) echo 6.1 ;;
  esac
}

# Unpacked image package root of a lab kernel.
lab_image_root() {
  "$lab_fetch" path "amd64-$1"
}

# Kernel release (directory name under lib/modules) of a lab kernel.
lab_release() {
  local root
  root=$(lab_image_root "$1") || return 1
  ls "$root/lib/modules" 2>/dev/null | head -n1
}

# Make sure the packages of a lab kernel are present; prints why not on failure.
lab_fetch_kernel() {
  local k=$1 key
  for key in $(lab_keys "$k"); do
    if ! "$lab_fetch" "$key" >/dev/null 2>"$lab_tmp/fetch.err"; then
      echo "cannot fetch $key: $(tail -n1 "$lab_tmp/fetch.err")"
      return 1
    fi
  done
  local rel
  rel=$(lab_release "$k")
  [ -n "$rel" ] && [ -f "$(lab_image_root "$k")/boot/vmlinuz-$rel" ] || {
    echo "no kernel image in $(lab_image_root "$k")/boot"
    return 1
  }
}

# A /usr with the arch headers, the common headers and kbuild side by side, as Debian installs
# them, so that their relative symlinks (scripts -> ../../lib/linux-kbuild-*/scripts) resolve.
# Hard links keep it cheap; the arch Makefile's absolute include is rewritten to this tree.
lab_headers_dir() {
  local k=$1 rel dir key
  rel=$(lab_release "$k")
  dir=$lab_cache/headers-$k
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    for key in headers-$k headers-common-$k kbuild-$k; do
      cp -al "$("$lab_fetch" path "$key")/usr" "$dir/" 2>/dev/null ||
        cp -a "$("$lab_fetch" path "$key")/usr" "$dir/"
    done
    local mk=$dir/usr/src/linux-headers-$rel/Makefile common
    common=$(sed -n 's|^include /usr/src/\(.*\)/Makefile$|\1|p' "$mk")
    rm -f "$mk"
    echo "include $dir/usr/src/$common/Makefile" >"$mk"
    touch "$dir/.done"
  fi
  echo "$dir/usr/src/linux-headers-$rel"
}

# Build the lab's test modules (tests/vm/modules) for a lab kernel, plus compressed copies.
# Cached; prints the directory holding the .ko files.
lab_test_modules() {
  local k=$1 hdr sum dir
  hdr=$(lab_headers_dir "$k") || return 1
  # Keyed by the sources and by this function's own text (it makes the variants).
  sum=$( (cat "$KMX_SRC"/tests/vm/modules/*; declare -f lab_test_modules) | sha256sum | cut -c1-16)
  dir=$lab_cache/modules-$k-$sum
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir" "$dir.build"
    mkdir -p "$dir.build"
    cp "$KMX_SRC"/tests/vm/modules/* "$dir.build/"
    # BTF for modules needs pahole and buys the lab nothing.
    if ! make -s -C "$hdr" M="$dir.build" CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$dir.build/make.log" 2>&1; then
      echo "lab: building test modules for $k failed:" >&2
      cat "$dir.build/make.log" >&2
      return 1
    fi
    mkdir -p "$dir"
    local ko
    for ko in "$dir.build"/*.ko; do
      cp "$ko" "$dir/"
    done
    # Drop kmx_lab_ns's namespace import after modpost checked it (same length, in .modinfo).
    perl -0777 -pi -e 's/import_ns=ACPI\0/import_ns=NONE\0/g' "$dir/kmx_lab_ns.ko"
    # A copy whose vermagic names another build ("SMP" -> "XMP", same length): refused as is,
    # loadable with insmod -f, which must drop the vermagic check (kernel flag or stripping).
    perl -0777 -pe 's/(vermagic=[^\0]*?)SMP/${1}XMP/' "$dir/kmx_lab_a.ko" >"$dir/kmx_lab_a_badmagic.ko"
    gzip -9 -n -c "$dir/kmx_lab_a_badmagic.ko" >"$dir/kmx_lab_a_badmagic.ko.gz"
    # Compressed copies, made the way kbuild makes them (xz with a CRC32 check, which the
    # kernel's in-kernel decompressor requires).
    xz --check=crc32 --lzma2=dict=1MiB -c "$dir/kmx_lab_a.ko" >"$dir/kmx_lab_a.ko.xz"
    gzip -9 -n -c "$dir/kmx_lab_a.ko" >"$dir/kmx_lab_a.ko.gz"
    zstd -q -19 -c "$dir/kmx_lab_a.ko" >"$dir/kmx_lab_a.ko.zst"
    xz --check=crc32 --lzma2=dict=1MiB -c "$dir/kmx_lab_b.ko" >"$dir/kmx_lab_b.ko.xz"
    rm -rf "$dir.build"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# The whole module tree of a lab kernel, with kmod's depmod indexes, as an ext2 image (mounted
# by the ext4 driver in the guest). Cached; prints the image path.
lab_tree_image() {
  local k=$1 rel img dir
  rel=$(lab_release "$k")
  img=$lab_cache/tree-$k.ext2
  dir=$lab_cache/tree-$k
  if [ ! -e "$img.done" ]; then
    rm -rf "$dir" "$img" "$img.done"
    mkdir -p "$dir/lib/modules"
    cp -al "$(lab_image_root "$k")/lib/modules/$rel" "$dir/lib/modules/" 2>/dev/null ||
      cp -a "$(lab_image_root "$k")/lib/modules/$rel" "$dir/lib/modules/"
    /usr/sbin/depmod -b "$dir" "$rel" || return 1
    local mb
    mb=$(du -sm "$dir/lib/modules" | cut -f1)
    mke2fs -q -t ext2 -b 4096 -N 20000 -d "$dir/lib/modules" "$img" "$((mb + mb / 5 + 32))M" || return 1
    touch "$img.done"
  fi
  echo "$img"
}

# The modules the guest needs to mount the tree image (virtio block + ext4), in load order,
# copied to $2/NN-<file>. Built-in ones (virtio_pci on 6.12) are skipped.
lab_tree_boot_modules() {
  local k=$1 out=$2 rel dir n=0 line path
  rel=$(lab_release "$k")
  dir=$lab_cache/tree-$k
  mkdir -p "$out"
  for m in virtio_pci virtio_blk ext4; do
    /usr/sbin/modprobe -d "$dir" -S "$rel" --show-depends "$m"
  done | while read -r line; do
    case $line in
    insmod\ *)
      path=$(echo "$line" | awk '{ print $2 }')
      [ -e "$out/.seen-$(basename "$path")" ] && continue
      touch "$out/.seen-$(basename "$path")"
      n=$((n + 1))
      cp "$path" "$out/$(printf %02d $n)-$(basename "$path")"
      ;;
    esac
  done
  rm -f "$out"/.seen-*
}

# Guest lines for a scenario whose kernel must refuse the unsigned lab module: kmod's and kmx's
# insmod of it and kmx's of its xz copy (results kmod-TAG, kmx-TAG, kmx-TAG-xz), then whether it
# loaded (result `loaded`). run.sh's expect_unsigned_refused TAG checks them.
lab_unsigned_insmod_guest() {
  cat <<G
run kmod-$1 kmod insmod /lab/mods/kmx_lab_a.ko
run kmx-$1 kmx insmod /lab/mods/kmx_lab_a.ko
run kmx-$1-xz kmx insmod /lab/mods/kmx_lab_a.ko.xz
result loaded "\$(grep -c '^kmx_lab_a ' /proc/modules)"
G
}

# The lab's static helpers (guest/lab-socket.c), built on the host once per source; prints the
# directory holding them.
lab_helpers() {
  local sum dir
  sum=$(cat "$KMX_SRC"/tests/vm/guest/*.c | sha256sum | cut -c1-16)
  dir=$lab_cache/helpers-$sum
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    gcc -static -O2 -Wall -o "$dir/lab-socket" "$KMX_SRC/tests/vm/guest/lab-socket.c" || return 1
    touch "$dir/.done"
  fi
  echo "$dir"
}

# Copy a dynamically linked program and the libraries ldd names into root, same paths.
lab_copy_with_libs() {
  local prog=$1 root=$2 dest=$3 lib
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$prog" "$root$dest"
  for lib in $(ldd "$prog" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# Build an initramfs (newc cpio, uncompressed: the kernel unpacks it faster than it would
# decompress it under TCG) for kernel $1 running scenario files $3..., written to $2.
lab_initramfs() {
  local k=$1 out=$2
  shift 2
  local root=$lab_tmp/root-$k rel other img mods omods
  rel=$(lab_release "$k")
  other=$(lab_other_kernel "$k")
  img=$(lab_image_root "$k")
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,lab/scenarios,lab/kmx,lab/kmod,lab/mods,lab/other,lab/bin}
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  # kmx and kmod's own tools, each with its libraries, as multi-call links.
  lab_copy_with_libs "$KMX" "$root" /lab/kmx/kmx
  lab_copy_with_libs "$(command -v kmod || echo /usr/bin/kmod)" "$root" /lab/kmod/kmod
  # iproute2's ip (busybox's applet cannot add links of a given type) and the static helpers.
  lab_copy_with_libs "$(command -v ip || echo /usr/sbin/ip)" "$root" /lab/bin/ip
  local helpers
  helpers=$(lab_helpers) || return 1
  cp "$helpers"/lab-socket "$root/lab/bin/"
  local t
  for t in insmod rmmod lsmod modprobe modinfo depmod; do
    ln -s kmx "$root/lab/kmx/$t"
    ln -s kmod "$root/lab/kmod/$t"
  done
  # kmx's own tools by link name too (`kmx persist ...` in a scenario's guest script).
  for t in persist daemon autoclean check; do
    ln -s kmx "$root/lab/kmx/$t"
  done
  # The module directory of the running kernel: the builtin lists (kmod's rmmod consults
  # modules.builtin.bin) and any tree modules the scenarios asked for.
  local moddir=$root/lib/modules/$rel f
  mkdir -p "$moddir"
  for f in modules.builtin modules.builtin.modinfo modules.order; do
    [ -e "$img/lib/modules/$rel/$f" ] && cp "$img/lib/modules/$rel/$f" "$moddir/"
  done
  for f in $lab_tree_modules; do
    [ "$f" = all ] && continue
    local src
    src=$(cd "$img/lib/modules/$rel" && ls $f 2>/dev/null | head -n1)
    [ -n "$src" ] || continue
    mkdir -p "$moddir/$(dirname "$src")"
    cp "$img/lib/modules/$rel/$src" "$moddir/$src"
  done
  /usr/sbin/depmod -b "$root" "$rel" 2>/dev/null || true
  # "all": the whole tree comes on a disk; the initramfs holds what it takes to mount it.
  case " $lab_tree_modules " in
  *" all "*)
    lab_tree_image "$k" >/dev/null || return 1
    lab_tree_boot_modules "$k" "$root/lab/tree-boot" || return 1
    ;;
  esac
  mods=$(lab_test_modules "$k") || return 1
  omods=$(lab_test_modules "$other") || return 1
  cp "$mods"/*.ko* "$root/lab/mods/"
  cp "$omods"/*.ko* "$root/lab/other/"
  cp "$KMX_SRC/tests/vm/guest/init" "$root/init"
  cp "$KMX_SRC/tests/vm/guest/lib.sh" "$root/lab/lib.sh"
  cp "$KMX_SRC/tests/vm/guest/mount-tree.sh" "$root/lab/mount-tree.sh"
  chmod +x "$root/init"
  local s n=0
  for s in "$@"; do
    n=$((n + 1))
    (
      # shellcheck disable=SC1090
      . "$s"
      # guest/init reads this line: the scenario's own time limit inside the VM.
      echo "# kmx-lab-timeout ${lab_guest_timeout:-180}"
      guest
    ) >"$root/lab/scenarios/$(printf %02d $n)-$(basename "$s" .sh)"
  done
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out"
}

# Boot kernel $1 with initramfs $2 and extra command line $3; console goes to $4; $5 is a
# module tree image to attach as a virtio disk (optional, writes discarded); $6 a disk image
# attached after it whose writes are kept (optional; lab_boots > 1 scenarios).
# Returns qemu's status (124 when the host-side timeout killed it). $lab_smp: vCPUs (default 1).
lab_boot() {
  local k=$1 initrd=$2 cmdline=$3 log=$4 tree=${5:-} keep=${6:-} rel
  rel=$(lab_release "$k")
  local disk=()
  [ -z "$tree" ] || disk=(-drive "file=$tree,format=raw,if=virtio,snapshot=on")
  [ -z "$keep" ] || disk+=(-drive "file=$keep,format=raw,if=virtio")
  # no_timer_check: under TCG on a loaded host the IO-APIC timer check can fail and panic the
  # boot ("IO-APIC + timer doesn't work!"); the kernel offers this switch for virtual machines.
  local append="console=ttyS0 panic=-1 quiet loglevel=1 no_timer_check rdinit=/init $cmdline"
  timeout --kill-after=10 "${KMX_VM_TIMEOUT:-600}" qemu-system-x86_64 \
    -accel tcg -cpu max -smp "${lab_smp:-1}" -m 1024 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$(lab_image_root "$k")/boot/vmlinuz-$rel" -initrd "$initrd" \
    -append "$append" "${disk[@]}" </dev/null >"$log" 2>&1
}

# Split a console log into per-scenario result directories under $2:
#   $2/<scenario>/status          "<rc>" from KMX-END, absent if the scenario never ended
#   $2/<scenario>/results         "<key> <value>" lines
#   $2/<scenario>/<name>.out/.err/.rc
lab_parse() {
  local log=$1 dir=$2
  mkdir -p "$dir"
  tr -d '\r' <"$log" | awk -v dir="$dir" '
    function sdir(s) { d = dir "/" s; system("mkdir -p \"" d "\""); return d }
    $1 == "KMX-BEGIN" { sdir($2); next }
    $1 == "KMX-RESULT" {
      line = $0; sub(/^KMX-RESULT [^ ]+ /, "", line)
      print line >> (sdir($2) "/results"); next
    }
    $1 == "KMX-OUT" || $1 == "KMX-ERR" {
      ext = $1 == "KMX-OUT" ? ".out" : ".err"
      line = $0; sub(/^KMX-[A-Z]+ [^ ]+ /, "", line)
      name = line; sub(/\|.*$/, "", name)
      text = substr(line, length(name) + 2)
      print text >> (sdir($2) "/" name ext); next
    }
    $1 == "KMX-RC" { d = sdir($2); print $4 > (d "/" $3 ".rc"); close(d "/" $3 ".rc"); next }
    $1 == "KMX-END" { d = sdir($2); print $3 > (d "/status"); close(d "/status"); next }
  '
}
