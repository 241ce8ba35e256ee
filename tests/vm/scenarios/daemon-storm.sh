# A real uevent storm: with `kmx daemon` running (coldplug first), "add" is written to every
# /sys/devices/**/uevent file, round after round, until the kernel has sent at least 10,000
# uevents. The kernel's own count (/sys/kernel/uevent_seqnum delta) must equal what the daemon
# received over netlink (no event lost, no ENOBUFS overflow), and every module the daemon loaded
# was loaded exactly once (the storm re-announces devices whose drivers are already in).
# Then the overflow path: a daemon with a tiny receive buffer (--uevent-rcvbuf 4096) is stopped
# (SIGSTOP) during a storm, so the kernel drops events; resumed, it must report ENOBUFS and
# rescan /sys/devices.
lab_tree_modules="all"

guest() {
  cat <<'G'
lab_clean
names() { cut -d' ' -f1 /proc/modules | sort; }
names > /tmp/ds.before
counter() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
status() { /lab/kmx/kmx autoclean --socket /tmp/ds.sock --json status; }
/lab/kmx/kmx daemon --db /run/kmx-lab/ds.db --socket /tmp/ds.sock --no-autoclean 2> /tmp/ds.log &
dpid=$!
i=0
while [ ! -S /tmp/ds.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
# The first status is answered after coldplug (one loop): a barrier. Then the uevents that
# coldplug's loads cause late (asynchronous probes: ATA ports, SCSI devices, inputs) are let
# settle: the seqnum still for a second. The daemon drains its socket before it answers a
# status, so the second status counts every uevent up to s0.
status > /tmp/ds.s0
prev=-1 i=0
while [ "$(cat /sys/kernel/uevent_seqnum)" != "$prev" ] && [ $i -lt 30 ]; do
  prev=$(cat /sys/kernel/uevent_seqnum)
  sleep 1
  i=$((i + 1))
done
status > /tmp/ds.s0
c0=$(counter uevents < /tmp/ds.s0)
s0=$(cat /sys/kernel/uevent_seqnum)
find /sys/devices -name uevent -type f > /tmp/ds.files
result files "$(wc -l < /tmp/ds.files)"
rounds=0
while [ $(( $(cat /sys/kernel/uevent_seqnum) - s0 )) -lt 10000 ] && [ $rounds -lt 200 ]; do
  while read -r f; do echo add > "$f"; done < /tmp/ds.files 2>/dev/null
  rounds=$((rounds + 1))
done
s1=$(cat /sys/kernel/uevent_seqnum)
result rounds $rounds
result sent $((s1 - s0))
# Wait until the daemon has read them all and finished the loads they asked for (or 60 s):
# loads run off the daemon's loop, so a status can be answered while a batch is in flight.
i=0
while [ $i -lt 120 ]; do
  status > /tmp/ds.s1
  [ $(( $(counter uevents < /tmp/ds.s1) + $(counter uevents_malformed < /tmp/ds.s1) + $(counter uevents_ignored < /tmp/ds.s1) - c0 )) -ge $((s1 - s0)) ] &&
    [ "$(counter processed < /tmp/ds.s1)" = "$(counter load_requests < /tmp/ds.s1)" ] && break
  sleep 0.5
  i=$((i + 1))
done
s2=$(cat /sys/kernel/uevent_seqnum)
result late $((s2 - s1))
result received $(( $(counter uevents < /tmp/ds.s1) - c0 ))
result malformed "$(counter uevents_malformed < /tmp/ds.s1)"
result ignored "$(counter uevents_ignored < /tmp/ds.s1)"
result overflows "$(counter uevent_overflows < /tmp/ds.s1)"
result requests-done "$(counter processed < /tmp/ds.s1)/$(counter load_requests < /tmp/ds.s1)"
result merged "$(counter merged < /tmp/ds.s1)"
result loads "$(counter loads < /tmp/ds.s1)"
# module_loads: every value must be 1
sed -n 's/.*"module_loads":{\([^}]*\)}.*/\1/p' /tmp/ds.s1 | tr ',' '\n' | grep -v ':1$' | grep . > /tmp/ds.twice
result loaded-twice "$(wc -l < /tmp/ds.twice)"
kill -TERM $dpid
wait $dpid
result exit $?
result socket-left "$([ -e /tmp/ds.sock ] && echo yes || echo no)"
run ds-log cat /tmp/ds.log

/lab/kmx/kmx daemon --db /run/kmx-lab/do.db --socket /tmp/do.sock --no-autoclean --no-coldplug --uevent-rcvbuf 4096 2> /tmp/do.log &
opid=$!
i=0
while [ ! -S /tmp/do.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
/lab/kmx/kmx autoclean --socket /tmp/do.sock --json status > /dev/null
kill -STOP $opid
for r in 1 2 3; do while read -r f; do echo add > "$f"; done < /tmp/ds.files 2>/dev/null; done
kill -CONT $opid
i=0
while [ $i -lt 60 ]; do
  /lab/kmx/kmx autoclean --socket /tmp/do.sock --json status > /tmp/do.s
  [ "$(counter rescans < /tmp/do.s)" -ge 1 ] && break
  sleep 0.5
  i=$((i + 1))
done
result o-overflows "$(counter uevent_overflows < /tmp/do.s)"
result o-rescans "$(counter rescans < /tmp/do.s)"
kill -TERM $opid
wait $opid
result o-exit $?
run do-log cat /tmp/do.log
names | awk 'NR == FNR { k[$1] = 1; next } !($1 in k)' /tmp/ds.before - > /tmp/ds.extra
for pass in 1 2 3 4 5 6; do while read -r m; do kmod rmmod "$m" >/dev/null 2>&1; done < /tmp/ds.extra; done
lab_clean
G
}

check() {
  local sent recv late
  sent=$(res sent) recv=$(res received) late=$(res late)
  [ "${sent:-0}" -ge 10000 ] && passed "$sent uevents in $(res rounds) rounds over $(res files) uevent files" ||
    failed "only '$sent' uevents sent"
  # Uevents of the daemon's own doing after the storm (none expected) would show up in 'late'.
  [ -n "$recv" ] && [ "$recv" -ge "$sent" ] && [ "$recv" -le $((sent + late)) ] &&
    passed "received $recv == seqnum delta $sent (+$late late)" ||
    { failed "received '$recv', seqnum delta '$sent' (+$late)"; show ds-log; }
  expect_res overflows 0
  expect_res malformed 0
  expect_res ignored 0
  local rd
  rd=$(res requests-done)
  [ "${rd%/*}" = "${rd#*/}" ] && passed "every load request processed ($rd), $(res merged) merged" ||
    failed "requests processed/asked: $rd"
  [ "$(res loads)" -ge 1 ] && passed "$(res loads) modules loaded" || failed "no module loaded"
  expect_res loaded-twice 0
  expect_res exit 0
  expect_res socket-left no
  [ "$(res o-overflows)" -ge 1 ] && [ "$(res o-rescans)" -ge 1 ] &&
    passed "stopped daemon with a 4 KiB buffer: $(res o-overflows) overflow(s), $(res o-rescans) rescan(s)" ||
    { failed "overflow not detected: overflows '$(res o-overflows)', rescans '$(res o-rescans)'"; show do-log; }
  expect_out do-log 'uevent receive buffer overflowed \(ENOBUFS, buffer [0-9]+ bytes\): the kernel dropped events; rescanning /sys/devices'
  expect_out do-log '^kmx daemon: rescan: [0-9]+ devices'
  expect_res o-exit 0
}
