# Debian 12's DKMS (3.0.10) with kmx's package installed, in a Debian 12 root (mmdebstrap,
# minbase + kmod, dkms, openssl and the kernel's compiler; cached outside the repository as a
# tarball) with linux-headers-6.1 installed from the cached packages and 6.1's image, config,
# System.map and one in-tree module (the vermagic):
#   * DKMS's kernel hooks run before kmx's in /etc/kernel/postinst.d and header_postinst.d
#     (run-parts --test);
#   * `dkms install` of a small DKMS package (tests/data/dkms) signs the module through kmx's
#     sign_file (/etc/dkms/framework.conf.d/kmx.conf) and its output holds kmx's verdict on the
#     built module for 6.1: it loads (the module's vermagic is the in-tree module's, by kmod's
#     modinfo);
#   * with kmx removed (its conffile stays) DKMS signs with its own default signer, and the
#     module it signs is byte for byte the module signed through kmx: kmx signed exactly as
#     DKMS does.
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (chroot)"
need mmdebstrap
need_kmod modinfo
tree=$(tree_root amd64-6.1)

cache=${KMX_CACHE:-/var/cache/kmx-test}/chroot
mkdir -p "$cache"
# What the headers' packages and DKMS need; the tarball is named after the list.
include=kmod,dkms,openssl,libelf1,linux-compiler-gcc-12-x86
image=$cache/bookworm-minbase-dkms-$(echo "$include" | sha256sum | cut -c1-8).tar
if [ ! -s "$image" ]; then
  mmdebstrap --quiet --variant=minbase --format=tar --include="$include" \
    bookworm "$image.tmp" || skip "mmdebstrap could not build a Debian 12 root with dkms (network?)"
  mv "$image.tmp" "$image"
fi
hdr_debs=
for p in linux-headers-6.1.0-54-amd64 linux-headers-6.1.0-54-common linux-kbuild-6.1; do
  d=$("$KMX_SRC/tests/data/fetch-trees.sh" deb "$p") || skip "cannot download $p"
  hdr_debs="$hdr_debs $d"
done
debs=$("$KMX_SRC/scripts/debs.sh") || fail "the packages could not be built"
kmx_deb=$(ls "$debs"/kmx_*.deb)

root=$TMP/root
mkdir -p "$root"
tar -xf "$image" -C "$root"
# The root's programs, without the host's KMX (the hooks run $KMX when it is set).
in_root() { chroot "$root" env -u KMX "$@"; }
run() {  # WHAT ARGS...: in the root, output in $TMP/out
  local what=$1
  shift
  in_root "$@" > "$TMP/out" 2>&1 || { cat "$TMP/out"; fail "$what failed"; }
}
cp "$kmx_deb" $hdr_debs "$root/tmp/"
run "installing kmx" dpkg -i "/tmp/$(basename "$kmx_deb")"
rel=$(install_kernel_sample "$tree" "$root")
# Headers whose kbuild is newer than they ask for: the dependencies are the packages given. The
# root is thrown away: no fsync per file (--force-unsafe-io).
run "installing linux-headers-$rel" dpkg --force-unsafe-io -i $(for d in $hdr_debs; do echo "/tmp/$(basename "$d")"; done)

for d in postinst.d header_postinst.d; do
  [ -e "$root/etc/kernel/$d/dkms" ] || fail "Debian's dkms has no /etc/kernel/$d/dkms"
  in_root run-parts --test "/etc/kernel/$d" > "$TMP/order"
  [ "$(grep -x -e "/etc/kernel/$d/dkms" -e "/etc/kernel/$d/zz-kmx-check" "$TMP/order" | cut -d/ -f5 | tr '\n' ' ')" = "dkms zz-kmx-check " ] ||
    fail "run-parts --test /etc/kernel/$d does not run zz-kmx-check after dkms: $(cat "$TMP/order")"
done

cp -r "$KMX_SRC/tests/data/dkms/kmx-dkms-test-1.0" "$root/usr/src/"
run "dkms add" dkms add kmx-dkms-test/1.0
t0=$(date +%s.%N)
run "dkms install" dkms install kmx-dkms-test/1.0 -k "$rel"
t1=$(date +%s.%N)
cp "$TMP/out" "$TMP/dkms.out"
grep -q "^Sign command: /usr/share/kmx/dkms/sign-file" "$TMP/dkms.out" || fail "DKMS did not sign through kmx: $(cat "$TMP/dkms.out")"
grep -q "^kmx check of kmx_dkms_test.ko for kernel $rel:" "$TMP/dkms.out" || fail "no kmx verdict in dkms's output: $(cat "$TMP/dkms.out")"
built=$(ls "$root/var/lib/dkms/kmx-dkms-test/1.0/$rel/x86_64/module/"kmx_dkms_test.ko*)
[ "$(modinfo -F vermagic "$built")" = "$(modinfo -F vermagic "$root/lib/modules/$rel/kernel/drivers/net/dummy.ko")" ] ||
  fail "fixture: the DKMS build's vermagic is not 6.1's"
grep -q "kmx_dkms_test.ko: loads" "$TMP/dkms.out" || fail "kmx's verdict is not 'loads': $(cat "$TMP/dkms.out")"
tail -c 28 "$built" | grep -q "~Module signature appended~" || fail "the module DKMS built is not signed"
cp "$built" "$TMP/through-kmx.ko"

# kmx removed: its drop-in stays (a conffile) and does nothing; DKMS signs as it always does.
run "removing kmx" dpkg --remove kmx
[ -e "$root/etc/dkms/framework.conf.d/kmx.conf" ] || fail "the DKMS drop-in is gone after remove (a conffile stays)"
run "dkms build without kmx" dkms build kmx-dkms-test/1.0 -k "$rel" --force
grep -q "^Sign command: /usr/lib/linux-kbuild-6.1/scripts/sign-file" "$TMP/out" || fail "DKMS's own signer is not used: $(cat "$TMP/out")"
! grep -q -e "kmx check" -e "/usr/share/kmx" "$TMP/out" || fail "kmx runs in dkms's build once removed: $(cat "$TMP/out")"
cmp "$TMP/through-kmx.ko" "$root/var/lib/dkms/kmx-dkms-test/1.0/$rel/x86_64/module/$(basename "$built")" ||
  fail "the module DKMS signed differs from the one signed through kmx"
sed -n "/^kmx check of/,/^[^ ]/p" "$TMP/dkms.out"
echo "ok: dkms install $(echo "$t1 - $t0" | bc 2>/dev/null || true)s; kmx's verdict in dkms's output; signed as DKMS signs"
