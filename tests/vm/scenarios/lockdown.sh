# With lockdown=integrity the kernel refuses unsigned modules; kmx insmod gives kmod's message
# and exit code, the kernel's lockdown line and the signature hint.
lab_cmdline="lockdown=integrity"

guest() {
  cat <<'G'
lab_clean
result lockdown "$(cat /sys/kernel/security/lockdown 2>/dev/null || { mount -t securityfs securityfs /sys/kernel/security && cat /sys/kernel/security/lockdown; })"
run kmod-locked kmod insmod /lab/mods/kmx_lab_a.ko
run kmx-locked kmx insmod /lab/mods/kmx_lab_a.ko
run kmx-locked-xz kmx insmod /lab/mods/kmx_lab_a.ko.xz
result loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
G
}

check() {
  expect_res lockdown 'none [integrity] confidentiality'
  expect_same_first_err kmx-locked kmod-locked
  expect_rc kmx-locked 1
  expect_err kmx-locked '^insmod: kernel: Lockdown: '
  expect_err kmx-locked '^insmod: hint: the kernel requires a valid signature'
  expect_rc kmx-locked-xz 1
  expect_err kmx-locked-xz '^insmod: hint: the kernel requires a valid signature'
  expect_res loaded 0
}
