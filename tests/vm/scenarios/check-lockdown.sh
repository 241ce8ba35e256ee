# kmx check --cmdline lockdown=integrity against the kernel booted with it: an unsigned module
# is refused with EPERM and "Lockdown: insmod: unsigned module loading is restricted; ...".
# Modules, guest recording and host comparison: see check-lab.sh.
lab_cmdline="lockdown=integrity"

# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"
check_lab_cases="clean"

guest() {
  check_lab_stage clean || return 1
  check_lab_insmod_guest
  echo "check_insmod clean /lab/check/clean.ko"
}
