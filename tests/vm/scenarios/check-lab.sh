# kmx check against what the kernel really does. Test modules of tests/vm/check-modules, one
# per loader condition (some edited after modpost by patch.py), plus the other lab kernel's
# clean module, are loaded with kmod's insmod; per case the guest records the exit, kmod's
# message (its strerror names the errno), the kernel log of that load, /proc/sys/kernel/tainted
# before it and the module's taint. On the host, `kmx check --insmod` on the same file against
# the same kernel, learnt offline from its image package and its headers' Module.symvers, must
# give the same verdict, errno and taint, and every line it predicts must be in the log.

check_lab_cases="clean prop gpl crc nocrc ns pfn layout vermagic noversions other tree-other again"

# Build (cached) the check modules for lab kernel $1 and make the edited copies; prints the dir.
check_lab_modules() {
  local k=$1 hdr sum dir src=$KMX_SRC/tests/vm/check-modules
  hdr=$(lab_headers_dir "$k") || return 1
  # Keyed by the sources and by this function's own text (it makes the variants).
  sum=$( (cat "$src"/*; declare -f check_lab_modules) | sha256sum | cut -c1-16)
  dir=$lab_cache/check-modules-$k-$sum
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir" "$dir.build"
    mkdir -p "$dir.build" "$dir"
    cp "$src"/Kbuild "$src"/*.c "$src"/*.h "$dir.build/"
    if ! make -s -C "$hdr" M="$dir.build" CONFIG_DEBUG_INFO_BTF_MODULES= KBUILD_MODPOST_WARN=1 modules >"$dir.build/make.log" 2>&1; then
      echo "check-lab: building the check modules for $k failed:" >&2
      cat "$dir.build/make.log" >&2
      return 1
    fi
    cp "$dir.build"/*.ko "$dir/"
    local p="$src/patch.py" vm
    mv "$dir/check_clean.ko" "$dir/clean.ko"
    mv "$dir/check_prop.ko" "$dir/prop.ko"
    mv "$dir/check_gpl.ko" "$dir/gpl.ko"
    "$p" "$dir/gpl.ko" modinfo license=GPL license=BSD
    cp "$dir/check_crc.ko" "$dir/nocrc.ko"
    mv "$dir/check_crc.ko" "$dir/crc.ko"
    "$p" "$dir/crc.ko" versions-crc get_random_u32
    "$p" "$dir/nocrc.ko" versions-rename get_random_u32 get_random_x32
    mv "$dir/check_ns.ko" "$dir/ns.ko"
    mv "$dir/check_pfn.ko" "$dir/pfn.ko"
    "$p" "$dir/ns.ko" modinfo import_ns=DMA_BUF import_ns=DMA_BUX
    cp "$dir/clean.ko" "$dir/layout.ko"
    "$p" "$dir/layout.ko" versions-crc module_layout
    cp "$dir/clean.ko" "$dir/vermagic.ko"
    vm=$(/usr/sbin/modinfo -F vermagic "$dir/clean.ko")
    "$p" "$dir/vermagic.ko" modinfo "vermagic=$vm" "vermagic=${vm/mod_unload/mod_unlaod}"
    cp "$dir/clean.ko" "$dir/noversions.ko"
    "$p" "$dir/noversions.ko" section-rename __versions __versionz
    cp "$dir/clean.ko" "$dir/again.ko"
    local m
    for m in staging lp pexp puse pgpl mix; do mv "$dir/check_$m.ko" "$dir/$m.ko"; done
    # Signed with a throwaway key the kernel does not know (ENOKEY: taint E, or refused when
    # enforced), by the kernel's own sign-file.
    local sf
    sf=$(ls "$("$lab_fetch" path "kbuild-$k")"/usr/lib/linux-kbuild-*/scripts/sign-file)
    openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=kmx lab throwaway key/" -outform PEM \
      -keyout "$dir.build/key.pem" -out "$dir.build/cert.pem" >/dev/null 2>&1 &&
      "$sf" sha256 "$dir.build/key.pem" "$dir.build/cert.pem" "$dir/clean.ko" "$dir/ownkey.ko" &&
      "$sf" sha256 "$dir.build/key.pem" "$dir.build/cert.pem" "$dir/mix.ko" ||
      { echo "check-lab: signing with a throwaway key failed" >&2; return 1; }
    # An in-tree module signed by Debian with one byte of its code inverted (EKEYREJECTED).
    local t
    t=$(ls "$(lab_image_root "$k")/lib/modules/$(lab_release "$k")"/kernel/drivers/net/dummy.ko* | head -n1)
    case $t in
    *.xz) xz -dc "$t" >"$dir/flip.ko" ;;
    *) cp "$t" "$dir/flip.ko" ;;
    esac
    "$p" "$dir/flip.ko" flip .text
    rm -rf "$dir.build"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# check_lab_stage CASE...: the check modules CASE.ko built for lab kernel $k, copied to the
# initramfs's /lab/check ($root) by a scenario's guest().
check_lab_stage() {
  local d c
  d=$(check_lab_modules "$k") || return 1
  mkdir -p "$root/lab/check"
  for c in "$@"; do cp "$d/$c.ko" "$root/lab/check/"; done
}

# Prints the guest function check_insmod CASE FILE, which loads FILE with kmod's insmod and
# records the taint before (tainted-CASE), insmod's output and exit (ins-CASE) and the kernel
# log of that load (log-CASE).
check_lab_insmod_guest() {
  cat <<'G'
check_insmod() {
  result tainted-$1 "$(cat /proc/sys/kernel/tainted)"
  dmesg -c >/dev/null
  run ins-$1 kmod insmod $2
  run log-$1 dmesg
}
G
}

guest() {
  # Runs on the host while the initramfs for kernel $k is made ($root is its root).
  local d o
  d=$(check_lab_modules "$k") || return 1
  o=$(check_lab_modules "$(lab_other_kernel "$k")") || return 1
  mkdir -p "$root/lab/check"
  cp "$d"/*.ko "$root/lab/check/"
  cp "$o/clean.ko" "$root/lab/check/other.ko"
  # An in-tree module of the other kernel (signed by that kernel's build key).
  local oroot t
  oroot=$(lab_image_root "$(lab_other_kernel "$k")")
  t=$(ls "$oroot"/lib/modules/*/kernel/drivers/net/dummy.ko* | head -n1)
  cp "$t" "$root/lab/check/tree-other.${t#*/dummy.}"
  check_lab_insmod_guest
  cat <<'G'
lab_clean
check_unload() {
  for m in check_clean check_prop check_gpl check_crc check_ns check_pfn; do
    [ -d /sys/module/$m ] && kmod rmmod $m >/dev/null 2>&1
  done
}
check_unload
for c in clean prop gpl crc nocrc ns pfn layout vermagic noversions other tree-other again; do
  [ $c = again ] && kmod insmod /lab/check/clean.ko && run loaded-again cat /proc/modules
  f=$(ls /lab/check/$c.ko* | head -n1)
  check_insmod $c $f
  n=$(/lab/kmod/modinfo -F name $f)
  result taint-$c "$(cat /sys/module/$n/taint 2>/dev/null)"
  check_unload
done
lab_clean
G
}

# check_lab_case CASE FILE [KMX ARGS...]: compare the guest's load of CASE (ins-CASE, log-CASE,
# tainted-CASE, taint-CASE) with `kmx check --insmod` on FILE against lab kernel $K: same
# verdict, errno and module taint, and the predicted kernel lines in the log in the same order.
check_lab_case() {
  local c=$1 f=$2
  shift 2
  local img sym
  img=$(lab_image_root "$K")
  sym=$(ls "$("$lab_fetch" path "headers-$K")"/usr/src/linux-headers-*/Module.symvers)
  local bits letters
  bits=$(res "tainted-$c")
  letters=$(python3 -c '
import sys
b = int(sys.argv[1] or 0)
print("".join(l for i, l in [(0,"P"),(1,"F"),(10,"C"),(12,"O"),(13,"E"),(15,"K"),(18,"N")] if b >> i & 1))' "$bits")
  "$KMX" check --json --insmod -t "$img,$sym" --tainted "$letters" --cmdline "${lab_cmdline:-}" "$@" "$f" >"$lab_tmp/check.json" || true
  out "log-$c" | sed 's/^\[[ 0-9.]*\] //' >"$lab_tmp/log"
  local why
  why=$(python3 - "$lab_tmp/check.json" "$lab_tmp/log" "$(rc "ins-$c")" "$(err "ins-$c")" "$(res "taint-$c")" "$c" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))[0]
log = open(sys.argv[2]).read().splitlines()
rc, err, taint = sys.argv[3], sys.argv[4], sys.argv[5]
names = {"Invalid module format": "ENOEXEC", "Unknown symbol in module": "ENOENT",
         "Invalid argument": "EINVAL", "Invalid parameters": "EINVAL", "File exists": "EEXIST", "Operation not permitted": "EPERM",
         "Key was rejected by service": "EKEYREJECTED", "Required key not available": "ENOKEY",
         "Bad message": "EBADMSG", "Package not installed": "ENOPKG", "No data available": "ENODATA"}
got = None
if rc != "0":
    got = next((e for s, e in names.items() if err.rstrip().endswith(s)), "?" + err)
problems = []
if (rc == "0") != v["loads"]:
    problems.append(f"kernel {'loaded' if rc == '0' else 'refused'} it, kmx says loads={v['loads']}")
if got and got != v["errno"]:
    problems.append(f"kernel errno {got}, kmx {v['errno']}")
if rc == "0" and taint != v["taint"]:
    problems.append(f"module taint {taint!r}, kmx {v['taint']!r}")
if sys.argv[6] == "pfn" and not v["loads"] and not any("cb10c28ac82c" in h for h in v["hints"]):
    problems.append("no follow_pfn hint from data/api-changes.tsv")
at = 0
for m in v["messages"]:
    if m not in log:
        problems.append(f"predicted line not in the log: {m!r}")
    elif m not in log[at:]:
        problems.append(f"predicted line out of order: {m!r}")
    else:
        at = log.index(m, at) + 1
print("; ".join(problems) if problems else
      f"ok {'loads ' + v['taint'] if v['loads'] else 'refused ' + v['errno'] + ' ' + v['check_id']}")
PY
)
  case $why in
  ok*) passed "$c: $why"; [ -z "${check_lab_show_log:-}" ] || sed 's/^/    log| /' "$lab_tmp/log" ;;
  *) failed "$c: $why"; sed 's/^/    log| /' "$lab_tmp/log"; sed 's/^/    kmx| /' "$lab_tmp/check.json" | head -40 ;;
  esac
}

check() {
  local d c
  d=$(check_lab_modules "$K") || { failed "cannot build the check modules"; return; }
  cp "$(check_lab_modules "$(lab_other_kernel "$K")")/clean.ko" "$lab_tmp/other.ko"
  for c in $check_lab_cases; do
    local f=$d/$c.ko extra=()
    [ $c = other ] && f=$lab_tmp/other.ko
    case $c in
    tree-other) f=$(ls "$(lab_image_root "$(lab_other_kernel "$K")")"/lib/modules/*/kernel/drivers/net/dummy.ko* | head -n1) ;;
    tree-*) f=$(ls "$(lab_image_root "$K")/lib/modules/$(lab_release "$K")"/kernel/drivers/net/${c#tree-}.ko* | head -n1) ;;
    esac
    [ $c = again ] && { out loaded-again >"$lab_tmp/loaded"; extra+=(--loaded "$lab_tmp/loaded"); }
    # The real lines of the first O/E and the first P taint of the boot, for the record.
    check_lab_show_log=; case $c in clean | prop) check_lab_show_log=1 ;; esac
    check_lab_case "$c" "$f" "${extra[@]}"
  done
}
