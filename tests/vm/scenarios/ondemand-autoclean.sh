# On-demand loading end to end: kmx as the kernel's modprobe and `kmx daemon --idle 3` together.
#   * `ip link add d0 type dummy` makes the kernel ask for rtnl-link-dummy: dummy loads through
#     kmx and is recorded; while d0 exists dummy is in use (refcnt 1) and stays past the idle
#     period; after `ip link del d0` and the idle period the daemon's autoclean unloads it
#     (with `options dummy numdummies=0`: by default dummy creates dummy0 itself, a link of its
#     kind that autoclean also counts as use, since unloading would delete it);
#   * nls_ascii, loaded explicitly by `kmx modprobe`, stays;
#   * kmx_lab_a, loaded by `kmx modprobe --autoclean`, has its writable parameter `level`
#     changed through sysfs; autoclean unloads it and saves the change; the next `kmx modprobe`
#     applies it (level=8 instead of the default 1).
lab_tree_modules="all"

guest() {
  cat <<'G'
lab_clean
LR=/tmp/oa
lab_mod_root $LR kmx_lab_a
mods="dummy nls_ascii kmx_lab_a"
loaded() { for m in "$@"; do if grep -q "^$m " /proc/modules; then printf '%s+ ' $m; else printf '%s- ' $m; fi; done; }
for m in $mods; do grep -q "^$m " /proc/modules && kmod rmmod $m; done
rm -rf /var/lib/kmx /run/kmx
mkdir -p /etc/modprobe.d
echo "options dummy numdummies=0" > /etc/modprobe.d/kmx-lab-dummy.conf
old=$(cat /proc/sys/kernel/modprobe)
echo /lab/kmx/modprobe > /proc/sys/kernel/modprobe
/lab/kmx/kmx daemon --no-coldplug --idle 3 2> /tmp/oa.log &
dpid=$!
i=0
while [ ! -S /run/kmx/control ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run link /lab/bin/ip link add d0 type dummy
run explicit kmx modprobe nls_ascii
run ondemand kmx modprobe --autoclean -d $LR kmx_lab_a
echo 8 > /sys/module/kmx_lab_a/parameters/level
result start "$(loaded $mods)"
run records /lab/kmx/kmx persist ondemand
# Past the idle period with d0 still there: dummy is in use and stays.
sleep 6
result in-use "$(loaded $mods)"
/lab/bin/ip link del d0
i=0
while grep -q "^dummy " /proc/modules && [ $i -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
sleep 1
result after-idle "$(loaded $mods)"
run stored /lab/kmx/kmx persist get kmx_lab_a.level
run reload kmx modprobe -d $LR kmx_lab_a
result level-after-reload "$(cat /sys/module/kmx_lab_a/parameters/level 2>/dev/null || echo none)"
run status kmx autoclean status
kill -TERM $dpid
wait $dpid
result daemon-exit $?
run daemon-log cat /tmp/oa.log
echo "$old" > /proc/sys/kernel/modprobe
rm -f /etc/modprobe.d/kmx-lab-dummy.conf
for m in $mods; do grep -q "^$m " /proc/modules && kmod rmmod $m; done
lab_clean
G
}

check() {
  expect_rc link 0
  expect_rc explicit 0
  expect_rc ondemand 0
  expect_res start "dummy+ nls_ascii+ kmx_lab_a+ "
  expect_out records '^dummy alias=rtnl-link-dummy source=kernel '
  expect_out records '^kmx_lab_a alias=kmx_lab_a source=modprobe '
  expect_res in-use "dummy+ nls_ascii+ kmx_lab_a- "
  expect_res after-idle "dummy- nls_ascii+ kmx_lab_a- "
  expect_rc stored 0
  expect_out stored '^8$'
  expect_rc reload 0
  expect_res level-after-reload 8
  expect_res daemon-exit 0
  [ "$(res after-idle)" = "dummy- nls_ascii+ kmx_lab_a- " ] || show daemon-log
}
