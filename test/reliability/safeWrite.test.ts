// safeWrite: every write failure class of issue 13, each with a reproduction:
// planted symlink at the temp name, symlinked Makefile, hard links, owner (as root: a file owned by
// nobody), 0444, a concurrent appender (60 runs), Latin-1 bytes, a change between read and rename.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  openSync,
  writeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyEditsToBytes, type ByteTextEdit } from '../../server/src/fs/byteEdits';
import { replaceFileContent, safeEditFile } from '../../server/src/fs/safeWrite';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbd-safewrite-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const ORIGINAL = 'KBUILD_CFLAGS := $(KBUILD_CFLAGS)\nobj-y := a.o\n';
/** Replaces line 1 with `obj-y := b.o`. */
const editLine1: ByteTextEdit[] = [
  { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 12 } }, newText: 'obj-y := b.o' },
];
const leftovers = (d: string): string[] => readdirSync(d).filter((n) => n.includes('.kbd-'));
let n = 0;
function fresh(content: string | Buffer = ORIGINAL, mode = 0o644): { d: string; f: string } {
  const d = join(dir, `case${n++}`);
  mkdirSync(d);
  const f = join(d, 'Makefile');
  writeFileSync(f, content);
  chmodSync(f, mode);
  return { d, f };
}

test('a symlink planted at the temp name is never written through; the write takes another name', async () => {
  const { d, f } = fresh();
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  chmodSync(victim, 0o600);
  const planted = join(d, '.Makefile.planted.tmp');
  symlinkSync(victim, planted);
  const names: string[] = [];
  const r = await safeEditFile(f, () => editLine1, {
    hooks: {
      tempName: (_d, _b, i) => (names.push(`try${i}`), i === 0 ? '.Makefile.planted.tmp' : `.Makefile.kbd-ok${i}.tmp`),
    },
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.equal(statSync(victim).mode & 0o777, 0o600);
  assert.ok(lstatSync(planted).isSymbolicLink());
  assert.deepEqual(names, ['try0', 'try1']);
  assert.equal(readFileSync(f, 'utf8'), 'KBUILD_CFLAGS := $(KBUILD_CFLAGS)\nobj-y := b.o\n');
  // Default names are unpredictable: two writes leave no temp file and never reuse a name pattern with the pid.
  const r2 = await safeEditFile(f, () => [
    { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 12 } }, newText: 'obj-y := c.o' },
  ]);
  assert.ok(r2.ok);
  assert.deepEqual(leftovers(d), []);
});

test('a symlinked Makefile: the file it points to is fixed, the link stays a link', async () => {
  const { d, f } = fresh();
  const link = join(d, 'Kbuild');
  symlinkSync('Makefile', link);
  const chain = join(d, 'Kbuild2');
  symlinkSync(link, chain);
  const r = await safeEditFile(chain, () => editLine1);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.target, f);
  assert.ok(lstatSync(link).isSymbolicLink() && lstatSync(chain).isSymbolicLink());
  assert.equal(readlinkSync(link), 'Makefile');
  assert.match(readFileSync(f, 'utf8'), /b\.o/);
  const dangling = join(d, 'dangling');
  symlinkSync('nowhere', dangling);
  const m = await safeEditFile(dangling, () => editLine1);
  assert.ok(!m.ok && m.reason === 'missing');
  assert.ok(lstatSync(dangling).isSymbolicLink());
});

test('hard links: refused by default (both names unchanged); in-place keeps the inode and every link', async () => {
  const { d, f } = fresh();
  const other = join(d, 'Makefile.orig');
  linkSync(f, other);
  const ino = statSync(f).ino;
  const r = await safeEditFile(f, () => editLine1);
  assert.ok(!r.ok && r.reason === 'hard-links', JSON.stringify(r));
  assert.match(r.message, /2 hard links/);
  assert.equal(readFileSync(f, 'utf8'), ORIGINAL);
  const r2 = await safeEditFile(f, () => editLine1, { hardLinks: 'in-place' });
  assert.ok(r2.ok && r2.via === 'in-place', JSON.stringify(r2));
  assert.equal(statSync(f).ino, ino);
  assert.equal(statSync(f).nlink, 2);
  assert.equal(readFileSync(other, 'utf8'), readFileSync(f, 'utf8'));
  assert.match(readFileSync(other, 'utf8'), /b\.o\n$/);
  // In place, shrinking truncates.
  const r3 = await safeEditFile(
    f,
    () => [{ range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } }, newText: 'x\n' }],
    { hardLinks: 'in-place' },
  );
  assert.ok(r3.ok);
  assert.equal(readFileSync(other, 'utf8'), 'x\n');
  assert.deepEqual(leftovers(d), []);
});

test('owner, group and mode are kept (as root: a file owned by nobody:nogroup, mode 02640)', async (t) => {
  const { d, f } = fresh(ORIGINAL, 0o640);
  if (process.getuid?.() !== 0) {
    t.skip('needs root to chown');
    return;
  }
  chownSync(f, 65534, 65534);
  chmodSync(f, 0o2640);
  const r = await safeEditFile(f, () => editLine1);
  assert.ok(r.ok, JSON.stringify(r));
  const st = statSync(f);
  assert.equal(st.uid, 65534);
  assert.equal(st.gid, 65534);
  assert.equal(st.mode & 0o7777, 0o2640);
  assert.deepEqual(leftovers(d), []);
});

test('a read-only (0444) file is refused unless forced; forced, it stays 0444', async () => {
  const { f } = fresh(ORIGINAL, 0o444);
  const r = await safeEditFile(f, () => editLine1);
  assert.ok(!r.ok && r.reason === 'read-only', JSON.stringify(r));
  assert.match(r.message, /read-only \(mode 0444\)/);
  assert.equal(readFileSync(f, 'utf8'), ORIGINAL);
  const r2 = await safeEditFile(f, () => editLine1, { force: true });
  assert.ok(r2.ok);
  assert.equal(statSync(f).mode & 0o7777, 0o444);
  assert.match(readFileSync(f, 'utf8'), /b\.o/);
});

test('Latin-1 bytes survive byte for byte; only the edited line changes', async () => {
  const head = Buffer.from('# SPDX-License-Identifier: GPL-2.0\n# Copyright (C) 2015 - ARM Ltd, J', 'latin1');
  const latin = Buffer.concat([head, Buffer.from([0xfc, 0x72, 0x67, 0x65, 0x6e, 0x20, 0xa9, 0x0a])]); // "ürgen ©\n"
  const rest = Buffer.from('ccflags-y := -D__KVM_NVHE_HYPERVISOR__\r\nobj-y := a.o\r\n# tail \xe9\r\n', 'latin1');
  const original = Buffer.concat([latin, rest]);
  const { f } = fresh(original);
  // The edit is computed on the decoded text: Latin-1 (not valid UTF-8).
  let seen = '';
  const r = await safeEditFile(f, ({ text, encoding }) => {
    seen = encoding;
    const lines = text.split('\n');
    const l = lines.findIndex((x) => x.startsWith('obj-y'));
    return [
      {
        range: { start: { line: l, character: 0 }, end: { line: l, character: lines[l].length - 1 } },
        newText: 'obj-y := a.o b.o',
      },
    ];
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(seen, 'latin1');
  const after = readFileSync(f);
  const expected = Buffer.concat([
    latin,
    Buffer.from('ccflags-y := -D__KVM_NVHE_HYPERVISOR__\r\nobj-y := a.o b.o\r\n# tail \xe9\r\n', 'latin1'),
  ]);
  assert.deepEqual(after, expected);
  // A character Latin-1 cannot store is refused, not mangled.
  const bad = await safeEditFile(f, () => [
    { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '€' },
  ]);
  assert.ok(!bad.ok && bad.reason === 'encoding');
  assert.deepEqual(readFileSync(f), expected);
});

test('edits computed on a U+FFFD (utf8-replacement) decoding land on the right bytes', () => {
  // Invalid sequences of several shapes before the edit point on the same line.
  const bytes = Buffer.concat([
    Buffer.from('A := '),
    Buffer.from([0xff, 0xe2, 0x82, 0x41, 0xf0, 0x9f, 0x98, 0x80, 0xc3]),
    Buffer.from(' X Y\nB := 1\n'),
  ]);
  const text = bytes.toString('utf8');
  const at = text.indexOf('X');
  const r = applyEditsToBytes(
    bytes,
    [{ range: { start: { line: 0, character: at }, end: { line: 0, character: at + 1 } }, newText: 'Z' }],
    'utf8-replacement',
  );
  assert.ok(r.ok);
  assert.deepEqual(
    r.bytes,
    Buffer.concat([
      Buffer.from('A := '),
      Buffer.from([0xff, 0xe2, 0x82, 0x41, 0xf0, 0x9f, 0x98, 0x80, 0xc3]),
      Buffer.from(' Z Y\nB := 1\n'),
    ]),
  );
  // Valid UTF-8 with astral characters (two UTF-16 units).
  const u = Buffer.from('A := 😀é X\n');
  const ut = u.toString('utf8');
  const r2 = applyEditsToBytes(u, [
    {
      range: { start: { line: 0, character: ut.indexOf('X') }, end: { line: 0, character: ut.indexOf('X') + 1 } },
      newText: 'ü',
    },
  ]);
  assert.ok(r2.ok && r2.bytes.toString('utf8') === 'A := 😀é ü\n');
  const mid = applyEditsToBytes(u, [
    { range: { start: { line: 0, character: 6 }, end: { line: 0, character: 6 } }, newText: 'x' },
  ]);
  assert.ok(!mid.ok && mid.reason === 'range');
  const ov = applyEditsToBytes(u, [
    { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } }, newText: '' },
    { range: { start: { line: 0, character: 2 }, end: { line: 0, character: 4 } }, newText: '' },
  ]);
  assert.ok(!ov.ok && ov.reason === 'overlap');
});

test('a change between read and rename is detected (content, same-size rewrite with mtime restored, replaced inode); nothing lost', async () => {
  for (const how of ['append', 'same-size', 'replace', 'before-rename']) {
    const { d, f } = fresh();
    const st0 = statSync(f);
    const change = (): void => {
      if (how === 'append' || how === 'before-rename') writeFileSync(f, ORIGINAL + 'user edit\n');
      else if (how === 'same-size') {
        writeFileSync(f, ORIGINAL.replace('a.o', 'z.o'));
        utimesSync(f, st0.atime, st0.mtime);
      } else {
        writeFileSync(f + '.new', ORIGINAL);
        execFileSync('mv', [f + '.new', f]);
      }
    };
    const r = await safeEditFile(f, () => editLine1, {
      hooks:
        how === 'before-rename'
          ? { beforeRename: () => undefined, beforeFinalCheck: change }
          : { beforeFinalCheck: change },
    });
    assert.ok(!r.ok && r.reason === 'changed', `${how}: ${JSON.stringify(r)}`);
    assert.doesNotMatch(readFileSync(f, 'utf8'), /b\.o/, how);
    assert.deepEqual(leftovers(d), [], how);
  }
  // The bytes given as the base must be what is on disk.
  const { f } = fresh();
  const r = await replaceFileContent(f, Buffer.from('something else'), Buffer.from('new'));
  assert.ok(!r.ok && r.reason === 'changed');
});

test('an append to the old inode in the rename window is carried over to the new file', async () => {
  // A writer that opened the file before the rename and writes after it.
  const { f } = fresh();
  let fd = -1;
  const r = await safeEditFile(f, () => editLine1, {
    hooks: {
      beforeRename: () => {
        fd = openSync(f, 'a');
        setTimeout(() => writeSync(fd, 'late line\n'), 50);
      },
    },
    lateAppendWindowMs: 300,
  });
  closeSync(fd);
  assert.ok(r.ok && r.appendedBytesMerged === 'late line\n'.length, JSON.stringify(r));
  assert.equal(readFileSync(f, 'utf8'), 'KBUILD_CFLAGS := $(KBUILD_CFLAGS)\nobj-y := b.o\nlate line\n');
});

test(
  'another process holding the old file open: a writer is waited for and its late line kept; a reader (tail -f) is not waited for',
  { timeout: 60_000 },
  async () => {
    // A writer: opened (>>) before the fix, writes 600 ms later, after the rename.
    const { f } = fresh();
    const wfd = openSync(f, 'a');
    const writer = spawn('sh', ['-c', 'sleep 0.6; echo "# late writer"'], { stdio: ['ignore', wfd, 'ignore'] });
    closeSync(wfd); // only the child holds it now
    const exited = new Promise<void>((res) => writer.on('exit', () => res()));
    await new Promise((r) => setTimeout(r, 100));
    const t0w = Date.now();
    const r = await safeEditFile(f, () => editLine1);
    const waited = Date.now() - t0w;
    await exited;
    assert.ok(r.ok, JSON.stringify(r));
    assert.ok(waited < 1_900, `waited ${waited} ms: longer than the writer lived`);
    assert.equal(r.appendedBytesMerged, '# late writer\n'.length);
    assert.equal(readFileSync(f, 'utf8'), 'KBUILD_CFLAGS := $(KBUILD_CFLAGS)\nobj-y := b.o\n# late writer\n');
    // A reader holding the file open does not delay the fix by the 2 s wait.
    const { f: g } = fresh();
    const rfd = openSync(g, 'r');
    const reader = spawn('sh', ['-c', 'sleep 3'], { stdio: [rfd, 'ignore', 'ignore'] });
    closeSync(rfd);
    await new Promise((res) => setTimeout(res, 100));
    const t0 = Date.now();
    const r2 = await safeEditFile(g, () => editLine1);
    const ms = Date.now() - t0;
    reader.kill();
    assert.ok(r2.ok);
    assert.ok(ms < 1_900, `a reader delayed the fix by ${ms} ms`);
  },
);

test(
  'a FIFO, a directory and /dev/null as the target: refused, not opened for reading forever',
  { timeout: 30_000 },
  async () => {
    const d = join(dir, 'special');
    mkdirSync(d);
    const fifo = join(d, 'Makefile');
    execFileSync('mkfifo', [fifo]);
    for (const p of [fifo, d, '/dev/null']) {
      const r = await safeEditFile(p, () => editLine1);
      assert.ok(!r.ok && r.reason === 'not-regular', `${p}: ${JSON.stringify(r)}`);
    }
    assert.ok(lstatSync('/dev/null').isCharacterDevice());
  },
);

test(
  'a concurrent appender (60 runs): no appended line is ever lost or duplicated, the fix is applied or refused',
  { timeout: 240_000 },
  async () => {
    const RUNS = 60;
    const LINES = 1000;
    let refused = 0;
    let written = 0;
    let merged = 0;
    let reordered = 0;
    for (let run = 0; run < RUNS; run++) {
      const { f } = fresh();
      // The appender: a separate process appending one line at a time (open, write, close), as `>>` does.
      const child = spawn(
        'sh',
        ['-c', `i=0; while [ $i -lt ${LINES} ]; do echo "# appended $i" >> "$1"; i=$((i+1)); done`, 'sh', f],
        { stdio: 'ignore' },
      );
      const done = new Promise<void>((res) => child.on('exit', () => res()));
      let finished = false;
      void done.then(() => (finished = true));
      let toggle = 0;
      while (!finished) {
        const word = toggle++ % 2 ? 'b.o' : 'c.o';
        const r = await safeEditFile(f, ({ text }) => {
          const line = text.split('\n')[1];
          return [
            {
              range: { start: { line: 1, character: 0 }, end: { line: 1, character: line.length } },
              newText: `obj-y := ${word}`,
            },
          ];
        });
        if (r.ok) {
          written++;
          merged += r.appendedBytesMerged;
        } else {
          assert.equal(r.reason, 'changed', JSON.stringify(r));
          refused++;
        }
      }
      await done;
      const lines = readFileSync(f, 'utf8').split('\n');
      const appended = lines.filter((l) => l.startsWith('# appended '));
      // Every line exactly once. Lines that a writer appended to the old inode during the rename are
      // copied to the end of the new file, so they may come after lines appended meanwhile.
      const want = Array.from({ length: LINES }, (_, i) => `# appended ${i}`);
      assert.deepEqual([...appended].sort(), [...want].sort(), `run ${run}: lost or duplicated lines`);
      if (appended.some((l, i) => l !== want[i])) reordered++;
      assert.equal(lines[0], 'KBUILD_CFLAGS := $(KBUILD_CFLAGS)');
      assert.match(lines[1], /^obj-y := [abc]\.o$/);
    }
    console.log(
      `appender: ${RUNS} runs, ${written} fixes written, ${refused} refused as changed, ${merged} late-appended bytes carried over (${reordered} runs with lines carried over out of order)`,
    );
  },
);
