# kmx insmod fails as kmod's does (same first message line, same exit code) when the module
# is already loaded, needs a symbol that is absent, uses a namespace it does not import, gets
# a bad parameter, or was built for the other lab kernel; for
# the refusals it also prints the kernel's own lines for this load and a one-line hint.
guest() {
  cat <<'G'
lab_clean
kmod insmod /lab/mods/kmx_lab_a.ko
run kmod-again kmod insmod /lab/mods/kmx_lab_a.ko
run kmx-again kmx insmod /lab/mods/kmx_lab_a.ko
run kmod-again-xz kmod insmod /lab/mods/kmx_lab_a.ko.xz
run kmx-again-xz kmx insmod /lab/mods/kmx_lab_a.ko.xz
lab_clean
run kmod-nosym kmod insmod /lab/mods/kmx_lab_b.ko
run kmx-nosym kmx insmod /lab/mods/kmx_lab_b.ko
run kmod-other kmod insmod /lab/other/kmx_lab_a.ko
run kmx-other kmx insmod /lab/other/kmx_lab_a.ko
run kmod-other-xz kmod insmod /lab/other/kmx_lab_a.ko.xz
run kmx-other-xz kmx insmod /lab/other/kmx_lab_a.ko.xz
run kmod-ns kmod insmod /lab/mods/kmx_lab_ns.ko
run kmx-ns kmx insmod /lab/mods/kmx_lab_ns.ko
run kmod-badparam kmod insmod /lab/mods/kmx_lab_a.ko answer=notanumber
run kmx-badparam kmx insmod /lab/mods/kmx_lab_a.ko answer=notanumber
head -c 4096 /lab/mods/kmx_lab_a.ko >/tmp/truncated.ko
run kmod-truncated kmod insmod /tmp/truncated.ko
run kmx-truncated kmx insmod /tmp/truncated.ko
head -c 2000 /lab/mods/kmx_lab_a.ko.xz >/tmp/truncated.ko.xz
run kmod-truncated-xz kmod insmod /tmp/truncated.ko.xz
run kmx-truncated-xz kmx insmod /tmp/truncated.ko.xz
run kmod-notelf kmod insmod /lab/lib.sh
run kmx-notelf kmx insmod /lab/lib.sh
run kmod-missing kmod insmod /lab/mods/nonexistent.ko
run kmx-missing kmx insmod /lab/mods/nonexistent.ko
result other-loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
# With the kernel log unreadable kmx says so and still prints kmod's message.
mv /dev/kmsg /dev/kmsg.off
run kmx-nolog kmx insmod /lab/other/kmx_lab_a.ko
mv /dev/kmsg.off /dev/kmsg
lab_clean
G
}

check() {
  expect_same kmx-again kmod-again
  expect_err kmx-again '^insmod: ERROR: could not insert module /lab/mods/kmx_lab_a.ko: File exists$'
  expect_same kmx-again-xz kmod-again-xz

  expect_same_first_err kmx-nosym kmod-nosym
  expect_err kmx-nosym '^insmod: ERROR: could not insert module /lab/mods/kmx_lab_b.ko: Unknown symbol in module$'
  expect_err kmx-nosym '^insmod: kernel: kmx_lab_b: Unknown symbol kmx_lab_a_value'
  expect_err kmx-nosym '^insmod: hint: a symbol it needs is absent: kmx_lab_a_value'

  for v in other other-xz; do
    expect_same_first_err kmx-$v kmod-$v
    expect_rc kmx-$v 1
    expect_err kmx-$v 'Invalid module format$'
    expect_err kmx-$v '^insmod: kernel: .*kmx_lab_a'
    expect_err kmx-$v '^insmod: hint: it was built for another kernel'
  done
  expect_res other-loaded 0

  expect_same_first_err kmx-ns kmod-ns
  expect_rc kmx-ns 1
  expect_err kmx-ns '^insmod: kernel: kmx_lab_ns: .*acpi_table_parse_cedt.*ACPI'
  expect_err kmx-ns '^insmod: hint: it uses symbol acpi_table_parse_cedt from namespace ACPI without importing'

  expect_same_first_err kmx-badparam kmod-badparam
  expect_err kmx-badparam 'Invalid parameters$'
  expect_err kmx-badparam '^insmod: kernel: kmx_lab_a: .*answer'

  expect_same kmx-missing kmod-missing
  expect_same_first_err kmx-truncated-xz kmod-truncated-xz
  expect_err kmx-truncated-xz 'Invalid parameters$'
  if [ "$K" = 6.1 ]; then
    expect_err kmx-truncated-xz "^insmod: ERROR: '/tmp/truncated.ko.xz': xz: "
  else
    expect_err kmx-truncated-xz '^insmod: kernel: decompression failed'
    expect_err kmx-truncated-xz '^insmod: hint: the kernel could not decompress the file'
  fi
  for v in truncated notelf; do
    expect_same_first_err kmx-$v kmod-$v
    expect_err kmx-$v '^insmod: hint: '
  done

  expect_rc kmx-nolog 1
  expect_err kmx-nolog '^insmod: ERROR: could not insert module /lab/other/kmx_lab_a.ko: Invalid module format$'
  expect_err kmx-nolog '^insmod: note: cannot read the kernel log'
}
