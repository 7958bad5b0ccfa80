// The rule on small trees written here, judged from the flags alone (no build directory): a flag the
// Makefile adds whose section the script does not place is a finding at the link's level; a script
// that places or discards it, or no such flag, is nothing; the fix, re-analyzed, clears it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, AnalysisCache, buildAccessFor, makefileContext } from '../../../analysis';
import { BuildReader } from '../../../kbuild/buildModel';
import { applyEdits } from '../../../make/edits';
import { orphanSections } from '..';

const LINK = ['$(obj)/t.so: $(obj)/t.lds $(obj)/a.o $(obj)/b.o FORCE', '\t$(call if_changed,ld)', ''];

function tree(makefile: string[], script: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-orphan-'));
  mkdirSync(join(dir, 'scripts'));
  writeFileSync(join(dir, 'scripts', 'Kbuild.include'), '');
  // The top Makefile sets the tools (not evaluated: $(LD) stays unknown, as in a real tree).
  writeFileSync(join(dir, 'Makefile'), 'LD = $(CROSS_COMPILE)ld\n');
  // The link lines of Linux 6.12's scripts/Makefile.lib (the tree's own Kbuild is read).
  writeFileSync(
    join(dir, 'scripts', 'Makefile.lib'),
    'ld_flags       = $(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))\nquiet_cmd_ld = LD      $@\n      cmd_ld = $(LD) $(ld_flags) $(real-prereqs) -o $@\n',
  );
  mkdirSync(join(dir, 'lib', 'x'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'x', 'Makefile'), makefile.join('\n'));
  writeFileSync(join(dir, 'lib', 'x', 't.lds'), script);
  return { dir, file: join(dir, 'lib', 'x', 'Makefile') };
}

async function judge(makefile: string[], script: string) {
  const t = tree(makefile, script);
  try {
    const text = makefile.join('\n');
    const a = await analyzeFile(t.file, text, {
      rules: [orphanSections],
      reader: new BuildReader(),
      docsDir: '/nonexistent',
      useBuild: false,
    });
    const ctx = makefileContext(t.file, text, t.dir);
    const fix = await orphanSections.fix(
      ctx,
      'remove-flag',
      buildAccessFor(t.dir, 'lib/x', { reader: new BuildReader(), useBuild: false }, new AnalysisCache()).build,
    );
    let afterFix: typeof a | undefined;
    if (fix)
      afterFix = await analyzeFile(t.file, applyEdits(text, fix.edits), {
        rules: [orphanSections],
        reader: new BuildReader(),
        docsDir: '/nonexistent',
        useBuild: false,
      });
    return { a, fix, afterFix };
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
}

const PLACES_TEXT = 'SECTIONS {\n  .text : { *(.text*) }\n  .data : { *(.data*) }\n}\n';

test("a flag the Makefile adds makes an orphan: warning at warn, with ld.lld's line for each object", async () => {
  const { a, fix, afterFix } = await judge(
    ['ccflags-y += -fstack-size-section', 'ldflags-y := -shared --orphan-handling=warn -T', ...LINK],
    PLACES_TEXT,
  );
  const d = a.diagnostics.filter((x) => x.code === 'orphan-sections');
  assert.equal(d.length, 1);
  assert.equal(d[0].severity, 2);
  assert.equal(d[0].range.start.line, 0, 'on the line that adds the flag');
  assert.ok(
    String(d[0].message).includes("lib/x/a.o:(.stack_sizes) is being placed in '.stack_sizes'"),
    String(d[0].message),
  );
  assert.ok(String(d[0].message).includes("lib/x/b.o:(.stack_sizes) is being placed in '.stack_sizes'"));
  assert.ok(fix, 'the fix is offered');
  assert.match(fix.newText, /^CFLAGS_REMOVE_a\.o \+= -fstack-size-section$/m, 'no shared remove list: per object');
  assert.deepEqual(
    afterFix?.diagnostics.filter((x) => x.code === 'orphan-sections'),
    [],
  );
});

test('a literal error level gives an error; a shared remove list is extended', async () => {
  const { a, fix } = await judge(
    [
      'ccflags-y += -fbasic-block-sections=labels',
      'REMOVE_X := -pg',
      'CFLAGS_REMOVE_a.o = $(REMOVE_X)',
      'CFLAGS_REMOVE_b.o = $(REMOVE_X)',
      'ldflags-y := --orphan-handling=error -T',
      ...LINK,
    ],
    PLACES_TEXT,
  );
  const d = a.diagnostics.find((x) => x.code === 'orphan-sections');
  assert.equal(d?.severity, 1);
  assert.ok(String(d?.message).includes("lib/x/a.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'"));
  assert.match(fix?.newText ?? '', /^REMOVE_X \+= -fbasic-block-sections=%$/m);
});

test('nothing when the script places or discards the section, or when no flag makes one', async () => {
  const flag = 'ccflags-y += -fstack-size-section';
  const link = ['ldflags-y := --orphan-handling=error -T', ...LINK];
  for (const [mf, script, why] of [
    [[flag, ...link], 'SECTIONS {\n  .text : { *(.text*) }\n  /DISCARD/ : { *(.stack_sizes) }\n}\n', 'discarded'],
    [[flag, ...link], 'SECTIONS {\n  .text : { *(.text*) }\n  .stack_sizes : { *(.stack_sizes) }\n}\n', 'placed'],
    [link, PLACES_TEXT, 'no flag (and no build): nothing to judge'],
    [[flag, 'ldflags-y := -T', ...LINK], PLACES_TEXT, 'the link does not report orphans'],
  ] as const) {
    const { a, fix } = await judge([...mf], script);
    assert.deepEqual(
      a.diagnostics.filter((x) => x.code === 'orphan-sections'),
      [],
      why,
    );
    assert.equal(fix, undefined, `no fix: ${why}`);
  }
});
