# The uevent storm: 10,000 kernel-format uevents (plus malformed ones) pushed into `kmx daemon
# --dry-run` through its --uevent-socket test hook, resolved against the real Debian 6.1 tree
# indexed by kmod's depmod. Proves: no request is dropped (uevents received == sent, processed
# == requests), identical requests are merged, each module is "loaded" exactly once, the module
# set equals the union of what kmod's `modprobe -n -b -v ALIAS` would insert per distinct alias,
# malformed messages are counted and survived, and SIGTERM ends the daemon cleanly (exit 0,
# sockets removed).
source "$(dirname "$0")/common.sh"
need_kmod modprobe depmod
command -v python3 >/dev/null || skip "python3 is needed to send the uevents"

root=$TMP/tree
mkdir -p "$TMP/conf"
module_root "$root" amd64-6.1
fake_kernel storm-boot-id quiet

# 400 distinct device aliases made from modules.alias patterns ('*' -> ""), 20 that match nothing.
grep -E '^alias (pci|usb|acpi|platform|hid|virtio|of|input|serio):' "$dir/modules.alias" |
  grep -v '[][?\\]' | awk '{print $2}' | awk 'NR % 37 == 0 && n < 400 {print; n++}' | tr -d '*' > "$TMP/aliases"
for i in $(seq 1 20); do echo "pci:v0000FFFFd0000$((1000 + i))svsdbcsci" >> "$TMP/aliases"; done
distinct=$(sort -u "$TMP/aliases" | wc -l)
[ "$distinct" -ge 300 ] || fail "only $distinct aliases"

sock=$TMP/control uev=$TMP/uevents
daemon_start --db "$TMP/db" --no-coldplug --dry-run

sent=10000 bad=50
python3 - "$uev" "$TMP/aliases" "$sent" "$bad" <<'PY'
import random, socket, sys
path, aliases, sent, bad = sys.argv[1], open(sys.argv[2]).read().split(), int(sys.argv[3]), int(sys.argv[4])
random.seed(7)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(path)
for i in range(sent):
    # every alias at least once, then bursts of repeats as a real storm has them
    a = aliases[i] if i < len(aliases) else random.choice(aliases)
    dev = "/devices/storm/%d" % i
    msg = "add@%s\0ACTION=add\0DEVPATH=%s\0SUBSYSTEM=storm\0MODALIAS=%s\0SEQNUM=%d\0" % (dev, dev, a, 1000 + i)
    s.send(msg.encode())
    if i % (sent // bad) == 0:
        s.send(b"garbage without a header NUL")
PY

json() { "$KMX" autoclean --socket "$sock" --json status; }
counter() { python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"; }
for _ in $(seq 300); do
  st=$(json) || fail "status failed"
  [ "$(echo "$st" | counter processed)" -ge "$sent" ] && break
  sleep 0.1
done
echo "$st" > "$TMP/status.json"
for k in uevents load_requests processed; do
  v=$(counter "$k" < "$TMP/status.json")
  [ "$v" = "$sent" ] || fail "counter $k = $v, expected $sent (requests dropped?)"
done
[ "$(counter uevents_malformed < "$TMP/status.json")" = "$bad" ] || fail "malformed count wrong"
merged=$(counter merged < "$TMP/status.json")
echo "sent $sent uevents ($distinct distinct aliases): processed $sent, merged $merged"

# Each module exactly once.
python3 - "$TMP/status.json" > "$TMP/kmx.set" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
loads = j["module_loads"]
twice = {m: n for m, n in loads.items() if n != 1}
if twice:
    sys.exit("loaded more than once: %r" % twice)
if j["counters"]["loads"] != len(loads):
    sys.exit("loads counter %d != %d modules" % (j["counters"]["loads"], len(loads)))
print("\n".join(sorted(loads)))
PY
# The same set as kmod's modprobe -b, one process per distinct alias.
sort -u "$TMP/aliases" | while read -r a; do
  /usr/sbin/modprobe -d "$root" -S "$ver" -C "$TMP/conf" -n -b -v "$a" 2>/dev/null || true
done | awk '/^insmod /{n=$2; sub(/.*\//,"",n); sub(/\.ko.*/,"",n); gsub(/-/,"_",n); print n}' | sort -u > "$TMP/kmod.set"
[ -s "$TMP/kmod.set" ] || fail "kmod resolved nothing"
same "module set" "$TMP/kmod.set" "$TMP/kmx.set"
echo "modules: $(wc -l < "$TMP/kmx.set") each once, same set as kmod"

daemon_stop
[ ! -e "$sock" ] || fail "control socket left behind"
[ ! -e "$uev" ] || fail "uevent socket left behind"
grep -q "exiting on SIGTERM" "$TMP/log" || fail "no exit line"
grep -q "malformed uevent ignored: uevent without a NUL after its header" "$TMP/log" || fail "malformed uevent not reported"
echo "ok"
