# kmx modprobe loading and removing for real, next to kmod's modprobe in the same VM; every
# step runs with kmod first, then the same with kmx, and both the messages (stdout, stderr,
# exit code) and the resulting kernel state must be identical:
#   * by alias from modules.alias (rtnl-link-bridge -> bridge with stp, llc) in order, and
#     -r bridge (kmod removes bridge and the dependencies that became unused);
#   * options from modprobe.d and from the real kernel command line (kmx_lab_a.label=...)
#     reach /sys/module/kmx_lab_a/parameters when kmx_lab_b pulls kmx_lab_a in as a dependency;
#   * a blacklist keeps a load by alias out but not a load by name;
#   * softdeps (pre/post) load and unload in order; install and remove commands run with
#     $MODPROBE_MODULE and $CMDLINE_OPTS;
#   * kmx only: `forbid` refuses a module by name, by alias and as a dependency.
lab_tree_modules="all"
lab_cmdline="kmx_lab_a.label=fromcmdline"

guest() {
  cat <<'G'
lab_clean
LR=/tmp/lr
lab_mod_root $LR kmx_lab_a kmx_lab_b
mkdir -p /tmp/c0 /tmp/c1 /tmp/c2 /tmp/c3
cat > /tmp/c1/lab.conf <<'C'
options kmx_lab_a answer=7
alias kmx-alias-b kmx_lab_b
blacklist kmx_lab_b
C
cat > /tmp/c2/lab.conf <<'C'
softdep nls_utf8 pre: dummy post: tun
options dummy numdummies=0
install kmx_lab_a echo "install $MODPROBE_MODULE [$CMDLINE_OPTS]" >> /tmp/cmds.$T; $MP -d /tmp/lr --ignore-install kmx_lab_a $CMDLINE_OPTS
remove kmx_lab_a echo "remove $MODPROBE_MODULE" >> /tmp/cmds.$T; $MP -d /tmp/lr -r --ignore-remove kmx_lab_a
C
cat > /tmp/c3/lab.conf <<'C'
forbid kmx_lab_a
alias kmx-alias-a kmx_lab_a
C
loaded() {
  for m in "$@"; do
    if grep -q "^$m " /proc/modules; then printf '%s+ ' $m; else printf '%s- ' $m; fi
  done
}
param() { cat /sys/module/kmx_lab_a/parameters/$1 2>/dev/null || echo none; }
tidy() {
  for m in bridge stp llc tun nls_utf8 dummy kmx_lab_b kmx_lab_a; do
    [ -d /sys/module/$m/holders ] && grep -q "^$m " /proc/modules && kmod rmmod $m >/dev/null 2>&1
  done
  return 0
}
result before "$(loaded bridge stp llc tun nls_utf8 dummy kmx_lab_a kmx_lab_b)"
for T in kmod kmx; do
  export T MP=/lab/$T/modprobe
  tidy
  run $T-alias $MP -v -C /tmp/c0 rtnl-link-bridge
  result $T-alias-state "$(loaded bridge stp llc)"
  run $T-alias-rm $MP -r -v -C /tmp/c0 bridge
  result $T-alias-rm-state "$(loaded bridge stp llc)"
  tidy
  run $T-opt $MP -v -C /tmp/c1 -d $LR kmx_lab_b
  result $T-opt-state "$(loaded kmx_lab_a kmx_lab_b) answer=$(param answer) label=$(param label)"
  run $T-opt-rm $MP -r -v -C /tmp/c1 -d $LR kmx_lab_b
  result $T-opt-rm-state "$(loaded kmx_lab_a kmx_lab_b)"
  tidy
  run $T-bl-alias $MP -v -C /tmp/c1 -d $LR kmx-alias-b
  result $T-bl-alias-state "$(loaded kmx_lab_a kmx_lab_b)"
  run $T-bl-name $MP -v -C /tmp/c1 -d $LR kmx_lab_b
  result $T-bl-name-state "$(loaded kmx_lab_a kmx_lab_b)"
  tidy
  run $T-soft $MP -v -C /tmp/c2 nls_utf8
  result $T-soft-state "$(loaded dummy nls_utf8 tun)"
  run $T-soft-rm $MP -r -v -C /tmp/c2 nls_utf8
  result $T-soft-rm-state "$(loaded dummy nls_utf8 tun)"
  tidy
  rm -f /tmp/cmds.$T
  run $T-inst $MP -v -C /tmp/c2 -d $LR kmx_lab_b
  result $T-inst-state "$(loaded kmx_lab_a kmx_lab_b) answer=$(param answer) label=$(param label)"
  kmod rmmod kmx_lab_b
  run $T-rmcmd $MP -r -v -C /tmp/c2 -d $LR kmx_lab_a
  result $T-rmcmd-state "$(loaded kmx_lab_a kmx_lab_b)"
  result $T-cmds "$(cat /tmp/cmds.$T | tr '\n' ';')"
  tidy
done
T=kmx
export MP=/lab/kmx/modprobe
run kmx-forbid-name $MP -C /tmp/c3 -d $LR kmx_lab_a
run kmx-forbid-dep $MP -C /tmp/c3 -d $LR kmx_lab_b
run kmx-forbid-alias $MP -C /tmp/c3 -d $LR kmx-alias-a
run kmx-forbid-show $MP -C /tmp/c3 -d $LR --show-depends kmx_lab_b
result forbid-state "$(loaded kmx_lab_a kmx_lab_b)"
tidy
lab_clean
G
}

check() {
  local s
  for s in alias alias-rm opt opt-rm bl-alias bl-name soft soft-rm inst rmcmd; do
    expect_same kmx-$s kmod-$s
    local a b
    a=$(res kmod-$s-state)
    b=$(res kmx-$s-state)
    [ -n "$a" ] && [ "$a" = "$b" ] && passed "$s: same state ($a)" || failed "$s: kmod state '$a', kmx state '$b'"
  done
  expect_res kmod-cmds "$(res kmx-cmds)"
  # What the two did must also be what modprobe is for.
  expect_res kmx-alias-state "bridge+ stp+ llc+ "
  expect_out kmx-alias '^insmod .*/llc\.ko'
  expect_res kmx-opt-state "kmx_lab_a+ kmx_lab_b+  answer=7 label=fromcmdline"
  expect_res kmx-opt-rm-state "kmx_lab_a- kmx_lab_b- "
  expect_res kmx-bl-alias-state "kmx_lab_a- kmx_lab_b- "
  expect_res kmx-bl-name-state "kmx_lab_a+ kmx_lab_b+ "
  expect_res kmx-soft-state "dummy+ nls_utf8+ tun+ "
  expect_res kmx-soft-rm-state "dummy- nls_utf8- tun- "
  expect_res kmx-inst-state "kmx_lab_a+ kmx_lab_b+  answer=42 label=fromcmdline"
  expect_res kmx-rmcmd-state "kmx_lab_a- kmx_lab_b- "
  expect_out kmx-inst '^install echo'
  expect_res kmx-cmds "install kmx_lab_a [label=fromcmdline ];remove kmx_lab_a;"
  local n
  for n in name dep alias; do
    expect_rc kmx-forbid-$n 1
    expect_err kmx-forbid-$n "could not insert 'kmx_lab_a': forbidden"
  done
  expect_out kmx-forbid-show '^insmod .*kmx_lab_a\.ko'
  expect_res forbid-state "kmx_lab_a- kmx_lab_b- "
}
