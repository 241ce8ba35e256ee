# kmx lsmod prints exactly what kmod's lsmod prints in the same VM, with real Debian modules
# (parport held by ppdev) and the lab's modules (kmx_lab_a held by kmx_lab_b) loaded, and with
# only what the boot itself loaded (none, or the drivers of the tree disk). Loading is done with kmod's insmod, so only lsmod is under test here.
lab_tree_modules="kernel/drivers/parport/parport.ko* kernel/drivers/char/ppdev.ko* kernel/lib/crc7.ko* kernel/drivers/net/dummy.ko*"

guest() {
  cat <<'G'
lab_clean
run kmod-empty kmod lsmod
run kmx-empty kmx lsmod
before=$(wc -l </proc/modules)
d=/lib/modules/$KVER/kernel
kmod insmod $d/drivers/parport/parport.ko*
kmod insmod $d/drivers/char/ppdev.ko*
kmod insmod $d/lib/crc7.ko*
kmod insmod $d/drivers/net/dummy.ko* numdummies=0
kmod insmod /lab/mods/kmx_lab_a.ko
kmod insmod /lab/mods/kmx_lab_b.ko
result added "$(($(wc -l </proc/modules) - before))"
run kmod-full kmod lsmod
run kmx-full kmx lsmod
same identical /tmp/kmod-full.out /tmp/kmx-full.out
run kmod-usage kmod lsmod extra
run kmx-usage kmx lsmod extra
for m in dummy crc7 ppdev parport; do kmod rmmod $m; done
lab_clean
G
}

check() {
  expect_rc kmx-empty 0
  expect_same kmx-empty kmod-empty
  expect_res added 6
  expect_rc kmx-full 0
  expect_same kmx-full kmod-full
  expect_res identical yes
  expect_out kmx-full '^parport +[0-9]+  1 ppdev$'
  expect_out kmx-full '^kmx_lab_a +[0-9]+  1 kmx_lab_b$'
  # An argument: kmod 30 prints "Usage: lsmod"; kmx answers as kmod 34 does (it takes options
  # since), with the same exit code.
  expect_rc kmod-usage 1
  expect_rc kmx-usage 1
  expect_err kmx-usage '^lsmod: ERROR: too many arguments provided\.$'
}
