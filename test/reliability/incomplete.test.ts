// "Clean" only for what was read and evaluated in full: `check` exits 3 (incomplete) with the reason
// for a device, a FIFO, a path longer than PATH_MAX and an evaluation cut by its bounds; a symlinked
// tree is followed from the root given; --build-dir must exist. The editor shows the same as an
// `analysis-incomplete` diagnostic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../server/src/cli/main';
import { root } from '../helpers/kernelTree';
import { LspClient } from '../helpers/lspClient';

let dir: string;

async function check(args: string[]): Promise<{ code: number; out: string }> {
  const parts: string[] = [];
  const code = await main(
    ['check', ...args],
    { out: (t) => void parts.push(t), err: (t) => void parts.push(t) },
    { docsDir: join(root, 'server', 'out', 'rules') },
  );
  return { code, out: parts.join('') };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbd-incomplete-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), join(dir, 'tree'), {
    recursive: true,
    verbatimSymlinks: true,
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('check /dev/zero is incomplete, not clean', async () => {
  const r = await check(['/dev/zero']);
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, /incomplete: .*\/dev\/zero.*(not a regular file|device)/i);
});

test(
  'a FIFO named Makefile in a tree: the walk does not hang and says what it skipped',
  { timeout: 20_000 },
  async () => {
    const t = join(dir, 'fifo-tree');
    mkdirSync(join(t, 'sub'), { recursive: true });
    execFileSync('mkfifo', [join(t, 'sub', 'Makefile')]);
    const direct = await check([join(t, 'sub', 'Makefile')]);
    assert.equal(direct.code, 3, direct.out);
    const walked = await check([t]);
    assert.equal(walked.code, 0, 'the walk only looks at regular files (a FIFO is not a make file to read)');
  },
);

test('a path longer than PATH_MAX is incomplete', async () => {
  const long = '/' + 'x'.repeat(5000);
  const r = await check([long]);
  assert.notEqual(r.code, 0, r.out);
});

test('an evaluation cut by its bounds is incomplete (19 doublings and a sort)', async () => {
  const t = join(dir, 'doubling');
  mkdirSync(t);
  const lines = [
    'KBUILD_CFLAGS := a b c d',
    ...Array.from({ length: 19 }, () => 'KBUILD_CFLAGS := $(KBUILD_CFLAGS) $(KBUILD_CFLAGS)'),
    'X := $(sort $(KBUILD_CFLAGS))',
    'all: ; gen-hyprel x.o > y.S',
  ];
  writeFileSync(join(t, 'Makefile'), lines.join('\n') + '\n');
  const r = await check([join(t, 'Makefile')]);
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, /incomplete: /);
});

test('a symlinked tree is checked through the link', async () => {
  const link = join(dir, 'link');
  symlinkSync(join(dir, 'tree'), link);
  const r = await check(['--format', 'json', link]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /nvhe-profile-metadata/);
});

test('--build-dir that does not exist is a usage error, not a silent fallback', async () => {
  const r = await check(['--build-dir', join(dir, 'nope'), join(dir, 'tree')]);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /--build-dir .*nope/);
});

test('the editor shows an incomplete analysis', { timeout: 30_000 }, async () => {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(dir);
    const file = join(dir, 'doubling', 'Makefile');
    const uri = lsp.open(file, readFileSync(file, 'utf8'), 'kbuild');
    const pub = await lsp.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'analysis-incomplete'), 20_000);
    assert.ok(
      pub.diagnostics.every((d) => d.severity !== 1),
      'no error claimed',
    );
  } finally {
    await lsp.stop();
  }
});

test('fix requests on a 30 MB open document answer at once (it is not analyzed)', { timeout: 60_000 }, async () => {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(dir);
    const file = join(dir, 'tree', 'arch', 'arm64', 'kvm', 'hyp', 'nvhe', 'Makefile');
    const huge = readFileSync(file, 'utf8') + `X := ${'y'.repeat(30 * 1024 * 1024)}\n`;
    const uri = lsp.open(file, huge, 'kbuild');
    await lsp.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'file-too-large'), 30_000);
    const t0 = Date.now();
    const fixAll = await lsp.request<unknown[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll'] },
    });
    const edit = await lsp.request<{ edit: unknown }>('kbuild/fixEdit', { makefileUri: uri, fix: 'A' });
    const ms = Date.now() - t0;
    assert.deepEqual(fixAll, []);
    assert.equal(edit.edit, null);
    assert.ok(ms < 5000, `took ${ms} ms`);
  } finally {
    await lsp.stop();
  }
});
