# kmx check against the real kernel on its first module load of a boot (a boot of its own): a
# module with staging=Y, livepatch=Y, test=Y and a proprietary licence prints every taint line
# of the loader, so the order of the lines per kernel version is seen (6.1 adds O C K P N in
# check_modinfo() and E later; 6.4+ adds them all in module_augment_kernel_taints(), where the
# licence also gets a second line). It is signed with the throwaway key (ENOKEY), so its E line
# is the one of an untrusted signature, first time in the boot. Modules: check-lab.sh.
lab_cmdline="kmx_lab_fresh=1"
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"

guest() {
  local d
  d=$(check_lab_modules "$k") || return 1
  mkdir -p "$root/lab/check"
  cp "$d"/mix.ko "$root/lab/check/"
  cat <<'G'
c=mix
result tainted-$c "$(cat /proc/sys/kernel/tainted)"
dmesg -c >/dev/null
run ins-$c kmod insmod /lab/check/$c.ko
run log-$c dmesg
result taint-$c "$(cat /sys/module/check_mix/taint 2>/dev/null)"
[ -d /sys/module/check_mix ] && kmod rmmod check_mix
G
}

check() {
  local d
  d=$(check_lab_modules "$K") || { failed "cannot build the check modules"; return; }
  local t
  t=$(res tainted-mix)
  # None of the loader's taints (P F C O E K N) before this load.
  [ -n "$t" ] && [ $((t & 0x4b403)) = 0 ] || failed "the kernel had module taints before the first load: $t"
  check_lab_show_log=1
  check_lab_case mix "$d/mix.ko"
}
