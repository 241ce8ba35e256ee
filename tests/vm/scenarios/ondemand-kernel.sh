# kmx as the kernel's modprobe (/proc/sys/kernel/modprobe -> /lab/kmx/modprobe): the kernel's
# request_module() calls ("-q -- ALIAS" from a kernel thread) resolve and load through kmx and
# land in the on-demand record (/lab/kmx/kmx persist ondemand) with the alias, source "kernel":
#   * link:       ip link add d0 type dummy        -> rtnl-link-dummy -> dummy
#   * filesystem: mount -t minix /dev/null /mnt    -> fs-minix -> minix (the mount then fails)
#   * protocol:   socket(AF_CAN, SOCK_RAW, CAN_RAW) -> net-pf-29 -> can, then can-proto-1 -> can_raw
# Each request is also seen in dmesg-free form: the module is live afterwards. Then the
# record's other rules: `kmx modprobe --autoclean tun` records source "modprobe" with the
# calling shell's pid and comm; a load from a shell that looks like the kernel's argv
# ("-q -- nls_utf8") is explicit and not recorded; an explicit `kmx modprobe tun`, `kmx rmmod
# minix` and `kmx modprobe -r dummy` take those modules out of the record.
lab_tree_modules="all"

guest() {
  cat <<'G'
lab_clean
mods="dummy minix can_raw can tun nls_utf8"
unload() {
  for m in $mods; do grep -q "^$m " /proc/modules && kmod rmmod $m >/dev/null 2>&1; done
  return 0
}
loaded() { for m in "$@"; do if grep -q "^$m " /proc/modules; then printf '%s+ ' $m; else printf '%s- ' $m; fi; done; }
unload
result before "$(loaded $mods)"
old=$(cat /proc/sys/kernel/modprobe)
echo /lab/kmx/modprobe > /proc/sys/kernel/modprobe
result helper "$(cat /proc/sys/kernel/modprobe)"
mkdir -p /mnt
run link /lab/bin/ip link add d0 type dummy
run mount mount -t minix /dev/null /mnt
run socket /lab/bin/lab-socket 29 3 1
result after-kernel "$(loaded dummy minix can can_raw)"
run records-kernel /lab/kmx/kmx persist ondemand
# kmx modprobe --autoclean: recorded with the caller (this shell).
run autoclean kmx modprobe --autoclean tun
result shell-pid "$$"
# The kernel's argv from a shell is an explicit load.
run kernel-like kmx modprobe -q -- nls_utf8
run records-autoclean /lab/kmx/kmx persist ondemand
# Explicit loads and unloads by kmx forget.
run explicit kmx modprobe tun
run rmmod-minix kmx rmmod minix
/lab/bin/ip link del d0
run remove-dummy kmx modprobe -r dummy
run records-after /lab/kmx/kmx persist ondemand
result after-all "$(loaded $mods)"
echo "$old" > /proc/sys/kernel/modprobe
unload
lab_clean
G
}

check() {
  expect_res before "dummy- minix- can_raw- can- tun- nls_utf8- "
  expect_res helper /lab/kmx/modprobe
  expect_rc link 0
  # The kernel loaded minix through kmx, then the mount of a character device failed.
  [ "$(rc mount)" != 0 ] && passed "mount of /dev/null fails" || failed "mount of /dev/null exits $(rc mount)"
  expect_out socket '^ok$'
  expect_res after-kernel "dummy+ minix+ can+ can_raw+ "
  expect_rc records-kernel 0
  local r
  for r in "can alias=net-pf-29 source=kernel pid=0 comm=kernel loaded=[0-9]+$" \
    "can_raw alias=can-proto-1 source=kernel pid=0 comm=kernel loaded=[0-9]+$" \
    "dummy alias=rtnl-link-dummy source=kernel pid=0 comm=kernel loaded=[0-9]+$" \
    "minix alias=fs-minix source=kernel pid=0 comm=kernel loaded=[0-9]+$"; do
    expect_out records-kernel "^$r"
  done
  [ "$(out records-kernel | wc -l)" = 4 ] && passed "4 kernel records" || failed "records-kernel: $(out records-kernel | wc -l) lines"
  expect_rc autoclean 0
  expect_out records-autoclean "^tun alias=tun source=modprobe pid=$(res shell-pid) comm=sh loaded=[0-9]+$"
  expect_rc kernel-like 0
  out records-autoclean | grep -q '^nls_utf8 ' && failed "a shell's '-q -- nls_utf8' was recorded" || passed "shell load not recorded"
  expect_rc explicit 0
  expect_rc rmmod-minix 0
  expect_rc remove-dummy 0
  # Left: can and can_raw (kernel), nothing of tun, minix, dummy.
  [ "$(out records-after | cut -d' ' -f1 | tr '\n' ' ')" = "can can_raw " ] && passed "explicit load and unloads forgot" ||
    { failed "records after explicit/unload"; show records-after; }
  expect_res after-all "dummy- minix- can_raw+ can+ tun+ nls_utf8+ "
}
