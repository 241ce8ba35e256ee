# kmx check with a target command line, against the real kernel booted with it: signatures
# enforced (unsigned module -> EKEYREJECTED "Loading of unsigned module is rejected") and a
# module blacklisted (-> EPERM "Module check_prop is blacklisted"; signatures come first, so the
# blacklist is seen with a module the kernel trusts: an in-tree one).
# Modules, guest recording and host comparison: see check-lab.sh.
lab_cmdline="module.sig_enforce=1 module_blacklist=check_prop,dummy"
lab_tree_modules="kernel/drivers/net/dummy.ko*"

# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"
check_lab_cases="clean prop tree-dummy"

guest() {
  check_lab_stage clean prop || return 1
  local t
  t=$(cd "$root/lib/modules/$rel" && ls kernel/drivers/net/dummy.ko* | head -n1)
  cp "$root/lib/modules/$rel/$t" "$root/lab/check/tree-dummy.${t#*.}"
  check_lab_insmod_guest
  cat <<'G'
for c in clean prop tree-dummy; do
  check_insmod $c $(ls /lab/check/$c.ko* | head -n1)
  result taint-$c ""
done
G
}
