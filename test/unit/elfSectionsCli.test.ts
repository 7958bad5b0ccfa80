// `kbuild-diagnostics sections`: spawns the built CLI (server/out/cli.js, from `npm run build`).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../helpers/kernelTree';
import { findLlvmReadelf } from '../helpers/hostTools';

const cli = join(root, 'server', 'out', 'cli.js');
const fx = (n: string): string => join(root, 'test', 'fixtures', 'elf', n);
const tmp = mkdtempSync(join(tmpdir(), 'kbd-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const readelf = findLlvmReadelf();
if (!readelf && process.env.CI) throw new Error('CI needs llvm-readelf-19 (or llvm-readelf)');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, 'sections', ...args], { encoding: 'utf8', cwd: root, maxBuffer: 64 << 20 });

test('the CLI is built', () => assert.ok(existsSync(cli), `${cli} is missing: run npm run build`));

test('sections FILE prints exactly llvm-readelf-19 -S', () => {
  for (const n of ['aarch64-profile.o', 'mips-be.o', 'x86_64-profile.o']) {
    const r = run(fx(n));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(fx(`${n}.readelf-S.txt`), 'utf8'));
    assert.equal(r.stderr, '');
  }
});

test(
  'several files with --relocs match live llvm-readelf -S -r',
  { skip: readelf ? false : 'llvm-readelf-19 is not installed' },
  () => {
    const files = [fx('arm32.o'), fx('aarch64-ldr.o'), fx('ppc64-be.o'), fx('aarch64-clean.o')];
    const r = run(...files, '--relocs');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, execFileSync(readelf as string, ['-S', '-r', ...files], { encoding: 'utf8' }));
  },
);

test('--json lists sections with offending reasons and, with --relocs, relocations', () => {
  const r = run('--json', '--relocs', fx('aarch64-profile.o'));
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    file: string;
    machine: string;
    sections: { name: string; typeName: string; flagLetters: string; offending?: string; size: number }[];
    relocations: { section: string; entries: { typeName: string; symbolName: string | null; addend?: number }[] }[];
  }[];
  assert.equal(j.length, 1);
  assert.equal(j[0].machine, 'AArch64');
  assert.equal(j[0].sections.length, 13);
  const bad = j[0].sections.filter((s) => s.offending).map((s) => s.name);
  assert.deepEqual(bad, ['.llvm.call-graph-profile', '.rel.llvm.call-graph-profile']);
  const rel = j[0].relocations.find((x) => x.section === '.rel.llvm.call-graph-profile');
  assert.deepEqual(
    rel?.entries.map((e) => [e.typeName, e.symbolName, e.addend]),
    [
      ['R_AARCH64_NONE', 'foo', undefined],
      ['R_AARCH64_NONE', 'bar', undefined],
    ],
  );
});

test('not ELF, unreadable and damaged files: message on stderr, exit 1, other files still printed', () => {
  const trunc = join(tmp, 'truncated.o');
  writeFileSync(trunc, readFileSync(fx('aarch64-profile.o')).subarray(0, 600));
  const r = run(
    fx('bitcode.o'),
    fx('aarch64-clean.o'),
    fx('empty.o'),
    fx('libregular.a'),
    join(tmp, 'missing.o'),
    trunc,
  );
  assert.equal(r.status, 1);
  assert.ok(r.stdout.includes('File: ' + fx('aarch64-clean.o')));
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 5, r.stderr);
  assert.match(lines[0], /bitcode\.o' is LLVM bitcode/);
  assert.match(lines[1], /empty\.o' is empty/);
  assert.match(lines[2], /libregular\.a' is an archive \(2 members: a-member-with-a-long-name\.o, short\.o\)/);
  assert.match(lines[3], /missing\.o': .*cannot open/);
  assert.match(lines[4], /truncated\.o': section header table/);
});

test('usage errors exit 2', () => {
  assert.equal(run().status, 2);
  const r = run('--bogus', fx('aarch64-clean.o'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--bogus'/i);
});
