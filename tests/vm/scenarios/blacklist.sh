# module_blacklist= on the kernel command line makes the kernel refuse the module; kmx insmod
# gives kmod's message and exit code, the kernel's line and a hint naming the command line.
lab_cmdline="module_blacklist=kmx_lab_b"

guest() {
  cat <<'G'
lab_clean
kmod insmod /lab/mods/kmx_lab_a.ko
run kmod-black kmod insmod /lab/mods/kmx_lab_b.ko
run kmx-black kmx insmod /lab/mods/kmx_lab_b.ko
result loaded "$(grep -c '^kmx_lab_b ' /proc/modules)"
run kmx-allowed kmx insmod /lab/mods/kmx_lab_a.ko.gz
lab_clean
G
}

check() {
  expect_same_first_err kmx-black kmod-black
  expect_rc kmx-black 1
  expect_err kmx-black '^insmod: kernel: .*kmx_lab_b.*blacklisted'
  expect_err kmx-black '^insmod: hint: the kernel command line blacklists it'
  expect_res loaded 0
  # kmx_lab_a itself is not blacklisted: loading it again only says it exists.
  expect_err kmx-allowed 'File exists$'
}
