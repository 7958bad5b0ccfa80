// Kernel-scale `sections`: the raw-table formatter against the ElfSection one and llvm-readelf, the
// streamed JSON against JSON.stringify, and what happens when a file fails after its JSON began to stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { root } from '../helpers/kernelTree';
import { findLlvmReadelf } from '../helpers/hostTools';
import { mulberry32 } from '../helpers/prng';
import { bufferSource } from '../../server/src/elf/source';
import { readObject, readObjectTable } from '../../server/src/elf/reader';
import { formatSectionTable, formatSectionTableBytes } from '../../server/src/elf/format';
import { buildElf } from '../../server/src/elf/writer';
import { sectionsCommand, JSON_HOLD_CHARS } from '../../server/src/cli/sections';
import { manyRelocsElf, manySectionsElf } from '../../bench/genElf';

const fixtures = join(root, 'test', 'fixtures', 'elf');
const tmp = mkdtempSync(join(tmpdir(), 'kbd-scale-'));
const readelf = findLlvmReadelf();
const cli = join(root, 'server', 'out', 'cli.js');

async function bothWays(buf: Buffer, chunkCheck = false): Promise<{ objects: string; bytes: string }> {
  const a = await readObject(bufferSource(buf));
  assert.equal(a.kind, 'elf');
  const t = await readObjectTable(bufferSource(buf));
  assert.equal(t.kind, 'elf-table');
  if (a.kind !== 'elf' || t.kind !== 'elf-table') throw new Error('unreachable');
  const chunks: Buffer[] = [];
  formatSectionTableBytes(t.table, 'x.o', { fileHeader: true }, (c) => chunks.push(Buffer.from(c)));
  // Every chunk ends at a line end (never inside a row or a UTF-8 sequence).
  if (chunkCheck) for (const c of chunks) assert.equal(c[c.length - 1], 0x0a);
  return {
    objects: formatSectionTable(a.elf, 'x.o', { fileHeader: true }),
    bytes: Buffer.concat(chunks).toString('utf8'),
  };
}

test('raw-table formatter = ElfSection formatter on every fixture', async () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.o') && !['bitcode.o', 'empty.o'].includes(f));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const { objects, bytes } = await bothWays(readFileSync(join(fixtures, f)));
    assert.equal(bytes, objects, f);
  }
  const { objects, bytes } = await bothWays(gunzipSync(readFileSync(join(fixtures, 'many-sections.o.gz'))), true);
  assert.equal(bytes, objects);
});

test('raw-table formatter = ElfSection formatter on odd names, flags, alignments, classes and byte orders', async () => {
  const sections = [
    { name: '.text.tab\there', type: 1, flags: 6n },
    { name: '.data.line\nbreak', type: 1, flags: 3n },
    { name: '.rodata.é-ü-名前', type: 1, flags: 0x32n, entsize: 1n },
    { name: '.bad\u0001ctl', type: 0x6fff4c09, flags: 0x80000000n },
    { name: 'x'.repeat(3000), type: 0x70000001, flags: 0x10000000n | 0x200000n },
    {
      name: '.hi-flags',
      type: 1,
      flags: (1n << 40n) | 0x00100000n | 0x200000n,
      addralign: 1n << 33n,
      addr: 0xffffffff00001234n,
    },
    { name: '.os-flags', type: 0x60000123, flags: 0x0f000000n },
    { name: '', type: 8, flags: 3n, size: 0x123456789n },
  ];
  for (const cls of [64, 32] as const) {
    for (const endian of ['little', 'big'] as const) {
      for (const machine of [183, 62, 40, 8]) {
        const spec = {
          class: cls,
          endian,
          machine,
          sections:
            cls === 32
              ? sections.map((s) => ({
                  ...s,
                  flags: BigInt.asUintN(32, s.flags),
                  addralign: s.addralign === undefined ? undefined : 8n,
                  addr: undefined,
                  size: s.size === undefined ? undefined : 0x1234n,
                }))
              : sections,
        };
        const { objects, bytes } = await bothWays(buildElf(spec), true);
        assert.equal(bytes, objects, `${cls} ${endian} ${machine}`);
      }
    }
  }
  // No section name table: every name is <no-strings>.
  const buf = buildElf({ sections: [{ name: '.a', type: 1 }] });
  buf.writeUInt16LE(0, 62);
  const { objects, bytes } = await bothWays(buf);
  assert.match(bytes, /<no-strings>/);
  assert.equal(bytes, objects);
});

test(
  'a generated 70,004-section object (extended numbering): the CLI prints exactly llvm-readelf -S',
  { skip: readelf ? false : 'llvm-readelf-19 is not installed' },
  () => {
    const f = join(tmp, 's70k.o');
    manySectionsElf(f, 70004);
    const r = spawnSync(process.execPath, [cli, 'sections', f], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith('There are 70004 section headers'));
    assert.ok(
      r.stdout === execFileSync(readelf as string, ['-S', f], { encoding: 'utf8', maxBuffer: 64 << 20 }),
      'output differs from llvm-readelf -S',
    );
  },
);

async function runSections(args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await sectionsCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

test('--json --relocs is exactly JSON.stringify(value, null, 2), for one file and several', async () => {
  const rel = join(tmp, 'r3k.o');
  manyRelocsElf(rel, 3000, 500);
  const files = [
    rel,
    ...readdirSync(fixtures)
      .filter((f) => f.endsWith('.o'))
      .map((f) => join(fixtures, f)),
  ];
  for (const args of [
    ['--json', '--relocs', rel],
    ['--json', '--relocs', ...files],
    ['--json', ...files],
    ['--json', join(fixtures, 'empty.o')],
  ]) {
    const r = await runSections(args);
    assert.equal(r.out, JSON.stringify(JSON.parse(r.out), null, 2) + '\n', args.join(' '));
  }
  const r = await runSections(['--json', '--relocs', rel]);
  const j = JSON.parse(r.out) as { relocations: { entries: unknown[] }[] }[];
  assert.equal(j[0].relocations[0].entries.length, 3000);
});

test(
  'text --relocs on a generated object matches live llvm-readelf -S -r',
  { skip: readelf ? false : 'llvm-readelf-19 is not installed' },
  async () => {
    const rel = join(tmp, 'r5k.o');
    manyRelocsElf(rel, 5000, 700);
    const r = await runSections(['--relocs', rel]);
    assert.equal(r.status, 0, r.err);
    assert.ok(
      r.out === execFileSync(readelf as string, ['-S', '-r', rel], { encoding: 'utf8', maxBuffer: 64 << 20 }),
      'output differs from llvm-readelf -S -r',
    );
  },
);

test('a file that fails after its JSON began to stream is closed with an "error" member; the document stays valid', async () => {
  // Enough relocations to pass the hold-back, then a symbol index past the symbol table.
  const n = Math.ceil(JSON_HOLD_CHARS / 150) + 1000;
  const bad = join(tmp, 'bad-late.o');
  manyRelocsElf(bad, n, 100);
  const buf = readFileSync(bad);
  const obj = await readObject(bufferSource(buf));
  if (obj.kind !== 'elf') throw new Error('not ELF');
  const rela = obj.elf.sections.find((s) => s.name === '.rela.text');
  assert.ok(rela);
  buf.writeUInt32LE(0xfffff, Number(rela.offset + rela.size) - 24 + 12);
  writeFileSync(bad, buf);
  const early = join(tmp, 'bad-early.o');
  manyRelocsElf(early, 10, 5);
  const ebuf = readFileSync(early);
  const eobj = await readObject(bufferSource(ebuf));
  if (eobj.kind !== 'elf') throw new Error('not ELF');
  const erela = eobj.elf.sections.find((s) => s.name === '.rela.text');
  assert.ok(erela);
  ebuf.writeUInt32LE(0xfffff, Number(erela.offset) + 12);
  writeFileSync(early, ebuf);
  const r = await runSections(['--json', '--relocs', early, bad, join(fixtures, 'aarch64-clean.o')]);
  assert.equal(r.status, 1);
  assert.equal(r.err.trim().split('\n').length, 2, r.err);
  const j = JSON.parse(r.out) as { file: string; error?: string; relocations?: { entries: unknown[] }[] }[];
  // The early failure is left out (nothing of it was written), the late one is closed with its error.
  assert.deepEqual(
    j.map((x) => x.file),
    [bad, join(fixtures, 'aarch64-clean.o')],
  );
  assert.match(j[0].error ?? '', /symbol index 1048575 is past the end/);
  assert.ok((j[0].relocations?.[0].entries.length ?? 0) > 1000);
  assert.equal(j[1].error, undefined);
});

test('fuzzed headers: the raw-table path fails with the same message, or prints the same text, as the ElfSection path', async () => {
  const rnd = mulberry32(14);
  const bases = ['aarch64-profile.o', 'mips-be.o', 'i386.o', 'ppc64-be.o'].map((f) => readFileSync(join(fixtures, f)));
  let same = 0;
  let failedAlike = 0;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(bases[i % bases.length]);
    const shoff =
      buf[4] === 2
        ? Number(buf[5] === 1 ? buf.readBigUInt64LE(40) : buf.readBigUInt64BE(40))
        : buf[5] === 1
          ? buf.readUInt32LE(32)
          : buf.readUInt32BE(32);
    for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
      // Mostly the header and the section header table; sometimes anywhere.
      const at =
        rnd() < 0.8 && shoff < buf.length
          ? shoff + Math.floor(rnd() * (buf.length - shoff))
          : Math.floor(rnd() * buf.length);
      buf[at] = Math.floor(rnd() * 256);
    }
    let a: string;
    let b: string;
    try {
      const o = await readObject(bufferSource(buf));
      a = o.kind === 'elf' ? formatSectionTable(o.elf, 'f') : o.kind;
    } catch (e) {
      a = `error: ${(e as Error).message}`;
    }
    try {
      const o = await readObjectTable(bufferSource(buf));
      if (o.kind === 'elf-table') {
        const parts: Buffer[] = [];
        formatSectionTableBytes(o.table, 'f', {}, (c) => parts.push(Buffer.from(c)));
        b = Buffer.concat(parts).toString('utf8');
      } else b = o.kind;
    } catch (e) {
      b = `error: ${(e as Error).message}`;
    }
    assert.equal(b, a, `case ${i}`);
    if (a.startsWith('error: ')) failedAlike++;
    else same++;
  }
  assert.ok(same > 200 && failedAlike > 200, `${same} printed, ${failedAlike} failed`);
});
