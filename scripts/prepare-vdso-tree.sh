#!/usr/bin/env bash
# Prepares (once, cached) a configured Linux 6.12 arm64 tree for the vDSO link tests:
# `make ARCH=arm64 LLVM=-19 defconfig`, then CONFIG_WERROR=y (so CONFIG_LD_ORPHAN_WARN_LEVEL="error")
# and olddefconfig, then `make ... prepare`-free: the tests build arch/arm64/kernel/vdso/ themselves.
# Prints the tree's path on stdout (last line). Needs: clang-19 lld-19 llvm-19 make flex bison bc
# libssl-dev libelf-dev linux-source-6.12.
set -euo pipefail
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
version=6.12
tree=$cache/vdso-build-$version
llvm=${KBD_LLVM_SUFFIX:--19}
if [ ! -f "$tree/.prepared" ]; then
  [ -f "/usr/src/linux-source-$version.tar.xz" ] || { echo "prepare-vdso-tree.sh: linux-source-$version is not installed" >&2; exit 2; }
  rm -rf "$tree" && mkdir -p "$tree"
  tar -xf "/usr/src/linux-source-$version.tar.xz" -C "$tree" --strip-components=1
  make -C "$tree" ARCH=arm64 LLVM="$llvm" defconfig > "$tree/.vdso-prepare.log" 2>&1
  "$tree/scripts/config" --file "$tree/.config" --enable WERROR
  make -C "$tree" ARCH=arm64 LLVM="$llvm" olddefconfig >> "$tree/.vdso-prepare.log" 2>&1
  grep -q '^CONFIG_LD_ORPHAN_WARN_LEVEL="error"' "$tree/.config" || { echo "prepare-vdso-tree.sh: CONFIG_WERROR=y did not give LD_ORPHAN_WARN_LEVEL=error" >&2; exit 1; }
  # Pristine copies of the files the tests edit, to restore before each build.
  for f in arch/arm64/kernel/vdso/Makefile arch/arm64/kernel/vdso/vdso.lds.S .config; do cp "$tree/$f" "$tree/$f.pristine"; done
  touch "$tree/.prepared"
fi
echo "$tree"
