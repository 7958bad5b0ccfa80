#!/usr/bin/env bash
# Prints the path of an extracted Debian linux-source-VERSION tree, extracting it once into the cache.
#   scripts/kernel-tree.sh 6.1     ->  $KBD_CACHE/linux-source-6.1
# The cache (default ~/.cache/kbuild-diagnostics) lives outside the repo; the tarball comes from
# Debian's linux-source-VERSION package (/usr/src/linux-source-VERSION.tar.xz).
set -euo pipefail
version=${1:?usage: kernel-tree.sh VERSION}
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
tarball=/usr/src/linux-source-$version.tar.xz
dest=$cache/linux-source-$version
if [ ! -f "$dest/.extracted" ]; then
  [ -f "$tarball" ] || { echo "kernel-tree.sh: $tarball is missing: apt-get install linux-source-$version" >&2; exit 2; }
  mkdir -p "$cache"
  # Tests run in parallel and several may ask for the same tree at once: one extracts, the others
  # wait for it (flock), then find it extracted.
  exec 9>"$cache/.linux-source-$version.lock"
  flock 9
  if [ ! -f "$dest/.extracted" ]; then
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    tar -xf "$tarball" -C "$dest.tmp" --strip-components=1
    rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.extracted"
  fi
  exec 9>&-
fi
echo "$dest"
