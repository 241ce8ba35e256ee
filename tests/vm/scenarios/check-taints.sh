# kmx check on the remaining taints, against the real kernel: staging=Y (C), livepatch=Y (K;
# Debian's kernels have CONFIG_LIVEPATCH=y), and a GPL module using an export of a loaded
# proprietary module (inherits P), or refused when it also uses GPL-only symbols. kmx is told
# what is loaded with --loaded (the proprietary exporter's file). Modules: check-lab.sh.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"
check_taint_cases="staging lp pexp puse pgpl"

guest() {
  check_lab_stage staging lp pexp puse pgpl || return 1
  check_lab_insmod_guest
  cat <<'G'
lab_clean
for c in staging lp pexp puse pgpl; do
  f=/lab/check/$c.ko
  check_insmod $c $f
  n=$(/lab/kmod/modinfo -F name $f)
  result taint-$c "$(cat /sys/module/$n/taint 2>/dev/null)"
  # check_pexp stays loaded for check_puse and check_pgpl.
  [ $c != pexp ] && [ -d /sys/module/$n ] && kmod rmmod $n
done
[ -d /sys/module/check_pexp ] && kmod rmmod check_pexp
lab_clean
G
}

check() {
  local d c
  d=$(check_lab_modules "$K") || { failed "cannot build the check modules"; return; }
  for c in $check_taint_cases; do
    local extra=()
    case $c in puse | pgpl) extra=(--loaded "$d/pexp.ko") ;; esac
    check_lab_show_log=1
    check_lab_case "$c" "$d/$c.ko" "${extra[@]}"
  done
}
