// Which on-demand archive members a link pulls in (server/src/kbuild/archiveMembers.ts, from
// elf/linkSymbols.ts), against the real ld.lld-19: small clang-19 objects, a thin archive made as
// Kbuild makes lib.a (`llvm-ar cDPrsT`), and `ld.lld --trace`, which names every file the link loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../helpers/hostTools';
import { BuildReader } from '../../server/src/kbuild/buildModel';
import { pulledMembers } from '../../server/src/kbuild/archiveMembers';

const clang = findTool(['clang-19']);
const lld = findTool(['ld.lld-19']);
const ar = findTool(['llvm-ar-19']);
const missing = !clang || !lld || !ar ? 'clang-19, ld.lld-19 or llvm-ar-19 is not installed' : undefined;
if (missing && process.env.CI) throw new Error(`CI needs ${missing}`);

const SOURCES: Record<string, string> = {
  // Linked whole: asks for f (strongly) and for w (weakly: a weak reference pulls nothing in).
  'main.c':
    'int f(void); extern int w(void) __attribute__((weak));\nint _start(void) { return f() + (w ? w() : 0); }\n',
  // Members: f asks for g; g is defined twice (the first member in order wins); h and w nobody asks for.
  'lib/f.c': 'int g(void);\nint f(void) { return g(); }\n',
  'lib/g1.c': 'int g(void) { return 1; }\n',
  'lib/g2.c': 'int g(void) { return 2; }\nint k(void) { return 3; }\n',
  'lib/h.c': 'int h(void) { return 4; }\n',
  'lib/w.c': 'int w(void) { return 5; }\n',
};

test('the archive members a link pulls in, as ld.lld-19 --trace loads them', { skip: missing ?? false }, async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-members-')));
  try {
    spawnSync('mkdir', ['-p', join(dir, 'lib')]);
    for (const [name, text] of Object.entries(SOURCES)) {
      writeFileSync(join(dir, name), text);
      const cc = spawnSync(
        clang as string,
        ['--target=aarch64-linux-gnu', '-O2', '-c', name, '-o', name.replace(/\.c$/, '.o')],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.equal(cc.status, 0, cc.stderr);
    }
    const members = ['lib/f.o', 'lib/g1.o', 'lib/g2.o', 'lib/h.o', 'lib/w.o'];
    const mk = spawnSync(ar as string, ['cDPrsT', 'lib/lib.a', ...members], { cwd: dir, encoding: 'utf8' });
    assert.equal(mk.status, 0, mk.stderr);
    const ld = spawnSync(
      lld as string,
      [
        '--trace',
        '-o',
        'out',
        '--whole-archive',
        'main.o',
        '--no-whole-archive',
        '--start-group',
        'lib/lib.a',
        '--end-group',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(ld.status, 0, ld.stderr);
    // ld.lld names a thin archive's member relative to the archive's directory.
    const loaded = [...ld.stdout.matchAll(/^lib\/lib\.a\((.*)\)$/gm)].map((m) => `lib/${m[1]}`).sort();
    assert.deepEqual(loaded, ['lib/f.o', 'lib/g1.o'], ld.stdout);
    const { pulled, unread } = await pulledMembers(new BuildReader(), dir, [
      { file: 'main.o', onDemand: false },
      ...members.map((file) => ({ file, onDemand: true })),
    ]);
    assert.deepEqual(unread, []);
    assert.deepEqual([...pulled].sort(), loaded);
    // An input that is not built: said, and what the others pull in is still found.
    const partial = await pulledMembers(new BuildReader(), dir, [
      { file: 'main.o', onDemand: false },
      { file: 'absent.o', onDemand: false },
      ...members.map((file) => ({ file, onDemand: true })),
    ]);
    assert.deepEqual(partial.unread, ['absent.o']);
    assert.deepEqual([...partial.pulled].sort(), loaded);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
