# Differential: kmx modinfo against kmod's modinfo over every module of five real Debian
# trees (plain 6.1, xz 6.12, arm64, i386 ELF32, signed 6.1), for the default output,
# -F alias, -F depends -0 and -p. stdout, stderr and exit code must be identical.
source "$(dirname "$0")/common.sh"
need_kmod modinfo

for key in amd64-6.1 amd64-6.12 arm64-6.1 i386-6.1 signed-6.1; do
  root=$(tree_root "$key")
  find "$root/lib/modules" -name '*.ko*' | sort > "$TMP/list"
  n=$(wc -l < "$TMP/list")
  [ "$n" -gt 1000 ] || fail "$key: only $n modules found"
  for opts in "" "-F alias" "-F depends -0" "-p"; do
    rc_a=0; rc_b=0
    # shellcheck disable=SC2086
    xargs -a "$TMP/list" /usr/sbin/modinfo $opts > "$TMP/a.out" 2> "$TMP/a.err" || rc_a=$?
    # shellcheck disable=SC2086
    xargs -a "$TMP/list" "$KMX" modinfo $opts > "$TMP/b.out" 2> "$TMP/b.err" || rc_b=$?
    same "$key modinfo $opts stdout" "$TMP/a.out" "$TMP/b.out"
    same "$key modinfo $opts stderr" "$TMP/a.err" "$TMP/b.err"
    [ "$rc_a" = "$rc_b" ] || fail "$key modinfo $opts: exit $rc_b, kmod $rc_a"
    echo "ok $key ($n modules) modinfo $opts: $(wc -c < "$TMP/a.out") bytes identical"
  done
done
