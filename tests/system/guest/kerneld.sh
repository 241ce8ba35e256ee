# kmx's daemon under systemd, first boot of the drivers image (kmx the system's kmod, kmx-drivers
# installed: udev's modalias rule handed to kmx-daemon.service), POSIX sh, run by syslab-run.
# Records, under $OUT, beside observe.sh's facts:
#   daemon-state     the unit's state (systemctl show) once the boot is over
#   verify           systemd-analyze verify of the unit, and its exit status
#   security         systemd-analyze security of the unit
#   ondemand-boot    kmx's on-demand records after coldplug (who loaded what: the daemon, the kernel)
#   hotplug          an e1000 NIC hot-plugged through QEMU's monitor (device_add): seconds until
#                    e1000 is in /proc/modules, or "timeout"; hotplug-record: until the daemon's
#                    on-demand record of it is written
#   dummy-load       `ip link add TYPE dummy` (the kernel's request_module("rtnl-link-dummy"),
#                    which runs /sbin/modprobe: kmx): its status and dummy's /proc/modules line
#   ondemand-after   the on-demand records after both loads
#   autoclean        seconds from the link's deletion until dummy left /proc/modules, or "timeout"
#   copybreak-*      e1000's copybreak parameter before and after it is set to 128
#   unload           `modprobe -r e1000` (kmx: saves the changed parameter), persist-list the store
#   modules-end, trace-end   /proc/modules and the module_load events at the end
sh "$(dirname "$0")/observe.sh"
. "$(dirname "$0")/wait.sh"
cd "$OUT" || exit 1
systemctl show -p ActiveState -p SubState -p NRestarts -p ExecMainStatus kmx-daemon.service >daemon-state 2>&1
systemd-analyze verify kmx-daemon.service >verify 2>&1
echo "status $?" >>verify
systemd-analyze security --no-pager kmx-daemon.service >security 2>&1
kmx persist ondemand >ondemand-boot 2>&1

if loaded e1000; then echo "e1000 loaded before the hot-plug" >hotplug; else
  echo "SYSLAB-MONITOR device_add e1000,id=hotnic;" >/dev/console
  wait_for 90 loaded e1000 >hotplug
fi
wait_for 30 recorded e1000 >hotplug-record

ip link add kmxd0 type dummy >dummy-load 2>&1
echo "status $?" >>dummy-load
grep '^dummy ' /proc/modules >>dummy-load
kmx persist ondemand >ondemand-after 2>&1
ip link del kmxd0
wait_for 200 gone dummy >autoclean

cat /sys/module/e1000/parameters/copybreak >copybreak-before 2>&1
echo 128 >/sys/module/e1000/parameters/copybreak
cat /sys/module/e1000/parameters/copybreak >copybreak-set 2>&1
modprobe -r e1000 >unload 2>&1
echo "status $?" >>unload
kmx persist list e1000 >persist-list 2>&1
cut -d' ' -f1 /proc/modules | LC_ALL=C sort >modules-end
cat /sys/kernel/tracing/trace >trace-end 2>&1
journalctl -b -u kmx-daemon.service --no-pager -o short-monotonic >daemon-journal 2>&1
exit 0
