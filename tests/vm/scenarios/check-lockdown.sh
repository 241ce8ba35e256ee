# kmx check --cmdline lockdown=integrity against the kernel booted with it: an unsigned module
# is refused with EPERM and "Lockdown: insmod: unsigned module loading is restricted; ...".
# Modules, guest recording and host comparison: see check-lab.sh.
lab_cmdline="lockdown=integrity"

# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"
check_lab_cases="clean"

guest() {
  local d
  d=$(check_lab_modules "$k") || return 1
  mkdir -p "$root/lab/check"
  cp "$d"/clean.ko "$root/lab/check/"
  cat <<'G'
result tainted-clean "$(cat /proc/sys/kernel/tainted)"
dmesg -c >/dev/null
run ins-clean kmod insmod /lab/check/clean.ko
run log-clean dmesg
G
}
