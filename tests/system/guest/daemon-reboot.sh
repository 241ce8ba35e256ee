# The system lab's kerneld scenario, second boot (guest.sh, POSIX sh): the same disk overlay as
# daemon.sh's boot, with the e1000 NIC present from the start, so that the daemon's coldplug
# loads e1000 with what the store kept. Records observe.sh's facts, e1000's copybreak as the
# kernel has it, the daemon's journal and state.
here=$(dirname "$0")
sh "$here/observe.sh"
cd "$OUT" || exit 1
systemctl show -p ActiveState -p SubState -p Result -p MainPID kmx-daemon.service >daemon-state 2>&1
cat /sys/module/e1000/parameters/copybreak >param-after 2>&1
ls /sys/bus/pci/drivers/e1000 2>/dev/null | grep ':' >e1000-bound
journalctl -b --no-pager -o short-monotonic -u kmx-daemon.service >daemon-journal 2>&1
kmx persist ondemand >ondemand 2>&1
exit 0
