# The Debian packages, built and installed as a Debian user would (debian/):
#   * `dpkg-buildpackage -b -us -uc` builds kmx, kmx-as-kmod and kmx-drivers from a copy of the
#     source (scripts/debs.sh, cached by a hash of the files that go into them); lintian reports
#     no error;
#   * in a Debian 12 root (mmdebstrap, minbase + kmod; cached outside the repository) installing
#     kmx takes over nothing: kmod's programs are still kmod's;
#   * installing kmx-as-kmod makes every name of kmod's programs run kmx (/bin and /sbin, and
#     their /usr names: the root is merged-/usr, so both reach one file);
#   * reinstalling kmod's package while diverted puts nothing back over kmx, and neither does an
#     upgrade to unstable's kmod, which moved its programs from /bin to /usr (on merged-/usr,
#     diverting both names of a file to one place would lose kmod's new programs);
#   * purging kmx-as-kmod gives kmod its programs back exactly, after each: `dpkg --verify kmod`
#     is clean, every file and link is what kmod's package has, no diversion is left.
#   * kmx's kernel-install hook is a conffile in /etc/kernel/{postinst.d,header_postinst.d,
#     postrm.d}, run by run-parts after DKMS's `dkms` hook; with kmod still the system's kmod,
#     running it for a kernel unpacked in the root (Debian 12's 6.1: its image, config,
#     System.map and a few of its modules) writes /var/log/kmx/check-REL.txt and .json, which
#     name a module /etc/modules wants and the kernel lacks; its postrm.d copy removes them and
#     everything cached for REL; once kmx is removed (its conffiles stay) the hooks exit 0 and
#     do nothing; purging kmx removes them.
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (chroot, dpkg --root)"
for t in dpkg-buildpackage dh lintian mmdebstrap jq; do
  command -v "$t" > /dev/null || skip "$t not installed (scripts/setup.sh)"
done

cache=${KMX_CACHE:-/var/cache/kmx-test}/chroot
mkdir -p "$cache"
image=$cache/bookworm-minbase-kmod.tar
if [ ! -s "$image" ]; then
  mmdebstrap --quiet --variant=minbase --format=tar --include=kmod bookworm "$image.tmp" || skip "mmdebstrap could not build a Debian 12 root (network?)"
  mv "$image.tmp" "$image"
fi
# kmod's packages: Debian 12's (what the root has), and unstable's, which moved kmod's programs
# to /usr (the upgrade that must not lose them while diverted).
kmod_deb=$("$KMX_SRC/tests/data/fetch-trees.sh" deb kmod) || skip "cannot download kmod's package"
kmod_new_deb=$("$KMX_SRC/tests/data/fetch-trees.sh" deb kmod@sid) || kmod_new_deb=
tree=$(tree_root amd64-6.1)

# --- build: scripts/debs.sh builds the packages once per source and caches them (the system lab
# installs the same files); KMX_DEBS=DIR takes the packages already built there instead ---
debs=$("$KMX_SRC/scripts/debs.sh") || fail "the packages could not be built"
kmx_deb=$(ls "$debs"/kmx_*.deb)
as_kmod_deb=$(ls "$debs"/kmx-as-kmod_*.deb)
if [ -z "${KMX_DEBS:-}" ]; then
  lintian --fail-on error --allow-root "$debs"/kmx_*.changes > "$TMP/lintian.out" 2>&1 ||
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
# The root's programs, without the host's KMX (the hooks run $KMX when it is set).
in_root() { chroot "$root" env -u KMX "$@"; }
# is_kmx NAME: the program at NAME in the root is kmx (its -V names kmx; kmod's does not).
is_kmx() { in_root "$1" -V 2>&1 | grep "(kmx " > /dev/null; }
kmod_names="/bin/kmod /usr/bin/kmod /bin/lsmod /usr/bin/lsmod /sbin/depmod /sbin/insmod /sbin/lsmod /sbin/modinfo
/sbin/modprobe /sbin/rmmod /usr/sbin/depmod /usr/sbin/insmod /usr/sbin/lsmod /usr/sbin/modinfo /usr/sbin/modprobe /usr/sbin/rmmod"
# links_as_packaged DEB WHEN: kmod's programs in the root are what DEB installs, files and links.
links_as_packaged() {
  local name target
  dpkg-deb -c "$1" | awk '$1 ~ /^l/ {print $6, $8} $1 ~ /^-/ && $6 ~ /bin\// {print $6, "-"}' | sed 's|^\./|/|' > "$TMP/kmod-files"
  [ -s "$TMP/kmod-files" ] || fail "no programs listed in $1"
  while read -r name target; do
    if [ "$target" = - ]; then
      [ -f "$root$name" ] && [ ! -L "$root$name" ] || fail "$name is not kmod's file ($2)"
      cmp -s "$root$name" <(dpkg-deb --fsys-tarfile "$1" | tar -xO ".$name") || fail "$name differs from kmod's ($2)"
    else
      [ "$(readlink "$root$name")" = "$target" ] || fail "$name points to $(readlink "$root$name"), kmod's package says $target ($2)"
    fi
  done < "$TMP/kmod-files"
}
all_kmx() {  # WHEN
  local n
  for n in $kmod_names; do is_kmx "$n" || fail "$n does not run kmx ($1)"; done
}
none_kmx() {  # WHEN
  local n
  for n in $kmod_names; do ! is_kmx "$n" || fail "$n runs kmx ($1)"; done
}
verify_kmod() {  # WHEN
  in_root dpkg --verify kmod > "$TMP/verify" 2>&1 || true
  [ ! -s "$TMP/verify" ] || { cat "$TMP/verify"; fail "dpkg --verify kmod is not clean ($1)"; }
}
dpkg_in_root() {  # WHAT ARGS...
  local what=$1
  shift
  in_root dpkg "$@" > "$TMP/dpkg.out" 2>&1 || { cat "$TMP/dpkg.out"; fail "$what failed"; }
}
# Purging kmx-as-kmod leaves kmod exactly as DEB installed it.
purge_check() {  # DEB WHEN
  dpkg_in_root "purging kmx-as-kmod ($2)" --purge kmx-as-kmod
  none_kmx "after purging kmx-as-kmod, $2"
  links_as_packaged "$1" "after purging kmx-as-kmod, $2"
  [ -z "$(in_root dpkg-divert --list | grep 'kmx-as-kmod')" ] || fail "diversions left after purge ($2)"
  local left
  left=$(ls -d "$root"/usr/bin/*.kmod* "$root"/usr/sbin/*.kmod* 2> /dev/null || true)
  [ -z "$left" ] || fail "files left after purge ($2): $left"
  verify_kmod "after purging kmx-as-kmod, $2"
}

links_as_packaged "$kmod_deb" "before"

dpkg_in_root "installing kmx" -i /tmp/"$(basename "$kmx_deb")"
in_root /usr/sbin/kmx --version > /dev/null || fail "kmx does not run in a Debian 12 root"
none_kmx "only the kmx package installed"
links_as_packaged "$kmod_deb" "kmx installed"
[ -z "$(in_root dpkg-divert --list 'kmx*')" ] || fail "kmx diverts something"

# --- the kernel-install hook, kmod still the system's kmod ---
hook_dirs="postinst.d header_postinst.d postrm.d"
for d in $hook_dirs; do
  [ -f "$root/etc/kernel/$d/zz-kmx-check" ] && [ -x "$root/etc/kernel/$d/zz-kmx-check" ] ||
    fail "no executable /etc/kernel/$d/zz-kmx-check"
  grep -qx "/etc/kernel/$d/zz-kmx-check" "$root/var/lib/dpkg/info/kmx.conffiles" || fail "/etc/kernel/$d/zz-kmx-check is not a conffile"
done
# DKMS's hook has this name in each directory (Debian's dkms package); run-parts runs in that order.
for d in $hook_dirs; do
  [ -e "$root/etc/kernel/$d/dkms" ] || install -m 755 /dev/null "$root/etc/kernel/$d/dkms"
  in_root run-parts --test "/etc/kernel/$d" > "$TMP/order"
  [ "$(grep -n -x -e "/etc/kernel/$d/dkms" -e "/etc/kernel/$d/zz-kmx-check" "$TMP/order" | cut -d/ -f5 | tr '\n' ' ')" = "dkms zz-kmx-check " ] ||
    fail "run-parts --test /etc/kernel/$d does not run zz-kmx-check after dkms: $(cat "$TMP/order")"
done
rel=$(install_kernel_sample "$tree" "$root")
echo kmx_hook_wanted >> "$root/etc/modules"
in_root /etc/kernel/postinst.d/zz-kmx-check "$rel" "/boot/vmlinuz-$rel" > "$TMP/hook.out" 2>&1 ||
  { cat "$TMP/hook.out"; fail "the postinst.d hook failed"; }
grep -q "kmx_hook_wanted: missing after reboot" "$TMP/hook.out" || fail "hook summary: $(cat "$TMP/hook.out")"
[ -s "$root/var/log/kmx/check-$rel.txt" ] || fail "no /var/log/kmx/check-$rel.txt"
[ "$(jq -r '.[] | select(.module == "kmx_hook_wanted") | .check_id' "$root/var/log/kmx/check-$rel.json")" = M1 ] ||
  fail "check-$rel.json does not report kmx_hook_wanted missing: $(head -c 1000 "$root/var/log/kmx/check-$rel.json")"
ls "$root/var/cache/kmx" | grep -q . || fail "nothing cached for $rel"
in_root /etc/kernel/postrm.d/zz-kmx-check "$rel" "/boot/vmlinuz-$rel" > "$TMP/hook.out" 2>&1 ||
  { cat "$TMP/hook.out"; fail "the postrm.d hook failed"; }
[ ! -e "$root/var/log/kmx/check-$rel.txt" ] && [ ! -e "$root/var/log/kmx/check-$rel.json" ] ||
  fail "postrm.d left the reports of $rel"
left=$(ls "$root/var/cache/kmx")
[ -z "$left" ] || fail "postrm.d left in /var/cache/kmx: $left"

# --- opt in; kmod reinstalled while diverted; back ---
dpkg_in_root "installing kmx-as-kmod" -i /tmp/"$(basename "$as_kmod_deb")"
all_kmx "after kmx-as-kmod"
[ "$(in_root dpkg-divert --list | grep -c 'by kmx-as-kmod')" = 16 ] || { in_root dpkg-divert --list; fail "not 16 diversions"; }
verify_kmod "while diverted"
dpkg_in_root "reinstalling kmod" -i /tmp/"$(basename "$kmod_deb")"
all_kmx "kmod's package reinstalled"
verify_kmod "kmod reinstalled while diverted"
purge_check "$kmod_deb" "Debian 12's kmod"

# --- opt in again; kmod upgraded to unstable's, whose programs live under /usr (its libc is too
# new for this root, so it is unpacked with --force-depends: only the files matter here) ---
if [ -n "$kmod_new_deb" ]; then
  dpkg_in_root "installing kmx-as-kmod again" -i /tmp/"$(basename "$as_kmod_deb")"
  cp "$kmod_new_deb" "$root/tmp/"
  dpkg_in_root "upgrading kmod" --force-depends -i /tmp/"$(basename "$kmod_new_deb")"
  all_kmx "kmod upgraded to $(basename "$kmod_new_deb") while diverted"
  verify_kmod "kmod upgraded while diverted"
  purge_check "$kmod_new_deb" "after the kmod upgrade"
else
  echo "skip the kmod upgrade: unstable's kmod could not be downloaded"
fi
# Removed, kmx leaves its hooks (conffiles), which then do nothing.
dpkg_in_root "removing kmx" --remove kmx
[ ! -e "$root/usr/sbin/kmx" ] || fail "/usr/sbin/kmx left after remove"
for d in $hook_dirs; do
  [ -x "$root/etc/kernel/$d/zz-kmx-check" ] || fail "/etc/kernel/$d/zz-kmx-check is gone after remove (a conffile stays)"
  in_root "/etc/kernel/$d/zz-kmx-check" "$rel" "/boot/vmlinuz-$rel" > "$TMP/hook.out" 2>&1 ||
    fail "/etc/kernel/$d/zz-kmx-check fails once kmx is removed: $(cat "$TMP/hook.out")"
  [ ! -s "$TMP/hook.out" ] || fail "/etc/kernel/$d/zz-kmx-check prints once kmx is removed: $(cat "$TMP/hook.out")"
done
[ ! -e "$root/var/log/kmx/check-$rel.txt" ] || fail "a report was written with kmx removed"
dpkg_in_root "purging kmx" --purge kmx
for d in $hook_dirs; do
  [ ! -e "$root/etc/kernel/$d/zz-kmx-check" ] || fail "/etc/kernel/$d/zz-kmx-check left after purge"
done
echo "ok: built, lintian clean; install, kernel hook (after dkms; report; postrm cleans; inert once removed), opt in, kmod reinstalled and upgraded while diverted, purge, in a Debian 12 root"
