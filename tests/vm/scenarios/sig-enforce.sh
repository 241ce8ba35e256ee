# With module.sig_enforce=1 the kernel refuses the (unsigned) lab module; kmx insmod gives
# kmod's message and exit code, then the kernel's reason and a hint that a signature is needed.
lab_cmdline="module.sig_enforce=1"

guest() {
  cat <<'G'
lab_clean
result enforced "$(cat /sys/module/module/parameters/sig_enforce)"
run kmod-unsigned kmod insmod /lab/mods/kmx_lab_a.ko
run kmx-unsigned kmx insmod /lab/mods/kmx_lab_a.ko
run kmx-unsigned-xz kmx insmod /lab/mods/kmx_lab_a.ko.xz
result loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
G
}

check() {
  expect_res enforced Y
  expect_same_first_err kmx-unsigned kmod-unsigned
  expect_rc kmx-unsigned 1
  expect_err kmx-unsigned '^insmod: hint: the kernel requires a valid signature'
  expect_rc kmx-unsigned-xz 1
  expect_err kmx-unsigned-xz '^insmod: hint: the kernel requires a valid signature'
  expect_res loaded 0
}
