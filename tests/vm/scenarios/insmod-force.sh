# insmod -f (ignore vermagic and modversions) on the other kernel's module: 6.12 still refuses
# it, because its struct module differs in size, whether the kernel reads the file
# (finit_module flags) or kmx strips the checks itself (decompressed, init_module). Only on
# 6.12: 6.1 would accept 6.12's module and be left with a module it cannot unload.
lab_kernels="6.12"  # see above; the bad-vermagic cases below would run on 6.1 as well

guest() {
  cat <<'G'
lab_clean
run kmod-force kmod insmod -f /lab/other/kmx_lab_a.ko
run kmx-force kmx insmod -f /lab/other/kmx_lab_a.ko
run kmod-force-gz kmod insmod -f /lab/other/kmx_lab_a.ko.gz
run kmx-force-gz kmx insmod -f /lab/other/kmx_lab_a.ko.gz
run kmx-force-gz-debug env KMX_DEBUG=1 /lab/kmx/insmod -f /lab/other/kmx_lab_a.ko.gz
result loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
# A module whose vermagic is wrong: refused, then loaded with -f, whether the kernel reads the
# file (MODULE_INIT_IGNORE_VERMAGIC) or kmx decompresses it and blanks vermagic itself.
run kmx-badmagic kmx insmod /lab/mods/kmx_lab_a_badmagic.ko
run kmx-badmagic-f env KMX_DEBUG=1 /lab/kmx/insmod -f /lab/mods/kmx_lab_a_badmagic.ko answer=31
result badmagic-f-answer "$(cat /sys/module/kmx_lab_a/parameters/answer 2>/dev/null)"
kmx rmmod kmx_lab_a
run kmx-badmagic-gz-f env KMX_DEBUG=1 /lab/kmx/insmod -f /lab/mods/kmx_lab_a_badmagic.ko.gz answer=32
result badmagic-gz-f-answer "$(cat /sys/module/kmx_lab_a/parameters/answer 2>/dev/null)"
kmx rmmod kmx_lab_a
run kmod-badmagic-gz-f kmod insmod -f /lab/mods/kmx_lab_a_badmagic.ko.gz answer=33
result kmod-badmagic-gz-f-answer "$(cat /sys/module/kmx_lab_a/parameters/answer 2>/dev/null)"
run dmesg-tail sh -c 'dmesg | tail -n 8' 
kmx rmmod kmx_lab_a
# -f on a module that fits loads it as usual.
run kmx-force-own kmx insmod -f /lab/mods/kmx_lab_a.ko.zst
result own-loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
lab_clean
G
}

check() {
  expect_same_first_err kmx-force kmod-force
  expect_err kmx-force 'Invalid module format$'
  expect_err kmx-force '^insmod: hint: it was built for another kernel'
  expect_same_first_err kmx-force-gz kmod-force-gz
  expect_err kmx-force-gz-debug '^insmod: DEBUG: init_module, file compression gzip$'
  expect_res loaded 0
  expect_rc kmx-badmagic 1
  expect_err kmx-badmagic '^insmod: kernel: kmx_lab_a: version magic .*XMP'
  expect_err kmx-badmagic '^insmod: hint: it was built for another kernel'
  expect_rc kmx-badmagic-f 0
  expect_err kmx-badmagic-f '^insmod: DEBUG: finit_module, file compression none$'
  expect_res badmagic-f-answer 31
  expect_rc kmx-badmagic-gz-f 0
  expect_err kmx-badmagic-gz-f '^insmod: DEBUG: init_module, file compression gzip$'
  expect_res badmagic-gz-f-answer 32
  expect_rc kmx-force-own 0
  expect_res own-loaded 1
}
