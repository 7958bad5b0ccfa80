// A rule's wiring through the command line, the server and the panel, on a copy of the sample tree:
// evidence older than the Makefile's fix is stale, not a live error; the CLI fixes an alias-only
// Makefile as the editor offers to; sections of another architecture are not marked; quick-fixes are
// there before the debounced analysis runs; each panel toggle shows its state; closed files' analyses
// are dropped (the server stays flat over 1,000 open/close cycles).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../../server/src/cli/main';
import { root } from '../helpers/kernelTree';
import { LspClient } from '../helpers/lspClient';

const NVHE = 'arch/arm64/kvm/hyp/nvhe';
const FILTER = 'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE) $(CC_FLAGS_SCS) $(CC_FLAGS_CFI), $(KBUILD_CFLAGS))\n';
/** The merged v3 line (Linux 6.1): filters the two usual spellings; clang's aliases still get through. */
const V3 = 'KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=% -fprofile-use=%, $(KBUILD_CFLAGS))\n';
let tree: string;
let makefile: string;
let original: string;
const docsDir = join(root, 'server', 'out', 'rules');

function capture(): { io: { out(t: string): void; err(t: string): void }; text: () => string } {
  const parts: string[] = [];
  return { io: { out: (t) => void parts.push(t), err: (t) => void parts.push(t) }, text: () => parts.join('') };
}

before(() => {
  tree = mkdtempSync(join(tmpdir(), 'kbd-wiring-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  makefile = join(tree, NVHE, 'Makefile');
  original = readFileSync(makefile, 'utf8');
  assert.ok(original.includes(FILTER));
});
after(() => rmSync(tree, { recursive: true, force: true }));

test('evidence from objects built before the Makefile filtered their flag is stale, not an error', async () => {
  const cwd = process.cwd();
  process.chdir(tree);
  try {
    writeFileSync(makefile, original);
    const before = capture();
    assert.equal(await main(['check', '--format', 'json', '.'], before.io, { docsDir }), 1);
    const b = JSON.parse(before.text()) as {
      results: { diagnostics: { severity: number; code: string; message: string }[] }[];
    };
    assert.equal(b.results[0].diagnostics[0].severity, 1, 'the build shows the metadata: an error');
    assert.match(b.results[0].diagnostics[0].message, /was compiled with -fprofile-sample-use=/);
    // The Makefile now filters the spelling the build used; the objects are not rebuilt yet.
    writeFileSync(makefile, original.replace(FILTER, FILTER + V3));
    const afterFix = capture();
    assert.equal(await main(['check', '--format', 'json', '.'], afterFix.io, { docsDir }), 0, afterFix.text());
    const a = JSON.parse(afterFix.text()) as typeof b;
    const ds = a.results[0].diagnostics;
    assert.ok(!ds.some((d) => d.severity <= 2), `no error or warning: ${JSON.stringify(ds)}`);
    const stale = ds.find((d) => d.code === 'nvhe-stale-build');
    assert.equal(stale?.severity, 3);
    assert.match(
      stale?.message ?? '',
      /made before the Makefile changed: .*hyp-main\.nvhe\.o.*-fprofile-sample-use=….*Rebuild to confirm/,
    );
    assert.ok(
      ds.some((d) => d.code === 'nvhe-profile-alias' && d.severity === 4),
      'the aliases still get through: the hint stays',
    );
  } finally {
    process.chdir(cwd);
    writeFileSync(makefile, original);
  }
});

test('the CLI fixes an alias-only Makefile as the editor offers to', async () => {
  writeFileSync(makefile, original.replace(FILTER, FILTER + V3));
  try {
    for (const form of ['A', 'B']) {
      writeFileSync(makefile, original.replace(FILTER, FILTER + V3));
      const c = capture();
      assert.equal(await main(['fix', '--form', form, makefile], c.io, { docsDir }), 0, c.text());
      assert.match(c.text(), new RegExp(`applied nvhe-profile-metadata fix ${form}`));
      const c2 = capture();
      assert.equal(await main(['check', '--format', 'json', makefile], c2.io, { docsDir }), 0);
      const r = JSON.parse(c2.text()) as { results: { diagnostics: { code: string }[] }[] };
      assert.deepEqual(
        r.results[0].diagnostics.map((d) => d.code).filter((x) => x !== 'nvhe-stale-build'),
        [],
        `form ${form} leaves no finding`,
      );
    }
  } finally {
    writeFileSync(makefile, original);
  }
});

test('sections of another architecture are not marked (CLI and panel)', async () => {
  const i386 = join(root, 'test', 'fixtures', 'elf', 'i386.o');
  const c = capture();
  assert.equal(await main(['sections', '--json', i386], c.io), 0);
  const json = JSON.parse(c.text()) as {
    machine: string;
    sections: { name: string; typeName: string; offending?: string }[];
  }[];
  assert.ok(
    json[0].sections.some((s) => s.name.startsWith('.rel.') && s.typeName === 'REL'),
    'the fixture has SHT_REL sections',
  );
  assert.deepEqual(
    json[0].sections.filter((s) => s.offending).map((s) => s.name),
    [],
  );
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(tree);
    const add = await lsp.request<{ ok: boolean }>('kbuild/addObject', { objectUri: pathToFileURL(i386).toString() });
    assert.equal(add.ok, true);
    const s = await lsp.request<{ sections: { name: string; offending?: string }[]; object?: { status: string } }>(
      'kbuild/listSections',
      { objectUri: pathToFileURL(i386).toString() },
    );
    assert.deepEqual(
      s.sections.filter((x) => x.offending).map((x) => x.name),
      [],
    );
    assert.equal(s.object?.status, 'ok');
    // An aarch64 profiled object is still marked.
    const prof = pathToFileURL(join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp-profile.o')).toString();
    const p = await lsp.request<{ sections: { name: string; offending?: string }[] }>('kbuild/listSections', {
      objectUri: prof,
    });
    assert.ok(p.sections.some((x) => x.name === '.rel.llvm.call-graph-profile' && x.offending));
  } finally {
    await lsp.stop();
  }
});

test('quick-fixes are there while the debounced analysis has not run yet', async () => {
  // A debounce far longer than the test: no analysis runs before the code action request.
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '600000' });
  try {
    await lsp.initialize(tree);
    const uri = lsp.open(makefile, original, 'kbuild', 7);
    // What the user sees: the diagnostic published for this file earlier (as the client would pass it).
    const seen = {
      range: { start: { line: 84, character: 0 }, end: { line: 84, character: 10 } },
      code: 'nvhe-profile-metadata',
      message: 'x',
      severity: 1,
    };
    const actions = await lsp.request<
      { title: string; kind: string; edit: { documentChanges: { textDocument: { version: number } }[] } }[]
    >('textDocument/codeAction', {
      textDocument: { uri },
      range: seen.range,
      context: { diagnostics: [seen] },
    });
    assert.deepEqual(
      actions.map((a) => a.title.slice(0, 32)),
      ['Filter profile-use flags out of ', 'Remove .llvm.call-graph-profile '],
    );
    for (const a of actions) assert.equal(a.edit.documentChanges[0].textDocument.version, 7);
  } finally {
    await lsp.stop();
  }
});

test('each panel toggle shows its state (a when clause reads its context key)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { menus: { 'view/title': { command: string; when: string }[] } };
  };
  const title = pkg.contributes.menus['view/title'];
  for (const [cmd, key] of [
    ['toggleOffendingOnly', 'kbuildDiagnostics.offendingOnly'],
    ['toggleDebugSections', 'kbuildDiagnostics.hideDebugSections'],
  ]) {
    const off = title.find((m) => m.command === `kbuildDiagnostics.${cmd}`);
    const on = title.find((m) => m.command === `kbuildDiagnostics.${cmd}.on`);
    assert.match(off?.when ?? '', new RegExp(`!${key.replace('.', '\\.')}\\b`));
    assert.match(on?.when ?? '', new RegExp(`(^|[^!])${key.replace('.', '\\.')}\\b`));
  }
});

test('1,000 open/close cycles of different files keep the server flat', { timeout: 240_000 }, async (t) => {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  const rss = (): number =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${lsp.proc.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  try {
    await lsp.initialize(tree);
    // 20 KB make files, each different (a pipeline Makefile with its own padding).
    const body = (i: number) =>
      original +
      Array.from(
        { length: 300 },
        (_, k) => `PAD_${i}_${k} := ${'x'.repeat(40)} $(PAD_${i}_${Math.max(0, k - 1)})`,
      ).join('\n') +
      '\n';
    const cycle = async (i: number) => {
      const file = join(tree, 'many', `d${i}`, 'Makefile');
      const uri = lsp.open(file, body(i), 'kbuild', 1);
      await lsp.diagnostics(uri, () => true, 20_000);
      lsp.notify('textDocument/didClose', { textDocument: { uri } });
    };
    for (let i = 0; i < 200; i++) await cycle(i);
    const warm = rss();
    for (let i = 200; i < 1000; i++) await cycle(i);
    const end = rss();
    t.diagnostic(`server RSS after 200 cycles ${warm.toFixed(1)} MB, after 1000 ${end.toFixed(1)} MB`);
    assert.ok(end - warm < 40, `RSS grew ${(end - warm).toFixed(1)} MB over 800 cycles`);
  } finally {
    await lsp.stop();
  }
});
