#!/usr/bin/env bash
# Fetch and unpack the real Debian kernel packages the tests and benchmarks use.
#
#   tests/data/fetch-trees.sh all | KEY...     fetch (cached) and print nothing on success
#   tests/data/fetch-trees.sh path KEY         print the unpacked root of KEY
#   tests/data/fetch-trees.sh list             print "KEY PACKAGE" lines
#   tests/data/fetch-trees.sh deb PACKAGE[@sid]  fetch one package's .deb (cached, not unpacked)
#                                              and print its path
#
# Everything lives under $KMX_CACHE (default /var/cache/kmx-test), outside the repository:
# debs/ holds the .deb files, trees/<package>/ their unpacked contents. Packages come from
# Debian's archive with apt-get download; foreign architectures (arm64, i386) are enabled
# with dpkg --add-architecture when needed. A tree is complete once trees/<package>/.done exists.
# PACKAGE@sid comes from Debian unstable through a private apt state in $KMX_CACHE/apt-sid (its
# own sources.list, lists and cache): the system's apt configuration is never touched. Unstable
# moves on; once the .deb is cached the key keeps working.
set -euo pipefail

cache=${KMX_CACHE:-/var/cache/kmx-test}

# KEY                 PACKAGE
table='
amd64-6.1           linux-image-6.1.0-54-amd64-unsigned
amd64-6.12          linux-image-6.12.117+deb12-amd64-unsigned
amd64-6.1-53        linux-image-6.1.0-53-amd64-unsigned
amd64-6.1-47        linux-image-6.1.0-47-amd64-unsigned
amd64-6.1-57        linux-image-6.1.0-57-amd64-unsigned
amd64-6.12-107      linux-image-6.12.107+deb12-amd64-unsigned
amd64-6.12-118      linux-image-6.12.118+deb12-amd64-unsigned
arm64-6.1           linux-image-6.1.0-54-arm64-unsigned:arm64
i386-6.1            linux-image-6.1.0-50-686-unsigned:i386
signed-6.1          linux-image-6.1.0-54-amd64
headers-6.1         linux-headers-6.1.0-54-amd64
headers-common-6.1  linux-headers-6.1.0-54-common
headers-6.1-53      linux-headers-6.1.0-53-amd64
headers-6.1-47      linux-headers-6.1.0-47-amd64
headers-6.1-57      linux-headers-6.1.0-57-amd64
headers-6.12-107    linux-headers-6.12.107+deb12-amd64
headers-6.12-118    linux-headers-6.12.118+deb12-amd64
kbuild-6.1          linux-kbuild-6.1
headers-6.12        linux-headers-6.12.117+deb12-amd64
headers-common-6.12 linux-headers-6.12.117+deb12-common
kbuild-6.12         linux-kbuild-6.12.117+deb12
headers-7.2         linux-headers-7.2.13+deb14-amd64@sid
'

package_of() {
  awk -v k="$1" '$1 == k { print $2 }' <<<"$table"
}

dir_of() {
  local pkg=${1%@sid}
  echo "$cache/trees/${pkg%%:*}"
}

sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
updated=

ensure_arch() {
  local arch=$1
  [ "$arch" = "$(dpkg --print-architecture)" ] && return 0
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    $sudo dpkg --add-architecture "$arch"
    updated=
  fi
}

apt_update_once() {
  [ -n "$updated" ] && return 0
  # A mirror mid-sync can fail one index; the others are still usable.
  $sudo apt-get update -qq >&2 || echo "fetch-trees: apt-get update reported errors; continuing" >&2
  updated=1
}

# The cached .deb of a package: built for $arch, or architecture-independent (headers-common).
find_deb() {
  local name=${1%%:*} arch=$2
  ls "$cache/debs/${name}_"*"_$arch.deb" "$cache/debs/${name}_"*"_all.deb" 2>/dev/null | head -n1 || true
}

# apt-get with the private unstable state (see the top).
sid_apt_get() {
  local d=$cache/apt-sid
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  [ -e "$d/sources.list" ] ||
    echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' >"$d/sources.list"
  apt-get -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Debug::NoLocking=1 "$@"
}

unpack() {
  local deb=$1 dir=$2
  echo "fetch-trees: unpacking $(basename "$deb")" >&2
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  dpkg-deb -x "$deb" "$dir.tmp"
  touch "$dir.tmp/.done"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

fetch_one() {
  local key=$1 pkg dir arch
  pkg=$(package_of "$key")
  if [[ $pkg == *@sid ]]; then
    pkg=${pkg%@sid}
    dir=$(dir_of "$pkg")
    [ -e "$dir/.done" ] && return 0
    mkdir -p "$cache/debs"
    local deb
    deb=$(find_deb "$pkg" "$(dpkg --print-architecture)")
    if [ -z "$deb" ]; then
      sid_apt_get update -qq >&2 || echo "fetch-trees: apt-get update (sid) reported errors; continuing" >&2
      (cd "$cache/debs" && sid_apt_get download -qq "$pkg" >&2)
      deb=$(find_deb "$pkg" "$(dpkg --print-architecture)")
      [ -n "$deb" ] || { echo "fetch-trees: download of $pkg (sid) left no .deb" >&2; return 1; }
    fi
    unpack "$deb" "$dir"
    return 0
  fi
  [ -n "$pkg" ] || { echo "fetch-trees: unknown key '$key'" >&2; return 2; }
  dir=$(dir_of "$pkg")
  [ -e "$dir/.done" ] && return 0
  arch=${pkg#*:}; [ "$arch" = "$pkg" ] && arch=$(dpkg --print-architecture)
  ensure_arch "$arch"
  mkdir -p "$cache/debs"
  local deb
  deb=$(find_deb "$pkg" "$arch")
  if [ -z "$deb" ]; then
    if ! (cd "$cache/debs" && apt-get download -qq "$pkg" >&2 2>/dev/null); then
      apt_update_once
      (cd "$cache/debs" && apt-get download -qq "$pkg" >&2)
    fi
    deb=$(find_deb "$pkg" "$arch")
    [ -n "$deb" ] || { echo "fetch-trees: download of $pkg left no .deb" >&2; return 1; }
  fi
  unpack "$deb" "$dir"
}

# The cached .deb of any package of this architecture; unstable's in debs/sid/, apart from
# the stable ones of the same name.
fetch_deb() {
  local pkg=$1 name=${1%@sid} dir=$cache/debs deb
  [[ $pkg == *@sid ]] && dir=$cache/debs/sid
  mkdir -p "$dir"
  deb=$(ls "$dir/${name}_"*"_$(dpkg --print-architecture).deb" "$dir/${name}_"*"_all.deb" 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    if [[ $pkg == *@sid ]]; then
      sid_apt_get update -qq >&2 || echo "fetch-trees: apt-get update (sid) reported errors; continuing" >&2
      (cd "$dir" && sid_apt_get download -qq "$name" >&2)
    elif ! (cd "$dir" && apt-get download -qq "$name" >&2 2>/dev/null); then
      apt_update_once
      (cd "$dir" && apt-get download -qq "$name" >&2)
    fi
    deb=$(ls "$dir/${name}_"*"_$(dpkg --print-architecture).deb" "$dir/${name}_"*"_all.deb" 2>/dev/null | head -n1 || true)
    [ -n "$deb" ] || { echo "fetch-trees: download of $pkg left no .deb" >&2; return 1; }
  fi
  echo "$deb"
}

case "${1:-all}" in
list) awk 'NF == 2 { print }' <<<"$table" ;;
deb) fetch_deb "${2:?package}" ;;
path)
  pkg=$(package_of "${2:?key}")
  [ -n "$pkg" ] || { echo "fetch-trees: unknown key '$2'" >&2; exit 2; }
  dir_of "$pkg"
  ;;
all)
  for key in $(awk 'NF == 2 { print $1 }' <<<"$table"); do fetch_one "$key"; done
  ;;
*)
  for key in "$@"; do fetch_one "$key"; done
  ;;
esac
