// The rule on small trees written here, judged from the flags alone (no build directory): a flag the
// Makefile adds whose section the script does not place is a finding at the link's level; a script
// that places or discards it, or no such flag, is nothing; the fix, re-analyzed, clears it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, AnalysisCache, buildAccessFor, makefileContext } from '../../../analysis';
import { BuildReader } from '../../../kbuild/buildModel';
import { applyEdits } from '../../../make/edits';
import { orphanSections } from '..';
import { fixCommand } from '../../../cli/fix';
import { applyLspEdits, type LspEditAction } from '../../../../../test/helpers/lspClient';
import { startInProcess } from '../../../../../test/helpers/inProcessServer';

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

/** The rule's script fix on a small tree, and the analysis of the tree with the fix applied to its script. */
async function judgeScriptFix(makefile: string[], script: string) {
  const t = tree(makefile, script);
  try {
    const text = makefile.join('\n');
    const ctx = makefileContext(t.file, text, t.dir);
    const access = () =>
      buildAccessFor(t.dir, 'lib/x', { reader: new BuildReader(), useBuild: false }, new AnalysisCache()).build();
    const fix = await orphanSections.fix(ctx, 'script-section', access);
    const flagFix = await orphanSections.fix(ctx, 'remove-flag', access);
    let after: string[] | undefined;
    if (fix?.files) {
      for (const f of fix.files) writeFileSync(f.file, applyEdits(f.oldText, f.edits));
      const a = await analyzeFile(t.file, text, {
        rules: [orphanSections],
        reader: new BuildReader(),
        docsDir: '/nonexistent',
        useBuild: false,
      });
      after = a.diagnostics.filter((x) => x.code === 'orphan-sections').map((d) => String(d.message));
    }
    return { fix, flagFix, after, scriptPath: join(t.dir, 'lib', 'x', 't.lds') };
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
}

const STACK_FLAG = 'ccflags-y += -fstack-size-section';
const ERROR_LINK = ['ldflags-y := -shared --orphan-handling=error -T', ...LINK];

test("the script fix discards a tool-only section inside the script's own /DISCARD/, and clears the finding", async () => {
  const script =
    'SECTIONS {\n\t.text : { *(.text*) }\n\t/* not here: /DISCARD/ : { } */\n\t/DISCARD/ : {\n\t\t*(.comment)\n\t}\n}\n';
  const { fix, flagFix, after, scriptPath } = await judgeScriptFix([STACK_FLAG, ...ERROR_LINK], script);
  assert.ok(fix?.files, 'the script fix is offered');
  assert.deepEqual(fix.edits, [], 'the Makefile is not edited');
  assert.equal(fix.files.length, 1);
  assert.equal(fix.files[0].file, scriptPath);
  assert.equal(
    fix.files[0].newText,
    'SECTIONS {\n\t.text : { *(.text*) }\n\t/* not here: /DISCARD/ : { } */\n\t/DISCARD/ : {\n\t\t*(.comment)\n\t\t*(.stack_sizes)\n\t}\n}\n',
  );
  assert.equal(fix.title, 'Discard .stack_sizes in t.lds');
  assert.equal(fix.preferred, false, 'not a link of kernel objects: removing the flag is preferred');
  assert.equal(flagFix?.preferred, true);
  assert.deepEqual(after, [], 'the tree with the edited script has no finding');
});

test('the script fix adds a /DISCARD/ where the script has none', async () => {
  const { fix, after } = await judgeScriptFix([STACK_FLAG, ...ERROR_LINK], PLACES_TEXT);
  assert.equal(
    fix?.files?.[0].newText,
    'SECTIONS {\n  .text : { *(.text*) }\n  .data : { *(.data*) }\n\n  /DISCARD/ : { *(.stack_sizes) }\n}\n',
  );
  assert.deepEqual(after, []);
});

test('no script fix for a section that is loaded (code): only the flag can go', async () => {
  const { fix, flagFix } = await judgeScriptFix(
    ['ccflags-y += -ffunction-sections', ...ERROR_LINK],
    'SECTIONS {\n  .text : { *(.text) }\n}\n',
  );
  assert.equal(fix, undefined, '.text.<fn> is code: where it goes is not for the rule to choose');
  assert.ok(flagFix, 'removing the flag is still offered');
});

test('a link of kernel objects (obj-y) gets the section placed, and that fix is the preferred one', async () => {
  const { fix, flagFix, after } = await judgeScriptFix([STACK_FLAG, 'obj-y += a.o b.o', ...ERROR_LINK], PLACES_TEXT);
  assert.equal(
    fix?.files?.[0].newText,
    'SECTIONS {\n  .text : { *(.text*) }\n  .data : { *(.data*) }\n\n  .stack_sizes : { *(.stack_sizes) }\n}\n',
  );
  assert.equal(fix?.preferred, true, 'upstream places the section for links of kernel objects');
  assert.equal(flagFix?.preferred, false);
  assert.deepEqual(after, []);
});

test('`fix --fix script-section` writes the linker script through its link, keeping mode and every other byte', async () => {
  const script = 'SECTIONS {\n\t.text : { *(.text*) }\n\t/DISCARD/ : {\n\t\t*(.comment) /* caf\u00e9 */\n\t}\n}\n';
  const t = tree([STACK_FLAG, ...ERROR_LINK], script);
  try {
    // The script is a link to a file elsewhere, mode 0640: the fix writes the target and keeps the link.
    const real = join(t.dir, 'real.lds');
    writeFileSync(real, script);
    chmodSync(real, 0o640);
    rmSync(join(t.dir, 'lib', 'x', 't.lds'));
    symlinkSync(real, join(t.dir, 'lib', 'x', 't.lds'));
    const makefileBefore = readFileSync(t.file, 'utf8');
    const out = { o: '', e: '', out: (s: string) => void (out.o += s), err: (s: string) => void (out.e += s) };
    assert.equal(await fixCommand(['--fix', 'script-section', t.file], out, [orphanSections]), 0, out.e);
    assert.match(out.o, /applied orphan-sections fix script-section: Discard \.stack_sizes in t\.lds/);
    assert.equal(
      readFileSync(real, 'utf8'),
      'SECTIONS {\n\t.text : { *(.text*) }\n\t/DISCARD/ : {\n\t\t*(.comment) /* caf\u00e9 */\n\t\t*(.stack_sizes)\n\t}\n}\n',
    );
    assert.ok(lstatSync(join(t.dir, 'lib', 'x', 't.lds')).isSymbolicLink(), 'the link is kept');
    assert.equal(statSync(real).mode & 0o777, 0o640, 'the mode is kept');
    assert.equal(readFileSync(t.file, 'utf8'), makefileBefore, 'the Makefile is not touched');
    // Fixed: nothing left to fix.
    const again = { o: '', e: '', out: (s: string) => void (again.o += s), err: (s: string) => void (again.e += s) };
    assert.equal(await fixCommand(['--fix', 'script-section', t.file], again, [orphanSections]), 0);
    assert.match(again.o, /nothing to fix/);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('editor: diagnostic, quick-fix, fix-all and hover of this rule through the generic layers', async () => {
  const lines = ['ccflags-y += -fstack-size-section', 'ldflags-y := -shared --orphan-handling=warn -T', ...LINK];
  const t = tree(lines, PLACES_TEXT);
  const s = await startInProcess(t.dir, { rules: [orphanSections], docsDir: '/nonexistent' });
  try {
    const text = lines.join('\n');
    const uri = s.open(t.file, text);
    await s.waitDiagnostics(uri, (ds) => ds.some((d) => d.code === 'orphan-sections'));
    const d = s.diagnostics.get(uri)?.diagnostics.find((x) => x.code === 'orphan-sections');
    const ask = (only?: string[]) =>
      s.client.sendRequest<LspEditAction[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: d?.range,
        context: { diagnostics: only ? [] : [d], ...(only ? { only } : {}) },
      });
    const quick = (await ask()).find((a) => a.title.includes('section-making flag'));
    assert.ok(quick, 'the quick-fix is offered');
    const fixed = applyLspEdits(text, quick.edit.documentChanges[0].edits);
    assert.match(fixed, /^CFLAGS_REMOVE_a\.o \+= -fstack-size-section$/m);
    const all = await ask(['source.fixAll']);
    assert.ok(
      all.some((a) => a.edit && applyLspEdits(text, a.edit.documentChanges[0].edits) === fixed),
      `fix-all makes the same edit: ${all.map((a) => a.title).join(' | ')}`,
    );
    const hover = (line: number) =>
      s.client.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', {
        textDocument: { uri },
        position: { line, character: 2 },
      });
    assert.match(
      (await hover(0))?.contents.value ?? '',
      /orphan-sections:\*\* `-fstack-size-section` makes `\.stack_sizes`, which the linker script of `lib\/x\/t\.so` does not place: `lib\/x\/a\.o:\(\.stack_sizes\) is being placed in '\.stack_sizes'`/,
    );
    assert.match(
      (await hover(1))?.contents.value ?? '',
      /the link of `lib\/x\/t\.so` runs with `--orphan-handling=warn`: ld\.lld will print 2 lines/,
    );
    void s.client.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    await s.waitDiagnostics(uri, (ds) => !ds.some((x) => x.code === 'orphan-sections'));
  } finally {
    s.close();
    rmSync(t.dir, { recursive: true, force: true });
  }
});
