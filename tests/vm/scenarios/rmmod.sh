# kmx rmmod fails as kmod's rmmod does for a module in use (held by another module), a module
# that is not loaded and a builtin one; -f removes nothing the kernel would not allow; -s
# logs the same lines to syslog.
guest() {
  cat <<'G'
lab_clean
kmod insmod /lab/mods/kmx_lab_a.ko
kmod insmod /lab/mods/kmx_lab_b.ko
run kmod-inuse kmod rmmod kmx_lab_a
run kmx-inuse kmx rmmod kmx_lab_a
result still-loaded "$(grep -c '^kmx_lab_a ' /proc/modules)"
run kmod-inuse-v kmod rmmod -v kmx-lab-a
run kmx-inuse-v kmx rmmod -v kmx-lab-a
run kmod-notloaded kmod rmmod kmx_lab_nothere
run kmx-notloaded kmx rmmod kmx_lab_nothere
builtin=$(sed -n '1s|.*/||;1s|\.ko$||p' /lib/modules/$KVER/modules.builtin)
result builtin "$builtin"
run kmod-builtin kmod rmmod "$builtin"
run kmx-builtin kmx rmmod "$builtin"
run kmod-two kmod rmmod kmx_lab_a kmx_lab_nothere
run kmx-two kmx rmmod kmx_lab_a kmx_lab_nothere
run kmod-noarg kmod rmmod
run kmx-noarg kmx rmmod
# -f: the kernel (CONFIG_MODULE_FORCE_UNLOAD=y) still refuses while another module uses it.
run kmod-force-inuse kmod rmmod -f kmx_lab_a
run kmx-force-inuse kmx rmmod -f kmx_lab_a
# -s: messages go to syslog, not stderr.
syslogd -O /tmp/syslog
i=0
while [ ! -S /dev/log ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
run kmod-syslog kmod rmmod -s kmx_lab_nothere
run kmx-syslog kmx rmmod -s kmx_lab_nothere
i=0
while [ "$(grep -c 'rmmod' /tmp/syslog 2>/dev/null)" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -a 'rmmod' /tmp/syslog | sed 's/^.* daemon\./daemon./' >/tmp/syslog.rmmod
result syslog-lines "$(wc -l </tmp/syslog.rmmod)"
if [ "$(sed -n 1p /tmp/syslog.rmmod)" = "$(sed -n 2p /tmp/syslog.rmmod)" ]; then result syslog-same yes; else result syslog-same no; fi
result syslog-line "$(sed -n 2p /tmp/syslog.rmmod)"
run kmx-order kmx rmmod kmx_lab_b kmx_lab_a
result all-gone "$(grep -c '^kmx_lab' /proc/modules)"
lab_clean
G
}

check() {
  expect_same kmx-inuse kmod-inuse
  expect_err kmx-inuse '^rmmod: ERROR: Module kmx_lab_a is in use by: kmx_lab_b$'
  expect_res still-loaded 1
  expect_same kmx-inuse-v kmod-inuse-v
  expect_same kmx-notloaded kmod-notloaded
  expect_same kmx-builtin kmod-builtin
  expect_same kmx-two kmod-two
  expect_same kmx-noarg kmod-noarg
  expect_same kmx-force-inuse kmod-force-inuse
  expect_rc kmx-force-inuse 1
  expect_same kmx-syslog kmod-syslog
  expect_res syslog-lines 2
  expect_res syslog-same yes
  expect_res syslog-line 'daemon.err rmmod: ERROR: Module kmx_lab_nothere is not currently loaded'
  expect_rc kmx-order 0
  expect_res all-gone 0
}
