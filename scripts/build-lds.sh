#!/usr/bin/env bash
# Prepares a real Linux 6.12 arm64 defconfig tree (clang-19/lld-19) for the linker-script tests:
# `make prepare` (which links the vDSO: arch/arm64/kernel/vdso/vdso.so.dbg with vdso.lds), the
# preprocessed arch/arm64/kernel/vmlinux.lds, and a small sample of compiled vmlinux objects.
# Cached: a second run only prints the tree's path (last line). Log: $tree/.lds-build.log.
# Needs: clang-19 lld-19 llvm-19 make flex bison bc libssl-dev libelf-dev linux-source-6.12.
set -euo pipefail
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
tree=$cache/lds-build-6.12
llvm=${KBD_LLVM_SUFFIX:--19}
make_args=(ARCH=arm64 LLVM="$llvm" -j"$(nproc)")
# Objects with varied sections: head.S (.head.text, .idmap.text), init code (.init.*), data, strings.
sample=(arch/arm64/kernel/head.o init/main.o init/version.o kernel/fork.o lib/string.o
        arch/arm64/kernel/setup.o arch/arm64/mm/mmu.o kernel/panic.o)

if [ ! -f "$tree/.prepared" ]; then
  [ -f /usr/src/linux-source-6.12.tar.xz ] || { echo "build-lds.sh: linux-source-6.12 is not installed" >&2; exit 2; }
  rm -rf "$tree" && mkdir -p "$tree"
  tar -xf /usr/src/linux-source-6.12.tar.xz -C "$tree" --strip-components=1
  {
    make -C "$tree" "${make_args[@]}" defconfig
    make -C "$tree" "${make_args[@]}" prepare
    make -C "$tree" "${make_args[@]}" arch/arm64/kernel/vmlinux.lds "${sample[@]}"
  } > "$tree/.lds-build.log" 2>&1
  touch "$tree/.prepared"
fi
echo "$tree"
