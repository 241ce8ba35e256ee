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
  local d
  d=$(check_lab_modules "$k") || return 1
  mkdir -p "$root/lab/check"
  cp "$d"/clean.ko "$d"/prop.ko "$root/lab/check/"
  local t
  t=$(cd "$root/lib/modules/$rel" && ls kernel/drivers/net/dummy.ko* | head -n1)
  cp "$root/lib/modules/$rel/$t" "$root/lab/check/tree-dummy.${t#*.}"
  cat <<'G'
for c in clean prop tree-dummy; do
  f=$(ls /lab/check/$c.ko* | head -n1)
  result tainted-$c "$(cat /proc/sys/kernel/tainted)"
  dmesg -c >/dev/null
  run ins-$c kmod insmod $f
  run log-$c dmesg
  result taint-$c ""
done
G
}
