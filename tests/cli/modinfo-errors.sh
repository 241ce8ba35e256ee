# modinfo on missing, unreadable, truncated and non-ELF files: kmod's message and exit code
# (plus kmx's own detail line after kmod's), never a crash.
source "$(dirname "$0")/common.sh"
need_kmod modinfo

ko=$(find "$(tree_moddir amd64-6.1)" -name dummy.ko | head -n1)
head -c 100 /dev/urandom > "$TMP/random.ko"
printf '\177ELF\002\001\001' > "$TMP/header-only.ko"
head -c 3000 "$ko" > "$TMP/truncated.ko"
: > "$TMP/empty.ko"
xz -c "$ko" | head -c 2000 > "$TMP/truncated-xz.ko.xz"

cd "$TMP"
for f in random.ko header-only.ko truncated.ko empty.ko truncated-xz.ko.xz missing.ko "$TMP/missing.ko"; do
  rc_a=0; rc_b=0
  /usr/sbin/modinfo "$f" > a.out 2> a.err || rc_a=$?
  "$KMX" modinfo "$f" > b.out 2> b.err || rc_b=$?
  [ "$rc_b" -lt 128 ] || fail "$f: kmx died with signal $((rc_b - 128))"
  [ "$rc_a" = "$rc_b" ] || fail "$f: exit $rc_b, kmod $rc_a"
  same "$f stdout" a.out b.out
  # kmx prints kmod's line first, then a line naming the file and what is wrong.
  head -n "$(wc -l < a.err)" b.err > b.first
  same "$f stderr (kmod's lines)" a.err b.first
  echo "ok $f: exit $rc_a; kmx adds: $(tail -n +"$(( $(wc -l < a.err) + 1 ))" b.err | tr '\n' ' ')"
done

# Unreadable file, as an unprivileged user.
if id nobody > /dev/null 2>&1 && command -v setpriv > /dev/null; then
  cp "$ko" "$TMP/noperm.ko"; chmod 000 "$TMP/noperm.ko"; chmod 755 "$TMP"
  rc_a=0; rc_b=0
  setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/modinfo "$TMP/noperm.ko" > a.out 2> a.err || rc_a=$?
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$KMX" modinfo "$TMP/noperm.ko" > b.out 2> b.err || rc_b=$?
  [ "$rc_a" = "$rc_b" ] || fail "noperm: exit $rc_b, kmod $rc_a"
  head -n 1 b.err > b.first
  same "noperm stderr" a.err b.first
  echo "ok unreadable: $(cat a.err)"
fi
