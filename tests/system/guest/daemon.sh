# The system lab's kerneld scenario, first boot (run by syslab-run as guest.sh, POSIX sh): the
# drivers image (kmx-drivers installed: kmx-daemon enabled, udev's modalias loads left out),
# booted on a disk overlay that the second boot (daemon-reboot.sh) reuses. Records, under $OUT,
# what observe.sh records, then:
#   daemon-*      the unit's state, `systemd-analyze verify` and `security`, its journal;
#   hotplug-*     an e1000 NIC added through the QEMU monitor (the host answers SYSLAB-HOTPLUG on
#                 the console): whether e1000 got loaded and bound, and when;
#   dummy-*       `ip link add type dummy` (the kernel's request_module through modprobe), then the
#                 link deleted: when dummy left the kernel (autoclean, idle period 15 s);
#   param-*       e1000's copybreak changed through sysfs and saved with `kmx persist save`.
# Waits are bounded; each result is a file the host checks against the kernel's facts.
here=$(dirname "$0")
sh "$here/observe.sh"
cd "$OUT" || exit 1
systemctl show -p ActiveState -p SubState -p Result -p MainPID kmx-daemon.service >daemon-state 2>&1
systemd-analyze verify /lib/systemd/system/kmx-daemon.service >daemon-verify 2>&1
echo $? >daemon-verify.rc
systemd-analyze security --no-pager kmx-daemon.service >daemon-security 2>&1
cat /lib/udev/rules.d/80-drivers.rules >udev-rules 2>&1

# Autoclean's idle period for this boot: 15 s (kmx.conf, reread on reload); dummy without its
# own dummy0, so that deleting our link leaves it unused.
mkdir -p /etc/kmx
echo 'idle 15' >/etc/kmx/kmx.conf
echo 'options dummy numdummies=0' >/etc/modprobe.d/syslab-dummy.conf
systemctl reload kmx-daemon.service >daemon-reload 2>&1

# Hot-plug: the host adds the NIC when it reads this line on the console.
echo SYSLAB-HOTPLUG >/dev/console
t0=$(date +%s)
i=0
while [ ! -e /sys/module/e1000 ] && [ $i -lt 180 ]; do sleep 1; i=$((i + 1)); done
echo "$(($(date +%s) - t0))" >hotplug-seconds
j=0
while [ -z "$(ls /sys/bus/pci/drivers/e1000 2>/dev/null | grep ':')" ] && [ $j -lt 30 ]; do sleep 1; j=$((j + 1)); done
ls /sys/bus/pci/drivers/e1000 2>/dev/null | grep ':' >hotplug-bound
lspci_dev=$(grep -l 0x100e /sys/bus/pci/devices/*/device 2>/dev/null | head -n1)
echo "${lspci_dev:-none}" >hotplug-device

# The kernel's own request_module (rtnl-link-dummy) runs /proc/sys/kernel/modprobe.
ip link add syslab0 type dummy >dummy-add 2>&1
echo $? >dummy-add.rc
[ -e /sys/module/dummy ] && echo loaded >dummy-loaded || echo absent >dummy-loaded
ip link del syslab0 >>dummy-add 2>&1
t0=$(date +%s)
i=0
while [ -e /sys/module/dummy ] && [ $i -lt 180 ]; do sleep 1; i=$((i + 1)); done
[ -e /sys/module/dummy ] && echo loaded >dummy-after || echo gone >dummy-after
echo "$(($(date +%s) - t0))" >dummy-seconds

# A changed parameter, saved in kmx's store (kept on the overlay for the next boot).
cat /sys/module/e1000/parameters/copybreak >param-before 2>&1
echo 128 >/sys/module/e1000/parameters/copybreak 2>param-set.err
cat /sys/module/e1000/parameters/copybreak >param-set 2>&1
kmx persist save e1000 >param-save 2>&1
echo $? >param-save.rc
kmx persist list >param-list 2>&1

# Fresh copies of what changed since observe.sh ran.
cat /sys/kernel/tracing/trace >trace 2>&1
journalctl -b --no-pager -o short-monotonic -u kmx-daemon.service >daemon-journal 2>&1
kmx autoclean status >autoclean-status 2>&1
# The daemon's tasks as the kernel names them: "TID COMM" lines.
pid=$(systemctl show -p MainPID --value kmx-daemon.service)
for t in /proc/$pid/task/*; do echo "${t##*/} $(cat "$t/comm")"; done >daemon-tasks 2>/dev/null
kmx persist ondemand >ondemand 2>&1
cut -d' ' -f1 /proc/modules | LC_ALL=C sort >modules-end
sync
exit 0
