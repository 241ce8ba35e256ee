# Helpers for scenario scripts inside the VM (busybox sh). $SCEN is the scenario's name.
#
#   run NAME CMD...      run CMD, print its stdout, stderr and exit code as KMX-OUT/ERR/RC
#   result KEY VALUE...  print a KMX-RESULT line
#   same KEY FILE FILE   result KEY yes|no: are the two files byte for byte equal
#   kmx TOOL ARGS...     kmx's tool by its link name (as a user of the drop-in would call it)
#   kmod TOOL ARGS...    kmod's tool by its link name
#   argv0 NAME PROG...   run PROG with argv[0] NAME
# /lab/mods holds the test modules built for this kernel, /lab/other those of the other one.

emit() {
  while IFS= read -r line || [ -n "$line" ]; do
    echo "KMX-$1 $SCEN $2|$line"
  done <"$3"
}

run() {
  _name=$1
  shift
  "$@" >/tmp/run.out 2>/tmp/run.err
  _rc=$?
  emit OUT "$_name" /tmp/run.out
  emit ERR "$_name" /tmp/run.err
  echo "KMX-RC $SCEN $_name $_rc"
  cp /tmp/run.out "/tmp/$_name.out"
  cp /tmp/run.err "/tmp/$_name.err"
  return $_rc
}

result() {
  _key=$1
  shift
  echo "KMX-RESULT $SCEN $_key $*"
}

same() {
  if cmp -s "$2" "$3"; then result "$1" yes; else result "$1" no; fi
}

kmx() {
  _t=$1
  shift
  "/lab/kmx/$_t" "$@"
}

kmod() {
  _t=$1
  shift
  "/lab/kmod/$_t" "$@"
}

# argv0 NAME PROG ARGS...: run PROG with argv[0] set to NAME (as a PATH lookup would), so that
# messages that print argv[0] compare equal between kmx and kmod.
argv0() {
  _a0=$1
  shift
  (exec -a "$_a0" "$@")
}

# lab_mod_root DIR MODULE...: a module root DIR/lib/modules/$(uname -r)/extra holding the
# lab's test modules /lab/mods/MODULE.ko, indexed by kmod's depmod (for -d DIR loads).
lab_mod_root() {
  _r=$1
  shift
  _d=$_r/lib/modules/$(uname -r)
  mkdir -p "$_d/extra"
  for _m in "$@"; do cp "/lab/mods/$_m.ko" "$_d/extra/"; done
  /lab/kmod/depmod -b "$_r" "$(uname -r)"
}

# Unload whatever test modules are loaded, and drop kmx's state (default persistence store,
# parameter baselines), so that each scenario starts clean: a kmx rmmod of a module kmx did not
# load saves its writable parameters, which a later kmx modprobe would apply.
lab_clean() {
  for m in kmx_lab_b kmx_lab_a; do
    [ -d "/sys/module/$m" ] && /lab/kmod/rmmod "$m" >/dev/null 2>&1
  done
  rm -rf /var/lib/kmx /run/kmx/baseline /run/kmx-lab
  # A private directory for the stores scenarios name with --db (kmx refuses one in /tmp).
  mkdir -p -m 700 /run/kmx-lab
  return 0
}
