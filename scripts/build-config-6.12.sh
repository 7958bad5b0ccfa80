#!/usr/bin/env bash
# Prepares a Linux 6.12 tree with an O= build directory configured by `defconfig` (arm64, clang-19)
# and a build of the arm64 vDSO (which runs syncconfig, so include/config/auto.conf exists).
# Cached under $KBD_CACHE: CI pays it once. Prints the source tree's path on stdout (last line);
# the build directory is <tree>/out. The log goes to <tree>/.config-build.log.
# Needs: clang-19 lld-19 llvm-19 make flex bison bc linux-source-6.12.
set -euo pipefail
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
tree=$cache/config-build-6.12
llvm=${KBD_LLVM_SUFFIX:--19}
if [ ! -f "$tree/.prepared" ]; then
  [ -f /usr/src/linux-source-6.12.tar.xz ] || { echo "build-config-6.12.sh: linux-source-6.12 is not installed" >&2; exit 2; }
  rm -rf "$tree" && mkdir -p "$tree"
  # O= needs a clean source tree: a fresh extraction, not a tree that was built in place.
  tar -xf /usr/src/linux-source-6.12.tar.xz -C "$tree" --strip-components=1
  make -C "$tree" O=out ARCH=arm64 LLVM="$llvm" defconfig > "$tree/.config-build.log" 2>&1
  make -C "$tree" O=out ARCH=arm64 LLVM="$llvm" -j"$(nproc)" arch/arm64/kernel/vdso/ >> "$tree/.config-build.log" 2>&1
  [ -f "$tree/out/include/config/auto.conf" ] || { echo "build-config-6.12.sh: no auto.conf after the build (see $tree/.config-build.log)" >&2; exit 1; }
  touch "$tree/.prepared"
fi
echo "$tree"
