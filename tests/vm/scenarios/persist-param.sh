# Persistent module parameters through kmx's own tools, with kmx_lab_a's writable
# parameters `level` (int, 1) and `note` (charp, "plain"), in a module dir indexed by kmod's depmod:
#   * a value changed through sysfs after a kmx load is saved by `kmx rmmod` and applied by the
#     next `kmx modprobe`; only the changed parameter is stored (note stays out);
#   * an unchanged reload (`kmx modprobe -r`) keeps the stored value;
#   * a load that names the parameter wins (level=2), and a change after it is saved again by
#     `kmx modprobe -r` (level=7);
#   * `kmx modprobe -r kmx_lab_b` saves kmx_lab_a's change too when it removes it as an unused
#     dependency (level=9);
#   * a module kmx did not load (kmod's insmod: no baseline) gets every writable parameter saved;
#   * kmod's modprobe ignores the store (level stays 1), and `modprobe -n`/`-D` never create it.
lab_tree_modules="all"

guest() {
  cat <<'G'
lab_clean
LR=/tmp/pr
lab_mod_root $LR kmx_lab_a kmx_lab_b
P=/sys/module/kmx_lab_a/parameters
DB=/var/lib/kmx/persist.db
lvl() { cat $P/level 2>/dev/null || echo none; }
store() { /lab/kmx/kmx persist list | tr '\n' ' ' | sed 's/ $//'; }
run dry kmx modprobe -d $LR -n kmx_lab_a
run showdeps kmx modprobe -d $LR -D kmx_lab_a
result db-after-dry "$([ -e $DB ] && echo yes || echo no)"
run load1 kmx modprobe -d $LR kmx_lab_a
result db-after-load "$([ -e $DB ] && echo yes || echo no)"
result level1 "$(lvl)"
echo 5 > $P/level
run rmmod1 kmx rmmod kmx_lab_a
result store1 "$(store)"
run load2 kmx modprobe -v -d $LR kmx_lab_a
result level2 "$(lvl)"
result note2 "$(cat $P/note)"
run remove2 kmx modprobe -r -d $LR kmx_lab_a
result store2 "$(store)"
run load3 kmx modprobe -d $LR kmx_lab_a level=2
result level3 "$(lvl)"
echo 7 > $P/level
run remove3 kmx modprobe -r -d $LR kmx_lab_a
result store3 "$(store)"
run load4 kmx modprobe -d $LR kmx_lab_a
result level4 "$(lvl)"
kmod rmmod kmx_lab_a
# Through a dependency: kmx_lab_b pulls kmx_lab_a in; -r kmx_lab_b removes both.
run load5 kmx modprobe -d $LR kmx_lab_b
echo 9 > $P/level
run remove5 kmx modprobe -r -d $LR kmx_lab_b
result gone5 "$([ -d /sys/module/kmx_lab_a ] && echo loaded || echo gone)"
result store5 "$(store)"
# kmod's modprobe knows nothing of the store.
run kmod-load kmod modprobe -d $LR kmx_lab_a
result level-kmod "$(lvl)"
# Loaded by kmod (no baseline): kmx rmmod saves every writable parameter.
echo 4 > $P/level
run rmmod6 kmx rmmod kmx_lab_a
result store6 "$(store)"
lab_clean
G
}

check() {
  expect_rc dry 0
  expect_rc showdeps 0
  expect_res db-after-dry no
  expect_rc load1 0
  expect_res db-after-load no
  expect_res level1 1
  expect_rc rmmod1 0
  expect_res store1 "kmx_lab_a.level=5"
  expect_rc load2 0
  expect_out load2 "^insmod /tmp/pr/lib/modules/.*/extra/kmx_lab_a.ko level=5$"
  expect_res level2 5
  expect_res note2 plain
  expect_rc remove2 0
  expect_res store2 "kmx_lab_a.level=5"
  expect_rc load3 0
  expect_res level3 2
  expect_rc remove3 0
  expect_res store3 "kmx_lab_a.level=7"
  expect_res level4 7
  expect_rc load5 0
  expect_rc remove5 0
  expect_res gone5 gone
  expect_res store5 "kmx_lab_a.level=9"
  expect_rc kmod-load 0
  expect_res level-kmod 1
  expect_rc rmmod6 0
  expect_res store6 "kmx_lab_a.level=4 kmx_lab_a.note=plain"
}
