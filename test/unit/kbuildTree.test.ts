// The tree's Kbuild as the server reads it (server/src/kbuild/kbuildTree.ts), on layouts that real
// trees have: a top Makefile whose body sits behind the sub-make tests (Linux 6.1 and 6.12 shapes),
// and a .config changed after the last build (auto.conf not regenerated yet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKbuildTree } from '../../server/src/kbuild/kbuildTree';

// The lines of Linux 6.1's top Makefile that decide whether make reads its body (shortened).
const TOP_6_1 = `VERSION = 6
PATCHLEVEL = 1
ifneq ($(sub_make_done),1)
ifeq ("$(origin O)", "command line")
  KBUILD_OUTPUT := $(O)
endif
ifneq ($(KBUILD_OUTPUT),)
abs_objtree := $(shell mkdir -p $(KBUILD_OUTPUT) && cd $(KBUILD_OUTPUT) && pwd)
else
abs_objtree := $(CURDIR)
endif
ifeq ($(abs_objtree),$(CURDIR))
MAKEFLAGS += --no-print-directory
else
need-sub-make := 1
endif
export sub_make_done := 1
ifeq ($(need-sub-make),1)
__sub-make:
\t$(Q)$(MAKE) -C $(abs_objtree) -f $(abs_srctree)/Makefile $(MAKECMDGOALS)
endif
endif
ifeq ($(need-sub-make),)
config-build :=
ifneq ($(filter %config,$(MAKECMDGOALS)),)
config-build := 1
endif
ifdef config-build
include $(srctree)/arch/$(SRCARCH)/Makefile
else
include-y := scripts/Makefile.extrawarn
include-$(CONFIG_AUTOFDO_CLANG) += scripts/Makefile.autofdo
include $(addprefix $(srctree)/, $(include-y))
endif
endif # need-sub-make
`;

// Linux 6.12 moved the sub-make tests out of the sub_make_done block, and computes abs_srctree and
// abs_objtree in every invocation, srctree from them ($(realpath) is not evaluated here).
const TOP_6_12 = `VERSION = 6
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
ifeq ($(filter --no-print-directory, $(MAKEFLAGS)),)
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
include-y := scripts/Makefile.extrawarn
include-$(CONFIG_AUTOFDO_CLANG) += scripts/Makefile.autofdo
include $(addprefix $(srctree)/, $(include-y))
endif
`;

function tree(top: string): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-kt-')));
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'include', 'config'), { recursive: true });
  writeFileSync(join(root, 'Makefile'), top);
  writeFileSync(join(root, 'scripts', 'Makefile.lib'), '_c_flags = $(KBUILD_CFLAGS) $(ccflags-y)\n');
  writeFileSync(join(root, 'scripts', 'Makefile.extrawarn'), 'KBUILD_CFLAGS += -Wall\n');
  writeFileSync(
    join(root, 'scripts', 'Makefile.autofdo'),
    'CFLAGS_AUTOFDO_CLANG := -fprofile-sample-use=$(CLANG_AUTOFDO_PROFILE)\n',
  );
  return root;
}

for (const [name, top] of [
  ['6.1', TOP_6_1],
  ['6.12', TOP_6_12],
] as const) {
  test(`a ${name}-shaped top Makefile: its scripts are read as the final make invocation reads them`, () => {
    const root = tree(top);
    try {
      writeFileSync(join(root, '.config'), 'CONFIG_AUTOFDO_CLANG=y\n');
      const t = loadKbuildTree(root);
      assert.ok(t);
      assert.deepEqual(
        t.prelude.map((p) => p.file),
        [join(root, 'scripts', 'Makefile.extrawarn'), join(root, 'scripts', 'Makefile.autofdo')],
      );
      assert.ok(t.inputs.includes('CLANG_AUTOFDO_PROFILE'), 'the profile given on the command line stays unknown');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('a .config newer than auto.conf is the configuration (the next build regenerates auto.conf from it)', () => {
  const root = tree(TOP_6_1);
  try {
    const autoConf = join(root, 'include', 'config', 'auto.conf');
    const dotConfig = join(root, '.config');
    writeFileSync(autoConf, 'CONFIG_KVM=y\n');
    writeFileSync(dotConfig, 'CONFIG_KVM=y\nCONFIG_AUTOFDO_CLANG=y\n');
    // `scripts/config --enable AUTOFDO_CLANG && make olddefconfig` after the last build.
    utimesSync(autoConf, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    utimesSync(dotConfig, new Date(1_700_000_100_000), new Date(1_700_000_100_000));
    let t = loadKbuildTree(root);
    assert.equal(t?.configSource, dotConfig);
    assert.equal(t?.config.CONFIG_AUTOFDO_CLANG, 'y');
    assert.ok(t?.prelude.some((p) => p.file.endsWith('Makefile.autofdo')));
    // After the build, auto.conf is the newer one again: it wins.
    writeFileSync(autoConf, 'CONFIG_KVM=y\n');
    utimesSync(autoConf, new Date(1_700_000_200_000), new Date(1_700_000_200_000));
    t = loadKbuildTree(root);
    assert.equal(t?.configSource, autoConf);
    assert.equal(t?.config.CONFIG_AUTOFDO_CLANG, undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
