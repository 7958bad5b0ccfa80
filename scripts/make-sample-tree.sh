#!/usr/bin/env bash
# Regenerates test/fixtures/sample-kernel/: a tiny tree shaped like Linux 6.1's arm64 nVHE
# directory (in the pre-fix state: no profile filter-out line), plus an O= build directory
# `build/` holding what a failed `make O=build ... KCFLAGS=-fprofile-sample-use=...` leaves
# behind: real aarch64 objects made by clang-19 with a sample profile (so they carry
# `.llvm.call-graph-profile` + `.rel.llvm.call-graph-profile`), kvm_nvhe.tmp.o from
# `ld.lld-19 -r -T hyp.lds`, and the Kbuild `.cmd` files. There is no hyp-reloc.S: gen-hyprel
# failed on the SHT_REL section and make deleted its output.
#
#   bash scripts/make-sample-tree.sh [DEST]     (default: test/fixtures/sample-kernel)
#
# Needs clang-19 and ld.lld-19 (llvm-readelf-19 for the final check).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/test/fixtures/sample-kernel}
CC=${CC:-clang-19}
LD=${LD:-ld.lld-19}
READELF=${READELF:-llvm-readelf-19}
for tool in "$CC" "$LD" "$READELF"; do
  command -v "$tool" >/dev/null || { echo "make-sample-tree.sh: $tool not found (apt-get install clang-19 lld-19 llvm-19)" >&2; exit 2; }
done

rm -rf "$dest"
mkdir -p "$dest/scripts" "$dest/arch/arm64/kvm/hyp/nvhe" "$dest/build/arch/arm64/kvm/hyp/nvhe"
cd "$dest"
nvhe=arch/arm64/kvm/hyp/nvhe

# ---------------------------------------------------------------- source tree
cat > Makefile <<'EOF'
# SPDX-License-Identifier: GPL-2.0
# Sample top-level Makefile for the Kbuild Diagnostics fixture (a stand-in for Linux 6.1's).
VERSION = 6
PATCHLEVEL = 1
SUBLEVEL = 0
EXTRAVERSION = -sample
NAME = Hurr durr I'ma ninja sloth

# As in the real Makefile, the user's KCFLAGS end up in KBUILD_CFLAGS of every directory.
KBUILD_CFLAGS += $(KCFLAGS)
EOF

cat > Kbuild <<'EOF'
# SPDX-License-Identifier: GPL-2.0
#
# Kbuild for top level directory of the kernel (sample)

obj-y += arch/arm64/kvm/hyp/nvhe/
EOF

cat > scripts/Kbuild.include <<'EOF'
# SPDX-License-Identifier: GPL-2.0
# Stub of scripts/Kbuild.include: the real file defines if_changed, if_changed_dep,
# if_changed_rule, cc-option, filechk and the other helpers that Makefiles $(call ...).
# Its presence is one of the markers of a kernel tree.
EOF

cat > nvhe.prof <<'EOF'
handle_trap:1000000:10000
 0: 10000
 1: 10000
 2: 10000
 3: 10000
 4: 10000 handle_host_hcall:10000
 5: 10000
handle_host_hcall:800000:10000
 0: 10000
 1: 10000
 2: 10000 __kvm_vcpu_run:10000
 3: 10000 __kvm_flush_vm_context:5000
 4: 10000
__kvm_vcpu_run:900000:10000
 0: 10000
 1: 10000 __sysreg_save_state_nvhe:10000
 2: 10000
 3: 10000 __sysreg_restore_state_nvhe:10000
 4: 10000
 5: 10000
__kvm_flush_vm_context:200000:5000
 0: 5000
 1: 5000 __tlb_sync:5000
 2: 5000
__sysreg_save_state_nvhe:300000:10000
 0: 10000
 1: 10000
__sysreg_restore_state_nvhe:300000:10000
 0: 10000
 1: 10000
EOF

cat > $nvhe/hyp.h <<'EOF'
/* SPDX-License-Identifier: GPL-2.0-only */
/* Prototypes shared by the sample nVHE hyp objects. */
#ifndef __SAMPLE_NVHE_HYP_H__
#define __SAMPLE_NVHE_HYP_H__

struct kvm_cpu_context {
	unsigned long regs[31];
	unsigned long sys_regs[8];
};

struct kvm_vcpu {
	struct kvm_cpu_context ctxt;
	unsigned long vmid;
};

int __kvm_vcpu_run(struct kvm_vcpu *vcpu);
void __kvm_flush_vm_context(void);
void __kvm_tlb_flush_vmid(unsigned long vmid);
void __tlb_sync(void);
void __sysreg_save_state_nvhe(struct kvm_cpu_context *ctxt);
void __sysreg_restore_state_nvhe(struct kvm_cpu_context *ctxt);
void handle_trap(struct kvm_cpu_context *host_ctxt);

#endif /* __SAMPLE_NVHE_HYP_H__ */
EOF

cat > $nvhe/hyp-main.c <<'EOF'
// SPDX-License-Identifier: GPL-2.0-only
/* Sample of arch/arm64/kvm/hyp/nvhe/hyp-main.c: host hypercall dispatch. */
#include "hyp.h"

static struct kvm_vcpu host_vcpu;

static __attribute__((noinline)) void handle_host_hcall(struct kvm_cpu_context *host_ctxt)
{
	unsigned long id = host_ctxt->regs[0];

	if (id == 1)
		host_ctxt->regs[1] = __kvm_vcpu_run(&host_vcpu);
	else if (id == 2)
		__kvm_flush_vm_context();
	else
		host_ctxt->regs[1] = -1UL;
}

void handle_trap(struct kvm_cpu_context *host_ctxt)
{
	unsigned long esr = host_ctxt->sys_regs[0];

	if ((esr >> 26) == 0x16)
		handle_host_hcall(host_ctxt);
	else
		host_ctxt->regs[0] = esr;
}
EOF

cat > $nvhe/switch.c <<'EOF'
// SPDX-License-Identifier: GPL-2.0-only
/* Sample of arch/arm64/kvm/hyp/nvhe/switch.c: the world switch. */
#include "hyp.h"

static struct kvm_cpu_context host_ctxt;

int __kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	int exit_code = 0;

	__sysreg_save_state_nvhe(&host_ctxt);
	__kvm_tlb_flush_vmid(vcpu->vmid);
	do {
		exit_code++;
	} while (vcpu->ctxt.regs[exit_code & 7] && exit_code < 16);
	__sysreg_restore_state_nvhe(&host_ctxt);
	return exit_code;
}
EOF

cat > $nvhe/tlb.c <<'EOF'
// SPDX-License-Identifier: GPL-2.0-only
/* Sample of arch/arm64/kvm/hyp/nvhe/tlb.c: TLB maintenance. */
#include "hyp.h"

static unsigned long tlb_generation;

__attribute__((noinline)) void __tlb_sync(void)
{
	__asm__ __volatile__("dsb ish" ::: "memory");
}

void __kvm_tlb_flush_vmid(unsigned long vmid)
{
	tlb_generation += vmid;
	__tlb_sync();
}

void __kvm_flush_vm_context(void)
{
	tlb_generation++;
	__tlb_sync();
}
EOF

cat > $nvhe/sysreg-sr.c <<'EOF'
// SPDX-License-Identifier: GPL-2.0-only
/* Sample of arch/arm64/kvm/hyp/nvhe/sysreg-sr.c: save/restore of EL1 system registers. */
#include "hyp.h"

static unsigned long saved[8];

void __sysreg_save_state_nvhe(struct kvm_cpu_context *ctxt)
{
	for (int i = 0; i < 8; i++)
		saved[i] = ctxt->sys_regs[i];
}

void __sysreg_restore_state_nvhe(struct kvm_cpu_context *ctxt)
{
	for (int i = 0; i < 8; i++)
		ctxt->sys_regs[i] = saved[i];
}
EOF

cat > $nvhe/hyp.lds.S <<'EOF'
/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sample of arch/arm64/kvm/hyp/nvhe/hyp.lds.S.
 *
 * Linker script used for partial linking of nVHE EL2 object files.
 * Like the real one it only lists `.hyp.*` output sections and has no /DISCARD/,
 * so every other input section (.llvm.call-graph-profile too) passes through `ld -r`.
 * The real one takes these helpers from <asm/hyp_image.h>.
 */

#define HYP_SECTION_NAME(NAME)	.hyp##NAME
#define HYP_SECTION_SYMBOL_NAME(NAME)	__hyp_section_##NAME

#define BEGIN_HYP_SECTION(NAME)				\
	HYP_SECTION_NAME(NAME) : {			\
		HYP_SECTION_SYMBOL_NAME(NAME) = .;

#define END_HYP_SECTION					\
	}

#define HYP_SECTION(NAME)			\
	BEGIN_HYP_SECTION(NAME)			\
		*(NAME NAME##.*)		\
	END_HYP_SECTION

SECTIONS {
	HYP_SECTION(.idmap.text)
	HYP_SECTION(.text)
	HYP_SECTION(.data..ro_after_init)
	HYP_SECTION(.rodata)

	/*
	 * .hyp..data..percpu needs to be page aligned to maintain the same
	 * alignment for when linking into vmlinux.
	 */
	. = ALIGN(4096);
	BEGIN_HYP_SECTION(.data..percpu)
		*(.data..percpu)
	END_HYP_SECTION
	HYP_SECTION(.bss)
}
EOF

# Linux 6.1's nvhe Makefile, trimmed to the sample's objects, without the profile
# filter-out line and its comment (the state before commit bde971a83bbf).
cat > $nvhe/Makefile <<'EOF'
# SPDX-License-Identifier: GPL-2.0
#
# Makefile for Kernel-based Virtual Machine module, HYP/nVHE part
#

asflags-y := -D__KVM_NVHE_HYPERVISOR__ -D__DISABLE_EXPORTS

# Tracepoint and MMIO logging symbols should not be visible at nVHE KVM as
# there is no way to execute them and any such MMIO access from nVHE KVM
# will explode instantly (Words of Marc Zyngier). So introduce a generic flag
# __DISABLE_TRACE_MMIO__ to disable MMIO tracing for nVHE KVM.
ccflags-y := -D__KVM_NVHE_HYPERVISOR__ -D__DISABLE_EXPORTS -D__DISABLE_TRACE_MMIO__
ccflags-y += -fno-stack-protector	\
	     -DDISABLE_BRANCH_PROFILING	\
	     $(DISABLE_STACKLEAK_PLUGIN)

hostprogs := gen-hyprel
HOST_EXTRACFLAGS += -I$(objtree)/include

hyp-obj-y := sysreg-sr.o switch.o tlb.o hyp-main.o

##
## Build rules for compiling nVHE hyp code
## Output of this folder is `kvm_nvhe.o`, a partially linked object
## file containing all nVHE hyp code and data.
##

hyp-obj := $(patsubst %.o,%.nvhe.o,$(hyp-obj-y))
obj-y := kvm_nvhe.o
targets += $(hyp-obj) kvm_nvhe.tmp.o kvm_nvhe.rel.o hyp.lds hyp-reloc.S hyp-reloc.o

# 1) Compile all source files to `.nvhe.o` object files. The file extension
#    avoids file name clashes for files shared with VHE.
$(obj)/%.nvhe.o: $(src)/%.c FORCE
	$(call if_changed_rule,cc_o_c)
$(obj)/%.nvhe.o: $(src)/%.S FORCE
	$(call if_changed_rule,as_o_S)

# 2) Compile linker script.
$(obj)/hyp.lds: $(src)/hyp.lds.S FORCE
	$(call if_changed_dep,cpp_lds_S)

# 3) Partially link all '.nvhe.o' files and apply the linker script.
#    Prefixes names of ELF sections with '.hyp', eg. '.hyp.text'.
#    Note: The following rule assumes that the 'ld' rule puts LDFLAGS before
#          the list of dependencies to form '-T $(obj)/hyp.lds'. This is to
#          keep the dependency on the target while avoiding an error from
#          GNU ld if the linker script is passed to it twice.
LDFLAGS_kvm_nvhe.tmp.o := -r -T
$(obj)/kvm_nvhe.tmp.o: $(obj)/hyp.lds $(addprefix $(obj)/,$(hyp-obj)) FORCE
	$(call if_changed,ld)

# 4) Generate list of hyp code/data positions that need to be relocated at
#    runtime. Because the hypervisor is part of the kernel binary, relocations
#    produce a kernel VA. We enumerate relocations targeting hyp at build time
#    and convert the kernel VAs at those positions to hyp VAs.
$(obj)/hyp-reloc.S: $(obj)/kvm_nvhe.tmp.o $(obj)/gen-hyprel FORCE
	$(call if_changed,hyprel)

# 5) Compile hyp-reloc.S and link it into the existing partially linked object.
#    The object file now contains a section with pointers to hyp positions that
#    will contain kernel VAs at runtime. These pointers have relocations on them
#    so that they get updated as the hyp object is linked into `vmlinux`.
LDFLAGS_kvm_nvhe.rel.o := -r
$(obj)/kvm_nvhe.rel.o: $(obj)/kvm_nvhe.tmp.o $(obj)/hyp-reloc.o FORCE
	$(call if_changed,ld)

# 6) Produce the final 'kvm_nvhe.o', ready to be linked into 'vmlinux'.
#    Prefixes names of ELF symbols with '__kvm_nvhe_'.
$(obj)/kvm_nvhe.o: $(obj)/kvm_nvhe.rel.o FORCE
	$(call if_changed,hypcopy)

# The HYPREL command calls `gen-hyprel` to generate an assembly file with
# a list of relocations targeting hyp code/data.
quiet_cmd_hyprel = HYPREL  $@
      cmd_hyprel = $(obj)/gen-hyprel $< > $@

# The HYPCOPY command uses `objcopy` to prefix all ELF symbol names
# to avoid clashes with VHE code/data.
quiet_cmd_hypcopy = HYPCOPY $@
      cmd_hypcopy = $(OBJCOPY) --prefix-symbols=__kvm_nvhe_ $< $@

# Remove ftrace, Shadow Call Stack, and CFI CFLAGS.
# This is equivalent to the 'notrace', '__noscs', and '__nocfi' annotations.
KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE) $(CC_FLAGS_SCS) $(CC_FLAGS_CFI), $(KBUILD_CFLAGS))

# KVM nVHE code is run at a different exception code with a different map, so
# compiler instrumentation that inserts callbacks or checks into the code may
# cause crashes. Just disable it.
GCOV_PROFILE	:= n
KASAN_SANITIZE	:= n
KCSAN_SANITIZE	:= n
UBSAN_SANITIZE	:= n
KCOV_INSTRUMENT	:= n

# Skip objtool checking for this directory because nVHE code is compiled with
# non-standard build rules.
OBJECT_FILES_NON_STANDARD := y
EOF

# ---------------------------------------------------------------- O= build directory
# What `make O=build` writes at the top of the output directory.
ln -s .. build/source
cat > build/Makefile <<'EOF'
# Automatically generated by ../Makefile: don't edit
include ../Makefile
EOF

# Everything below runs from the build directory, like make does, so the commands recorded
# in the .cmd files are exactly the ones that ran.
cd build
objs=(sysreg-sr switch tlb hyp-main)

# deps_ block of a .cmd file from the compiler's -MMD output (what scripts/basic/fixdep does).
write_deps() { # target depfile source
  local target=$1 depfile=$2 src=$3
  echo "source_$target := $src"
  echo
  echo "deps_$target := \\"
  sed -e '1s/^[^:]*://' -e 's/\\$//' "$depfile" | tr ' ' '\n' | { grep -v -e '^$' -e "^$src\$" || true; } | sed 's/^/  /; s/$/ \\/'
  echo
  echo "$target: \$(deps_$target)"
  echo
  echo "\$(deps_$target):"
  rm -f "$depfile"
}

# 2) hyp.lds (cmd_cpp_lds_S)
t=$nvhe/hyp.lds
cmd="$CC -E -Wp,-MMD,$nvhe/.hyp.lds.d -nostdinc --target=aarch64-linux-gnu -P -Uarm64 -D__ASSEMBLY__ -DLINKER_SCRIPT -o $t ../$nvhe/hyp.lds.S"
eval "$cmd"
{ echo "savedcmd_$t := $cmd"; echo; write_deps "$t" "$nvhe/.hyp.lds.d" "../$nvhe/hyp.lds.S"; } > "$nvhe/.hyp.lds.cmd"

# 1) *.nvhe.o (rule_cc_o_c) with the user's KCFLAGS=-fprofile-sample-use=... reaching the compiler
for o in "${objs[@]}"; do
  t=$nvhe/$o.nvhe.o
  cmd="$CC -Wp,-MMD,$nvhe/.$o.nvhe.o.d -nostdinc -I../$nvhe --target=aarch64-linux-gnu -fintegrated-as -D__KERNEL__ -std=gnu11 -fno-common -fno-PIE -mgeneral-regs-only -O2 -fno-stack-protector -D__KVM_NVHE_HYPERVISOR__ -D__DISABLE_EXPORTS -D__DISABLE_TRACE_MMIO__ -DDISABLE_BRANCH_PROFILING -fprofile-sample-use=../nvhe.prof -DKBUILD_MODFILE='\"arch/arm64/kvm/hyp/nvhe/$o.nvhe\"' -DKBUILD_BASENAME='\"$o.nvhe\"' -DKBUILD_MODNAME='\"$o.nvhe\"' -D__KBUILD_MODNAME=kmod_${o//-/_}.nvhe -c -o $t ../$nvhe/$o.c"
  eval "$cmd"
  { echo "savedcmd_$t := $cmd"; echo; write_deps "$t" "$nvhe/.$o.nvhe.o.d" "../$nvhe/$o.c"; } > "$nvhe/.$o.nvhe.o.cmd"
done

# 3) kvm_nvhe.tmp.o (cmd_ld with LDFLAGS_kvm_nvhe.tmp.o := -r -T)
t=$nvhe/kvm_nvhe.tmp.o
cmd="$LD -EL -maarch64elf -z norelro -z noexecstack -r -T $nvhe/hyp.lds"
for o in "${objs[@]}"; do cmd+=" $nvhe/$o.nvhe.o"; done
cmd+=" -o $t"
eval "$cmd"
printf 'savedcmd_%s := %s\n' "$t" "$cmd" > "$nvhe/.kvm_nvhe.tmp.o.cmd"

# 4) gen-hyprel failed here:
#    error: arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"
#    and make deleted hyp-reloc.S, so neither it nor .hyp-reloc.S.cmd exists.

# ---------------------------------------------------------------- check
if ! "$READELF" -S "$nvhe/kvm_nvhe.tmp.o" | grep -Eq '\.rel\.llvm\.call-graph-profile +REL '; then
  echo "make-sample-tree.sh: kvm_nvhe.tmp.o has no SHT_REL .rel.llvm.call-graph-profile:" >&2
  "$READELF" -S "$nvhe/kvm_nvhe.tmp.o" >&2
  exit 1
fi
for o in switch tlb hyp-main; do   # sysreg-sr.c makes no calls, so it has no call graph
  "$READELF" -S "$nvhe/$o.nvhe.o" | grep -q '\.llvm\.call-graph-profile' || { echo "make-sample-tree.sh: $o.nvhe.o has no .llvm.call-graph-profile" >&2; exit 1; }
done
echo "sample tree written to $dest ($(du -sk "$dest" | cut -f1) KB)"
