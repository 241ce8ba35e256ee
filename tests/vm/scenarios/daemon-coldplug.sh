# Coldplug: `kmx daemon --coldplug-only` loads, for the VM's own devices (every modalias under
# /sys/devices), the same modules as kmod's `modprobe -b -q ALIAS` run once per distinct
# modalias (what udev's coldplug amounts to). The /proc/modules name sets after each are
# compared; between the two the coldplugged modules are unloaded again (several passes, for
# dependencies). kmx runs first, with the colder page cache. Both are timed from the shell
# (/proc/uptime, 10 ms resolution): kmx's one process against one kmod process per alias.
lab_tree_modules="all"

guest() {
  cat <<'G'
lab_clean
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
names() { cut -d' ' -f1 /proc/modules | sort; }
# Unload what is loaded now but was not in $1 (several passes: holders go first).
unload_new() {
  for pass in 1 2 3 4 5 6; do
    names | awk 'NR == FNR { keep[$1] = 1; next } !($1 in keep)' "$1" - > /tmp/dc.extra
    [ -s /tmp/dc.extra ] || return 0
    while read -r m; do kmod rmmod "$m" >/dev/null 2>&1; done < /tmp/dc.extra
  done
}
names > /tmp/dc.before
find /sys/devices -name modalias -type f | xargs cat | sort -u > /tmp/dc.aliases
result devices "$(find /sys/devices -name modalias -type f | wc -l)"
result aliases "$(wc -l < /tmp/dc.aliases)"

# Userspace part alone (what kmx controls): resolution with nothing loaded, --dry-run vs -n.
t0=$(now_cs)
/lab/kmx/kmx daemon --coldplug-only --dry-run 2> /tmp/dc-dry.log
t1=$(now_cs)
result dry-kmx-cs $((t1 - t0))
t0=$(now_cs)
while read -r a; do kmod modprobe -n -b -q "$a"; done < /tmp/dc.aliases
t1=$(now_cs)
result dry-kmod-cs $((t1 - t0))

t0=$(now_cs)
/lab/kmx/kmx daemon --coldplug-only --db /tmp/dc.db --socket /tmp/dc.sock 2> /tmp/dc-kmx.log
result kmx-rc $?
t1=$(now_cs)
names > /tmp/dc.after-kmx
result kmx-cs $((t1 - t0))
result kmx-new "$(awk 'NR == FNR { k[$1] = 1; next } !($1 in k)' /tmp/dc.before /tmp/dc.after-kmx | wc -l)"
result kmx-summary "$(grep 'coldplug:' /tmp/dc-kmx.log)"
result kmx-errors "$(grep 'load failed' /tmp/dc-kmx.log | grep -vc 'No such device$')"
result kmx-enodev "$(grep 'load failed' /tmp/dc-kmx.log | sed -n 's/.*: \([a-z0-9_]*\): finit_module: No such device$/\1/p' | sort -u | tr '\n' ' ')"

unload_new /tmp/dc.before
names > /tmp/dc.between
same unloaded /tmp/dc.before /tmp/dc.between
result residue "$(awk 'NR == FNR { k[$1] = 1; next } !($1 in k)' /tmp/dc.before /tmp/dc.between | tr '\n' ' ')"

t0=$(now_cs)
while read -r a; do kmod modprobe -b -q "$a"; done < /tmp/dc.aliases
t1=$(now_cs)
names > /tmp/dc.after-kmod
result kmod-cs $((t1 - t0))
same same-set /tmp/dc.after-kmx /tmp/dc.after-kmod
if ! cmp -s /tmp/dc.after-kmx /tmp/dc.after-kmod; then
  result only-kmx "$(awk 'NR == FNR { k[$1] = 1; next } !($1 in k)' /tmp/dc.after-kmod /tmp/dc.after-kmx | tr '\n' ' ')"
  result only-kmod "$(awk 'NR == FNR { k[$1] = 1; next } !($1 in k)' /tmp/dc.after-kmx /tmp/dc.after-kmod | tr '\n' ' ')"
fi
run kmx-log cat /tmp/dc-kmx.log
unload_new /tmp/dc.before
lab_clean
G
}

check() {
  local n
  n=$(res aliases)
  [ "${n:-0}" -ge 10 ] && passed "$(res devices) devices, $n distinct modaliases" || failed "only '$n' modaliases"
  expect_res kmx-rc 0
  n=$(res kmx-new)
  [ "${n:-0}" -ge 3 ] && passed "kmx coldplug loaded $n modules" || failed "kmx coldplug loaded '$n' modules"
  # Drivers that refuse the hardware (ENODEV: cpufreq, EDAC in a VM) fail for kmod alike; udev
  # and modprobe -q keep quiet about them. Any other failure is an error.
  expect_res kmx-errors 0
  echo "     [$K] refused with ENODEV (as for kmod): $(res kmx-enodev)"
  # Modules that cannot be unloaded again stay for kmod's run; the full /proc/modules sets are
  # compared, so they are on both sides.
  [ "$(res unloaded)" = yes ] || echo "     [$K] not unloadable between the runs: $(res residue)"
  if [ "$(res same-set)" = yes ]; then
    passed "same /proc/modules set after kmx coldplug and after kmod modprobe -b per modalias"
  else
    failed "module sets differ: only kmx: $(res only-kmx); only kmod: $(res only-kmod)"
    show kmx-log
  fi
  local a b
  a=$(res dry-kmx-cs) b=$(res dry-kmod-cs)
  echo "     [$K] resolution only (nothing loaded): kmx --dry-run $((a * 10)) ms, kmod modprobe -n per alias $((b * 10)) ms"
  [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt 0 ] && [ $((a * 2)) -le "$b" ] &&
    passed "kmx coldplug resolution <= 0.5x kmod's ($a vs $b cs)" || failed "kmx resolution not <= 0.5x kmod ($a vs $b cs)"
  a=$(res kmx-cs) b=$(res kmod-cs)
  # With real loads the kernel's module init (one vCPU under TCG, xz in 6.12) is the same work
  # for both and dominates; kmx must still be faster.
  echo "     [$K] coldplug with loads: kmx $((a * 10)) ms, kmod $((b * 10)) ms ($(res kmx-summary))"
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] &&
    passed "kmx coldplug faster than kmod ($a vs $b cs)" || failed "kmx coldplug not faster than kmod ($a vs $b cs)"
}
