# Compressed modules (xz, gzip, zstd copies of the lab module, and a real Debian module as it
# ships) load with kmx insmod. When /sys/module/compression names the file's format the kernel
# decompresses it (finit_module with MODULE_INIT_COMPRESSED_FILE); otherwise kmx decompresses
# and uses init_module. 6.1 has no in-kernel decompression, 6.12 (Debian) has xz.
lab_tree_modules="kernel/fs/nls/nls_cp437.ko*"

guest() {
  cat <<'G'
lab_clean
result kernel-compression "$(cat /sys/module/compression 2>/dev/null || echo none)"
n=10
for c in xz gz zst; do
  n=$((n + 1))
  run insmod-$c env KMX_DEBUG=1 /lab/kmx/insmod /lab/mods/kmx_lab_a.ko.$c answer=$n label=$c
  result answer-$c "$(cat /sys/module/kmx_lab_a/parameters/answer 2>/dev/null)"
  result label-$c "$(cat /sys/module/kmx_lab_a/parameters/label 2>/dev/null)"
  run rmmod-$c kmx rmmod kmx_lab_a
  result gone-$c "$([ -d /sys/module/kmx_lab_a ] && echo no || echo yes)"
done
# Without sysfs there is nothing to read: kmx asks the kernel (MODULE_INIT_COMPRESSED_FILE)
# and falls back to decompressing itself on the error that means "not supported".
umount /sys
run insmod-nosysfs env KMX_DEBUG=1 /lab/kmx/insmod /lab/mods/kmx_lab_a.ko.xz answer=21
mount -t sysfs sysfs /sys
result answer-nosysfs "$(cat /sys/module/kmx_lab_a/parameters/answer 2>/dev/null)"
kmx rmmod kmx_lab_a
tree=$(ls /lib/modules/$KVER/kernel/fs/nls/nls_cp437.ko*)
result tree-file "${tree##*/}"
run insmod-tree env KMX_DEBUG=1 /lab/kmx/insmod "$tree"
result tree-loaded "$(grep -c '^nls_cp437 ' /proc/modules)"
run rmmod-tree kmx rmmod nls_cp437
lab_clean
G
}

check() {
  local kc
  kc=$(res kernel-compression)
  expect_res kernel-compression "$([ "$K" = 6.1 ] && echo none || echo xz)"
  local n=10
  for c in xz gz zst; do
    n=$((n + 1))
    local fmt=$c
    [ "$c" = gz ] && fmt=gzip
    [ "$c" = zst ] && fmt=zstd
    expect_rc insmod-$c 0
    if [ "$kc" = "$fmt" ]; then
      expect_err insmod-$c "^insmod: DEBUG: finit_module\(MODULE_INIT_COMPRESSED_FILE\), file compression $fmt$"
    else
      expect_err insmod-$c "^insmod: DEBUG: init_module, file compression $fmt$"
    fi
    expect_res answer-$c $n
    expect_res label-$c $c
    expect_rc rmmod-$c 0
    expect_res gone-$c yes
  done
  expect_rc insmod-nosysfs 0
  expect_res answer-nosysfs 21
  if [ "$K" = 6.1 ]; then
    expect_err insmod-nosysfs '^insmod: DEBUG: init_module, file compression xz$'
  else
    expect_err insmod-nosysfs '^insmod: DEBUG: finit_module\(MODULE_INIT_COMPRESSED_FILE\), file compression xz$'
  fi
  expect_rc insmod-tree 0
  expect_res tree-loaded 1
  expect_rc rmmod-tree 0
}
