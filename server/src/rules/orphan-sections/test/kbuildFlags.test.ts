// The rule where the tree's own Kbuild adds the flag, on a small tree shaped like Linux 6.12 with 6.13's
// Propeller lines (the shape scripts/prepare-propeller-tree.sh makes of a real tree; its real builds are
// test/kernel/vdsoPropeller.test.ts): the top Makefile computes abs_srctree with $(realpath) and
// includes scripts/Makefile.propeller under CONFIG_PROPELLER_CLANG, whose flag scripts/Makefile.lib's
// _c_flags block gives every object (default y). Judged from the Makefiles alone: one line per object
// and section (Makefile.propeller's unknown `ifdef CLANG_PROPELLER_PROFILE_PREFIX` read both ways does
// not make two), the block's switch is the fix, and another arch's directory is not this build's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { analyzeFile, AnalysisCache, buildAccessFor, makefileContext } from '../../../analysis';
import { BuildReader } from '../../../kbuild/buildModel';
import { applyEdits } from '../../../make/edits';
import { orphanSections } from '..';
import { predictedOrphanLines } from '../../../../../test/helpers/kernelBuild';

const TOP = `VERSION = 6
PATCHLEVEL = 12
this-makefile := $(lastword $(MAKEFILE_LIST))
abs_srctree := $(realpath $(dir $(this-makefile)))
abs_objtree := $(CURDIR)
ifneq ($(sub_make_done),1)
export sub_make_done := 1
endif
ifeq ($(abs_objtree),$(CURDIR))
no-print-directory := --no-print-directory
else
need-sub-make := 1
endif
ifeq ($(need-sub-make),1)
__sub-make:
\t$(Q)$(MAKE) $(no-print-directory) -C $(abs_objtree) -f $(abs_srctree)/Makefile $(MAKECMDGOALS)
else
ifeq ($(abs_srctree),$(abs_objtree))
        srctree := .
else
        srctree := $(abs_srctree)
endif
LD = $(CROSS_COMPILE)ld
include-y := scripts/Makefile.extrawarn
include-$(CONFIG_PROPELLER_CLANG) += scripts/Makefile.propeller
include $(addprefix $(srctree)/, $(include-y))
endif
`;

const PROPELLER = `ifdef CLANG_PROPELLER_PROFILE_PREFIX
  CFLAGS_PROPELLER_CLANG := -fbasic-block-sections=list=$(CLANG_PROPELLER_PROFILE_PREFIX)_cc_profile.txt -ffunction-sections
else
  CFLAGS_PROPELLER_CLANG := -fbasic-block-sections=labels
endif
export CFLAGS_PROPELLER_CLANG
`;

const LIB = `_c_flags = $(filter-out $(CFLAGS_REMOVE_$(target-stem).o), \\
	$(filter-out $(ccflags-remove-y), $(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) $(ccflags-y)) \\
	$(CFLAGS_$(target-stem).o))
ifdef CONFIG_PROPELLER_CLANG
_c_flags += $(if $(patsubst n%,, \\
	$(PROPELLER_PROFILE_$(target-stem).o)$(PROPELLER_PROFILE)y), \\
	$(CFLAGS_PROPELLER_CLANG))
endif
ld_flags       = $(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))
quiet_cmd_ld = LD      $@
      cmd_ld = $(LD) $(ld_flags) $(real-prereqs) -o $@
`;

const DIRECTORY = [
  'REMOVE_X := -pg',
  'CFLAGS_REMOVE_a.o = $(REMOVE_X)',
  'CFLAGS_REMOVE_b.o = $(REMOVE_X)',
  'ldflags-y := -shared --orphan-handling=$(CONFIG_LD_ORPHAN_WARN_LEVEL) -T',
  '$(obj)/t.so: $(obj)/t.lds $(obj)/a.o $(obj)/b.o FORCE',
  '\t$(call if_changed,ld)',
  '',
].join('\n');

const SCRIPT = 'SECTIONS {\n  .text : { *(.text*) }\n  .data : { *(.data*) }\n}\n';

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** The tree, its directory Makefile at `objDir`, the rule's diagnostics there and its remove-flag fix. */
async function judge(objDir: string) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-orphan-kbuild-')));
  try {
    write(join(root, 'Makefile'), TOP);
    write(join(root, 'scripts', 'Kbuild.include'), '');
    write(join(root, 'scripts', 'Makefile.extrawarn'), 'KBUILD_CFLAGS += -Wall\n');
    write(join(root, 'scripts', 'Makefile.propeller'), PROPELLER);
    write(join(root, 'scripts', 'Makefile.lib'), LIB);
    write(
      join(root, '.config'),
      'CONFIG_ARM64=y\nCONFIG_CC_IS_CLANG=y\nCONFIG_PROPELLER_CLANG=y\nCONFIG_LD_ORPHAN_WARN_LEVEL="error"\n',
    );
    const file = join(root, objDir, 'Makefile');
    write(file, DIRECTORY);
    write(join(root, objDir, 't.lds'), SCRIPT);
    const opts = { rules: [orphanSections], reader: new BuildReader(), docsDir: '/nonexistent', useBuild: false };
    const a = await analyzeFile(file, DIRECTORY, opts);
    const access = buildAccessFor(root, objDir, { reader: new BuildReader(), useBuild: false }, new AnalysisCache());
    const fix = await orphanSections.fix(makefileContext(file, DIRECTORY, root), 'remove-flag', access.build);
    const after = fix ? await analyzeFile(file, applyEdits(DIRECTORY, fix.edits), opts) : undefined;
    const mine = (ds: typeof a.diagnostics | undefined) => (ds ?? []).filter((d) => d.code === 'orphan-sections');
    return { ds: mine(a.diagnostics), fix, after: after && mine(after.diagnostics) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("the flag the tree's own Kbuild adds: one error line per object and section, the block's switch as the fix", async () => {
  const { ds, fix, after } = await judge('arch/arm64/kernel/x');
  assert.equal(ds.length, 1, JSON.stringify(ds));
  assert.equal(ds[0].severity, 1, 'CONFIG_LD_ORPHAN_WARN_LEVEL="error"');
  assert.deepEqual(predictedOrphanLines(String(ds[0].message)), [
    "arch/arm64/kernel/x/a.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'",
    "arch/arm64/kernel/x/b.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'",
  ]);
  assert.match(String(ds[0].message), /-fbasic-block-sections=labels makes it\./);
  // The block appends the flag after the remove lists: only its switch keeps it off.
  assert.ok(fix);
  assert.match(fix.newText, /^PROPELLER_PROFILE := n$/m);
  assert.doesNotMatch(fix.newText, /REMOVE_X \+=|CFLAGS_REMOVE_a\.o \+=/);
  assert.deepEqual(after, []);
});

test("another arch's directory: this configuration's build links nothing there, nothing is said", async () => {
  const { ds, fix } = await judge('arch/s390/boot');
  assert.deepEqual(ds, []);
  assert.equal(fix, undefined);
});
