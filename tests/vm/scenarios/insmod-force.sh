# insmod -f (ignore vermagic and modversions) on the other kernel's module: 6.12 still refuses
# it, because its struct module differs in size, whether the kernel reads the file
# (finit_module flags) or kmx strips the checks itself (decompressed, init_module). Only on
# 6.12: 6.1 would accept 6.12's module and be left with a module it cannot unload.
lab_kernels="6.12"

guest() {
  cat <<'G'
lab_clean
run kmod-force kmod insmod -f /lab/other/kmx_lab_a.ko
run kmx-force kmx insmod -f /lab/other/kmx_lab_a.ko
run kmod-force-gz kmod insmod -f /lab/other/kmx_lab_a.ko.gz
run kmx-force-gz kmx insmod -f /lab/other/kmx_lab_a.ko.gz
run kmx-force-gz-debug env KMX_DEBUG=1 /lab/kmx/insmod -f /lab/other/kmx_lab_a.ko.gz
result loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
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
  expect_rc kmx-force-own 0
  expect_res own-loaded 1
}
