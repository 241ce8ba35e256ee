#!/usr/bin/env bash
# Debian kernel source trees, prepared with the configuration of a binary kernel, to run
# genksyms on single objects exactly as kbuild does when it computes modversions CRCs.
#
#   tests/data/kernel-source.sh all                 prepare the trees the tests use (below)
#   tests/data/kernel-source.sh prepare SRC HEADERS_KEY          print the prepared tree's root
#   tests/data/kernel-source.sh symtypes SRC HEADERS_KEY FILE.c...
#       print "FILE.c PATH" for each file whose object was built with KBUILD_SYMTYPES=1, PATH
#       being genksyms' .symtypes of it (cached); files that do not build are left out
#   tests/data/kernel-source.sh exports SRC HEADERS_KEY
#       print "SYMBOL FILE.c" for each EXPORT_SYMBOL*(SYMBOL) in the tree's C files (other
#       architectures', tools/, samples/ and quilt's .pc/ left out; cached)
#
# SRC is a source package and version as apt-get source takes it (linux=6.1.187-1); it is
# downloaded from Debian's archive through a private apt state ($KMX_CACHE/apt-src, with
# deb-src lines of bookworm, its updates, security and backports, trixie and sid; the system's
# apt configuration is never touched) and unpacked with Debian's patches applied (dpkg-source -x).
# HEADERS_KEY is a tests/data/fetch-trees.sh key of the matching linux-headers-VERSION-amd64
# package, whose .config is the kernel's: `make olddefconfig` must reproduce it exactly (the
# compiler is the one named in CONFIG_CC_VERSION_TEXT, and Rust is kept out as Debian's
# builds have it: RUSTC=false), then `make prepare` builds genksyms and
# the generated headers. Trees live in $KMX_CACHE/src/ (about 1.5 GB each).
set -euo pipefail

cache=${KMX_CACHE:-/var/cache/kmx-test}

# The source trees tests/cli/abi-diff-genksyms.sh uses: SRC HEADERS_KEY (the binary kernels
# 6.1.0-47, 6.1.0-53 and 6.12.107+deb12, whose sources Debian's archive still serves).
trees='
linux=6.1.170-3               headers-6.1-47
linux=6.1.187-1               headers-6.1-53
linux-6.12=6.12.107-1~deb12u1 headers-6.12-107
'
here=$(cd "$(dirname "$0")" && pwd)
apt_dir=$cache/apt-src

apt_src() {
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  if [ ! -e "$apt_dir/sources.list" ]; then
    local k='[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]' s
    for s in bookworm bookworm-updates bookworm-proposed-updates bookworm-backports trixie trixie-updates sid; do
      echo "deb-src $k http://deb.debian.org/debian $s main"
    done >"$apt_dir/sources.list"
    for s in bookworm-security trixie-security; do
      echo "deb-src $k http://deb.debian.org/debian-security $s main"
    done >>"$apt_dir/sources.list"
  fi
  apt-get -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Debug::NoLocking=1 "$@"
}

# The compiler the kernel was built with, from its .config: gcc-12 for "gcc-12 (Debian ...)".
compiler_of() {
  sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$1"
}

prepare() {
  local src=$1 key=$2 name=${1%%=*} ver=${1#*=} tree hdr config cc
  tree=$cache/src/$name-$ver
  if [ -e "$tree/.kmx-prepared" ]; then echo "$tree"; return 0; fi
  hdr=$("$here/fetch-trees.sh" path "$key")
  "$here/fetch-trees.sh" "$key"
  config=$(ls "$hdr"/usr/src/linux-headers-*/.config)
  cc=$(compiler_of "$config")
  command -v "$cc" >/dev/null || { echo "kernel-source: $config was built with $cc, which is not installed" >&2; return 1; }
  local dl=$cache/src/dl
  mkdir -p "$dl"
  if ! ls "$dl/${name}_${ver#*:}.dsc" >/dev/null 2>&1; then
    apt_src update -qq >&2 || echo "kernel-source: apt-get update reported errors; continuing" >&2
    (cd "$dl" && apt_src source --download-only -qq "$src" >&2) ||
      { echo "kernel-source: Debian's archive does not serve source $src" >&2; return 1; }
  fi
  echo "kernel-source: unpacking $src" >&2
  rm -rf "$tree.tmp"
  # The .dsc's signature cannot be checked without debian-keyring; apt checked its hash
  # against the signed archive index, and dpkg-source checks the tarballs against the .dsc.
  dpkg-source -q -x "$dl/${name}_${ver#*:}.dsc" "$tree.tmp" >/dev/null 2>"$cache/src/dpkg-source.log" ||
    { cat "$cache/src/dpkg-source.log" >&2; echo "kernel-source: dpkg-source -x of $src failed" >&2; return 1; }
  rm -f "$cache/src/${name}_"*.orig.tar.xz  # dpkg-source's copy of the tarball beside the tree
  cp "$config" "$tree.tmp/.config"
  make -s -C "$tree.tmp" CC="$cc" RUSTC=false olddefconfig >&2
  if ! diff <(grep CONFIG_ "$config") <(grep CONFIG_ "$tree.tmp/.config") >&2; then
    echo "kernel-source: make olddefconfig in $src does not reproduce $config" >&2
    return 1
  fi
  echo "kernel-source: make prepare in $src" >&2
  make -s -C "$tree.tmp" -j"$(nproc)" CC="$cc" RUSTC=false prepare >&2
  echo "$cc" >"$tree.tmp/.kmx-prepared"
  rm -rf "$tree"
  mv "$tree.tmp" "$tree"
  # Paths baked into the tree (objtool, fixdep's .cmd files) name the .tmp directory; the
  # next make rebuilds what depends on them, once.
  echo "$tree"
}

symtypes() {
  local tree cc f
  tree=$(prepare "$1" "$2")
  cc=$(cat "$tree/.kmx-prepared")
  shift 2
  local want=()
  for f in "$@"; do
    [ -e "$tree/${f%.c}.symtypes" ] || want+=("${f%.c}.o")
  done
  if [ ${#want[@]} -gt 0 ]; then
    # One make for all objects; -k leaves out those that do not build (not configured, or
    # not buildable alone) and builds the rest.
    make -s -k -C "$tree" -j"$(nproc)" CC="$cc" RUSTC=false KBUILD_SYMTYPES=1 "${want[@]}" >/dev/null 2>&1 || true
  fi
  for f in "$@"; do
    [ -s "$tree/${f%.c}.symtypes" ] && echo "$f $tree/${f%.c}.symtypes"
  done
  return 0
}

exports() {
  local tree
  tree=$(prepare "$1" "$2")
  if [ ! -e "$tree/.kmx-exports" ]; then
    (cd "$tree" && grep -rEo --include='*.c' --exclude-dir=.pc --exclude-dir=tools --exclude-dir=samples --exclude-dir=Documentation \
      'EXPORT_SYMBOL(_GPL)?(_NS)?(_NS_GPL)?\([[:space:]]*[A-Za-z0-9_]+' . |
      sed -E 's|^\./([^:]*):EXPORT_SYMBOL[A-Z_]*\([[:space:]]*|\1 |' |
      awk '$1 !~ /^arch\// || $1 ~ /^arch\/x86\// { print $2, $1 }' | sort -u) >"$tree/.kmx-exports.tmp"
    mv "$tree/.kmx-exports.tmp" "$tree/.kmx-exports"
  fi
  cat "$tree/.kmx-exports"
}

case "${1:-}" in
all)
  while read -r src key; do
    if [ -n "$src" ]; then prepare "$src" "$key" >/dev/null; fi
  done <<<"$trees"
  ;;
exports) exports "${2:?source}" "${3:?headers key}" ;;
prepare) prepare "${2:?source}" "${3:?headers key}" ;;
symtypes) symtypes "${@:2}" ;;
*)
  echo "usage: $0 all | prepare|exports SRC HEADERS_KEY | symtypes SRC HEADERS_KEY FILE.c..." >&2
  exit 2
  ;;
esac
