#!/usr/bin/env bash
# The Debian packages of this source tree (kmx, kmx-as-kmod, kmx-drivers, with the .changes,
# .buildinfo and dbgsym files of the build), built once per source and cached: prints the
# directory that holds them.
#
#   scripts/debs.sh               build (dpkg-buildpackage -b -us -uc, nocheck) or reuse
#   KMX_DEBS=DIR scripts/debs.sh  use DIR's packages (checked, not built)
#
# The key is a hash of the files that go into the packages: every file git lists (tracked, or
# untracked and not ignored) outside tests/, bench/, scripts/ and .ci/ (the package build, with
# its tests off, reads none of them): names, modes and contents. The cache is
# $KMX_CACHE/kmx-debs/KEY (KMX_CACHE defaults to /var/cache/kmx-test); its 4 newest keys are
# kept. Builds take a lock: a second caller with the same source waits for the first one's
# packages. Every build runs in the same directory, so that ccache (when installed) finds the
# objects of an earlier build of a different source; the package build skips its test step
# (DEB_BUILD_OPTIONS=nocheck): the suite runs the same tests.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

if [ -n "${KMX_DEBS:-}" ]; then
  ls "$KMX_DEBS"/kmx_*.deb "$KMX_DEBS"/kmx-as-kmod_*.deb "$KMX_DEBS"/kmx-drivers_*.deb > /dev/null
  echo "$KMX_DEBS"
  exit 0
fi

files() { (cd "$here" && git ls-files -co --exclude-standard | grep -v -e '^tests/' -e '^bench/' -e '^scripts/' -e '^\.ci/' | LC_ALL=C sort); }
key=$(files | (cd "$here" && tar -cf - -T - --mtime=@0 --owner=0 --group=0 --numeric-owner) | sha256sum | cut -c1-16)
cache=${KMX_CACHE:-/var/cache/kmx-test}/kmx-debs
dir=$cache/$key
mkdir -p "$cache"
exec {lock}> "$cache/.lock"
flock "$lock"
if [ ! -e "$dir/.done" ]; then
  build=$cache/build
  rm -rf "$build" "$dir" "$dir.tmp"
  mkdir -p "$build/src"
  files | (cd "$here" && tar -cf - -T -) | tar -xf - -C "$build/src"
  # debhelper gives the build a HOME of its own, which would hide the user's ccache directory:
  # it is named.
  launch=()
  command -v ccache > /dev/null &&
    launch=(env CCACHE_DIR="$(ccache -k cache_dir)" CCACHE_BASEDIR="$build/src"
      CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache)
  echo "debs.sh: building the packages of source $key (log: $dir.tmp/build.log)" >&2
  mkdir -p "$dir.tmp"
  if ! (cd "$build/src" && "${launch[@]}" env DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -us -uc -j2 > "$dir.tmp/build.log" 2>&1); then
    tail -n 30 "$dir.tmp/build.log" >&2
    echo "debs.sh: dpkg-buildpackage failed (log: $dir.tmp/build.log)" >&2
    exit 1
  fi
  mv "$build"/*.deb "$build"/*.changes "$build"/*.buildinfo "$dir.tmp/"
  rm -rf "$build"
  touch "$dir.tmp/.done"
  mv "$dir.tmp" "$dir"
  # The 4 newest keys stay.
  ls -dt "$cache"/*/ | grep -v '\.tmp/$' | tail -n +5 | xargs -r rm -rf
fi
echo "$dir"
