#!/bin/bash
# kmx daemon when its persist store cannot be opened (on the host: fake /sys and /proc, a
# one-module tree of a real Debian 6.1 module indexed by kmod's depmod):
#   * a damaged store, or one in a directory others can write, never stops the daemon: it
#     starts, says so once, serves the control socket, and still tries to load what a uevent
#     asks for (the host kernel refuses the load; the attempt is what is checked);
#   * a release-when-idle asked meanwhile is kept, and written to the store once the store can
#     be opened again (the daemon retries every --store-retry seconds);
#   * an install command's $CMDLINE_OPTS gets stored values only when a shell reads them as text;
#   * a slow install command does not stop the control socket, and SIGTERM ends both at once;
#   * an install command past kmx.conf's command-timeout is stopped;
#   * under a service manager ($NOTIFY_SOCKET) the daemon says READY, RELOADING and STOPPING;
#   * the store path rules of `kmx persist` hold for the daemon too (symbolic link refused).
source "$(dirname "$0")/common.sh"
need_kmod depmod

root=$TMP/tree
mkdir -p "$TMP/conf" "$TMP/state"
module_root "$root" amd64-6.1 dummy
fake_kernel store-boot "" 'mii 16384 0 - Live 0x0000000000000000'
mkdir -p "$TMP/fake/sys/module/mii"

db=$TMP/state/persist.db sock=$TMP/run/control uev=$TMP/uevents
export KMX_CONFIG=/dev/null
start() {
  : > "$TMP/log"
  daemon_start --db "$db" --no-coldplug --store-retry 1 "$@"
}

# --- a damaged store: the daemon runs without it, says so once, loads, keeps requests ---
head -c 4096 /dev/urandom > "$db"
start
wait_log "persist store unavailable"
send_uevents dummy
wait_log "load failed for dummy: .*init_module\|^kmx daemon: loaded dummy"
"$KMX" autoclean --socket "$sock" release-when-idle mii > /dev/null || fail "release-when-idle refused without a store"
sleep 2.5  # two retries at least
[ "$(grep -c "persist store unavailable" "$TMP/log")" = 1 ] || fail "the unavailable store was not said exactly once: $(cat "$TMP/log")"
grep "persist store unavailable" "$TMP/log" | grep -q "$db" || fail "the message does not name the store"
grep -q "SELECT\|CREATE TABLE" "$TMP/log" && fail "SQL in the daemon's log: $(cat "$TMP/log")"

# --- the store comes back: opened at the next retry, the pending release written to it ---
rm -f "$db" "$db"-wal "$db"-shm
wait_log "persist store $db opened"
daemon_stop
start
wait_log "restored 1 pending release(s)"
daemon_stop

# --- an install command's $CMDLINE_OPTS: modprobe.d's options as kmod passes them (udev's
# builtin gets "OPTIONS " with kmod's trailing space), a stored value the load names itself
# left out, a stored value only when a shell would read it as plain text (here inside the
# command's double quotes, where single quotes would not protect it) ---
run_install() {  # MODPROBE.D-LINES...: the install command's $CMDLINE_OPTS, as the daemon ran it
  rm -f "$TMP/cmd.out"
  { printf '%s\n' "$@"; printf 'install dummy echo "opts: $CMDLINE_OPTS" > %s\n' "$TMP/cmd.out"; } > "$TMP/conf/dummy.conf"
  start
  send_uevents dummy
  for _ in $(seq 100); do [ -s "$TMP/cmd.out" ] && break; sleep 0.05; done
  daemon_stop
  cat "$TMP/cmd.out" 2>/dev/null
}
"$KMX" persist --db "$db" set dummy numdummies=2
got=$(run_install 'options dummy numdummies=1')
[ "$got" = "opts: numdummies=1 " ] || fail "install command got '$got' (log: $(cat "$TMP/log"))"
got=$(run_install)
[ "$got" = "opts: numdummies=2" ] || fail "install command got '$got', not the stored value (log: $(cat "$TMP/log"))"
"$KMX" persist --db "$db" set dummy "numdummies=\$(touch $TMP/pwned)"
got=$(run_install)
[ "$got" = "opts: " ] || fail "install command got '$got' (log: $(cat "$TMP/log"))"
[ ! -e "$TMP/pwned" ] || fail "a stored value ran as a shell command"
rm -f "$TMP/conf/dummy.conf"
"$KMX" persist --db "$db" rm dummy

# --- a slow install command runs off the poll loop: the control socket answers meanwhile, and
# SIGTERM stops the daemon and the command (its process group) without waiting for it. Both are
# told by order of events, not by time: the command touches $TMP/slept when its sleep ends, and
# pgrep matches its shell until then ---
printf 'install dummy sleep 3%s; touch %s\n' 1.7 "$TMP/slept" > "$TMP/conf/dummy.conf"
start
send_uevents dummy
for _ in $(seq 100); do pgrep -f "sleep 31.7" > /dev/null && break; sleep 0.05; done
pgrep -f "sleep 31.7" > /dev/null || fail "the install command did not start: $(cat "$TMP/log")"
"$KMX" autoclean --socket "$sock" status > /dev/null || fail "status failed while a batch was loading"
pgrep -f "sleep 31.7" > /dev/null && [ ! -e "$TMP/slept" ] ||
  fail "the control socket answered only once the install command had ended"
kill -TERM "$pid"
wait "$pid" || fail "daemon exit status $? after SIGTERM"
# Until the command's processes are gone; left running, the shell touches $TMP/slept first.
while pgrep -f "sleep 31.7" > /dev/null; do sleep 0.05; done
[ ! -e "$TMP/slept" ] || fail "the install command ran to its end: SIGTERM waited for it, or it outlived the daemon"
rm -f "$TMP/conf/dummy.conf"

# --- an install command past kmx.conf's command-timeout is stopped and reported ---
printf 'install dummy sleep 6%s\n' 18 > "$TMP/conf/dummy.conf"
printf 'command-timeout 1\n' > "$TMP/kmx.conf"
start --config "$TMP/kmx.conf"
send_uevents dummy
wait_log "install command 'sleep 618' for module dummy still ran after 1 s: stopped"
! pgrep -f "sleep 618" > /dev/null || fail "the timed-out install command still runs"
daemon_stop
rm -f "$TMP/conf/dummy.conf"

# --- Type=notify: READY=1 once listening, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 ---
python3 - "$TMP/notify" > "$TMP/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
while True:
    m = s.recv(4096).decode()
    print(m.replace("\n", " "), flush=True)
    if "STOPPING=1" in m:
        break
PY
listener=$!
for _ in $(seq 100); do [ -S "$TMP/notify" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$TMP/notify start
for _ in $(seq 100); do grep -q "READY=1" "$TMP/notify.out" && break; sleep 0.05; done
kill -HUP "$pid"
for _ in $(seq 100); do [ "$(grep -c "READY=1" "$TMP/notify.out")" -ge 2 ] && break; sleep 0.05; done
daemon_stop
wait "$listener" || fail "no STOPPING=1 from the daemon: $(cat "$TMP/notify.out")"
[ "$(cut -d' ' -f1 "$TMP/notify.out" | tr '\n' ' ')" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ] ||
  fail "service manager notifications: $(cat "$TMP/notify.out")"
grep -q "^RELOADING=1 MONOTONIC_USEC=[0-9]" "$TMP/notify.out" || fail "RELOADING=1 without MONOTONIC_USEC: $(cat "$TMP/notify.out")"

# --- a store directory others can write, and a symbolic link: refused, daemon still runs ---
rm -f "$db" "$db"-wal "$db"-shm
chmod 1777 "$TMP/state"
start
wait_log "persist store unavailable.*writable by others"
daemon_stop
[ ! -e "$db" ] || fail "a store was created in a directory others can write"
chmod 700 "$TMP/state"
ln -s "$TMP/elsewhere.db" "$db"
start
wait_log "persist store unavailable.*symbolic link"
daemon_stop
[ ! -e "$TMP/elsewhere.db" ] || fail "the daemon followed a symbolic link to create the store"
echo ok
