# kmx's daemon under systemd, second boot of the drivers image's disk (the first boot's
# kerneld.sh set e1000's copybreak to 128 and unloaded e1000, which saved it), POSIX sh. Records
# observe.sh's facts, the unit's state, the store's record, an e1000 NIC hot-plugged again
# (seconds until e1000 is loaded) and the copybreak it was loaded with.
sh "$(dirname "$0")/observe.sh"
. "$(dirname "$0")/wait.sh"
cd "$OUT" || exit 1
systemctl show -p ActiveState -p SubState -p NRestarts -p ExecMainStatus kmx-daemon.service >daemon-state 2>&1
kmx persist list e1000 >persist-list 2>&1
echo "SYSLAB-MONITOR device_add e1000,id=hotnic;" >/dev/console
wait_for 90 loaded e1000 >hotplug
cat /sys/module/e1000/parameters/copybreak >copybreak-reloaded 2>&1
kmx persist ondemand >ondemand-after 2>&1
cat /sys/kernel/tracing/trace >trace-end 2>&1
journalctl -b -u kmx-daemon.service --no-pager -o short-monotonic >daemon-journal 2>&1
exit 0
