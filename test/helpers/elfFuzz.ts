// Robustness harness: truncations and seeded mutations of real objects pushed through every entry
// point (readObject, readRelocations, formatSectionTable, formatAllRelocations, sectionToJson,
// offendingReason, genHyprelVerdict). Anything thrown that is not an ObjectReadError is a failure.
// Test-only (not shipped). Used by test/unit/elfFuzz.test.ts (smaller count) and scripts/fuzz-elf.mjs (100,000+ cases).
import { mulberry32 } from './prng';
import { bufferSource } from '../../server/src/elf/source';
import { readObject } from '../../server/src/elf/reader';
import { formatAllRelocations, formatSectionTable, sectionToJson } from '../../server/src/elf/format';
import { isRelocationSection, readRelocations } from '../../server/src/elf/relocations';
import { genHyprelVerdict } from '../../server/src/rules/nvhe-profile-metadata/genHyprel';
import { offendingReason } from '../../server/src/rules/nvhe-profile-metadata/sections';
import { ObjectKind, ObjectReadError } from '../../server/src/elf/types';

export interface FuzzFailure {
  label: string;
  error: string;
}

export interface FuzzStats {
  cases: number;
  elf: number;
  readErrors: number;
  relocEntries: number;
  genHyprelRejected: number;
  slowestMs: number;
  failures: FuzzFailure[];
}

/** Runs one input through everything; returns what happened, throws only on a real bug. */
export async function exercise(buf: Uint8Array, stats: FuzzStats): Promise<void> {
  const src = bufferSource(buf);
  let obj: ObjectKind;
  try {
    obj = await readObject(src);
  } catch (e) {
    if (!(e instanceof ObjectReadError)) throw e;
    stats.readErrors++;
    obj = { kind: 'unknown', description: e.message };
  }
  if (obj.kind === 'elf') {
    stats.elf++;
    const elf = obj.elf;
    formatSectionTable(elf, 'fuzz.o');
    for (const s of elf.sections) {
      sectionToJson(s);
      offendingReason(s, elf);
      if (!isRelocationSection(s)) continue;
      try {
        for await (const chunk of readRelocations(src, elf, s, 64)) stats.relocEntries += chunk.length;
      } catch (e) {
        if (!(e instanceof ObjectReadError)) throw e;
      }
    }
    try {
      await formatAllRelocations(src, elf);
    } catch (e) {
      if (!(e instanceof ObjectReadError)) throw e;
    }
  }
  for (const bigEndianKernel of [false, true]) {
    const v = await genHyprelVerdict(src, obj, 'fuzz.o', { bigEndianKernel, emitOutput: true });
    if (!v.accepted) {
      stats.genHyprelRejected++;
      if (v.message.includes('\n') || !v.message.startsWith('error: fuzz.o: '))
        throw new Error(`bad gen-hyprel message: ${JSON.stringify(v.message)}`);
    }
  }
}

export function newStats(): FuzzStats {
  return { cases: 0, elf: 0, readErrors: 0, relocEntries: 0, genHyprelRejected: 0, slowestMs: 0, failures: [] };
}

async function one(buf: Uint8Array, label: string, stats: FuzzStats): Promise<void> {
  const t0 = performance.now();
  try {
    await exercise(buf, stats);
  } catch (e) {
    stats.failures.push({ label, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  stats.cases++;
  stats.slowestMs = Math.max(stats.slowestMs, performance.now() - t0);
}

/** Every prefix of `buf` (lengths 0..size). */
export async function fuzzTruncations(name: string, buf: Buffer, stats: FuzzStats): Promise<void> {
  for (let n = 0; n <= buf.length; n++) await one(buf.subarray(0, n), `${name} truncated to ${n}`, stats);
}

const extremes = [
  0n,
  1n,
  0x7fn,
  0xffn,
  0x100n,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0xffffffffn,
  0x100000000n,
  0x7fffffffffffffffn,
  0xffffffffffffffffn,
  24n,
  64n,
  9n,
  4n,
];

/** `cases` seeded mutations spread over `bases`: bit flips, extreme header/section-header fields, truncation. */
export async function fuzzMutations(
  bases: [string, Buffer][],
  cases: number,
  seed: number,
  stats: FuzzStats,
): Promise<void> {
  const rand = mulberry32(seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  for (let k = 0; k < cases; k++) {
    const [name, good] = bases[k % bases.length];
    const b = Buffer.from(good);
    const mode = pick(4);
    if (mode === 0 || b.length < 64) {
      const flips = 1 + pick(8);
      for (let j = 0; j < flips && b.length > 0; j++) b[pick(b.length)] ^= 1 << pick(8);
    } else {
      // Overwrite a field with an extreme value: in the ELF header, or in a section header, little or big endian.
      const width = [1, 2, 4, 8][pick(4)];
      const little = b[5] !== 2;
      let at: number;
      if (mode === 1) at = 16 + pick(48 - width);
      else {
        const shoff =
          b[4] === 2
            ? Number(little ? b.readBigUInt64LE(40) : b.readBigUInt64BE(40))
            : little
              ? b.readUInt32LE(32)
              : b.readUInt32BE(32);
        at = shoff < b.length - 8 ? shoff + pick(Math.min(b.length - shoff - 8, 64 * 16)) : pick(b.length - 8);
      }
      const v = BigInt.asUintN(width * 8, rand() < 0.7 ? extremes[pick(extremes.length)] : BigInt(pick(0x100000000)));
      if (width === 1) b[at] = Number(v);
      else if (width === 2) {
        if (little) b.writeUInt16LE(Number(v), at);
        else b.writeUInt16BE(Number(v), at);
      } else if (width === 4) {
        if (little) b.writeUInt32LE(Number(v), at);
        else b.writeUInt32BE(Number(v), at);
      } else if (little) b.writeBigUInt64LE(v, at);
      else b.writeBigUInt64BE(v, at);
      if (mode === 3 && rand() < 0.5) {
        await one(b.subarray(0, pick(b.length + 1)), `${name} seed ${seed} case ${k} (field+truncate)`, stats);
        continue;
      }
    }
    await one(b, `${name} seed ${seed} case ${k} (mode ${mode})`, stats);
  }
}
