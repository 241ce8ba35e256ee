# kmx daemon + kmx autoclean on the host (fake /sys and /proc, a small tree of real Debian 6.1
# modules indexed by kmod's depmod; nothing reaches the kernel):
#   * client exit codes: 2 usage / no daemon (message names the socket), 1 refused, 0 done;
#   * coldplug of a fake /sys/devices resolves like kmod's modprobe -b (same modules);
#   * release-when-idle survives a daemon restart (kept in the store), cancel drops it;
#   * depmod replacing the indexes is noticed: an alias that only the new index knows loads;
#   * a modprobe.d file added or removed is noticed at the next uevent; SIGHUP rereads it and
#     kmx.conf (a bad kmx.conf keeps the settings in force);
#   * changes to modprobe.d and the indexes are noticed by inotify, a directory made later too;
#   * a non-root client cannot use the socket;
#   * bad options and a bad kmx.conf are refused with the file named.
source "$(dirname "$0")/common.sh"
need_kmod modprobe depmod

root=$TMP/tree
mkdir -p "$TMP/conf"
module_root "$root" amd64-6.1 dummy e1000 mii
fake_kernel control-boot quiet 'dummy 16384 0 - Live 0x0000000000000000'
e1000_alias=pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00
rtl_alias=pci:v000010ECd00008139sv000010ECsd00008139bc02sc00i00
mkdir -p "$TMP/fake/sys/devices/pci0000:00/0000:00:03.0" "$TMP/fake/sys/devices/pci0000:00/0000:00:04.0"
echo "$e1000_alias" > "$TMP/fake/sys/devices/pci0000:00/0000:00:03.0/modalias"
echo "$e1000_alias" > "$TMP/fake/sys/devices/pci0000:00/0000:00:04.0/modalias"

sock=$TMP/run/control uev=$TMP/uevents
export KMX_CONFIG=$TMP/kmx.conf
printf 'idle 1000\n' > "$KMX_CONFIG"
start() { daemon_start --db "$TMP/db" "$@"; }
ac() { "$KMX" autoclean --socket "$sock" "$@"; }
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$TMP/out" "$TMP/err" >&2; fail "exit $rc, expected $want: $*"; }
}

# --- no daemon, usage ---
expect_rc 2 ac status
grep -q "cannot reach kmx daemon at '$sock'.*is \`kmx daemon\` running" "$TMP/err" || fail "no socket path in: $(cat "$TMP/err")"
expect_rc 2 ac
expect_rc 2 ac release
expect_rc 2 ac frobnicate x
expect_rc 2 "$KMX" daemon --idle 0
grep -q "\-\-idle '0'" "$TMP/err" || fail "bad --idle not named"
expect_rc 2 "$KMX" daemon --no-coldplug --coldplug-only
printf 'idle soon\n' > "$TMP/bad.conf"
expect_rc 1 "$KMX" daemon --config "$TMP/bad.conf" --coldplug-only --dry-run
grep -q "bad.conf:1" "$TMP/err" || fail "bad kmx.conf not named: $(cat "$TMP/err")"
expect_rc 1 "$KMX" daemon --config "$TMP/missing.conf" --coldplug-only --dry-run
grep -q "missing.conf': No such file or directory" "$TMP/err" || fail "a missing --config was not an error: $(cat "$TMP/err")"

# --- coldplug resolves as kmod does (two devices, one alias, one module set) ---
"$KMX" daemon --root "$TMP/fake" -d "$root" -S "$ver" -C "$TMP/conf" --coldplug-only --dry-run 2> "$TMP/cp.log"
grep -q "coldplug: 2 devices, 1 distinct aliases, 1 modules would load" "$TMP/cp.log" || { cat "$TMP/cp.log"; fail "coldplug summary"; }
grep -q "modules loaded" "$TMP/cp.log" && fail "a dry run reported modules loaded: $(cat "$TMP/cp.log")"
grep -q "totals: .* modules would load" "$TMP/cp.log" || fail "dry-run totals: $(cat "$TMP/cp.log")"
kmod_mods=$(/usr/sbin/modprobe -d "$root" -S "$ver" -C "$TMP/conf" -n -b -v "$e1000_alias" | awk '{n=$2; sub(/.*\//,"",n); sub(/\.ko.*/,"",n); print n}' | tr '\n' ' ')
grep -q "would load ${kmod_mods% } for $e1000_alias (coldplug)" "$TMP/cp.log" || fail "kmod loads '$kmod_mods', kmx: $(grep 'would load' "$TMP/cp.log")"

# --- the control commands; pending releases outlive a restart ---
start --no-coldplug
expect_rc 0 ac status
grep -q "idle period: 1000 s" "$TMP/out" || fail "idle from kmx.conf not shown"
expect_rc 1 ac release e1000
grep -q "module e1000 is not loaded" "$TMP/err" || fail "release of a module not loaded: $(cat "$TMP/err")"
expect_rc 1 ac release 'bad/name'
expect_rc 1 ac release-when-idle nosuchmod
grep -q "module nosuchmod is not loaded" "$TMP/err" || fail "release-when-idle of a module not loaded: $(cat "$TMP/out" "$TMP/err")"
expect_rc 1 ac release nosuchmod
grep -q "module nosuchmod is not loaded" "$TMP/err" || fail "release of a module not loaded: $(cat "$TMP/err")"
expect_rc 0 ac release-when-idle dummy
expect_rc 0 ac --json status
grep -q '"pending":\[{"module":"dummy"' "$TMP/out" || fail "pending not in status: $(cat "$TMP/out")"
if command -v setpriv > /dev/null; then
  chmod 755 "$TMP/run"  # even reachable, the socket refuses others (mode 0600, SO_PEERCRED)
  expect_rc 2 setpriv --reuid 65534 --regid 65534 --clear-groups "$KMX" autoclean --socket "$sock" cancel dummy
  chmod 700 "$TMP/run"
fi
daemon_stop
[ ! -e "$sock" ] || fail "socket left after SIGTERM"
start --no-coldplug
grep -q "restored 1 pending release(s)" "$TMP/log" || fail "pending release not restored"
expect_rc 0 ac --json status
grep -q '"pending":\[{"module":"dummy"' "$TMP/out" || fail "pending lost over a restart"
expect_rc 0 ac cancel dummy
grep -q "^cancelled" "$TMP/out" || fail "cancel output"
expect_rc 0 ac --json status
grep -q '"pending":\[\]' "$TMP/out" || fail "pending after cancel"

# --- depmod replaces the indexes: the daemon reopens them ---
daemon_stop
start --no-coldplug --dry-run -v
send_uevents "$rtl_alias"
wait_log "no module for $rtl_alias" "the uevent for $rtl_alias was not handled"
grep -q "would load .* for $rtl_alias" "$TMP/log" && fail "8139too resolved before it was in the tree"
mkdir -p "$dir/kernel/drivers/net/ethernet/realtek"
cp "$src/kernel/drivers/net/ethernet/realtek/8139too.ko" "$dir/kernel/drivers/net/ethernet/realtek/"
/usr/sbin/depmod -b "$root" "$ver"
send_uevents "$rtl_alias"
for _ in $(seq 50); do grep -q "would load .*8139too for $rtl_alias" "$TMP/log" && break; sleep 0.1; done
grep -q "indexes changed on disk: reopened" "$TMP/log" || fail "index change not noticed"
grep -q "would load .*8139too for $rtl_alias" "$TMP/log" || { cat "$TMP/log"; fail "new alias not loaded after depmod"; }

# --- modprobe.d changes reach the next uevent without a restart; SIGHUP rereads, never kills ---
echo "blacklist e1000" > "$TMP/conf/blacklist-e1000.conf"
send_uevents "$e1000_alias"
for _ in $(seq 50); do grep -q "modprobe.d changed on disk" "$TMP/log" && break; sleep 0.1; done
grep -q "modprobe.d changed on disk: reopened" "$TMP/log" || { cat "$TMP/log"; fail "a new modprobe.d file was not noticed"; }
wait_log "blacklisted e1000 for $e1000_alias" "the blacklist of e1000 was not applied"
grep -q "would load .*e1000 for $e1000_alias" "$TMP/log" && fail "blacklisted e1000 loaded: $(cat "$TMP/log")"
# hup PATTERN WHAT: SIGHUP the daemon, wait for a log line matching PATTERN (a new one: the
# log is cut first), fail with WHAT if none comes.
hup() {
  : > "$TMP/log"
  kill -HUP "$pid"
  for _ in $(seq 50); do grep -q "$1" "$TMP/log" && return 0; sleep 0.1; done
  cat "$TMP/log"
  fail "$2"
}
hup "reload asked: reread modprobe.d" "SIGHUP did not reread"
expect_rc 0 ac status
# SIGHUP rereads kmx.conf too: a new idle period applies at once; a bad file keeps the old one.
printf 'idle 77\ncommand-timeout 30\n' > "$KMX_CONFIG"
hup "kmx.conf reread: idle 77 s, command-timeout 30 s" "SIGHUP did not reread kmx.conf"
expect_rc 0 ac status
grep -q "idle period: 77 s" "$TMP/out" || fail "new idle period not in effect: $(cat "$TMP/out")"
printf 'idle never\n' > "$KMX_CONFIG"
hup "kmx.conf not reread: .*kmx.conf:1: .*the previous settings stay" "a bad kmx.conf at reload"
expect_rc 0 ac status
grep -q "idle period: 77 s" "$TMP/out" || fail "a bad kmx.conf changed the settings: $(cat "$TMP/out")"
printf 'idle 1000\n' > "$KMX_CONFIG"
rm "$TMP/conf/blacklist-e1000.conf"
send_uevents "$e1000_alias"
for _ in $(seq 50); do grep -q "would load .*e1000 for $e1000_alias" "$TMP/log" && break; sleep 0.1; done
grep -q "would load .*e1000 for $e1000_alias" "$TMP/log" || { cat "$TMP/log"; fail "e1000 not loaded once the blacklist was removed"; }
daemon_stop

# --- a modprobe.d directory missing at start is watched through its parent: once it is made, a
# blacklist written in it reaches the next uevent, with no uevent or timer needed to notice ---
: > "$TMP/log"
start --no-coldplug --dry-run -v -C "$TMP/conf-later"
# Idle, the daemon looks at none of its files (no stat per tick): only inotify wakes it.
if command -v strace > /dev/null; then
  timeout 2.5 strace -f -qq -p "$pid" -e trace=newfstatat,statx,stat,lstat -o "$TMP/strace.out" 2> /dev/null || true
  if grep -q "$TMP/conf\|$dir" "$TMP/strace.out"; then fail "the idle daemon stats its files: $(head -3 "$TMP/strace.out")"; fi
else
  echo "skip idle stat check: strace not installed"
fi
mkdir "$TMP/conf-later"
echo "blacklist e1000" > "$TMP/conf-later/blacklist-e1000.conf"
for _ in $(seq 50); do grep -q "modprobe.d changed on disk" "$TMP/log" && break; sleep 0.1; done
grep -q "modprobe.d changed on disk: reopened" "$TMP/log" || { cat "$TMP/log"; fail "a modprobe.d directory made later was not noticed"; }
send_uevents "$e1000_alias"
wait_log "blacklisted e1000 for $e1000_alias" "the blacklist in the new directory was not applied"
grep -q "would load .*e1000 for $e1000_alias" "$TMP/log" && fail "e1000 loaded despite the blacklist in the new directory: $(cat "$TMP/log")"
daemon_stop
echo ok
