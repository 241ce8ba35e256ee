# Waiting in the system lab's guest scripts (sourced, POSIX sh).
# wait_for SECONDS COMMAND...: print the seconds until COMMAND succeeds (checked once a second),
# or "timeout" (status 1) once SECONDS have passed.
wait_for() {
  limit=$1 i=0
  shift
  while ! "$@"; do
    i=$((i + 1))
    [ $i -le "$limit" ] || { echo timeout; return 1; }
    sleep 1
  done
  echo $i
}
loaded() { grep -q "^$1 " /proc/modules; }
gone() { ! grep -q "^$1 " /proc/modules; }
# The daemon records a load once finit_module has returned; /proc/modules shows the module
# from the start of its load.
recorded() { kmx persist ondemand 2>/dev/null | grep -q "^$1 "; }
