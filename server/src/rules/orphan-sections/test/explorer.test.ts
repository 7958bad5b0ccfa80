// The rule's explorer part on a small tree written here (Linux 6.12's vDSO shape: the link runs
// cmd_ld with --orphan-handling, a pattern rule objcopies `%.so.dbg` to `%.so`): the stages go
// objects -> link output -> its objcopy, and the finding reports the link (script, inputs, level).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../../../analysis';
import { BuildReader } from '../../../kbuild/buildModel';
import { orphanSections } from '..';

test('stages: the link inputs, the link output and what a pattern rule objcopies from it; the link is reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-orphan-explorer-'));
  try {
    mkdirSync(join(dir, 'scripts'));
    writeFileSync(join(dir, 'scripts', 'Kbuild.include'), '');
    writeFileSync(join(dir, 'Makefile'), 'LD = $(CROSS_COMPILE)ld\nOBJCOPY = $(CROSS_COMPILE)objcopy\n');
    writeFileSync(
      join(dir, 'scripts', 'Makefile.lib'),
      [
        'ld_flags       = $(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))',
        '      cmd_ld = $(LD) $(ld_flags) $(real-prereqs) -o $@',
        '      cmd_objcopy = $(OBJCOPY) $(OBJCOPYFLAGS) $(OBJCOPYFLAGS_$(@F)) $< $@',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'lib', 'v'), { recursive: true });
    const makefile = [
      'ccflags-y += -fstack-size-section',
      'ldflags-y := -shared --orphan-handling=error -T',
      '$(obj)/v.so.dbg: $(obj)/v.lds $(obj)/a.o $(obj)/b.o FORCE',
      '\t$(call if_changed,ld)',
      '$(obj)/%.so: OBJCOPYFLAGS := -S',
      '$(obj)/%.so: $(obj)/%.so.dbg FORCE',
      '\t$(call if_changed,objcopy)',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'lib', 'v', 'Makefile'), makefile);
    writeFileSync(join(dir, 'lib', 'v', 'v.lds'), 'SECTIONS {\n  .text : { *(.text*) }\n}\n');
    const a = await analyzeFile(join(dir, 'lib', 'v', 'Makefile'), makefile, {
      rules: [orphanSections],
      reader: new BuildReader(),
      docsDir: '/nonexistent',
      useBuild: false,
    });
    const f = a.findings.get('orphan-sections');
    assert.ok(f, 'the rule applies');
    assert.deepEqual(
      f.objects.map((o) => `${o.path}:${o.stage}`),
      [
        'lib/v/a.o:orphan-link-input',
        'lib/v/b.o:orphan-link-input',
        'lib/v/v.so.dbg:orphan-link-output',
        'lib/v/v.so:orphan-link-copy',
      ],
    );
    assert.deepEqual(f.links, [
      {
        output: 'lib/v/v.so.dbg',
        script: 'lib/v/v.lds',
        inputs: ['lib/v/a.o', 'lib/v/b.o'],
        relocatable: false,
        orphanHandling: 'error',
      },
    ]);
    const stages = orphanSections.explorer?.stages.map((s) => `${s.id}>${s.next ?? ''}`);
    assert.deepEqual(stages, [
      'orphan-link-input>orphan-link-output',
      'orphan-link-output>orphan-link-copy',
      'orphan-link-copy>',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
