#!/usr/bin/env bash
# Variant Linux 6.1 trees for real nvhe builds (issue 12): the same pipeline in other real-world shapes,
# and a second way a profile reaches the hyp objects. Idempotent: a variant is prepared once (cached,
# re-prepared when this script changes) and every `prepare` resets its edited files.
#
#   scripts/kernel-variants.sh prepare VARIANT [SRC]   prepare (cached), reset the pipeline Makefile to the
#                                                      variant's state, remove nvhe outputs; prints the tree
#   scripts/kernel-variants.sh edit VARIANT FORM...    apply fix forms to the pipeline Makefile (see below)
#   scripts/kernel-variants.sh build VARIANT [ARG...]  build arch/arm64/kvm/hyp/nvhe/ as the tree is now;
#                                                      ARGs (make variables) replace the variant's default
#                                                      profile arguments; writes .nvhe-build.{log,status,time}
#                                                      in the tree; prints "status=N seconds=S" then the tree
#   scripts/kernel-variants.sh build-module VARIANT [ARG...]   android-split only: build the demo pKVM
#                                                      module samples/pkvm-demo as an external module
#                                                      (its EL2 part goes through Makefile.module ->
#                                                      Makefile.nvhe -> gen-hyprel); writes
#                                                      .module-build.{log,status,time}; prints as build
#   scripts/kernel-variants.sh path VARIANT            prints the tree's path (prepared or not)
#   scripts/kernel-variants.sh pipeline VARIANT        prints the path of the file that holds the pipeline
#
# SRC is an extracted linux-source-6.1 tree (default: scripts/kernel-tree.sh 6.1). The variant is a
# hard-linked copy of it (every file this script edits is unlinked first, so SRC is never modified);
# set KBD_VARIANT_COPY=full for a full copy. Trees live in $KBD_VARIANTS (default $KBD_CACHE/variants-6.1,
# KBD_CACHE default ~/.cache/kbuild-diagnostics).
#
# Variants:
#   prefix            the 6.1 tree with form A deleted (the state scripts/build-nvhe.sh builds);
#                     default build args: KCFLAGS=-fprofile-sample-use=<tree>/nvhe.prof
#   android-split     nvhe/Makefile split the Android Common Kernel way: Makefile keeps the hyp-obj-y lists
#                     and the hyp.lds rule and includes $(srctree)/arch/arm64/kvm/hyp/nvhe/Makefile.nvhe,
#                     which holds the pipeline, the flags and the filters; gen-hyprel.c moved to
#                     arch/arm64/tools/ and built there as a host program during archprepare; the pipeline
#                     runs it as `cmd_hyprel = $(HYPREL) $< > $@`, HYPREL := arch/arm64/tools/gen-hyprel.
#                     Form A deleted (from Makefile.nvhe). Default build args: as prefix.
#                     Also a pKVM-module shape: nvhe/Makefile.module (hyp.lds from nvhe/module.lds.S,
#                     then include Makefile.nvhe) and a demo module samples/pkvm-demo whose hyp/Makefile
#                     sets hyp-obj-y and includes Makefile.module (built only by build-module).
#   autofdo-mainline  Linux 6.13's Kbuild AutoFDO lines backported (scripts/Makefile.autofdo, its include in
#                     the top Makefile, the _c_flags block and is-kernel-object in scripts/Makefile.lib, a
#                     Kconfig symbol AUTOFDO_CLANG in arch/Kconfig), enabled in .config; the block's default
#                     is $(is-kernel-object) as in mainline. nvhe/Makefile as shipped (form A present).
#                     Default build args: CLANG_AUTOFDO_PROFILE=<tree>/nvhe.prof
#   autofdo-y         the same with the default `y` (the form vendor trees carry).
#
# Fix forms for `edit` (all act on the pipeline file: nvhe/Makefile, or nvhe/Makefile.nvhe when split):
#   A       upstream v3 (bde971a83bbf): KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=% -fprofile-use=%, ...)
#   A-full  form A as Kbuild Diagnostics writes it (every profile-use spelling clang accepts)
#   noA     delete the upstream form-A line and its comment
#   B       v2: cmd_hyprel runs `$(OBJCOPY) -R .llvm.call-graph-profile $<` before gen-hyprel
#   C       vendor: AUTOFDO_PROFILE := n beside the directory's other instrumentation settings
#   v1      rejected v1: KBUILD_CFLAGS += $(call cc-option,-fno-profile-sample-use,-fno-profile-use)
#   cc-ccflags  ccflags-y += $(call cc-option,-fno-profile-sample-use) $(call cc-option,-fno-profile-use)
#   cc-instr    KBUILD_CFLAGS += $(call cc-option,-fno-profile-instr-use) (negates only the instrumentation profile)
#   lds-discard /DISCARD/ : { *(.llvm.call-graph-profile) } at the end of SECTIONS in nvhe/hyp.lds.S (form B's
#               equivalent in the linker script; the build's hyp.lds is left in place, so it is stale until
#               make regenerates it)
#
# Needs: clang-19 lld-19 llvm-19 make flex bison bc libssl-dev libelf-dev, and linux-source-6.1 for SRC.
# One command per variant at a time: prepare resets the tree under a running build of the same variant.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
variants_dir=${KBD_VARIANTS:-$cache/variants-6.1}
llvm=${KBD_LLVM_SUFFIX:--19}
NVHE=arch/arm64/kvm/hyp/nvhe
stamp=$(sha256sum "$0" | cut -c1-16)

die() { echo "kernel-variants.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

make_args() { echo "ARCH=arm64 LLVM=$llvm -j$(nproc)"; }

check_variant() {
  case $1 in prefix|android-split|autofdo-mainline|autofdo-y) ;; *) die "unknown variant '$1' (prefix, android-split, autofdo-mainline, autofdo-y)";; esac
}

# The file that holds the pipeline (the one fixes go into).
pipeline_file() {
  case $1 in android-split) echo "$2/$NVHE/Makefile.nvhe";; *) echo "$2/$NVHE/Makefile";; esac
}

# Break the hard link of a file in the variant tree before editing it, so SRC is never touched.
own() { local f=$1; [ -e "$f" ] || return 0; cp -p "$f" "$f.kv-own" && mv -f "$f.kv-own" "$f"; }

# Insert the lines of stdin before (or after) the first line matching the fixed string $2 in file $1.
insert_at() {
  local file=$1 match=$2 where=$3 text
  text=$(cat)
  grep -qF -- "$match" "$file" || die "$file: no line containing '$match'"
  own "$file"
  TEXT=$text MATCH=$match WHERE=$where awk '
    !done && index($0, ENVIRON["MATCH"]) {
      if (ENVIRON["WHERE"] == "after") print
      print ENVIRON["TEXT"]
      if (ENVIRON["WHERE"] != "after") print
      done = 1; next
    }
    { print }' "$file" > "$file.kv-tmp"
  mv -f "$file.kv-tmp" "$file"
}

# The sample profile used by every variant: real nvhe functions, with counts on the lines that hold calls.
write_profile() {
  local out=$1 fn i
  : > "$out"
  for fn in handle_trap handle_host_hcall handle_host_smc __kvm_vcpu_run kvm_host_psci_handler \
            __pkvm_init __pkvm_prot_finalize host_stage2_idmap kvm_nvhe_prepare_backtrace \
            demo_hvc_handler; do
    echo "$fn:1000000:10000" >> "$out"
    for i in $(seq 0 199); do echo " $i: 10000" >> "$out"; done
  done
}

# Delete upstream form A (the line and its three-line comment), as scripts/build-nvhe.sh does.
drop_form_a() {
  local f=$1
  own "$f"
  sed -i '/-fprofile-sample-use=% -fprofile-use=%/d; /Starting from 13.0.0 llvm emits SHT_REL/d; /when profile optimization is applied. gen-hyprel/d; /causes a build failure. Remove profile optimization flags/d' "$f"
  if grep -q 'profile' "$f"; then die "could not delete form A from $f"; fi
}

# Split nvhe/Makefile into Makefile (hyp-obj-y lists, hyp.lds rule, include) + Makefile.nvhe (the rest).
split_android() {
  local tree=$1 mk=$1/$NVHE/Makefile
  local nv=$1/$NVHE/Makefile.nvhe
  # gen-hyprel becomes a tool of arch/arm64/tools, built by archprepare's `kapi` step.
  mv "$tree/$NVHE/gen-hyprel.c" "$tree/arch/arm64/tools/gen-hyprel.c"
  own "$tree/arch/arm64/tools/Makefile"
  cat >> "$tree/arch/arm64/tools/Makefile" <<'EOF'

# gen-hyprel (moved from arch/arm64/kvm/hyp/nvhe/): the nvhe pipeline and every pKVM hyp module run it
# as $(HYPREL) (see arch/arm64/kvm/hyp/nvhe/Makefile.nvhe).
hostprogs += gen-hyprel
HOST_EXTRACFLAGS += -I$(objtree)/include

kapi: $(obj)/gen-hyprel
EOF
  awk -v nv="$nv" -v mk="$mk.kv-split" '
    BEGIN {
      print "# SPDX-License-Identifier: GPL-2.0" > mk
      print "#" > mk
      print "# Makefile for Kernel-based Virtual Machine module, HYP/nVHE part: the objects." > mk
      print "# The build rules, flags and filters are in Makefile.nvhe, shared with the pKVM hyp modules." > mk
      print "#" > mk
    }
    /^hostprogs := gen-hyprel$/ { print "HYPREL := arch/arm64/tools/gen-hyprel" > nv; seen["hostprogs"]++; next }
    /^HOST_EXTRACFLAGS/ { next }
    /^lib-objs :=/ && !inlist { inlist = 1; print "" > mk }
    inlist { print > mk; if ($0 == "hyp-obj-y += $(lib-objs)") { inlist = 0; seen["lists"]++ }; next }
    /^obj-y := kvm_nvhe.o$/ { seen["obj-y"]++; next }
    /^# 2\) Compile linker script\.$/ { lds = 3; print "" > mk }
    lds > 0 { print > mk; lds--; if (lds == 0) { print "" > mk; seen["lds"]++; skipblank = 1 }; next }
    skipblank && /^$/ { skipblank = 0; next }
    { skipblank = 0 }
    /^\$\(obj\)\/hyp-reloc\.S: / { sub(/ \$\(obj\)\/gen-hyprel/, ""); seen["reloc"]++ }
    /cmd_hyprel = \$\(obj\)\/gen-hyprel / { sub(/\$\(obj\)\/gen-hyprel/, "$(HYPREL)"); seen["cmd"]++ }
    { print > nv }
    END {
      print "include $(srctree)/arch/arm64/kvm/hyp/nvhe/Makefile.nvhe" > mk
      print "obj-y := kvm_nvhe.o" > mk
      n = 0; for (k in seen) n++
      if (n != 6) { print "split: the 6.1 Makefile did not have the expected lines" > "/dev/stderr"; exit 1 }
    }' "$mk" > /dev/null
  # Makefile.nvhe is a new file; Makefile is replaced (not edited in place) so SRC keeps its copy.
  mv -f "$mk.kv-split" "$mk"
  add_module_shape "$tree"
}

# The pKVM hyp module shape: Makefile.module + module.lds.S beside Makefile.nvhe, and a demo module.
add_module_shape() {
  local tree=$1 m=$1/samples/pkvm-demo
  cat > "$tree/$NVHE/Makefile.module" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
#
# Included by the hyp/ Makefile of a pKVM hyp module (which sets hyp-obj-y): its EL2 code goes through
# the same pipeline as the kernel's nVHE object (Makefile.nvhe), linked with module.lds.S.
#

$(obj)/hyp.lds: arch/arm64/kvm/hyp/nvhe/module.lds.S FORCE
	$(call if_changed_dep,cpp_lds_S)

include $(srctree)/arch/arm64/kvm/hyp/nvhe/Makefile.nvhe

ccflags-y += -DMODULE
EOF
  cat > "$tree/$NVHE/module.lds.S" <<'EOF'
/* SPDX-License-Identifier: GPL-2.0 */
/* Linker script for a pKVM hyp module's EL2 object. No /DISCARD/. */
#include <asm/hyp_image.h>
#include <asm/page-def.h>

SECTIONS {
	.hyp.text : {
		HYP_SECTION_SYMBOL_NAME(.text) = .;
		*(.text .text.*)
	}
	.hyp.rodata : {
		HYP_SECTION_SYMBOL_NAME(.rodata) = .;
		*(.rodata .rodata.*)
	}
	.hyp.data : {
		HYP_SECTION_SYMBOL_NAME(.data) = .;
		*(.data .data.*)
	}
	.hyp.bss : {
		HYP_SECTION_SYMBOL_NAME(.bss) = .;
		*(.bss .bss.*)
	}
}
EOF
  mkdir -p "$m/hyp"
  cat > "$m/Kbuild" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
# A demo pKVM module: EL1 part pkvm-demo.o, EL2 part hyp/kvm_nvhe.o built by hyp/Makefile.
obj-m += pkvm-demo-module.o
pkvm-demo-module-y := pkvm-demo.o hyp/kvm_nvhe.o

$(obj)/hyp/kvm_nvhe.o: FORCE
	$(Q)$(MAKE) $(build)=$(obj)/hyp $(obj)/hyp/kvm_nvhe.o

clean-files := hyp/hyp.lds hyp/hyp-reloc.S
EOF
  cat > "$m/pkvm-demo.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>

static int __init pkvm_demo_init(void)
{
	return 0;
}
module_init(pkvm_demo_init);
MODULE_LICENSE("GPL");
EOF
  cat > "$m/hyp/Makefile" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
# EL2 part of the demo pKVM module.
hyp-obj-y := demo-hyp.o

include $(srctree)/arch/arm64/kvm/hyp/nvhe/Makefile.module
EOF
  cat > "$m/hyp/demo-hyp.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
/* EL2 code of the demo pKVM module: a function with calls, named in nvhe.prof. */
int demo_hvc_step(int x);
int demo_hvc_handler(int n);

noinline int demo_hvc_step(int x)
{
	return x * 3 + 1;
}

int demo_hvc_handler(int n)
{
	int i, s = 0;

	for (i = 0; i < n; i++)
		s += demo_hvc_step(i);
	return s;
}
EOF
}


# Linux 6.13's Kbuild AutoFDO, backported. $2 is the default of the per-object switch.
backport_autofdo() {
  local tree=$1 default=$2
  cat > "$tree/scripts/Makefile.autofdo" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
# Backport (for real-build tests) of Linux 6.13's scripts/Makefile.autofdo: Clang AutoFDO flags.

CFLAGS_AUTOFDO_CLANG := -fdebug-info-for-profiling -mllvm -enable-fs-discriminator=true \
	-mllvm -improved-fs-discriminator=true

ifndef CONFIG_DEBUG_INFO
  CFLAGS_AUTOFDO_CLANG += -gmlt
endif

# The profile is given on the make command line: make CLANG_AUTOFDO_PROFILE=...
ifdef CLANG_AUTOFDO_PROFILE
  CFLAGS_AUTOFDO_CLANG += -fprofile-sample-use=$(CLANG_AUTOFDO_PROFILE) -ffunction-sections
endif

export CFLAGS_AUTOFDO_CLANG
EOF
  insert_at "$tree/Makefile" 'include-$(CONFIG_GCC_PLUGINS)' before <<'EOF'
include-$(CONFIG_AUTOFDO_CLANG)	+= scripts/Makefile.autofdo
EOF
  insert_at "$tree/scripts/Makefile.lib" '# $(srctree)/$(src) for including checkin headers' before <<EOF
#
# AutoFDO (backport of Linux 6.13): CFLAGS_AUTOFDO_CLANG goes to _c_flags, not KBUILD_CFLAGS, for every
# object unless AUTOFDO_PROFILE_obj.o or AUTOFDO_PROFILE says n. Default here: $default
#
ifeq (\$(CONFIG_AUTOFDO_CLANG),y)
_c_flags += \$(if \$(patsubst n%,, \\
	\$(AUTOFDO_PROFILE_\$(target-stem).o)\$(AUTOFDO_PROFILE)$default), \\
	\$(CFLAGS_AUTOFDO_CLANG))
endif

EOF
  insert_at "$tree/scripts/Makefile.lib" 'part-of-module = ' before <<'EOF'
# If $(is-kernel-object) is 'y', this object will be linked to vmlinux or modules
is-kernel-object = $(or $(part-of-builtin),$(part-of-module))

part-of-builtin = $(if $(filter $(basename $@).o, $(real-obj-y) $(lib-y)),y)
EOF
  insert_at "$tree/arch/Kconfig" 'source "kernel/gcov/Kconfig"' before <<'EOF'
config AUTOFDO_CLANG
	bool "Enable Clang's AutoFDO build (backport of Linux 6.13, for tests)"
	depends on CC_IS_CLANG
	help
	  Builds with the sample profile given as CLANG_AUTOFDO_PROFILE on the
	  make command line (see scripts/Makefile.autofdo).

EOF
}

prepare_tree() {
  local variant=$1 src=${2:-} tree=$variants_dir/$1
  if [ -f "$tree/.kv-prepared" ] && [ "$(cat "$tree/.kv-prepared")" = "$stamp" ]; then return 0; fi
  [ -n "$src" ] || src=$(bash "$here/kernel-tree.sh" 6.1)
  [ -f "$src/$NVHE/Makefile" ] || die "$src is not a Linux source tree"
  grep -q 'SUBLEVEL' "$src/Makefile" && [ "$(sed -n 's/^PATCHLEVEL = //p' "$src/Makefile")" = 1 ] \
    && [ "$(sed -n 's/^VERSION = //p' "$src/Makefile")" = 6 ] || die "$src is not a 6.1 tree"
  mkdir -p "$variants_dir"
  rm -rf "$tree" "$tree.tmp"
  if [ "${KBD_VARIANT_COPY:-link}" = full ] || ! cp -al "$src" "$tree.tmp" 2>/dev/null; then
    rm -rf "$tree.tmp"; cp -a "$src" "$tree.tmp"
  fi
  rm -f "$tree.tmp/.extracted" "$tree.tmp/.config"
  local t=$tree.tmp
  case $variant in
    prefix) drop_form_a "$t/$NVHE/Makefile" ;;
    android-split) split_android "$t"; drop_form_a "$t/$NVHE/Makefile.nvhe" ;;
    autofdo-mainline) backport_autofdo "$t" '$(is-kernel-object)' ;;
    autofdo-y) backport_autofdo "$t" y ;;
  esac
  write_profile "$t/nvhe.prof"
  # shellcheck disable=SC2046
  make -C "$t" $(make_args) defconfig > "$t/.kv-prepare.log" 2>&1
  case $variant in
    autofdo-*)
      "$t/scripts/config" --file "$t/.config" --enable AUTOFDO_CLANG
      # shellcheck disable=SC2046
      make -C "$t" $(make_args) olddefconfig >> "$t/.kv-prepare.log" 2>&1
      grep -q '^CONFIG_AUTOFDO_CLANG=y$' "$t/.config" || die "CONFIG_AUTOFDO_CLANG=y did not stick";;
  esac
  # The variant's own state of the pipeline files, restored by every `prepare`.
  mkdir -p "$t/.kv-orig"
  cp "$t/$NVHE/Makefile" "$t/.kv-orig/Makefile"
  cp "$t/$NVHE/hyp.lds.S" "$t/.kv-orig/hyp.lds.S"
  [ ! -f "$t/$NVHE/Makefile.nvhe" ] || cp "$t/$NVHE/Makefile.nvhe" "$t/.kv-orig/Makefile.nvhe"
  mv "$t" "$tree"
  echo "$stamp" > "$tree/.kv-prepared"
}

clean_outputs() {
  local tree=$1
  rm -f "$tree/$NVHE"/*.o "$tree/$NVHE"/.*.o.cmd "$tree/$NVHE/hyp-reloc.S" "$tree/$NVHE/.hyp-reloc.S.cmd" \
        "$tree/$NVHE/../"*.nvhe.o "$tree/$NVHE/../".*.nvhe.o.cmd \
        "$tree/arch/arm64/lib/"*.nvhe.o "$tree/arch/arm64/lib/".*.nvhe.o.cmd
}

reset_tree() {
  local tree=$1
  for f in Makefile Makefile.nvhe; do
    [ ! -f "$tree/.kv-orig/$f" ] || { rm -f "$tree/$NVHE/$f"; cp "$tree/.kv-orig/$f" "$tree/$NVHE/$f"; }
  done
  # hyp.lds.S only when an edit changed it (a fresh copy would make the build's hyp.lds stale).
  [ ! -f "$tree/.kv-orig/hyp.lds.S" ] || cmp -s "$tree/.kv-orig/hyp.lds.S" "$tree/$NVHE/hyp.lds.S" \
    || { rm -f "$tree/$NVHE/hyp.lds.S"; cp "$tree/.kv-orig/hyp.lds.S" "$tree/$NVHE/hyp.lds.S"; }
  clean_outputs "$tree"
}

apply_form() {
  local f=$1 form=$2
  case $form in
    A)
      insert_at "$f" 'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)' after <<'EOF'
# Starting from 13.0.0 llvm emits SHT_REL section '.llvm.call-graph-profile'
# when profile optimization is applied. gen-hyprel does not support SHT_REL and
# causes a build failure. Remove profile optimization flags.
KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=% -fprofile-use=%, $(KBUILD_CFLAGS))
EOF
      ;;
    A-full)
      insert_at "$f" 'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)' after <<'EOF'
# Profile-use flags make clang emit .llvm.call-graph-profile with an SHT_REL
# relocation section, which gen-hyprel rejects. Remove every spelling.
KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=% -fauto-profile=% -fprofile-use=% \
	-fprofile-use -fprofile-instr-use=% -fprofile-instr-use, \
	$(KBUILD_CFLAGS))
EOF
      ;;
    noA) drop_form_a "$f" ;;
    B)
      grep -q 'cmd_hyprel = ' "$f" || die "$f: no cmd_hyprel"
      own "$f"
      sed -i 's/^\([[:space:]]*cmd_hyprel = \)\(.*\)$/\1$(OBJCOPY) -R .llvm.call-graph-profile $<; \2/' "$f"
      ;;
    C)
      insert_at "$f" 'KCOV_INSTRUMENT	:= n' after <<'EOF'
# LLVM's AutoFDO metadata uses a relocatable section which gen-hyprel cannot consume.
AUTOFDO_PROFILE	:= n
EOF
      ;;
    v1)
      insert_at "$f" 'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)' after <<'EOF'
KBUILD_CFLAGS += $(call cc-option,-fno-profile-sample-use,-fno-profile-use)
EOF
      ;;
    cc-ccflags)
      insert_at "$f" 'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)' after <<'EOF'
ccflags-y += $(call cc-option,-fno-profile-sample-use) $(call cc-option,-fno-profile-use)
EOF
      ;;
    cc-instr)
      insert_at "$f" 'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)' after <<'EOF'
KBUILD_CFLAGS += $(call cc-option,-fno-profile-instr-use)
EOF
      ;;
    lds-discard)
      local lds
      lds=$(dirname "$f")/hyp.lds.S
      grep -q '^SECTIONS {' "$lds" || die "$lds: no SECTIONS"
      grep -q '^}' "$lds" || die "$lds: no closing brace of SECTIONS"
      own "$lds"
      awk '{ lines[NR] = $0; if ($0 ~ /^}/) last = NR }
           END { for (i = 1; i <= NR; i++) {
                   if (i == last) { print ""; print "\t/DISCARD/ : { *(.llvm.call-graph-profile) }" }
                   print lines[i] } }' "$lds" > "$lds.kv-new" && mv -f "$lds.kv-new" "$lds"
      ;;
    *) die "unknown form '$form' (A, A-full, noA, B, C, v1, cc-ccflags, cc-instr, lds-discard)";;
  esac
}

cmd=${1:-}; [ -n "$cmd" ] || usage
shift
variant=${1:-}; [ -n "$variant" ] || usage
check_variant "$variant"
shift
tree=$variants_dir/$variant

case $cmd in
  path) echo "$tree" ;;
  pipeline) pipeline_file "$variant" "$tree" ;;
  prepare)
    prepare_tree "$variant" "${1:-}"
    reset_tree "$tree"
    echo "$tree" ;;
  edit)
    [ -f "$tree/.kv-prepared" ] || die "$variant is not prepared (run: $0 prepare $variant)"
    [ $# -gt 0 ] || die "edit: name at least one form"
    for form in "$@"; do apply_form "$(pipeline_file "$variant" "$tree")" "$form"; done ;;
  build)
    [ -f "$tree/.kv-prepared" ] || die "$variant is not prepared (run: $0 prepare $variant)"
    if [ $# -eq 0 ]; then
      case $variant in
        autofdo-*) set -- "CLANG_AUTOFDO_PROFILE=$tree/nvhe.prof" ;;
        *) set -- "KCFLAGS=-fprofile-sample-use=$tree/nvhe.prof" ;;
      esac
    fi
    clean_outputs "$tree"
    start=$(date +%s.%N)
    set +e
    # shellcheck disable=SC2046
    make -C "$tree" $(make_args) "$@" $NVHE/ > "$tree/.nvhe-build.log" 2>&1
    status=$?
    set -e
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    echo "$status" > "$tree/.nvhe-build.status"
    echo "$secs" > "$tree/.nvhe-build.time"
    echo "status=$status seconds=$secs"
    echo "$tree" ;;
  build-module)
    [ "$variant" = android-split ] || die "build-module: only android-split has the demo module"
    [ -f "$tree/.kv-prepared" ] || die "$variant is not prepared (run: $0 prepare $variant)"
    [ $# -gt 0 ] || set -- "KCFLAGS=-fprofile-sample-use=$tree/nvhe.prof"
    if [ ! -f "$tree/.kv-modules-prepared" ]; then
      # shellcheck disable=SC2046
      make -C "$tree" $(make_args) modules_prepare > "$tree/.kv-modules-prepare.log" 2>&1
      touch "$tree/.kv-modules-prepared"
    fi
    m=$tree/samples/pkvm-demo
    rm -f "$m"/*.o "$m"/*.ko "$m"/*.mod* "$m"/.*.cmd "$m"/Module.symvers "$m"/modules.order \
          "$m"/hyp/*.o "$m"/hyp/.*.cmd "$m"/hyp/hyp.lds "$m"/hyp/hyp-reloc.S
    start=$(date +%s.%N)
    set +e
    # shellcheck disable=SC2046
    make -C "$tree" $(make_args) "$@" KBUILD_MODPOST_WARN=1 M="$m" modules > "$tree/.module-build.log" 2>&1
    status=$?
    set -e
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    echo "$status" > "$tree/.module-build.status"
    echo "$secs" > "$tree/.module-build.time"
    echo "status=$status seconds=$secs"
    echo "$tree" ;;
  *) usage ;;
esac

