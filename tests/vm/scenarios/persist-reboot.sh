# A parameter saved at unload survives a reboot: two boots of the same VM share a disk
# (ext2, label kmxpersist) that holds the store, named by /etc/kmx/kmx.conf (persist-db). Boot 1:
# kmx modprobe kmx_lab_a, level changed to 6 through sysfs, kmx rmmod saves it. Boot 2 (fresh
# initramfs, same disk): kmx modprobe kmx_lab_a loads it with level=6; note (never changed) keeps
# its default and is not in the store.
lab_tree_modules="all"
lab_boots=2

guest() {
  cat <<'G'
lab_clean
LR=/tmp/pr
lab_mod_root $LR kmx_lab_a
mkdir -p /persist /etc/kmx
dev=$(findfs LABEL=kmxpersist)
result b$LAB_BOOT-dev "$dev"
run b$LAB_BOOT-mount mount -t ext4 "$dev" /persist
mkdir -p -m 700 /persist/kmx  # kmx creates only its default store directory
echo "persist-db /persist/kmx/persist.db" > /etc/kmx/kmx.conf
P=/sys/module/kmx_lab_a/parameters
if [ "$LAB_BOOT" = 1 ]; then
  run b1-load kmx modprobe -d $LR kmx_lab_a
  result b1-level "$(cat $P/level)"
  echo 6 > $P/level
  run b1-rmmod kmx rmmod kmx_lab_a
  run b1-store /lab/kmx/kmx persist list
else
  run b2-store /lab/kmx/kmx persist list
  run b2-load kmx modprobe -v -d $LR kmx_lab_a
  result b2-level "$(cat $P/level)"
  result b2-note "$(cat $P/note)"
  run b2-check /lab/kmx/kmx persist check
fi
sync
umount /persist
rm -f /etc/kmx/kmx.conf
lab_clean
G
}

check() {
  expect_res b1-dev /dev/vdb
  expect_res b2-dev /dev/vdb
  expect_rc b1-mount 0
  expect_rc b1-load 0
  expect_res b1-level 1
  expect_rc b1-rmmod 0
  expect_out b1-store '^kmx_lab_a\.level=6$'
  expect_rc b2-mount 0
  expect_out b2-store '^kmx_lab_a\.level=6$'
  [ "$(out b2-store)" = "kmx_lab_a.level=6" ] && passed "only level stored" || failed "b2-store: $(out b2-store)"
  expect_rc b2-load 0
  expect_out b2-load "^insmod /tmp/pr/lib/modules/.*/extra/kmx_lab_a.ko level=6$"
  expect_res b2-level 6
  expect_res b2-note plain
  expect_rc b2-check 0
}
