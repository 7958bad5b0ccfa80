// fs/walk through kbuild/findMakefiles: the whole-tree walk keeps its guarantees while it runs in
// synchronous slices — regular files only (a FIFO named Makefile is not opened for reading), links
// inside the tree not followed (said for a linked make file), bounded (a cut walk says so), the event
// loop never held for long (every slice measured), cancellable; and the real server's workspace scan
// reports progress and stops when the client cancels it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMakeFiles } from '../../server/src/kbuild/findMakefiles';
import { kernelTree, skipUnlessKernel } from '../helpers/kernelTree';
import { LspClient } from '../helpers/lspClient';

let dir: string;
const accept = (t: string) => t.includes('gen-hyprel');

before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-walk-')));
  for (let a = 0; a < 40; a++) {
    for (let b = 0; b < 25; b++) {
      const d = join(dir, `a${a}`, `b${b}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'Makefile'), a === 7 && b === 3 ? 'x: ; gen-hyprel x.o\n' : 'obj-y += x.o\n');
      writeFileSync(join(d, 'x.c'), '');
    }
  }
  execFileSync('mkfifo', [join(dir, 'a1', 'b1', 'Kbuild')]);
  symlinkSync(join(dir, 'a7', 'b3', 'Makefile'), join(dir, 'a2', 'Makefile.link'));
  symlinkSync(dir, join(dir, 'a3', 'loop'));
  mkdirSync(join(dir, 'include'));
  writeFileSync(join(dir, 'include', 'Makefile'), 'gen-hyprel\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(
  'regular files only, links not followed, skipped folders skipped, and the event loop runs between slices',
  { timeout: 30_000 },
  async () => {
    // With slices of 0 ms the walk yields after every folder and file: other work runs in between
    // (a state, counted, not a time measured on a shared machine).
    let ticks = 0;
    let walking = true;
    const tick = () => {
      ticks++;
      if (walking) setImmediate(tick);
    };
    setImmediate(tick);
    const slices: number[] = [];
    const r = await findMakeFiles([dir], accept, { sliceMs: 0, onSlice: (ms) => slices.push(ms) });
    walking = false;
    assert.deepEqual(
      r.files,
      [join(dir, 'a7', 'b3', 'Makefile')],
      'once: not through the link, nor the loop, nor include/',
    );
    assert.equal(r.texts.get(r.files[0]), 'x: ; gen-hyprel x.o\n');
    assert.ok(
      r.incomplete.some((m) => m.startsWith(join(dir, 'a2', 'Makefile.link')) && /symbolic link/.test(m)),
      r.incomplete.join('\n'),
    );
    assert.ok(
      !r.incomplete.some((m) => m.includes('Kbuild')),
      'a FIFO is not a make file to read (its listing entry is not a regular file)',
    );
    assert.ok(slices.length >= 1000, `${slices.length} slices for 1,000 folders`);
    assert.ok(ticks >= 1000, `the event loop ran ${ticks} times during the walk`);
  },
);

test('bounded: a walk cut by its entry limit says so', async () => {
  const r = await findMakeFiles([dir], accept, { maxEntries: 500 });
  assert.ok(
    r.incomplete.some((m) => /stopped after \d+ entries/.test(m)),
    r.incomplete.join('\n'),
  );
});

test('cancellable: a token set during the walk stops it and says so', async () => {
  const token = { cancelled: false };
  let dirsAtCancel = 0;
  const r = await findMakeFiles([dir], accept, {
    token,
    onProgress: (dirs) => {
      if (!token.cancelled && dirs >= 200) {
        token.cancelled = true;
        dirsAtCancel = dirs;
      }
    },
  });
  assert.ok(dirsAtCancel > 0);
  assert.ok(r.incomplete.includes('the search was cancelled'), r.incomplete.join('\n'));
});

test(
  'the server scan of linux-source-6.12 reports progress and stops when cancelled',
  { skip: skipUnlessKernel('6.12'), timeout: 60_000 },
  async () => {
    const t = kernelTree('6.12');
    assert.ok('path' in t);
    const lsp = new LspClient();
    try {
      const begun = lsp.waitFor<{ token: string | number; value: { kind: string } }>(
        '$/progress',
        (p) => p.value.kind === 'begin',
        30_000,
      );
      const ended = lsp.waitFor<{ value: { kind: string } }>('$/progress', (p) => p.value.kind === 'end', 30_000);
      const said = lsp.waitFor<{ message: string }>(
        'window/logMessage',
        (p) => /Workspace scan incomplete/.test(p.message),
        30_000,
      );
      await lsp.initialize(t.path, {}, { window: { workDoneProgress: true } });
      const b = await begun;
      lsp.notify('window/workDoneProgress/cancel', { token: b.token });
      await ended;
      assert.match((await said).message, /the search was cancelled/);
    } finally {
      await lsp.stop();
    }
  },
);
