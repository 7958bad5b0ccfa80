// ELF reader + llvm-readelf -S formatter: committed expected text for every fixture, and live
// comparison with llvm-readelf-19 on fixtures and on crafted/mutated objects.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { root } from '../helpers/kernelTree';
import { bufferSource, openFileSource } from '../../server/src/elf/source';
import { ObjectReadError, readObject, readObjectFile } from '../../server/src/elf/reader';
import { formatSectionTable, sectionToJson } from '../../server/src/elf/format';
import { offendingReason } from '../../server/src/rules/nvhe-profile-metadata/sections';
import { buildElf, SectionSpec } from '../../server/src/elf/writer';
import { ElfFile } from '../../server/src/elf/types';

const fixtures = join(root, 'test', 'fixtures', 'elf');
const tmp = mkdtempSync(join(tmpdir(), 'kbd-elf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function findReadelf(): string | undefined {
  for (const c of ['llvm-readelf-19', 'llvm-readelf']) {
    if (spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0) return c;
  }
  if (process.env.CI) throw new Error('CI needs llvm-readelf-19 (or llvm-readelf) for the live comparison');
  return undefined;
}
const readelf = findReadelf();
const liveSkip = readelf ? false : 'llvm-readelf-19 is not installed';
const runReadelf = (args: string[]): string =>
  execFileSync(readelf as string, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });

/** Fixture path, gunzipping `.gz` ones into the temp dir. */
function fixture(name: string): string {
  const p = join(fixtures, name);
  if (existsSync(p)) return p;
  const out = join(tmp, name);
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(p + '.gz')));
  return out;
}
function expected(name: string): string {
  const p = join(fixtures, name);
  return existsSync(p) ? readFileSync(p, 'utf8') : gunzipSync(readFileSync(p + '.gz')).toString('utf8');
}
async function elfOf(path: string): Promise<ElfFile> {
  const obj = await readObjectFile(path);
  assert.equal(obj.kind, 'elf', `${path} should be ELF`);
  if (obj.kind !== 'elf') throw new Error('unreachable');
  return obj.elf;
}

const elfFixtures = readdirSync(fixtures)
  .filter((f) => f.endsWith('.readelf-S.txt') || f.endsWith('.readelf-S.txt.gz'))
  .map((f) => f.replace(/\.readelf-S\.txt(\.gz)?$/, ''));

test('fixture set is complete', () => {
  for (const f of [
    'aarch64-profile.o',
    'aarch64-clean.o',
    'aarch64-ldr.o',
    'x86_64-profile.o',
    'arm32.o',
    'mips-be.o',
    'ppc64-be.o',
    'ppc32-be.o',
    'many-sections.o',
  ]) {
    assert.ok(elfFixtures.includes(f), f);
  }
});

for (const name of elfFixtures) {
  test(`formatSectionTable == committed llvm-readelf-19 -S: ${name}`, async () => {
    const elf = await elfOf(fixture(name));
    assert.equal(formatSectionTable(elf, name), expected(`${name}.readelf-S.txt`));
  });
  test(`formatSectionTable == live llvm-readelf -S: ${name}`, { skip: liveSkip }, async () => {
    const p = fixture(name);
    assert.equal(formatSectionTable(await elfOf(p), name), runReadelf(['-S', p]));
  });
}

test('profiled aarch64 object: call-graph-profile sections, types, flags and offending reasons', async () => {
  const elf = await elfOf(fixture('aarch64-profile.o'));
  assert.equal(elf.class, 64);
  assert.equal(elf.endian, 'little');
  assert.equal(elf.machine, 183);
  assert.equal(elf.machineName, 'AArch64');
  assert.equal(elf.typeName, 'REL (Relocatable file)');
  const cg = elf.sections.find((s) => s.name === '.llvm.call-graph-profile');
  const rel = elf.sections.find((s) => s.name === '.rel.llvm.call-graph-profile');
  assert.ok(cg && rel);
  assert.equal(cg.type, 0x6fff4c09);
  assert.equal(cg.typeName, 'LLVM_CALL_GRAPH_PROFILE');
  assert.equal(cg.flagLetters, 'E');
  assert.equal(cg.flags, 0x80000000n);
  assert.equal(rel.type, 9);
  assert.equal(rel.typeName, 'REL');
  assert.equal(rel.info, cg.index);
  assert.match(offendingReason(cg, elf) ?? '', /SHT_LLVM_CALL_GRAPH_PROFILE/);
  assert.match(offendingReason(rel, elf) ?? '', /SHT_REL.*\.llvm\.call-graph-profile/);
  const offending = elf.sections.filter((s) => offendingReason(s, elf) !== undefined).map((s) => s.name);
  assert.deepEqual(offending, ['.llvm.call-graph-profile', '.rel.llvm.call-graph-profile']);
  const clean = await elfOf(fixture('aarch64-clean.o'));
  assert.deepEqual(
    clean.sections.filter((s) => offendingReason(s, clean) !== undefined),
    [],
  );
  const j = sectionToJson(cg);
  assert.deepEqual(j, {
    index: cg.index,
    name: '.llvm.call-graph-profile',
    type: 0x6fff4c09,
    typeName: 'LLVM_CALL_GRAPH_PROFILE',
    flags: 0x80000000,
    flagLetters: 'E',
    address: 0,
    offset: Number(cg.offset),
    size: 8,
    entsize: 8,
    link: cg.link,
    info: 0,
    alignment: 1,
  });
});

test('ld -r of several profiled objects keeps the REL section', async () => {
  const elf = await elfOf(fixture('aarch64-ldr.o'));
  const rel = elf.sections.filter((s) => s.type === 9);
  assert.deepEqual(
    rel.map((s) => s.name),
    ['.rel.llvm.call-graph-profile'],
  );
});

test('big-endian ELF32 (MIPS) and ELF64 (PowerPC64)', async () => {
  const mips = await elfOf(fixture('mips-be.o'));
  assert.equal(mips.class, 32);
  assert.equal(mips.endian, 'big');
  assert.equal(mips.machine, 8);
  assert.ok(mips.sections.some((s) => s.typeName === 'MIPS_ABIFLAGS'));
  const ppc = await elfOf(fixture('ppc64-be.o'));
  assert.equal(ppc.class, 64);
  assert.equal(ppc.endian, 'big');
  assert.equal(ppc.machine, 21);
});

test('extended section numbering: more than 65,280 sections', async () => {
  const p = fixture('many-sections.o');
  const raw = readFileSync(p);
  assert.equal(raw.readUInt16LE(60), 0, 'e_shnum is 0');
  const elf = await elfOf(p);
  assert.equal(elf.sections.length, 65405);
  assert.equal(elf.sections[elf.shstrndx].name, '.strtab');
  assert.equal(elf.sections[65404].typeName, 'SYMTAB SECTION INDICES');
  // e_shstrndx = SHN_XINDEX: the real index moves to section 0's sh_link.
  const x = Buffer.from(raw);
  const shoff = Number(x.readBigUInt64LE(40));
  x.writeUInt32LE(x.readUInt16LE(62), shoff + 40);
  x.writeUInt16LE(0xffff, 62);
  const xp = join(tmp, 'xindex.o');
  writeFileSync(xp, x);
  const xe = await elfOf(xp);
  assert.equal(xe.shstrndx, elf.shstrndx);
  if (readelf) assert.equal(formatSectionTable(xe, xp), runReadelf(['-S', xp]));
});

test('bitcode, archives, empty, unknown', async () => {
  assert.deepEqual(await readObjectFile(fixture('bitcode.o')).then((o) => o.kind === 'bitcode' && o.wrapper), false);
  const wrapper = Buffer.alloc(32);
  wrapper.writeUInt32LE(0x0b17c0de, 0);
  assert.deepEqual(await readObject(bufferSource(wrapper)), { kind: 'bitcode', wrapper: true });
  const reg = await readObjectFile(fixture('libregular.a'));
  assert.equal(reg.kind, 'archive');
  if (reg.kind !== 'archive') return;
  assert.equal(reg.thin, false);
  assert.deepEqual(
    reg.members.map((m) => m.name),
    ['a-member-with-a-long-name.o', 'short.o'],
  );
  assert.deepEqual(
    reg.members.map((m) => m.size),
    [readFileSync(fixture('aarch64-clean.o')).length, readFileSync(fixture('aarch64-profile.o')).length],
  );
  const thin = await readObjectFile(fixture('libthin.a'));
  assert.ok(thin.kind === 'archive' && thin.thin);
  if (thin.kind !== 'archive') return;
  assert.deepEqual(
    thin.members.map((m) => m.name),
    ['aarch64-clean.o', 'aarch64-profile.o'],
  );
  assert.equal((await readObjectFile(fixture('empty.o'))).kind, 'empty');
  const unk = await readObject(bufferSource(Buffer.from('#!/bin/sh\necho hi\n')));
  assert.equal(unk.kind, 'unknown');
});

test('reads only the header, the section header table and the name table', async () => {
  for (const name of ['aarch64-profile.o', 'many-sections.o', 'ppc32-be.o']) {
    const p = fixture(name);
    const src = await openFileSource(p);
    const obj = await readObject(src);
    await src.close();
    assert.equal(obj.kind, 'elf');
    if (obj.kind !== 'elf') return;
    const e = obj.elf;
    const min =
      (e.class === 64 ? 64 : 52) + e.sections.length * (e.class === 64 ? 64 : 40) + Number(e.sections[e.shstrndx].size);
    assert.ok(src.bytesRead >= min && src.bytesRead <= 2 * min, `${name}: read ${src.bytesRead}, minimum ${min}`);
    assert.ok(src.bytesRead < readFileSync(p).length || name === 'ppc32-be.o', `${name}: must not read the whole file`);
  }
});

test('ObjectReadError on lying headers', async () => {
  const good = readFileSync(fixture('aarch64-profile.o'));
  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ['e_shoff past the end', (b) => b.writeBigUInt64LE(0xffffffn, 40), /section header table/],
    ['e_shoff huge', (b) => b.writeBigUInt64LE(0xffffffffffffff00n, 40), /e_shoff|out of range/],
    ['e_shnum too big', (b) => b.writeUInt16LE(0xfff0, 60), /past the end/],
    ['e_shentsize wrong', (b) => b.writeUInt16LE(12, 58), /e_shentsize/],
    ['e_shstrndx out of range', (b) => b.writeUInt16LE(200, 62), /section name table index/],
    ['bad class', (b) => (b[4] = 7), /EI_CLASS/],
    [
      'shstrtab size lies',
      (b) => b.writeBigUInt64LE(0x7fffffffn, b.readUInt32LE(40) + 64 * b.readUInt16LE(62) + 32),
      /section name table/,
    ],
  ];
  for (const [what, mutate, re] of cases) {
    const b = Buffer.from(good);
    mutate(b);
    await assert.rejects(
      readObject(bufferSource(b)),
      (e: unknown) => e instanceof ObjectReadError && re.test(e.message) && !e.message.includes('\n'),
      what,
    );
  }
  await assert.rejects(
    readObject(bufferSource(good.subarray(0, 30))),
    (e: unknown) => e instanceof ObjectReadError && e.code === 'truncated',
  );
});

function craftedSections(machine: number): SectionSpec[] {
  const types = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 19, 12, 13, 20, 0x60000000, 0x60000001, 0x60000002,
    0x6fffff00, 0x6fff4c00, 0x6fff4c01, 0x6fff4c02, 0x6fff4c03, 0x6fff4c04, 0x6fff4c05, 0x6fff4c06, 0x6fff4c07,
    0x6fff4c08, 0x6fff4c09, 0x6fff4c0a, 0x6fff4c0b, 0x6fff4c0c, 0x6fff4c0d, 0x6ffffff5, 0x6ffffff6, 0x6ffffffd,
    0x6ffffffe, 0x6fffffff, 0x70000000, 0x70000001, 0x70000002, 0x70000003, 0x70000004, 0x70000005, 0x70000006,
    0x70000007, 0x70000008, 0x7000000d, 0x7000001e, 0x7000002a, 0x7fffffff, 0x80000000, 0xffffffff,
  ];
  const flags = [
    0x1n,
    0x2n,
    0x4n,
    0x10n,
    0x20n,
    0x40n,
    0x80n,
    0x100n,
    0x200n,
    0x400n,
    0x800n,
    0x80000000n,
    0x200000n,
    0x100000n,
    0x10000000n,
    0x20000000n,
    0x40000000n,
    0x90000000n,
    0x08000000n,
    0x1000n,
    0x100000000n,
    0x7n,
    0xffffffffn,
    0xffffffffffffffffn,
    0x80000002n,
  ];
  const out: SectionSpec[] = types.map((type, i) => ({
    name: `.t${i}`,
    type,
    size: 16n,
    flags: flags[i % flags.length],
    link: i % 3,
    info: i * 1000,
    addralign: BigInt(1 << (i % 13)),
    entsize: BigInt(i * 7),
    addr: BigInt(i) * 0x123456789n,
  }));
  out.push({ name: 'a name that is much longer than the column width', type: 1, data: Buffer.from('x') });
  void machine;
  return out;
}

test('crafted objects: every type/flag spelling matches live llvm-readelf', { skip: liveSkip }, async () => {
  const variants: [number, 32 | 64, 'little' | 'big', number][] = [
    [183, 64, 'little', 0],
    [62, 64, 'little', 0],
    [40, 32, 'little', 0],
    [8, 32, 'big', 0],
    [21, 64, 'big', 0],
    [243, 64, 'little', 0],
    [164, 32, 'little', 0],
    [105, 32, 'little', 0],
    [183, 64, 'little', 6],
    [3, 32, 'little', 3],
  ];
  for (const [machine, cls, endian, osabi] of variants) {
    const buf = buildElf({ class: cls, endian, machine, osabi, sections: craftedSections(machine) });
    const p = join(tmp, `crafted-${machine}-${cls}-${osabi}.o`);
    writeFileSync(p, buf);
    const elf = await elfOf(p);
    assert.equal(formatSectionTable(elf, p), runReadelf(['-S', p]), `machine ${machine} class ${cls} osabi ${osabi}`);
  }
});

test('no section header table, and no section name table, match live llvm-readelf', { skip: liveSkip }, async () => {
  const good = readFileSync(fixture('aarch64-profile.o'));
  const a = Buffer.from(good);
  a.writeBigUInt64LE(0n, 40);
  const b = Buffer.from(good);
  b.writeUInt16LE(0, 62);
  for (const [n, buf] of [
    ['noshdr.o', a],
    ['nostrtab.o', b],
  ] as const) {
    const p = join(tmp, n);
    writeFileSync(p, buf);
    assert.equal(formatSectionTable(await elfOf(p), p), runReadelf(['-S', p]), n);
  }
});

test('files over 2 GiB: the section header table at offset 3 GiB (sparse file) is read by range', async () => {
  const { openSync, writeSync, closeSync, rmSync } = await import('node:fs');
  const b = Buffer.from(readFileSync(fixture('aarch64-clean.o')));
  const shoff = Number(b.readBigUInt64LE(40));
  const table = Buffer.from(b.subarray(shoff, shoff + 64 * b.readUInt16LE(60)));
  const at = 3 * 1024 ** 3 + 8;
  b.writeBigUInt64LE(BigInt(at), 40);
  const p = join(tmp, 'huge-3g.o');
  const fd = openSync(p, 'w');
  writeSync(fd, b, 0, b.length, 0);
  writeSync(fd, table, 0, table.length, at);
  closeSync(fd);
  try {
    const src = await openFileSource(p);
    const obj = await readObject(src);
    await src.close();
    assert.equal(obj.kind, 'elf');
    if (obj.kind !== 'elf') return;
    assert.ok(src.bytesRead < 4096, `read ${src.bytesRead} bytes of a 3 GiB file`);
    const text = formatSectionTable(obj.elf, p);
    assert.match(text, /starting at offset 0xc0000008:/);
    assert.equal(
      text.replace(/starting at offset 0x[0-9a-f]+/, ''),
      expected('aarch64-clean.o.readelf-S.txt').replace(/starting at offset 0x[0-9a-f]+/, ''),
    );
    if (readelf) assert.equal(text, runReadelf(['-S', p]));
  } finally {
    rmSync(p, { force: true });
  }
});
