// `kbuild-diagnostics fix` never truncates or garbles: permissions (0640) and CRLF are kept, the write
// goes through a temp file and a rename, no temp file is left behind even when the write fails, and a
// file changed while the fix was computed is not overwritten. Plus the write classes of issue 13 through
// the CLI (links, 0444, hard links, owner, Latin-1, a planted temp-name link, FIFO and /dev/zero).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  constants,
  cpSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  promises as fsp,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixCommand } from '../../server/src/cli/fix';
import { applyEditsToBytes } from '../../server/src/fs/byteEdits';
import { makefileContext } from '../../server/src/analysis';
import { computeFix } from '../../server/src/rules/nvhe-profile-metadata/fixes';
import type { CliIo } from '../../server/src/cli/io';
import { RULES } from '../../server/src/rules/registry';
import { root } from '../helpers/kernelTree';
import { NVHE } from './lspHelpers';

let tree: string;
let makefile: string;
let original: string;

function io(): CliIo & { o: string; e: string } {
  const r = { o: '', e: '', out: (s: string) => void (r.o += s), err: (s: string) => void (r.e += s) };
  return r;
}
const leftovers = (): string[] =>
  readdirSync(join(tree, NVHE)).filter(
    (n) => n.includes('kbuild-diagnostics') || n.includes('.kbd-') || n.endsWith('.tmp'),
  );

before(() => {
  tree = mkdtempSync(join(tmpdir(), 'kbd-fix-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  makefile = join(tree, NVHE, 'Makefile');
  original = readFileSync(makefile, 'utf8');
});
after(() => rmSync(tree, { recursive: true, force: true }));

test('form A and B keep mode 0640 and every original line; temp file gone', async () => {
  for (const form of ['A', 'B']) {
    writeFileSync(makefile, original);
    chmodSync(makefile, 0o640);
    const r = io();
    assert.equal(await fixCommand(['--form', form, makefile], r, RULES), 0, r.e);
    assert.equal(statSync(makefile).mode & 0o7777, 0o640);
    const after = readFileSync(makefile, 'utf8');
    assert.ok(after.length > original.length);
    let j = 0;
    const lines = original.split('\n');
    for (const l of after.split('\n'))
      if (
        j < lines.length &&
        (l === lines[j] || (form === 'B' && l.replace('$(OBJCOPY) -R .llvm.call-graph-profile $<; ', '') === lines[j]))
      )
        j++;
    assert.equal(j, lines.length, `form ${form} lost original line ${j + 1}`);
    assert.deepEqual(leftovers(), []);
  }
});

test('CRLF files stay CRLF', async () => {
  const crlf = original.replace(/\n/g, '\r\n');
  for (const form of ['A', 'B']) {
    writeFileSync(makefile, crlf);
    const r = io();
    assert.equal(await fixCommand(['--form', form, makefile], r, RULES), 0, r.e);
    const after = readFileSync(makefile, 'utf8');
    assert.doesNotMatch(after, /(^|[^\r])\n/, `form ${form} wrote a bare LF`);
    assert.ok(after.startsWith(crlf.slice(0, 100)));
  }
});

test('a failing write (temp file creation or rename fails, as on a read-only file system) leaves the file intact and no temp file', async () => {
  for (const fn of ['rename', 'open'] as const) {
    writeFileSync(makefile, original);
    const saved = fsp[fn];
    const failing = async (...args: unknown[]): Promise<unknown> => {
      // open: only the exclusive creation of the temp file fails; reads still work.
      if (fn === 'open' && typeof args[1] === 'number' && (args[1] & constants.O_CREAT) === 0)
        return (saved as (...a: unknown[]) => Promise<unknown>)(...args);
      throw Object.assign(new Error(`EROFS: read-only file system, ${fn}`), { code: 'EROFS' });
    };
    (fsp as unknown as Record<string, unknown>)[fn] = failing;
    const r = io();
    try {
      assert.equal(await fixCommand(['--form', 'A', makefile], r, RULES), 1);
    } finally {
      (fsp as unknown as Record<string, unknown>)[fn] = saved;
    }
    assert.match(r.e, /EROFS/);
    assert.equal(readFileSync(makefile, 'utf8'), original, `${fn} failure garbled the file`);
    assert.deepEqual(leftovers(), [], `${fn} failure left a temp file`);
  }
});

test(
  'a real read-only directory (when not root) fails cleanly',
  { skip: process.getuid?.() === 0 ? 'root ignores directory permissions' : false },
  async () => {
    writeFileSync(makefile, original);
    chmodSync(join(tree, NVHE), 0o555);
    try {
      assert.equal(await fixCommand(['--form', 'A', makefile], io(), RULES), 1);
    } finally {
      chmodSync(join(tree, NVHE), 0o755);
    }
    assert.equal(readFileSync(makefile, 'utf8'), original);
    assert.deepEqual(leftovers(), []);
  },
);

test('the file edited while the fix is computed: fix refuses and writes nothing', async () => {
  writeFileSync(makefile, original);
  const edited = `${original}# someone's edit\n`;
  const saved = fsp.lstat;
  let calls = 0;
  // The last check before the rename lstat()s the file with bigint times: the user saves an edit just before it.
  (fsp as unknown as Record<string, unknown>).lstat = async (...args: unknown[]): Promise<unknown> => {
    if ((args[1] as { bigint?: boolean } | undefined)?.bigint && ++calls === 1) writeFileSync(makefile, edited);
    return (saved as (...a: unknown[]) => Promise<unknown>)(...args);
  };
  const r = io();
  try {
    assert.equal(await fixCommand(['--form', 'A', makefile], r, RULES), 1);
  } finally {
    (fsp as unknown as Record<string, unknown>).lstat = saved;
  }
  assert.match(r.e, /changed while the fix was computed/);
  assert.equal(readFileSync(makefile, 'utf8'), edited);
  assert.deepEqual(leftovers(), []);
});

test('issue 13 write classes through the CLI: link kept, 0444 and hard links refused with a hint, owner kept, Latin-1 bytes kept, planted link at the old temp name ignored', async () => {
  // A symlinked Makefile: the target is fixed, the link stays.
  const real = join(tree, NVHE, 'Makefile.real');
  writeFileSync(real, original);
  rmSync(makefile);
  symlinkSync('Makefile.real', makefile);
  let r = io();
  assert.equal(await fixCommand(['--form', 'A', makefile], r, RULES), 0, r.e);
  assert.ok(lstatSync(makefile).isSymbolicLink());
  assert.notEqual(readFileSync(real, 'utf8'), original);
  assert.match(r.o, /the link is kept/);
  rmSync(makefile);
  rmSync(real);

  // 0444: refused with a hint, then --force keeps the mode.
  writeFileSync(makefile, original);
  chmodSync(makefile, 0o444);
  r = io();
  assert.equal(await fixCommand(['--form', 'A', makefile], r, RULES), 1);
  assert.match(r.e, /read-only .*--force/);
  assert.equal(readFileSync(makefile, 'utf8'), original);
  assert.equal(await fixCommand(['--form', 'A', '--force', makefile], io(), RULES), 0);
  assert.equal(statSync(makefile).mode & 0o7777, 0o444);
  chmodSync(makefile, 0o644);

  // Hard links: refused, then --in-place keeps both names on one inode.
  writeFileSync(makefile, original);
  const other = join(tree, NVHE, 'Makefile.link');
  linkSync(makefile, other);
  r = io();
  assert.equal(await fixCommand(['--form', 'B', makefile], r, RULES), 1);
  assert.match(r.e, /2 hard links.*--in-place/);
  assert.equal(await fixCommand(['--form', 'B', '--in-place', makefile], io(), RULES), 0);
  assert.equal(readFileSync(other, 'utf8'), readFileSync(makefile, 'utf8'));
  assert.notEqual(readFileSync(other, 'utf8'), original);
  rmSync(other);

  // Owner (as root): a Makefile owned by nobody stays nobody's.
  if (process.getuid?.() === 0) {
    writeFileSync(makefile, original);
    chownSync(makefile, 65534, 65534);
    assert.equal(await fixCommand(['--form', 'A', makefile], io(), RULES), 0);
    assert.equal(statSync(makefile).uid, 65534);
    assert.equal(statSync(makefile).gid, 65534);
    chownSync(makefile, 0, 0);
  }

  // Latin-1 bytes in a comment survive byte for byte; every original line is still there.
  const latin = Buffer.concat([
    Buffer.from('# Copyright (C) J', 'latin1'),
    Buffer.from([0xfc]),
    Buffer.from('rgen M', 'latin1'),
    Buffer.from([0xe9, 0xa9]),
    Buffer.from('\n'),
    Buffer.from(original, 'utf8'),
  ]);
  writeFileSync(makefile, latin);
  r = io();
  assert.equal(await fixCommand(['--form', 'A', makefile], r, RULES), 0, r.e);
  const after = readFileSync(makefile);
  assert.deepEqual(after.subarray(0, 26), latin.subarray(0, 26));
  const origLines = latin.toString('latin1').split('\n');
  const afterLines = new Set(after.toString('latin1').split('\n'));
  for (const l of origLines) assert.ok(afterLines.has(l), `lost line ${JSON.stringify(l)}`);

  // A symlink planted at the name the old code used for its temp file is never written through.
  writeFileSync(makefile, original);
  const victim = join(tree, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(tree, NVHE, `.Makefile.kbuild-diagnostics-${process.pid}.tmp`));
  assert.equal(await fixCommand(['--form', 'A', makefile], io(), RULES), 0);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  rmSync(join(tree, NVHE, `.Makefile.kbuild-diagnostics-${process.pid}.tmp`));
  assert.deepEqual(leftovers(), []);
});

test(
  'FIFO, /dev/zero link and a path longer than PATH_MAX: exit 2 at once, nothing written',
  { timeout: 30_000 },
  async () => {
    const fifo = join(tree, NVHE, 'Makefile.fifo');
    execFileSync('mkfifo', [fifo]);
    const zero = join(tree, NVHE, 'Makefile.zero');
    symlinkSync('/dev/zero', zero);
    for (const p of [fifo, zero, join(tree, 'a/'.repeat(2100), 'Makefile')]) {
      const r = io();
      const t0 = Date.now();
      assert.equal(await fixCommand(['--form', 'A', p], r, RULES), 2, r.e);
      assert.ok(Date.now() - t0 < 5_000);
      assert.match(r.e, /not a regular file|PATH_MAX|no such file/);
    }
    rmSync(fifo);
    rmSync(zero);
  },
);

test('byte-level application of the fix edits gives exactly the text the fix computed (every nvhe variant, both forms)', async () => {
  const dir = join(root, 'test', 'fixtures', 'nvhe-variants');
  let checked = 0;
  for (const v of readdirSync(dir)) {
    const file = join(dir, v, 'Makefile');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const input = makefileContext(file, text, undefined);
    for (const form of ['A', 'B'] as const) {
      const fix = computeFix(text, input, form);
      if (!fix) continue;
      const r = applyEditsToBytes(Buffer.from(text, 'utf8'), fix.edits);
      assert.ok(r.ok, `${v} ${form}`);
      assert.equal(r.bytes.toString('utf8'), fix.newText, `${v} form ${form}`);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} fixes checked`);
});
