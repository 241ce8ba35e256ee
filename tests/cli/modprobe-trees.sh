# Differential: `kmx modprobe --show-depends` and `-R` against kmod 30's modprobe on the real
# Debian 6.1 and 6.12 amd64 trees, indexed by kmod's own depmod in a scratch root (cp -al).
# Queries: every pattern of modules.alias turned into a concrete string that matches it
# (wildcards filled in: '*' -> "", '?' -> a char, [set] -> a member, [!set] -> a non-member),
# every module name (also with '-' for '_'), every `symbol:` key of modules.symbols, every
# builtin module, and a few names that resolve to nothing. All of them, no sampling.
# They are run in batches with -a (one modprobe context per batch, as kmod also runs -a);
# a further sample of single-query processes covers the non -a paths (fatal "not found").
# The config is an empty -C directory, so the host's /etc/modprobe.d cannot leak in.
source "$(dirname "$0")/common.sh"
need_kmod modprobe depmod

mkdir -p "$TMP/kmod-bin" "$TMP/kmx-bin" "$TMP/conf"
ln -s /usr/sbin/modprobe "$TMP/kmod-bin/modprobe"
ln -s "$KMX" "$TMP/kmx-bin/modprobe"

total=0
for key in amd64-6.1 amd64-6.12; do
  src=$(tree_moddir "$key") || exit $?
  ver=$(basename "$src")
  root=$TMP/root-$key
  mkdir -p "$root/lib/modules"
  cp -al "$src" "$root/lib/modules/$ver"
  rm -f "$root/lib/modules/$ver"/modules.*.bin
  /usr/sbin/depmod -b "$root" "$ver"
  dir=$root/lib/modules/$ver
  q=$TMP/queries-$key
  python3 - "$dir" > "$q" <<'PY'
import os, re, sys
d = sys.argv[1]
out = []
def concrete(p):
    s, i = [], 0
    while i < len(p):
        c = p[i]
        if c == '*':
            i += 1
        elif c == '?':
            s.append('x'); i += 1
        elif c == '[':
            j = p.find(']', i + 2 if i + 1 < len(p) and p[i + 1] in '!^' else i + 1)
            if j < 0:
                s.append(c); i += 1; continue
            body = p[i + 1:j]
            neg = body[:1] in ('!', '^')
            if neg: body = body[1:]
            chars = set()
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == '-':
                    chars.update(chr(x) for x in range(ord(body[k]), ord(body[k + 2]) + 1)); k += 3
                else:
                    chars.add(body[k]); k += 1
            if neg:
                pick = next(ch for ch in 'xyz0123456789' if ch not in chars)
            else:
                pick = sorted(chars)[0]
            s.append(pick); i = j + 1
        elif c == '\\' and i + 1 < len(p):
            s.append(p[i + 1]); i += 2
        else:
            s.append(c); i += 1
    return ''.join(s)
for line in open(os.path.join(d, 'modules.alias')):
    if line.startswith('alias '):
        pat = line[6:].rsplit(' ', 1)[0]
        out.append(concrete(pat))
for line in open(os.path.join(d, 'modules.dep')):
    path = line.split(':', 1)[0]
    name = os.path.basename(path).split('.', 1)[0]
    out.append(name)
    if '_' in name: out.append(name.replace('_', '-'))
for line in open(os.path.join(d, 'modules.symbols')):
    if line.startswith('alias '):
        out.append(line.split(' ')[1])
for line in open(os.path.join(d, 'modules.builtin')):
    out.append(os.path.basename(line.strip()).split('.', 1)[0])
out += ['kmx-no-such-module', 'symbol:kmx_no_such_symbol', 'pci:v0000FFFFd0000FFFFsv0sd0bc0sc0i0', 'bad]alias', 'a[b']
for a in out:
    if '\n' not in a and a and not a.startswith('-'):
        print(a)
PY
  n=$(wc -l < "$q")
  total=$((total + n))
  split -l 2000 -d -a 3 "$q" "$q.part."
  for mode in -D -R; do
    for part in "$q".part.*; do
      for tool in kmod kmx; do
        rc=0
        (cd "$TMP" && xargs -d '\n' -a "$part" env PATH="$TMP/$tool-bin:$PATH" modprobe -C "$TMP/conf" -d "$root" -S "$ver" -a "$mode" \
          > "$part.$mode.$tool.out" 2> "$part.$mode.$tool.err") || rc=$?
        echo "$rc" > "$part.$mode.$tool.rc"
      done
      same "$key $mode $(basename "$part") stdout" "$part.$mode.kmod.out" "$part.$mode.kmx.out"
      same "$key $mode $(basename "$part") stderr" "$part.$mode.kmod.err" "$part.$mode.kmx.err"
      same "$key $mode $(basename "$part") exit code" "$part.$mode.kmod.rc" "$part.$mode.kmx.rc"
    done
  done
  # The comparison means something only if kmod resolved most queries to real modules.
  ins=$(cat "$q".part.*.-D.kmod.out | grep -c '^insmod ' || true)
  [ "$ins" -gt "$n" ] || fail "$key: kmod printed only $ins insmod lines for $n queries"
  # Single-query processes (no -a): a sample of every 97th query plus the misses.
  { awk 'NR % 151 == 1' "$q"; tail -n 5 "$q"; } > "$q.single"
  for mode in -D -R "-n -v"; do
    for tool in kmod kmx; do
      : > "$q.single.$tool"
      while IFS= read -r a; do
        rc=0
        # shellcheck disable=SC2086
        (cd "$TMP" && PATH="$TMP/$tool-bin:$PATH" modprobe -C "$TMP/conf" -d "$root" -S "$ver" $mode "$a") \
          >> "$q.single.$tool" 2>&1 || rc=$?
        echo "rc=$rc" >> "$q.single.$tool"
      done < "$q.single"
    done
    same "$key single $mode" "$q.single.kmod" "$q.single.kmx"
  done
  echo "$key: $n queries x (-D, -R) identical; $(wc -l < "$q.single") single-process queries x (-D, -R, -n -v) identical"
done
echo "ok: $total queries"
