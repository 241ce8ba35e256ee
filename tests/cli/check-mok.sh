# kmx check --mok FILE (without --installed as with it): under Secure Boot the kernel also trusts
# the enrolled Machine Owner Keys. A module of Debian 12's 6.1 (dummy), its signature removed
# and its intree=Y renamed (an out-of-tree module, as --installed looks for), re-signed by
# the kernel's own sign-file (linux-kbuild-6.1) with a key made here by openssl:
#   * --secure-boot, no --mok: refused, EPERM (no trusted key: ENOKEY, which the lockdown of a
#     Secure Boot kernel turns into EPERM, kernel/module/signing.c module_sig_check); with
#     --installed on another root: not decided, its MOKs were not given;
#   * --mok with the key's certificate (DER or PEM, among others): loads (tainted O only);
#   * --mok with another certificate made here: refused, EPERM;
#   * --mok naming a file that is no certificate: error 4 naming the file.
# The same for `--installed -k REL` (shared code): the module copied into the root's updates/.
source "$(dirname "$0")/common.sh"
need openssl jq
tree=$(tree_root amd64-6.1)
kbuild=$(tree_root kbuild-6.1)
sign_file=$(ls "$kbuild"/usr/lib/linux-kbuild-*/scripts/sign-file)
R=$TMP/root
rel=$(install_kernel_sample "$tree" "$R")
# The exports of 6.1: its headers' Module.symvers, where --installed finds them.
mkdir -p "$R/usr/src/linux-headers-$rel"
cp "$(tree_symvers headers-6.1)" "$R/usr/src/linux-headers-$rel/"
export KMX_CACHE_DIR=$TMP/cache

# dummy.ko without its signature: the trailer is struct module_signature (12 bytes, sig_len
# big-endian in its last 4) and "~Module signature appended~\n" (28 bytes).
src=$(ls "$R/lib/modules/$rel/kernel/drivers/net/"dummy.ko*)
case $src in *.ko) cp "$src" "$TMP/signed.ko" ;; *.xz) xz -dc "$src" >"$TMP/signed.ko" ;; *) skip "$src: unexpected compression" ;; esac
[ "$(tail -c 28 "$TMP/signed.ko")" = "~Module signature appended~" ] || fail "fixture: $src is not signed"
siglen=$((16#$(tail -c 32 "$TMP/signed.ko" | head -c 4 | od -An -tx1 | tr -d ' \n')))
head -c $(($(stat -c %s "$TMP/signed.ko") - 40 - siglen)) "$TMP/signed.ko" | perl -0777 -pe 's/\0intree=Y\0/\0kmxtst=Y\0/' >"$TMP/m.ko"
grep -qa "kmxtst=Y" "$TMP/m.ko" || fail "fixture: no intree=Y in dummy.ko"
mkcert() {  # NAME: NAME.key, NAME.der, NAME.pem
  openssl req -new -x509 -nodes -days 30 -subj "/CN=kmx test $1" -newkey rsa:2048 \
    -keyout "$TMP/$1.key" -outform DER -out "$TMP/$1.der" 2>/dev/null || fail "openssl req"
  openssl x509 -inform DER -in "$TMP/$1.der" -out "$TMP/$1.pem" || fail "openssl x509"
}
mkcert mok
mkcert other
"$sign_file" sha256 "$TMP/mok.key" "$TMP/mok.der" "$TMP/m.ko" || fail "sign-file"
[ "$(tail -c 28 "$TMP/m.ko")" = "~Module signature appended~" ] || fail "sign-file did not sign"
mkdir -p "$R/lib/modules/$rel/updates"
cp "$TMP/m.ko" "$R/lib/modules/$rel/updates/kmx_mok_test.ko"

summary() { jq -c '[.[] | {module, loads, taint, undecided, check_id}]' "$TMP/j" 2>/dev/null || head -c 1500 "$TMP/j"; }
check() {  # WANT-RC ARGS...: kmx check (plain) of m.ko against REL
  local want_rc=$1 rc=0
  shift
  "$KMX" check -b "$R" -k "$rel" --symvers "$R/usr/src/linux-headers-$rel/Module.symvers" --secure-boot --json "$@" "$TMP/m.ko" >"$TMP/j" 2>"$TMP/err" || rc=$?
  [ "$rc" = "$want_rc" ] || fail "check $*: exit $rc, want $want_rc: $(cat "$TMP/err") $(summary)"
}
installed() {  # WANT-RC ARGS...: kmx check --installed -k REL
  local want_rc=$1 rc=0
  shift
  "$KMX" check --installed -b "$R" -k "$rel" --secure-boot --json "$@" >"$TMP/j" 2>"$TMP/err" || rc=$?
  [ "$rc" = "$want_rc" ] || fail "--installed $*: exit $rc, want $want_rc: $(cat "$TMP/err") $(summary)"
}
errno_is() {  # WANT: the errno of dummy's verdict, or "loads TAINT"
  local got
  got=$(jq -r '[.[] | select(.module == "dummy")][0] | if .loads then "loads " + .taint else .errno end' "$TMP/j")
  [ "$got" = "$1" ] || fail "got $got, want $1: $(summary)"
}
check 2
errno_is EPERM
# --installed on a root that is not this machine: its MOKs are not known unless given.
installed 3
[ "$(jq -r '[.[] | select(.module == "dummy")][0].undecided[0]' "$TMP/j")" = "B3 signature" ] ||
  fail "--installed without --mok: the signature is not undecided: $(summary)"
for mode in check installed; do
  $mode 1 --mok "$TMP/mok.der"
  errno_is "loads O"
  $mode 1 --mok "$TMP/other.pem" --mok "$TMP/mok.pem"
  errno_is "loads O"
  $mode 2 --mok "$TMP/other.der"
  errno_is EPERM
  $mode 4 --mok "$TMP/m.ko"
  grep -q "$TMP/m.ko" "$TMP/err" || fail "$mode: the error does not name the file: $(cat "$TMP/err")"
done
echo ok
