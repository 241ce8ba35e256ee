# kmx check against the real kernel on broken signature trailers (B6/B7, signatures not
# enforced), each made from the throwaway-key-signed clean module (ownkey.ko of check-lab.sh) by
# ../check-modules/trailer.py: a legacy id_type (not PKCS#7: ENOPKG
# "module: not signed with expected PKCS#7 message", treated like an unknown key: taint E), a
# non-zero algo byte and a non-zero __pad byte (EBADMSG "unexpected non-zero params"), a PKCS#7
# message cut to half or replaced by junk (EBADMSG), sig_len larger than the file (EBADMSG, no
# line), and signatures with signed attributes made by openssl cms: its defaults include S/MIME
# capabilities, which the PKCS#7 parser refuses (EKEYREJECTED,
# "PKCS7: S/MIME Caps only allowed with Authenticode"); with -nosmimecap pkcs7_verify() refuses
# them (EKEYREJECTED, "PKCS7: Invalid module sig (has authattrs)"). check-names.sh,
# check-force.sh and check-trailer-enforce.sh reuse the runner.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-lab.sh"
check_b_cases="legacy algo pad p7trunc p7junk siglen authattrs authattrs2"
check_b_keep=

# Build (cached) the trailer variants for lab kernel $1 next to check-lab.sh's modules; prints
# the dir (it holds every check module plus the variants).
check_b_modules() {
  local k=$1 base sum dir tp=$KMX_SRC/tests/vm/check-modules/trailer.py
  base=$(check_lab_modules "$k") || return 1
  sum=$( (cat "$tp"; echo "$base"; declare -f check_b_modules) | sha256sum | cut -c1-16)
  dir=$lab_cache/check-b-$k-$sum
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/.key"
    cp "$base"/*.ko "$dir/"
    local o=$dir/ownkey.ko
    "$tp" "$o" "$dir/legacy.ko" id-type 1 &&
      "$tp" "$o" "$dir/algo.ko" algo 1 &&
      "$tp" "$o" "$dir/pad.ko" pad &&
      "$tp" "$o" "$dir/p7trunc.ko" sig-trunc &&
      "$tp" "$o" "$dir/p7junk.ko" sig-junk &&
      "$tp" "$o" "$dir/siglen.ko" sig-len-big &&
      openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=kmx lab attrs key/" -outform PEM \
        -keyout "$dir/.key/key.pem" -out "$dir/.key/cert.pem" >/dev/null 2>&1 &&
      "$tp" "$o" "$dir/authattrs.ko" authattrs "$dir/.key/key.pem" "$dir/.key/cert.pem" &&
      "$tp" "$o" "$dir/authattrs2.ko" authattrs-nocap "$dir/.key/key.pem" "$dir/.key/cert.pem" ||
      { echo "check-trailer: making the trailer variants failed" >&2; return 1; }
    rm -rf "$dir/.key"
    "$KMX_SRC/tests/vm/check-modules/patch.py" "$dir/check_nsuse.ko" modinfo import_ns=module:check_nsuse import_nx=module:check_nsuse ||
      return 1
    # An in-tree module of this kernel (signed by Debian's build key), uncompressed so that
    # kmod's insmod -f passes the flags to finit_module (kmod 30 strips a compressed module
    # itself and calls init_module, whose signature then no longer verifies).
    local t
    t=$(ls "$(lab_image_root "$k")/lib/modules/$(lab_release "$k")"/kernel/drivers/net/ifb.ko* | head -n1)
    case $t in
    *.xz) xz -dc "$t" >"$dir/tree-ifb.ko" ;;
    *) cp "$t" "$dir/tree-ifb.ko" ;;
    esac
    # The same compressed (kmod 30 then edits it itself and calls init_module without flags).
    xz -c --check=crc32 "$dir/tree-ifb.ko" >"$dir/tree-ifbz.ko.xz"
    cp "$dir/ownkey.ko" "$dir/ownkeyz.ko" && xz --check=crc32 "$dir/ownkeyz.ko"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# A case is a module file name (without .ko*) under check_b_modules' dir; "f-FILE" loads FILE
# with insmod -f and checks it with kmx check --force. Cases in $check_b_keep stay loaded until
# the end (the cases after one are checked with --loaded FILE).
check_b_guest() {
  local d c
  d=$(check_b_modules "$k") || return 1
  mkdir -p "$root/lab/checkb"
  for c in $check_b_cases; do cp "$d/${c#f-}".ko* "$root/lab/checkb/"; done
  cat <<G
lab_clean
for c in $check_b_cases; do
  f=\$(ls /lab/checkb/\${c#f-}.ko* | head -n1)
  force=; case \$c in f-*) force=-f ;; esac
  n=\$(/lab/kmod/modinfo -F name \$f)
  result tainted-\$c "\$(cat /proc/sys/kernel/tainted)"
  dmesg -c >/dev/null
  run ins-\$c kmod insmod \$force \$f
  run log-\$c dmesg
  result taint-\$c "\$(cat /sys/module/\$n/taint 2>/dev/null)"
  case " $check_b_keep " in *" \$c "*) continue ;; esac
  [ -d /sys/module/\$n ] && kmod rmmod \$n
done
for c in $check_b_keep; do kmod rmmod \$(/lab/kmod/modinfo -F name /lab/checkb/\$c.ko); done
lab_clean
G
}

check_b_check() {
  local d c
  d=$(check_b_modules "$K") || { failed "cannot build the check modules"; return; }
  local kept=()
  for c in $check_b_cases; do
    local extra=("${kept[@]}")
    case $c in f-*) extra+=(--force) ;; esac
    case " $check_b_keep " in *" $c "*) kept+=(--loaded "$d/$c.ko") ;; esac
    check_lab_show_log=1
    check_lab_case "$c" "$(ls "$d/${c#f-}".ko* | head -n1)" "${extra[@]}"
  done
}

guest() { check_b_guest; }
check() { check_b_check; }
