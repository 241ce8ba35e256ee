# The Debian packages, built and installed as a Debian user would (debian/):
#   * `dpkg-buildpackage -b -us -uc` builds kmx and kmx-as-kmod from a copy of the source;
#     lintian reports no error;
#   * in a Debian 12 root (mmdebstrap, minbase + kmod; cached outside the repository) installing
#     kmx takes over nothing: kmod's programs are still kmod's;
#   * installing kmx-as-kmod makes every name of kmod's programs run kmx (/bin and /sbin, and
#     their /usr names: the root is merged-/usr, so both reach one file);
#   * reinstalling kmod's package while diverted (what an upgrade does) puts nothing back over kmx;
#   * purging kmx-as-kmod gives kmod its programs back exactly: `dpkg --verify kmod` is clean,
#     every link points where kmod's package points it, no diversion is left.
# The package build skips its own unit-test step (DEB_BUILD_OPTIONS=nocheck): the suite runs
# the same tests.
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (chroot, dpkg --root)"
for t in dpkg-buildpackage dh lintian mmdebstrap; do
  command -v "$t" > /dev/null || skip "$t not installed (scripts/setup.sh)"
done

cache=${KMX_TEST_CACHE:-/var/cache/kmx-test}/chroot
mkdir -p "$cache"
image=$cache/bookworm-minbase-kmod.tar
if [ ! -s "$image" ]; then
  mmdebstrap --quiet --variant=minbase --include=kmod bookworm "$image.tmp" || skip "mmdebstrap could not build a Debian 12 root (network?)"
  mv "$image.tmp" "$image"
fi
kmod_deb=$(ls "$cache"/kmod_*_amd64.deb 2> /dev/null | head -n1 || true)
if [ -z "$kmod_deb" ]; then
  (cd "$cache" && apt-get download -q kmod > /dev/null 2>&1) || skip "cannot download kmod's package"
  kmod_deb=$(ls "$cache"/kmod_*_amd64.deb | head -n1)
fi

# --- build (KMX_DEBS=DIR: take the packages already built there instead) ---
if [ -n "${KMX_DEBS:-}" ]; then
  cp "$KMX_DEBS"/kmx_*.deb "$KMX_DEBS"/kmx-as-kmod_*.deb "$KMX_DEBS"/kmx_*.changes "$KMX_DEBS"/kmx-dbgsym_*.deb "$KMX_DEBS"/kmx_*.buildinfo "$TMP/" 2> /dev/null || true
else
  mkdir -p "$TMP/src"
  (cd "$KMX_SRC" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$TMP/src"
  (cd "$TMP/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -us -uc -j2 > "$TMP/build.log" 2>&1) ||
    { tail -n 30 "$TMP/build.log"; fail "dpkg-buildpackage failed"; }
fi
kmx_deb=$(ls "$TMP"/kmx_*.deb)
as_kmod_deb=$(ls "$TMP"/kmx-as-kmod_*.deb)
if [ -z "${KMX_DEBS:-}" ]; then
  lintian --fail-on error --allow-root "$TMP"/kmx_*.changes > "$TMP/lintian.out" 2>&1 ||
    { cat "$TMP/lintian.out"; fail "lintian reports errors"; }
fi
dpkg-deb -f "$kmx_deb" Static-Built-Using > "$TMP/sbu"
grep -q "openssl (= " "$TMP/sbu" || fail "kmx has no Static-Built-Using naming openssl"
dpkg-deb -c "$kmx_deb" > "$TMP/kmx-files"
grep -q "\./usr/sbin/kmx$" "$TMP/kmx-files" || fail "kmx's package has no /usr/sbin/kmx"
grep -q "\./lib/systemd/system/kmx-daemon.service$" "$TMP/kmx-files" || fail "no daemon unit in /lib/systemd/system"
! grep -q "bin/modprobe\|bin/kmod" "$TMP/kmx-files" || fail "kmx ships a kmod program name"

# --- a Debian 12 root ---
root=$TMP/root
mkdir -p "$root"
tar -xf "$image" -C "$root"
[ -L "$root/bin" ] || fail "the root is not merged-/usr: the alias case is not tested"
cp "$kmx_deb" "$as_kmod_deb" "$kmod_deb" "$root/tmp/"
in_root() { chroot "$root" "$@"; }
# is_kmx NAME: the program at NAME in the root is kmx (its -V names kmx; kmod's does not).
is_kmx() { in_root "$1" -V 2>&1 | grep "(kmx " > /dev/null; }
kmod_names="/bin/kmod /usr/bin/kmod /bin/lsmod /usr/bin/lsmod /sbin/depmod /sbin/insmod /sbin/lsmod /sbin/modinfo
/sbin/modprobe /sbin/rmmod /usr/sbin/depmod /usr/sbin/insmod /usr/sbin/lsmod /usr/sbin/modinfo /usr/sbin/modprobe /usr/sbin/rmmod"
# The names kmod's package itself has, with where each link points.
dpkg-deb -c "$kmod_deb" | awk '$1 ~ /^l/ {print $6, $8} $1 ~ /^-/ && $6 ~ /bin\// {print $6, "-"}' | sed 's|^\./|/|' > "$TMP/kmod-files"
[ -s "$TMP/kmod-files" ] || fail "no programs listed in $kmod_deb"
links_as_packaged() {
  local name target
  while read -r name target; do
    if [ "$target" = - ]; then
      [ -f "$root$name" ] && [ ! -L "$root$name" ] || fail "$name is not kmod's file ($1)"
    else
      [ "$(readlink "$root$name")" = "$target" ] || fail "$name points to $(readlink "$root$name"), kmod's package says $target ($1)"
    fi
  done < "$TMP/kmod-files"
}
links_as_packaged "before"
cp -a "$root/bin/kmod" "$TMP/kmod.orig"

in_root dpkg -i /tmp/"$(basename "$kmx_deb")" > "$TMP/dpkg.out" 2>&1 || { cat "$TMP/dpkg.out"; fail "installing kmx failed"; }
in_root /usr/sbin/kmx --version > /dev/null || fail "kmx does not run in a Debian 12 root"
for n in $kmod_names; do ! is_kmx "$n" || fail "$n runs kmx with only the kmx package installed"; done
links_as_packaged "kmx installed"
[ -z "$(in_root dpkg-divert --list 'kmx*')" ] || fail "kmx diverts something"

# --- opt in ---
in_root dpkg -i /tmp/"$(basename "$as_kmod_deb")" > "$TMP/dpkg.out" 2>&1 || { cat "$TMP/dpkg.out"; fail "installing kmx-as-kmod failed"; }
for n in $kmod_names; do is_kmx "$n" || fail "$n does not run kmx after kmx-as-kmod"; done
[ "$(in_root dpkg-divert --list | grep -c 'by kmx-as-kmod')" = 16 ] || { in_root dpkg-divert --list; fail "not 16 diversions"; }
cmp -s "$root/bin/kmod.kmod" "$TMP/kmod.orig" || fail "kmod's binary was not kept as /bin/kmod.kmod"
in_root dpkg --verify kmod > "$TMP/verify" 2>&1 || true
[ ! -s "$TMP/verify" ] || { cat "$TMP/verify"; fail "dpkg --verify kmod not clean while diverted"; }

# --- kmod upgraded while diverted: its files go to the diverted names, kmx stays ---
in_root dpkg -i /tmp/"$(basename "$kmod_deb")" > "$TMP/dpkg.out" 2>&1 || { cat "$TMP/dpkg.out"; fail "reinstalling kmod failed"; }
for n in $kmod_names; do is_kmx "$n" || fail "$n is no longer kmx after kmod's package was reinstalled"; done
cmp -s "$root/bin/kmod.kmod" "$TMP/kmod.orig" || fail "kmod's reinstall did not land at /bin/kmod.kmod"

# --- back to kmod ---
in_root dpkg --purge kmx-as-kmod > "$TMP/dpkg.out" 2>&1 || { cat "$TMP/dpkg.out"; fail "purging kmx-as-kmod failed"; }
for n in $kmod_names; do ! is_kmx "$n" || fail "$n still runs kmx after purging kmx-as-kmod"; done
links_as_packaged "after purge"
cmp -s "$root/bin/kmod" "$TMP/kmod.orig" || fail "/bin/kmod is not kmod's binary after purge"
[ -z "$(in_root dpkg-divert --list | grep 'kmx-as-kmod')" ] || fail "diversions left after purge"
ls "$root"/bin/*.kmod "$root"/sbin/*.kmod > /dev/null 2>&1 && fail "*.kmod files left after purge: $(ls "$root"/bin/*.kmod "$root"/sbin/*.kmod)"
in_root dpkg --verify kmod > "$TMP/verify" 2>&1 || true
[ ! -s "$TMP/verify" ] || { cat "$TMP/verify"; fail "dpkg --verify kmod not clean after purge"; }
in_root dpkg --purge kmx > "$TMP/dpkg.out" 2>&1 || { cat "$TMP/dpkg.out"; fail "purging kmx failed"; }
[ ! -e "$root/usr/sbin/kmx" ] || fail "/usr/sbin/kmx left after purge"
echo "ok: built, lintian clean, install/opt-in/kmod upgrade/purge in a Debian 12 root"
