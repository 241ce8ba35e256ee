# With module.sig_enforce=1 the kernel refuses the (unsigned) lab module; kmx insmod gives
# kmod's message and exit code, then the kernel's reason and a hint that a signature is needed.
lab_cmdline="module.sig_enforce=1"

guest() {
  cat <<'G'
lab_clean
result enforced "$(cat /sys/module/module/parameters/sig_enforce)"
G
  lab_unsigned_insmod_guest unsigned
}

check() {
  expect_res enforced Y
  expect_unsigned_refused unsigned
}
