# With lockdown=integrity the kernel refuses unsigned modules; kmx insmod gives kmod's message
# and exit code, the kernel's lockdown line and the signature hint.
lab_cmdline="lockdown=integrity"

guest() {
  cat <<'G'
lab_clean
result lockdown "$(cat /sys/kernel/security/lockdown 2>/dev/null || { mount -t securityfs securityfs /sys/kernel/security && cat /sys/kernel/security/lockdown; })"
G
  lab_unsigned_insmod_guest locked
}

check() {
  expect_res lockdown 'none [integrity] confidentiality'
  expect_unsigned_refused locked
  expect_err kmx-locked '^insmod: kernel: Lockdown: '
}
