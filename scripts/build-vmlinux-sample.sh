#!/usr/bin/env bash
# Prepares (once, cached) the vmlinux orphan-sections test's tree: Linux 6.12 arm64 `tinyconfig` with
# CONFIG_WERROR=y (so CONFIG_LD_ORPHAN_WARN_LEVEL="error"), built out of tree (O=build inside a
# hard-linked copy of the extracted tree, which Kbuild never writes), with
# KCFLAGS=-fbasic-block-sections=labels: the preprocessed arch/arm64/kernel/vmlinux.lds and a sample
# of vmlinux objects, then vmlinux.a made of that sample as Kbuild makes it (`ar cDPrST`, a thin
# archive), and the two lib.a that the vmlinux link reads on demand (lib/ and arch/arm64/lib/, built
# with the flag too: the link pulls some of their members in). The vDSO, which `prepare` links first,
# gets the flag on its own remove list (the rule's quick-fix for it, proved by server/src/rules/orphan-sections/test/kernel/vdsoOrphans.test.ts): without it the build stops there.
# The full vmlinux link of this configuration is in docs/real-builds.md; it takes far longer.
# Prints the source tree's path (last line); the build directory is <that>/build. Log: build/.sample.log.
# Needs: clang-19 lld-19 llvm-19 make flex bison bc linux-source-6.12.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
llvm=${KBD_LLVM_SUFFIX:--19}
src=$cache/vmlinux-sample-6.12
out=$src/build
flag=-fbasic-block-sections=labels
# Objects with varied text sections: .text, .init.text, .exit.text, .head.text, .noinstr.text.
sample=(init/main.o kernel/fork.o kernel/panic.o arch/arm64/kernel/process.o mm/memory.o)
# KBUILD_VMLINUX_LIBS of arm64: linked with --start-group ... --end-group, members on demand.
libs=(lib/ arch/arm64/lib/)
stamp=$(sha256sum "$0" | cut -c1-16)

if [ ! -f "$src/.prepared" ] || [ "$(cat "$src/.prepared")" != "$stamp" ]; then
  pristine=$("$here/kernel-tree.sh" 6.12)
  rm -rf "$src" && cp -al "$pristine" "$src"
  rm -f "$src/.extracted"
  # A new file (sed -i writes one), so the pristine tree's copy stays as it is.
  sed -i "/^CC_FLAGS_ADD_VDSO :=/i CC_FLAGS_REMOVE_VDSO += $flag\n" "$src/arch/arm64/kernel/vdso/Makefile"
  mkdir -p "$out"
  make_args=(-C "$src" O="$out" ARCH=arm64 LLVM="$llvm" -j2)
  {
    make "${make_args[@]}" tinyconfig
    "$src/scripts/config" --file "$out/.config" --enable WERROR
    make "${make_args[@]}" olddefconfig
    grep -q '^CONFIG_LD_ORPHAN_WARN_LEVEL="error"' "$out/.config"
    make "${make_args[@]}" KCFLAGS="$flag" arch/arm64/kernel/vmlinux.lds "${sample[@]}" "${libs[@]}"
    # Kbuild's cmd_ar_vmlinux.a, with the sample for $(KBUILD_VMLINUX_OBJS).
    (cd "$out" && rm -f vmlinux.a && llvm-ar"$llvm" cDPrST vmlinux.a "${sample[@]}")
  } > "$src/.sample.log" 2>&1 || { cat "$src/.sample.log" >&2; exit 1; }
  echo "$stamp" > "$src/.prepared"
fi
echo "$src"
