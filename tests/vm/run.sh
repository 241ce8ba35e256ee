#!/usr/bin/env bash
# Run VM lab scenarios: boot Debian kernels in QEMU (TCG) with an initramfs holding kmx,
# kmod, busybox and the lab's test modules, run the scenarios' guest scripts inside, and check
# what they printed on the serial console.
#
#   tests/vm/run.sh all                      every scenario (one boot per kernel and cmdline)
#   tests/vm/run.sh SCENARIO...              the given scenarios (file or name), sharing boots
#   tests/vm/run.sh --boot-all DIR           boot for every scenario, keep results in DIR
#                                            (ctest's shared-boot fixture)
# With KMX_VM_RESULTS=DIR set and DIR/done present, scenarios are checked against the results
# of that shared boot instead of booting again.
#
# Env: KMX (kmx binary, default $KMX_BUILD/kmx or build/kmx), KMX_SRC (repository),
# KMX_VM_TIMEOUT (seconds per boot, default 600), KMX_VM_JOBS=1 boots the kernels one after
# the other instead of side by side, KMX_VM_KEEP=1 keeps the work dir.
# Exit: 0 all passed, 1 a check failed, 77 skipped (prints "skipped: <why>").
#
# A scenario file (tests/vm/scenarios/NAME.sh, bash) sets:
#   lab_kernels="6.1 6.12"   kernels to run on (default both)
#   lab_cmdline="..."        extra kernel command line; scenarios with equal ones share a boot
#   lab_tree_modules="..."   globs under lib/modules/<release>/ to copy into the initramfs, or
#                            "all": the whole tree (with kmod's depmod indexes) on a virtio disk,
#                            mounted on /lib/modules (writes are discarded at power-off)
#   lab_smp=2                vCPUs (default 1; TCG runs one host thread per vCPU); scenarios
#                            with different lab_smp get boots of their own
#   lab_boots=2              boot twice in a row with one extra disk whose writes are kept
#                            (ext2, label kmxpersist, fresh per run; /dev/vdb with the tree,
#                            else /dev/vda); the guest sees the boot number in $LAB_BOOT.
#                            Such scenarios get boots of their own (grouped by cmdline too)
#   lab_guest_timeout=300    seconds the guest script may run (default 180)
#   guest()                  prints the busybox sh script run inside (see guest/lib.sh)
#   check()                  host-side assertions, run once per kernel with $K set
set -euo pipefail

KMX_SRC=${KMX_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KMX_BUILD=${KMX_BUILD:-$KMX_SRC/build}
KMX=${KMX:-$KMX_BUILD/kmx}
export KMX_SRC KMX_BUILD KMX
scen_dir=$KMX_SRC/tests/vm/scenarios

lab_tmp=$(mktemp -d /tmp/kmx-vm.XXXXXX)
cleanup() { [ "${KMX_VM_KEEP:-}" = 1 ] && echo "lab: kept $lab_tmp" >&2 || rm -rf "$lab_tmp"; }
trap cleanup EXIT

# shellcheck source=tests/vm/lib.sh
. "$KMX_SRC/tests/vm/lib.sh"

skip() {
  echo "skipped: $*"
  exit 77
}

resolve() {
  case $1 in
  all) ls "$scen_dir"/*.sh ;;
  */*) echo "$1" ;;
  *) echo "$scen_dir/${1%.sh}.sh" ;;
  esac
}

# Scenario settings, read in a subshell so that scenarios cannot disturb each other.
scen_var() {
  (
    lab_kernels="6.1 6.12" lab_cmdline="" lab_tree_modules="" lab_boots=1 lab_smp=1
    # shellcheck disable=SC1090
    . "$1"
    eval "echo \"\$$2\""
  )
}

# Why the lab cannot run here, or nothing.
lab_unavailable() {
  command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed"; return; }
  [ -x /bin/busybox ] || { echo "busybox-static is not installed"; return; }
  command -v cpio >/dev/null || { echo "cpio is not installed"; return; }
  command -v make >/dev/null && command -v gcc >/dev/null || { echo "make/gcc are not installed"; return; }
  [ -x "$KMX" ] || { echo "kmx binary $KMX not built"; return; }
  [ -x /usr/bin/kmod ] || [ -x /bin/kmod ] || { echo "kmod is not installed"; return; }
  true
}

# Boot every (kernel, cmdline) group the scenarios need; results land in $1/<kernel>/<scenario>.
boot_all() {
  local res=$1
  shift
  local why
  why=$(lab_unavailable)
  [ -z "$why" ] || { echo "$why" >"$res/skipped"; return 0; }
  local kernels="" s k
  for s in "$@"; do
    for k in $(scen_var "$s" lab_kernels); do
      case " $kernels " in *" $k "*) ;; *) kernels="$kernels $k" ;; esac
    done
  done
  for k in $kernels; do
    why=$(lab_fetch_kernel "$k") || { echo "$why" >"$res/skipped"; return 0; }
    why=$(lab_fetch_kernel "$(lab_other_kernel "$k")") || { echo "$why" >"$res/skipped"; return 0; }
  done
  # Shared builds first (each kernel's boot uses both kernels' test modules), then one job per
  # kernel: TCG runs a VM on one core, so the two kernels boot side by side on 2 cores.
  local wants_tree=""
  for s in "$@"; do
    case " $(scen_var "$s" lab_tree_modules) " in *" all "*) wants_tree=1 ;; esac
  done
  for k in $kernels; do
    lab_test_modules "$k" >/dev/null || return 1
    if [ -n "$wants_tree" ]; then lab_tree_image "$k" >/dev/null || return 1; fi
  done
  local pids=() st=0 p
  for k in $kernels; do
    if [ "${KMX_VM_JOBS:-2}" -gt 1 ]; then
      boot_kernel "$k" "$res" "$@" &
      pids+=($!)
    else
      boot_kernel "$k" "$res" "$@" || st=1
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || st=1; done
  return $st
}

# Every boot one kernel needs for the given scenarios, one per distinct command line.
boot_kernel() {
  local k=$1 res=$2
  shift 2
  local s
  # Group this kernel's scenarios by vCPUs, number of boots and command line
  # ("SMP|BOOTS|CMDLINE"), in file order.
  local cmdlines=() c i found
  for s in "$@"; do
    case " $(scen_var "$s" lab_kernels) " in *" $k "*) ;; *) continue ;; esac
    c="$(scen_var "$s" lab_smp)|$(scen_var "$s" lab_boots)|$(scen_var "$s" lab_cmdline)"
    found=
    for i in "${!cmdlines[@]}"; do [ "${cmdlines[$i]}" = "$c" ] && found=1; done
    [ -n "$found" ] || cmdlines+=("$c")
  done
  for i in "${!cmdlines[@]}"; do
    local smp=${cmdlines[$i]%%|*}
    c=${cmdlines[$i]#*|}
    local boots=${c%%|*}
    c=${c#*|}
    local group=() trees=""
    for s in "$@"; do
      case " $(scen_var "$s" lab_kernels) " in *" $k "*) ;; *) continue ;; esac
      [ "$(scen_var "$s" lab_smp)|$(scen_var "$s" lab_boots)|$(scen_var "$s" lab_cmdline)" = "$smp|$boots|$c" ] || continue
      group+=("$s")
      trees="$trees $(scen_var "$s" lab_tree_modules)"
    done
    local log=$res/$k/boot-$i.log initrd=$lab_tmp/initrd-$k-$i.cpio t0 t1 rc=0
    mkdir -p "$res/$k"
    # One initramfs build at a time: scenarios' guest() may build cached files of their own
    # (for both kernels), which must not race between the kernels' jobs.
    (
      flock 9
      lab_tree_modules=$trees lab_initramfs "$k" "$initrd" "${group[@]}"
    ) 9>"$lab_tmp/build.lock" || { echo "lab: could not build the initramfs for $k" >&2; return 1; }
    local tree=""
    case " $trees " in *" all "*) tree=$(lab_tree_image "$k") ;; esac
    local keep="" b
    if [ "$boots" -gt 1 ]; then
      keep=$lab_tmp/keep-$k-$i.ext2
      truncate -s 16M "$keep" && mke2fs -q -F -t ext2 -L kmxpersist "$keep" || { echo "lab: cannot make $keep" >&2; return 1; }
    fi
    for b in $(seq 1 "$boots"); do
      local blog=$log cmd=$c
      if [ "$boots" -gt 1 ]; then
        blog=$res/$k/boot-$i.$b.log
        cmd="$c kmx_lab_boot=$b"
      fi
      rc=0
      t0=$(date +%s.%N)
      lab_smp=$smp lab_boot "$k" "$initrd" "$cmd" "$blog" "$tree" "$keep" || rc=$?
      t1=$(date +%s.%N)
      printf 'lab: booted %s [%s] (%s vCPU) for %d scenario(s) in %.1f s (qemu status %d)\n' \
        "$k" "${cmd:-default cmdline}" "$smp" "${#group[@]}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rc" >&2
      lab_parse "$blog" "$res/$k"
      for s in "${group[@]}"; do
        local sd=$res/$k/$(basename "$s" .sh)
        mkdir -p "$sd"
        echo "$blog" >"$sd/console"
        # Every boot must finish: keep the first bad status (a later boot overwrites it).
        if [ "$boots" -gt 1 ]; then
          local st
          st=$(cat "$sd/status" 2>/dev/null || echo "unfinished-in-boot-$b")
          [ "$st" = 0 ] || [ -e "$sd/status.bad" ] || echo "$st" >"$sd/status.bad"
          rm -f "$sd/status"
        fi
      done
    done
    if [ "$boots" -gt 1 ]; then
      for s in "${group[@]}"; do
        local sd=$res/$k/$(basename "$s" .sh)
        if [ -e "$sd/status.bad" ]; then mv "$sd/status.bad" "$sd/status"; else echo 0 >"$sd/status"; fi
      done
    fi
  done
}

# Host-side assertion helpers for check(): $K is the kernel, $R the scenario's result dir.
failures=0
rc() { cat "$R/$1.rc" 2>/dev/null || echo missing; }
out() { cat "$R/$1.out" 2>/dev/null || true; }
err() { cat "$R/$1.err" 2>/dev/null || true; }
res() { awk -v k="$1" '$1 == k { sub(/^[^ ]+ ?/, ""); print; exit }' "$R/results" 2>/dev/null || true; }
failed() {
  echo "FAIL [$K] $scen: $*"
  failures=$((failures + 1))
}
passed() { echo "ok   [$K] $scen: $*"; }
expect_rc() {
  local got
  got=$(rc "$1")
  [ "$got" = "$2" ] && passed "$1 exits $2" || { failed "$1 exits $got, expected $2"; show "$1"; }
}
expect_res() {
  local got
  got=$(res "$1")
  [ "$got" = "$2" ] && passed "$1 = $2" || failed "$1 = '$got', expected '$2'"
}
# expect_err NAME ERE: some stderr line of NAME matches.
expect_err() {
  err "$1" | grep -Eq -- "$2" && passed "$1 stderr has /$2/" ||
    { failed "$1 stderr lacks /$2/"; show "$1"; }
}
expect_out() {
  out "$1" | grep -Eq -- "$2" && passed "$1 stdout has /$2/" ||
    { failed "$1 stdout lacks /$2/"; show "$1"; }
}
# expect_same A B: runs A and B printed the same stdout and stderr and exited alike.
expect_same() {
  if [ "$(rc "$1")" = "$(rc "$2")" ] && [ "$(out "$1")" = "$(out "$2")" ] &&
    [ "$(err "$1")" = "$(err "$2")" ]; then
    passed "$1 == $2 (stdout, stderr, exit code)"
  else
    failed "$1 differs from $2"
    show "$1"
    show "$2"
  fi
}
# expect_same_first_err A B: same exit code and same first stderr line (kmx may add lines
# after kmod's message, explaining it).
expect_same_first_err() {
  if [ "$(rc "$1")" = "$(rc "$2")" ] && [ "$(err "$1" | head -n1)" = "$(err "$2" | head -n1)" ]; then
    passed "$1 ~ $2 (exit code, first stderr line)"
  else
    failed "$1 differs from $2"
    show "$1"
    show "$2"
  fi
}
# expect_unsigned_refused TAG (lib.sh's lab_unsigned_insmod_guest TAG): kmx insmod answers as
# kmod does (first line, exit 1), then hints that a signature is needed, for the plain and the
# xz module; the module did not load.
expect_unsigned_refused() {
  expect_same_first_err "kmx-$1" "kmod-$1"
  expect_rc "kmx-$1" 1
  expect_err "kmx-$1" '^insmod: hint: the kernel requires a valid signature'
  expect_rc "kmx-$1-xz" 1
  expect_err "kmx-$1-xz" '^insmod: hint: the kernel requires a valid signature'
  expect_res loaded 0
}
show() {
  echo "  --- $1: exit $(rc "$1")"
  out "$1" | sed 's/^/  out| /'
  err "$1" | sed 's/^/  err| /'
}

check_scenario() {
  local s=$1 res=$2 k
  scen=$(basename "$s" .sh)
  local before=$failures
  for k in $(scen_var "$s" lab_kernels); do
    K=$k
    R=$res/$k/$scen
    local log
    log=$(cat "$R/console" 2>/dev/null || true)
    if [ ! -e "$R/status" ]; then
      failed "never finished (VM hung, crashed or timed out); console log follows"
      [ -n "$log" ] && sed 's/^/  console| /' "$log" | tail -n 200
      continue
    fi
    if [ "$(cat "$R/status")" != 0 ]; then
      failed "guest script exited $(cat "$R/status") (124: guest timeout)"
    fi
    local f0=$failures
    (
      # shellcheck disable=SC1090
      . "$s"
      check
      exit $failures
    ) && true
    failures=$?
    if [ "$failures" -gt "$f0" ] && [ -n "$log" ]; then
      echo "  console log: $log (scenario part follows)"
      tr -d '\r' <"$log" | grep -a -E "^(KMX-[A-Z]+ $scen |\[)" | tail -n 80 | sed 's/^/  console| /'
    fi
  done
  [ "$failures" = "$before" ]
}

if [ "${1:-}" = --boot-all ]; then
  res=${2:?results dir}
  rm -rf "$res"
  mkdir -p "$res"
  mapfile -t all < <(resolve all)
  boot_all "$res" "${all[@]}"
  if [ -e "$res/skipped" ]; then
    skip "$(cat "$res/skipped")"
  fi
  touch "$res/done"
  exit 0
fi

[ $# -gt 0 ] || set -- all
scens=()
for a in "$@"; do
  while read -r f; do
    [ -f "$f" ] || { echo "lab: no scenario $a ($f)" >&2; exit 2; }
    scens+=("$f")
  done < <(resolve "$a")
done

if [ -n "${KMX_VM_RESULTS:-}" ] && [ -e "$KMX_VM_RESULTS/skipped" ]; then
  skip "$(cat "$KMX_VM_RESULTS/skipped")"
fi
if [ -n "${KMX_VM_RESULTS:-}" ] && [ -e "$KMX_VM_RESULTS/done" ]; then
  res=$KMX_VM_RESULTS
else
  # Kept after the run (the console logs are what a failure report points to).
  res=$KMX_BUILD/vm-lab/last
  mkdir -p "$KMX_BUILD/vm-lab" 2>/dev/null || res=$lab_tmp/results
  rm -rf "$res"
  mkdir -p "$res"
  boot_all "$res" "${scens[@]}"
  [ ! -e "$res/skipped" ] || skip "$(cat "$res/skipped")"
fi

ok=0 bad=0
for s in "${scens[@]}"; do
  if check_scenario "$s" "$res"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
echo "$ok passed, $bad failed"
[ "$bad" = 0 ]
