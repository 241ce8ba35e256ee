# What the system lab records of a booted system (run by syslab-run as guest.sh, POSIX sh).
# One file per fact under $OUT; the host compares them between boots and against its checks.
cd "$OUT" || exit 1
uname -r >release
systemctl is-active multi-user.target >multi-user 2>&1
systemctl is-system-running >state 2>&1
systemctl list-units --failed --plain --no-legend >failed 2>&1
systemctl show -p ActiveState -p Result -p ExecMainStatus kmod-static-nodes.service >kmod-static-nodes 2>&1
systemd-analyze time >analyze 2>&1
systemd-analyze blame >blame 2>&1
# The loaded set: every module in /proc/modules.
cut -d' ' -f1 /proc/modules | LC_ALL=C sort >modules
# Who loaded each module: the kernel's module_load trace event (enabled from the command line,
# trace_event=module:module_load) names the task that made the finit_module/init_module call.
t=/sys/kernel/tracing
[ -e $t/trace ] || mount -t tracefs tracefs $t 2>/dev/null
cat $t/trace >trace 2>&1
# Which program each kmod name runs: its -V output, and where its link leads.
for n in /bin/kmod /sbin/modprobe /sbin/depmod /sbin/insmod /sbin/rmmod /sbin/modinfo /usr/sbin/modprobe /usr/sbin/depmod; do
  echo "$n -> $(readlink -f $n): $($n -V 2>&1 | tr '\n' ' ')"
done >tools
cat /proc/sys/kernel/modprobe >kernel-modprobe
# dpkg's diversion list (3 lines each: name, diverted to, package), read without perl (slow
# under TCG).
cat /var/lib/dpkg/diversions >diversions 2>&1
dpkg-query -W -f '${Package} ${Version} ${Status}\n' kmod kmx kmx-as-kmod >packages 2>&1
journalctl -b --no-pager -o short-monotonic >journal 2>&1
journalctl -b --no-pager -p warning -o cat >journal-warnings 2>&1
exit 0
