# kmx check on signatures, against the real kernel (signatures not enforced): a module signed
# with a throwaway key the kernel does not trust (ENOKEY: loads, taints E), an in-tree module
# whose Debian signature no longer verifies after one byte of its code was inverted
# (EKEYREJECTED even without enforcement), and an in-tree module of this kernel (loads clean).
# check-sig-enforce.sh repeats them with module.sig_enforce=1. Modules: check-lab.sh.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"
check_sig_cases="ownkey flip tree-ifb"

# The guest part for $check_sig_cases (shared with check-sig-enforce.sh).
check_sig_guest() {
  local d t
  d=$(check_lab_modules "$k") || return 1
  mkdir -p "$root/lab/check"
  cp "$d"/ownkey.ko "$d"/flip.ko "$root/lab/check/"
  t=$(ls "$(lab_image_root "$k")/lib/modules/$rel"/kernel/drivers/net/ifb.ko* | head -n1)
  cp "$t" "$root/lab/check/tree-ifb.${t#*/ifb.}"
  cat <<G
lab_clean
for c in $check_sig_cases; do
  f=\$(ls /lab/check/\$c.ko* | head -n1)
  result tainted-\$c "\$(cat /proc/sys/kernel/tainted)"
  dmesg -c >/dev/null
  run ins-\$c kmod insmod \$f
  run log-\$c dmesg
  n=\$(/lab/kmod/modinfo -F name \$f)
  result taint-\$c "\$(cat /sys/module/\$n/taint 2>/dev/null)"
  [ -d /sys/module/\$n ] && kmod rmmod \$n
done
lab_clean
G
}

guest() { check_sig_guest; }

check() {
  local d c f
  d=$(check_lab_modules "$K") || { failed "cannot build the check modules"; return; }
  for c in $check_sig_cases; do
    f=$d/$c.ko
    case $c in
    tree-*) f=$(ls "$(lab_image_root "$K")/lib/modules/$(lab_release "$K")"/kernel/drivers/net/${c#tree-}.ko* | head -n1) ;;
    esac
    check_lab_show_log=1
    check_lab_case "$c" "$f"
  done
}
