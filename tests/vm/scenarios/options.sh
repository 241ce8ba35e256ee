# insmod/rmmod/lsmod option handling, usage errors and help match kmod's, run by the same link
# names in the same VM (stdout, stderr, exit code). -V differs by design (kmx's version), and
# lsmod with an argument answers as kmod 34's lsmod does (same exit code as kmod 30's).
guest() {
  cat <<'G'
i=0
while IFS= read -r line; do
  i=$((i + 1))
  set -- $line
  t=$1
  shift
  run "kmod-$i" argv0 $t /lab/kmod/$t "$@"
  run "kmx-$i" argv0 $t /lab/kmx/$t "$@"
  result "case-$i" "$t $*"
done <<'CASES'
insmod
insmod -h
insmod --help
insmod -x
insmod --bogus
insmod -
insmod -p -s /nonexistent.ko
insmod /nonexistent.ko a=1 b=2
insmod /
insmod /lab
insmod /lab/
rmmod
rmmod -h
rmmod --help
rmmod -w foo
rmmod -x foo
rmmod nothere
rmmod -v nothere other-one
rmmod -f nothere
rmmod /nonexistent.ko
rmmod /lab/mods/kmx_lab_a.ko
rmmod nothere.ko
lsmod
lsmod extra
CASES
result cases $i
G
}

check() {
  local n i
  n=$(res cases)
  [ "${n:-0}" -ge 24 ] && passed "$n cases" || failed "only '$n' cases ran"
  for i in $(seq 1 "${n:-0}"); do
    if [ "$(res "case-$i")" = "lsmod extra" ]; then
      expect_rc "kmod-$i" 1
      expect_rc "kmx-$i" 1
      expect_err "kmx-$i" '^lsmod: ERROR: too many arguments provided\.$'
      continue
    fi
    expect_same "kmx-$i" "kmod-$i"
  done
}
