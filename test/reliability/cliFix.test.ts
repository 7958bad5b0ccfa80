// `kbuild-diagnostics fix` never truncates or garbles: permissions (0640) and CRLF are kept, the write
// goes through a temp file and a rename, no temp file is left behind even when the write fails, and a
// file changed while the fix was computed is not overwritten.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixCommand } from '../../server/src/cli/fix';
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
const leftovers = (): string[] => readdirSync(join(tree, NVHE)).filter((n) => n.includes('kbuild-diagnostics') || n.endsWith('.tmp'));

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
    for (const l of after.split('\n')) if (j < lines.length && (l === lines[j] || (form === 'B' && l.replace('$(OBJCOPY) -R .llvm.call-graph-profile $<; ', '') === lines[j]))) j++;
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

test('a failing write (rename or chmod throws, as on a read-only directory) leaves the file intact and no temp file', async () => {
  for (const fn of ['rename', 'chmod', 'writeFile'] as const) {
    writeFileSync(makefile, original);
    const saved = fsp[fn];
    const failing = async (...args: unknown[]): Promise<never> => {
      // Let the temp file exist first, where the real call would create it.
      if (fn === 'writeFile') await (saved as (...a: unknown[]) => Promise<void>)(...args);
      throw Object.assign(new Error(`EROFS: read-only file system, ${fn}`), { code: 'EROFS' });
    };
    (fsp as unknown as Record<string, unknown>)[fn] = failing;
    try {
      await assert.rejects(fixCommand(['--form', 'A', makefile], io(), RULES), /EROFS/);
    } finally {
      (fsp as unknown as Record<string, unknown>)[fn] = saved;
    }
    assert.equal(readFileSync(makefile, 'utf8'), original, `${fn} failure garbled the file`);
    assert.deepEqual(leftovers(), [], `${fn} failure left a temp file`);
  }
});

test('a real read-only directory (when not root) fails cleanly', { skip: process.getuid?.() === 0 ? 'root ignores directory permissions' : false }, async () => {
  writeFileSync(makefile, original);
  chmodSync(join(tree, NVHE), 0o555);
  try {
    await assert.rejects(fixCommand(['--form', 'A', makefile], io(), RULES));
  } finally {
    chmodSync(join(tree, NVHE), 0o755);
  }
  assert.equal(readFileSync(makefile, 'utf8'), original);
  assert.deepEqual(leftovers(), []);
});

test('the file edited while the fix is computed: fix refuses and writes nothing', async () => {
  writeFileSync(makefile, original);
  const edited = `${original}# someone's edit\n`;
  const saved = fsp.readFile;
  let reads = 0;
  (fsp as unknown as Record<string, unknown>).readFile = async (...args: unknown[]): Promise<unknown> => {
    const out = await (saved as (...a: unknown[]) => Promise<unknown>)(...args);
    // After fix has read the file once, the user saves an edit.
    if (args[0] === makefile && ++reads === 1) writeFileSync(makefile, edited);
    return out;
  };
  const r = io();
  try {
    assert.equal(await fixCommand(['--form', 'A', makefile], r, RULES), 1);
  } finally {
    (fsp as unknown as Record<string, unknown>).readFile = saved;
  }
  assert.match(r.e, /changed while the fix was computed/);
  assert.equal(readFileSync(makefile, 'utf8'), edited);
  assert.deepEqual(leftovers(), []);
});
