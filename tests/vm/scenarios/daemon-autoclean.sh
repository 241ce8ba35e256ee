# Autoclean with `kmx daemon --idle 3` and the `kmx autoclean` client, on real modules:
#   * nls_cp437, loaded on demand (`kmx modprobe --autoclean`), is unloaded after the idle period;
#   * nls_ascii, loaded explicitly, stays;
#   * nls_iso8859_1 (on demand) is released at once by `kmx autoclean release`;
#   * nls_utf8 (explicit) is released once idle after `kmx autoclean release-when-idle`;
#   * tun (on demand) stays after `kmx autoclean cancel tun`;
#   * a module in use (refcnt > 0: loop with a bound device) is refused by `release` (exit 1);
#   * status reports the on-demand loads and the release counter; SIGTERM exits 0 and removes
#     the socket;
#   * the daemon's own loads: coldplug with --idle 3, then after the idle period no module with
#     a device bound to one of its drivers (listed from sysfs right after coldplug; ata_piix and
#     i2c_piix4 among them) is released, while modules with no device, user or holder that
#     coldplug loaded (CPU-feature crypto modules, ata_generic beside ata_piix, evdev...) are.
lab_tree_modules="all"

guest() {
  cat <<'G'
lab_clean
mods="nls_cp437 nls_ascii nls_iso8859_1 nls_utf8 tun"
unload() { for m in $mods; do grep -q "^$m " /proc/modules && kmod rmmod $m >/dev/null 2>&1; done; return 0; }
loaded() { for m in "$@"; do if grep -q "^$m " /proc/modules; then printf '%s+ ' $m; else printf '%s- ' $m; fi; done; }
unload
rm -rf /var/lib/kmx /run/kmx
run on-demand kmx modprobe --autoclean nls_cp437 nls_iso8859_1 tun
run explicit kmx modprobe nls_ascii
run explicit2 kmx modprobe nls_utf8
result start "$(loaded $mods)"
/lab/kmx/kmx daemon --no-coldplug --idle 3 2> /tmp/da.log &
dpid=$!
i=0
while [ ! -S /run/kmx/control ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run cancel kmx autoclean cancel tun
run release-now kmx autoclean release nls_iso8859_1
result after-release "$(loaded nls_iso8859_1)"
run when-idle kmx autoclean release-when-idle nls_utf8
run status kmx autoclean status
# A module in use is refused.
busy=""
for m in loop ext4 virtio_blk; do
  if grep -q "^$m [0-9]* [1-9]" /proc/modules; then busy=$m; break; fi
done
result busy-module "$busy"
[ -n "$busy" ] && run release-busy kmx autoclean release "$busy"
# Idle period 3 s (+ one tick): wait up to 15 s for nls_cp437 and nls_utf8 to go.
i=0
while [ $i -lt 30 ]; do
  grep -q "^nls_cp437 " /proc/modules || grep -q "^nls_utf8 " /proc/modules || break
  sleep 0.5
  i=$((i + 1))
done
sleep 4
result end "$(loaded $mods)"
run status-end kmx autoclean --json status
kill -TERM $dpid
wait $dpid
result exit $?
result socket-left "$([ -e /run/kmx/control ] && echo yes || echo no)"
run no-daemon kmx autoclean status
run da-log cat /tmp/da.log

cut -d' ' -f1 /proc/modules | sort > /tmp/da.before2
/lab/kmx/kmx daemon --idle 3 --db /run/kmx-lab/da2.db --socket /tmp/da2.sock 2> /tmp/da2.log &
dpid=$!
i=0
while [ ! -S /tmp/da2.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
/lab/kmx/kmx autoclean --socket /tmp/da2.sock --json status > /dev/null
result coldplugged "$(grep -c '^kmx daemon: loaded ' /tmp/da2.log)"
# Modules with a device bound to one of their drivers, right after coldplug (the idle clock
# has not run out yet): none of them may be released.
for m in $(cut -d' ' -f1 /proc/modules); do
  for d in /sys/module/$m/drivers/*; do
    [ -d "$d" ] && [ -n "$(find "$d/" -maxdepth 1 -type l ! -name module)" ] && echo "$m"
  done
done | sort -u > /tmp/da2.bound
result bound-count "$(wc -l < /tmp/da2.bound)"
sleep 8
/lab/kmx/kmx autoclean --socket /tmp/da2.sock --json status > /tmp/da2.s
result bound-stay "$(loaded ata_piix i2c_piix4)"
result released2 "$(sed -n 's/.*"releases":\([0-9]*\).*/\1/p' /tmp/da2.s)"
sed -n 's/^kmx daemon: autoclean: released \([^ ]*\) .*/\1/p' /tmp/da2.log | sort > /tmp/da2.released
result released-list "$(tr '\n' ' ' < /tmp/da2.released)"
result released-bound "$(awk 'NR == FNR { b[$1] = 1; next } $1 in b' /tmp/da2.bound /tmp/da2.released | tr '\n' ' ')"
kill -TERM $dpid
wait $dpid
result exit2 $?
run da2-log cat /tmp/da2.log
cut -d' ' -f1 /proc/modules | sort | awk 'NR == FNR { k[$1] = 1; next } !($1 in k)' /tmp/da.before2 - > /tmp/da.extra
for pass in 1 2 3 4 5 6; do while read -r m; do kmod rmmod "$m" >/dev/null 2>&1; done < /tmp/da.extra; done
unload
rm -rf /var/lib/kmx /run/kmx
lab_clean
G
}

check() {
  expect_rc on-demand 0
  expect_res start "nls_cp437+ nls_ascii+ nls_iso8859_1+ nls_utf8+ tun+ "
  expect_rc cancel 0
  expect_rc release-now 0
  expect_out release-now '^released nls_iso8859_1$'
  expect_res after-release "nls_iso8859_1- "
  expect_rc when-idle 0
  expect_rc status 0
  expect_out status 'nls_cp437 +modprobe'
  expect_out status '^pending releases: 1$'
  if [ -n "$(res busy-module)" ]; then
    expect_rc release-busy 1
    expect_err release-busy "module $(res busy-module) is in use \\(refcnt [1-9]"
  fi
  expect_res end "nls_cp437- nls_ascii+ nls_iso8859_1- nls_utf8- tun+ "
  expect_out status-end '"releases":3'
  expect_res exit 0
  expect_res socket-left no
  expect_rc no-daemon 2
  expect_err no-daemon "cannot reach kmx daemon at '/run/kmx/control'"
  out da-log | grep -q "autoclean: released nls_cp437 after 3 s idle" && passed "daemon logged the autoclean" ||
    { failed "no autoclean line"; show da-log; }
  [ "$(res coldplugged)" -ge 3 ] && passed "coldplug: $(res coldplugged) load lines" || failed "coldplug loaded '$(res coldplugged)'"
  expect_res bound-stay "ata_piix+ i2c_piix4+ "
  [ "$(res bound-count)" -ge 2 ] && passed "$(res bound-count) modules drive a device after coldplug" || failed "bound-count '$(res bound-count)'"
  expect_res released-bound ""
  echo "     [$K] released by autoclean (no device, user or holder): $(res released-list)"
  local r2
  r2=$(res released2)
  [ "${r2:-0}" -ge 1 ] && passed "autoclean released $r2 idle module(s) loaded by the daemon" ||
    { failed "nothing the daemon loaded was released"; show da2-log; }
  expect_res exit2 0
}
