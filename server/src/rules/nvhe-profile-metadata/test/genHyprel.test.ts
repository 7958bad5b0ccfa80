// The gen-hyprel model against the real gen-hyprel (Linux 6.1 source, built with gcc here): same
// verdict, same stderr line, same stdout when accepted, on every fixture and on mutated objects.
import { mulberry32 } from '../../../../../test/helpers/prng';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { kernelTree, root } from '../../../../../test/helpers/kernelTree';
import { bufferSource } from '../../../elf/source';
import { readObject, ObjectReadError } from '../../../elf/reader';
import { genHyprelVerdict, GenHyprelVerdict } from '../genHyprel';
import { buildGenHyprel } from '../../../../../test/helpers/hostTools';
import { ObjectKind } from '../../../elf/types';

const fixtures = join(root, 'test', 'fixtures', 'elf');
const tmp = mkdtempSync(join(tmpdir(), 'kbd-genhyprel-'));

function realTools(): { le: string; be: string } | string {
  const t = kernelTree('6.1');
  const why = (m: string): string => {
    if (process.env.CI) throw new Error(`CI needs the real gen-hyprel: ${m}`);
    return m;
  };
  if (!('path' in t)) return why(t.missing);
  const le = buildGenHyprel(t.path, { cacheDir: tmp });
  const be = buildGenHyprel(t.path, { cacheDir: tmp, bigEndian: true });
  if (!('path' in le)) return why(le.missing);
  if (!('path' in be)) return why(be.missing);
  return { le: le.path, be: be.path };
}
const tools = realTools();
const skip = typeof tools === 'string' ? tools : false;

interface Real {
  status: number | null;
  signal: string | null;
  stderr: string;
  stdout: string;
}
function runReal(bin: string, cwd: string, arg: string): Real {
  const r = spawnSync(bin, [arg], { cwd, encoding: 'latin1', maxBuffer: 256 << 20 });
  return { status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout };
}

async function model(buf: Buffer, arg: string, bigEndianKernel: boolean): Promise<GenHyprelVerdict> {
  const src = bufferSource(buf);
  let obj: ObjectKind;
  try {
    obj = await readObject(src);
  } catch (e) {
    if (!(e instanceof ObjectReadError)) throw e;
    obj = { kind: 'unknown', description: e.message };
  }
  return genHyprelVerdict(src, obj, arg, { bigEndianKernel, emitOutput: true });
}

/** Compares one file; returns false when the real program's behaviour is undefined (model says so). */
async function compare(
  bin: string,
  buf: Buffer,
  dir: string,
  arg: string,
  be: boolean,
  label: string,
): Promise<boolean> {
  const v = await model(buf, arg, be);
  if (!v.accepted && v.undefinedBehavior) return false;
  const real = runReal(bin, dir, arg);
  assert.equal(
    real.signal,
    null,
    `${label}: real gen-hyprel crashed (${real.signal}) where the model says ${v.accepted ? 'accepted' : v.message}`,
  );
  if (v.accepted) {
    assert.equal(real.status, 0, `${label}: model accepts, real says ${real.stderr}`);
    assert.equal(real.stdout, v.output, `${label}: stdout`);
  } else {
    assert.equal(real.status, 1, `${label}: model rejects (${v.message}), real accepts`);
    assert.equal(real.stderr, v.message + '\n', label);
  }
  return true;
}

function fixtureBuffers(): [string, Buffer][] {
  return readdirSync(fixtures)
    .filter((f) => /\.(o|a)(\.gz)?$/.test(f))
    .map((f) => [
      f.replace(/\.gz$/, ''),
      f.endsWith('.gz') ? gunzipSync(readFileSync(join(fixtures, f))) : readFileSync(join(fixtures, f)),
    ]);
}

test('model verdicts on the fixtures (independent of the real tool)', async () => {
  const byName = new Map(fixtureBuffers());
  const v = async (n: string, be = false): Promise<GenHyprelVerdict> =>
    model(byName.get(n) as Buffer, `arch/arm64/kvm/hyp/nvhe/${n}`, be);
  const p = await v('aarch64-profile.o');
  assert.equal(p.accepted, false);
  if (!p.accepted) {
    assert.equal(
      p.message,
      'error: arch/arm64/kvm/hyp/nvhe/aarch64-profile.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"',
    );
    assert.equal(p.section?.name, '.rel.llvm.call-graph-profile');
  }
  assert.equal((await v('aarch64-clean.o')).accepted, true);
  assert.equal((await v('aarch64-hyp.o')).accepted, true);
  assert.match(
    JSON.stringify(await v('aarch64-hyp.o')),
    /\.reloc 0, R_AARCH64_PREL32, __hyp_section_\.hyp\.data \+ 0x0/,
  );
  const bad = await v('aarch64-hyp-badrela.o');
  assert.ok(!bad.accepted && bad.message.endsWith(': Unexpected RELA type 258'));
  const ldr = await v('aarch64-ldr.o');
  assert.ok(!ldr.accepted && ldr.message.endsWith('Unexpected SHT_REL section ".rel.llvm.call-graph-profile"'));
  // e_shnum is 0 with extended numbering: gen-hyprel's 16-bit loop sees no sections at all.
  assert.equal((await v('many-sections.o')).accepted, true);
  const x86 = await v('x86_64-profile.o');
  assert.ok(
    !x86.accepted &&
      x86.message.endsWith(
        'assertion __uint16_identity (elf.ehdr->e_machine) == 183 failed (lhs=62, rhs=183, line=289)',
      ),
  );
  const be = await v('aarch64_be-hyp-profile.o', true);
  assert.ok(!be.accepted && be.message.endsWith('Unexpected SHT_REL section ".rel.llvm.call-graph-profile"'));
  const beOnLe = await v('aarch64_be-hyp.o');
  assert.ok(
    !beOnLe.accepted && beOnLe.message.endsWith('assertion elf.ehdr->e_ident[5] == 1 failed (lhs=2, rhs=1, line=287)'),
  );
  const empty = await v('empty.o');
  assert.ok(!empty.accepted && empty.message.endsWith('Could not mmap ELF file: Invalid argument'));
});

test('real gen-hyprel agrees on every fixture (LE and BE kernel builds)', { skip }, async () => {
  if (typeof tools === 'string') return;
  let compared = 0;
  const all = fixtureBuffers();
  for (const [name, buf] of all) {
    writeFileSync(join(tmp, name), buf);
    for (const [bin, be] of [
      [tools.le, false],
      [tools.be, true],
    ] as const) {
      if (await compare(bin, buf, tmp, name, be, `${name} (${be ? 'BE' : 'LE'})`)) compared++;
    }
  }
  assert.equal(compared, 2 * all.length, 'every fixture has defined behaviour and was compared');
  assert.ok(all.length >= 19);
});

// Over 80 lines in one callback on purpose: each mutation, the real gen-hyprel's answer and ours are
// compared in one loop, so a disagreement prints the whole case.
test('real gen-hyprel agrees on mutated objects (structured field edits and byte flips)', { skip }, async (t) => {
  if (typeof tools === 'string') return;
  const bases = [
    'aarch64-hyp.o',
    'aarch64-hyp-profile.o',
    'aarch64-profile.o',
    'aarch64-ldr.o',
    'aarch64-hyp-badrela.o',
  ].map((n) => [n, readFileSync(join(fixtures, n))] as const);
  const rand = mulberry32(0xc0ffee);
  let compared = 0;
  let undefinedCases = 0;
  let n = 0;
  const tryOne = async (buf: Buffer, label: string): Promise<void> => {
    const name = `m${n++}.o`;
    writeFileSync(join(tmp, name), buf);
    if (await compare(tools.le, buf, tmp, name, false, label)) compared++;
    else undefinedCases++;
  };
  for (const [base, good] of bases) {
    const shoff = Number(good.readBigUInt64LE(40));
    const shnum = good.readUInt16LE(60);
    // Structured edits of the header.
    const edits: [string, (b: Buffer) => void][] = [
      ['e_type=2', (b) => b.writeUInt16LE(2, 16)],
      ['e_machine=62', (b) => b.writeUInt16LE(62, 18)],
      ['class', (b) => (b[4] = 1)],
      ['data', (b) => (b[5] = 2)],
      ['magic', (b) => (b[1] = 0x45 ^ 1)],
      ['e_shoff=0', (b) => b.writeBigUInt64LE(0n, 40)],
      ['e_shstrndx=0', (b) => b.writeUInt16LE(0, 62)],
      ['e_shnum=0', (b) => b.writeUInt16LE(0, 60)],
      ['truncate', (b) => b.fill(0, 40, 48)],
    ];
    for (const [what, f] of edits) {
      const b = Buffer.from(good);
      f(b);
      await tryOne(b, `${base} ${what}`);
    }
    // Section header edits: type -> REL/RELA, sh_info, sh_size; RELA entry types and offsets.
    for (let i = 1; i < shnum; i++) {
      const h = shoff + i * 64;
      for (const [what, f] of [
        ['type=REL', (b: Buffer) => b.writeUInt32LE(9, h + 4)],
        ['type=RELA', (b: Buffer) => b.writeUInt32LE(4, h + 4)],
        ['info+1', (b: Buffer) => b.writeUInt32LE(b.readUInt32LE(h + 44) + 1, h + 44)],
        ['size+24', (b: Buffer) => b.writeBigUInt64LE(b.readBigUInt64LE(h + 32) + 24n, h + 32)],
      ] as const) {
        const b = Buffer.from(good);
        f(b);
        await tryOne(b, `${base} section ${i} ${what}`);
      }
      if (good.readUInt32LE(h + 4) === 4) {
        const off = Number(good.readBigUInt64LE(h + 24));
        const size = Number(good.readBigUInt64LE(h + 32));
        for (let e = 0; e < size / 24; e++) {
          for (const t of [0, 257, 258, 260, 283, 299, 300, 311, 0x1_0000_0000 + 283]) {
            const b = Buffer.from(good);
            b.writeBigUInt64LE((BigInt(e) << 32n) | BigInt(t), off + e * 24 + 8);
            await tryOne(b, `${base} section ${i} rela ${e} type ${t}`);
          }
          const b = Buffer.from(good);
          b.writeBigUInt64LE(0xfffffn, off + e * 24);
          await tryOne(b, `${base} section ${i} rela ${e} r_offset`);
        }
      }
    }
    // Seeded random byte flips anywhere in the file.
    for (let k = 0; k < 150; k++) {
      const b = Buffer.from(good);
      const flips = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < flips; j++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      await tryOne(b, `${base} flip#${k}`);
    }
  }
  t.diagnostic(
    `compared ${compared} mutated objects with the real gen-hyprel; ${undefinedCases} would make it read outside its mapping (not compared)`,
  );
  assert.ok(compared > 1000, `compared ${compared} (undefined behaviour, not compared: ${undefinedCases})`);
  assert.ok(existsSync(tools.le));
});
