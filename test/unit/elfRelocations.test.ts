// Relocations: streamed reading and the llvm-readelf -r layout, against committed and live output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../helpers/kernelTree';
import { bufferSource, openFileSource } from '../../server/src/elf/source';
import { ObjectReadError, readObject } from '../../server/src/elf/reader';
import { readRelocations, Relocation } from '../../server/src/elf/relocations';
import { formatAllRelocations } from '../../server/src/elf/format';
import { findLlvmReadelf } from '../helpers/hostTools';
import { ElfFile } from '../../server/src/elf/types';

const fixtures = join(root, 'test', 'fixtures', 'elf');
const tmp = mkdtempSync(join(tmpdir(), 'kbd-relocs-'));
const readelf = findLlvmReadelf();
if (!readelf && process.env.CI) throw new Error('CI needs llvm-readelf-19 (or llvm-readelf) for the live comparison');
const liveSkip = readelf ? false : 'llvm-readelf-19 is not installed';

async function relocText(path: string): Promise<string> {
  const src = await openFileSource(path);
  try {
    const obj = await readObject(src);
    assert.equal(obj.kind, 'elf');
    if (obj.kind !== 'elf') return '';
    return await formatAllRelocations(src, obj.elf);
  } finally {
    await src.close();
  }
}

const withExpected = readdirSync(fixtures)
  .filter((f) => f.endsWith('.readelf-r.txt'))
  .map((f) => f.replace(/\.readelf-r\.txt$/, ''));

test('there are relocation fixtures for AArch64 (LE and BE), x86-64, ARM, i386, MIPS, PPC, PPC64', () => {
  for (const f of [
    'aarch64-profile.o',
    'aarch64_be-hyp-profile.o',
    'x86_64-profile.o',
    'arm32.o',
    'i386.o',
    'mips-be.o',
    'ppc32-be.o',
    'ppc64-be.o',
  ])
    assert.ok(withExpected.includes(f), f);
});

for (const name of withExpected) {
  test(`formatAllRelocations == committed llvm-readelf-19 -r: ${name}`, async () => {
    assert.equal(await relocText(join(fixtures, name)), readFileSync(join(fixtures, `${name}.readelf-r.txt`), 'utf8'));
  });
}

test('live llvm-readelf -r on every ELF fixture', { skip: liveSkip }, async () => {
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.o') && !['bitcode.o', 'empty.o'].includes(n))) {
    const p = join(fixtures, f);
    assert.equal(await relocText(p), execFileSync(readelf as string, ['-r', p], { encoding: 'utf8' }), f);
  }
});

test('.rel.llvm.call-graph-profile holds R_AARCH64_NONE entries without addends, streamed in chunks', async () => {
  const buf = readFileSync(join(fixtures, 'aarch64-ldr.o'));
  const src = bufferSource(buf);
  const obj = await readObject(src);
  assert.equal(obj.kind, 'elf');
  if (obj.kind !== 'elf') return;
  const rel = obj.elf.sections.find((s) => s.name === '.rel.llvm.call-graph-profile');
  assert.ok(rel);
  const chunks: Relocation[][] = [];
  for await (const c of readRelocations(src, obj.elf, rel, 2)) chunks.push(c);
  const all = chunks.flat();
  assert.equal(all.length, Number(rel.size / 16n));
  assert.ok(chunks.every((c) => c.length <= 2));
  assert.ok(
    all.every((r) => r.type === 0 && r.typeName === 'R_AARCH64_NONE' && r.addend === undefined && r.symbol > 0),
  );
  const rela = obj.elf.sections.find((s) => s.type === 4);
  assert.ok(rela);
  for await (const c of readRelocations(src, obj.elf, rela)) assert.ok(c.every((r) => r.addend !== undefined));
});

test('lying relocation sections give ObjectReadError', async () => {
  const buf = readFileSync(join(fixtures, 'aarch64-profile.o'));
  const obj = await readObject(bufferSource(buf));
  if (obj.kind !== 'elf') throw new Error('fixture');
  const elf: ElfFile = obj.elf;
  const rel = elf.sections.find((s) => s.type === 9);
  assert.ok(rel);
  const drain = async (s: typeof rel): Promise<void> => {
    for await (const c of readRelocations(bufferSource(buf), elf, s)) void c;
  };
  for (const bad of [
    { ...rel, size: 1n << 40n },
    { ...rel, offset: BigInt(buf.length) },
    { ...rel, size: 17n },
    { ...rel, entsize: 7n },
    { ...rel, type: 1 },
    { ...rel, offset: 1n << 60n },
  ]) {
    await assert.rejects(drain(bad), ObjectReadError);
  }
});

test(
  'many relocations: ELF32 big-endian and counts past one chunk match live llvm-readelf',
  { skip: liveSkip },
  async () => {
    // A MIPS BE object whose .rel.text has 10,000 entries (mutated from the fixture: the section grows into a new tail).
    const base = readFileSync(join(fixtures, 'mips-be.o'));
    const obj = await readObject(bufferSource(base));
    if (obj.kind !== 'elf') throw new Error('fixture');
    const rel = obj.elf.sections.find((s) => s.type === 9);
    assert.ok(rel);
    const n = 10000;
    const extra = Buffer.alloc(n * 8);
    for (let i = 0; i < n; i++) {
      extra.writeUInt32BE(i * 4, i * 8);
      extra.writeUInt32BE((((i % 3) + 1) << 8) | (i % 60), i * 8 + 4);
    }
    const out = Buffer.concat([base, extra]);
    const shoff = out.readUInt32BE(32);
    const h = shoff + rel.index * 40;
    out.writeUInt32BE(base.length, h + 16);
    out.writeUInt32BE(n * 8, h + 20);
    const p = join(tmp, 'mips-many.o');
    writeFileSync(p, out);
    assert.equal(
      await relocText(p),
      execFileSync(readelf as string, ['-r', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  },
);
