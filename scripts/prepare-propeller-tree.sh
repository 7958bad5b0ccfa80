#!/usr/bin/env bash
# Prepares (once, cached; again when this script changes) a Linux 6.12 arm64 tree with Linux 6.13's
# Kbuild Propeller lines backported, for the orphan-sections rule's real builds: the tree's own Kbuild
# adds -fbasic-block-sections=labels (no KCFLAGS). Backported: scripts/Makefile.propeller (its
# no-profile branch, as 6.13 has it for clang 19), its include in the top Makefile, the _c_flags block
# in scripts/Makefile.lib (in its later form, where the default sits inside the patsubst and
# PROPELLER_PROFILE[_obj.o] := n turns it off; 6.13 read AUTOFDO_PROFILE and put the default outside,
# so a directory could not turn it off), and a Kconfig symbol PROPELLER_CLANG in arch/Kconfig (6.13 selects
# ARCH_SUPPORTS_PROPELLER_CLANG on x86 only; here it is offered on arm64 so the vDSO link sees it).
# Configured: defconfig + CONFIG_WERROR=y (CONFIG_LD_ORPHAN_WARN_LEVEL="error") + CONFIG_PROPELLER_CLANG=y.
#
# The block's default decides which objects get the flag. The tree keeps both forms of
# scripts/Makefile.lib beside it: .kbd-Makefile.lib.mainline (default $(is-kernel-object), as merged in
# 6.13: only kernel objects, so not the vDSO's) and .kbd-Makefile.lib.y (default y, the form vendor
# trees carry: every object). `scripts/prepare-propeller-tree.sh use mainline|y` puts one in place.
#
# The tree is a hard-linked copy of scripts/kernel-tree.sh 6.12 (never built there, so make writes no
# shared file); each file edited here is unlinked first. Prints the tree's path (last line).
# Needs: clang-19 lld-19 llvm-19 make flex bison bc libssl-dev libelf-dev linux-source-6.12.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
llvm=${KBD_LLVM_SUFFIX:--19}
tree=$cache/vdso-propeller-6.12
stamp=$(sha256sum "$0" | cut -c1-16)
die() { echo "prepare-propeller-tree.sh: $*" >&2; exit 1; }

# Break the hard link of a file before writing it, so the source tree is never touched.
own() { [ -e "$1" ] || return 0; cp -p "$1" "$1.kbd-own" && mv -f "$1.kbd-own" "$1"; }

# Insert stdin before the first line of file $1 containing the fixed string $2.
insert_before() {
  local file=$1 match=$2 text
  text=$(cat)
  grep -qF -- "$match" "$file" || die "$file: no line containing '$match'"
  own "$file"
  TEXT=$text MATCH=$match awk '!done && index($0, ENVIRON["MATCH"]) { print ENVIRON["TEXT"]; done = 1 } { print }' \
    "$file" > "$file.kbd-tmp"
  mv -f "$file.kbd-tmp" "$file"
}

# The _c_flags block of 6.13's scripts/Makefile.lib, with default $2, into a copy of $1 written to $3.
lib_with_default() {
  local lib=$1 default=$2 out=$3
  cp "$lib" "$out"
  insert_before "$out" '# $(src) for including checkin headers from generated source files' <<EOF
#
# Enable Propeller build flags except some files or directories we don't want to
# enable (depends on variables PROPELLER_PROFILE_obj.o and PROPELLER_PROFILE).
# (Backport for real-build tests; default here: $default)
#
ifdef CONFIG_PROPELLER_CLANG
_c_flags += \$(if \$(patsubst n%,, \\
	\$(PROPELLER_PROFILE_\$(target-stem).o)\$(PROPELLER_PROFILE)$default), \\
	\$(CFLAGS_PROPELLER_CLANG))
endif

EOF
}

prepare() {
  local src t
  src=$(bash "$here/kernel-tree.sh" 6.12 | tail -1)
  [ "$(sed -n 's/^PATCHLEVEL = //p' "$src/Makefile")" = 12 ] || die "$src is not a 6.12 tree"
  rm -rf "$tree" "$tree.tmp"
  cp -al "$src" "$tree.tmp" 2>/dev/null || { rm -rf "$tree.tmp"; cp -a "$src" "$tree.tmp"; }
  rm -f "$tree.tmp/.extracted"
  t=$tree.tmp
  cat > "$t/scripts/Makefile.propeller" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
# Backport (for real-build tests) of Linux 6.13's scripts/Makefile.propeller.

# Enable available and selected Clang Propeller features.
ifdef CLANG_PROPELLER_PROFILE_PREFIX
  CFLAGS_PROPELLER_CLANG := -fbasic-block-sections=list=$(CLANG_PROPELLER_PROFILE_PREFIX)_cc_profile.txt -ffunction-sections
  KBUILD_LDFLAGS += --symbol-ordering-file=$(CLANG_PROPELLER_PROFILE_PREFIX)_ld_profile.txt --no-warn-symbol-ordering
else
  CFLAGS_PROPELLER_CLANG := -fbasic-block-sections=labels
endif

# Propeller requires debug information to embed module names in the profiles.
# If CONFIG_DEBUG_INFO is not enabled, set -gmlt option. Skip this for AutoFDO,
# as the option should already be set.
ifndef CONFIG_DEBUG_INFO
  ifndef CONFIG_AUTOFDO_CLANG
    CFLAGS_PROPELLER_CLANG += -gmlt
  endif
endif

export CFLAGS_PROPELLER_CLANG
EOF
  insert_before "$t/Makefile" 'include-$(CONFIG_GCC_PLUGINS)' <<'EOF'
include-$(CONFIG_PROPELLER_CLANG)	+= scripts/Makefile.propeller
EOF
  insert_before "$t/arch/Kconfig" 'source "kernel/gcov/Kconfig"' <<'EOF'
config PROPELLER_CLANG
	bool "Enable Clang's Propeller build (backport of Linux 6.13, for tests)"
	depends on CC_IS_CLANG && CLANG_VERSION >= 190000
	help
	  Passes Propeller's options to clang (see scripts/Makefile.propeller).

EOF
  lib_with_default "$t/scripts/Makefile.lib" '$(is-kernel-object)' "$t/.kbd-Makefile.lib.mainline"
  lib_with_default "$t/scripts/Makefile.lib" 'y' "$t/.kbd-Makefile.lib.y"
  rm -f "$t/scripts/Makefile.lib" && cp "$t/.kbd-Makefile.lib.mainline" "$t/scripts/Makefile.lib"
  make -C "$t" ARCH=arm64 LLVM="$llvm" defconfig > "$t/.kbd-prepare.log" 2>&1
  "$t/scripts/config" --file "$t/.config" --enable WERROR --enable PROPELLER_CLANG
  make -C "$t" ARCH=arm64 LLVM="$llvm" olddefconfig >> "$t/.kbd-prepare.log" 2>&1
  grep -q '^CONFIG_PROPELLER_CLANG=y$' "$t/.config" || die "CONFIG_PROPELLER_CLANG=y did not stick"
  grep -q '^CONFIG_LD_ORPHAN_WARN_LEVEL="error"' "$t/.config" || die "CONFIG_WERROR=y did not give level error"
  mv "$t" "$tree"
  echo "$stamp" > "$tree/.kbd-prepared"
}

if [ ! -f "$tree/.kbd-prepared" ] || [ "$(cat "$tree/.kbd-prepared")" != "$stamp" ]; then prepare; fi
if [ "${1:-}" = use ]; then
  case ${2:-} in mainline|y) ;; *) die "use mainline|y";; esac
  rm -f "$tree/scripts/Makefile.lib" && cp "$tree/.kbd-Makefile.lib.$2" "$tree/scripts/Makefile.lib"
fi
echo "$tree"
