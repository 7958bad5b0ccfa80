// Streams REL/RELA entries of one section in chunks (never the whole section in memory at once).
import { ByteSource } from './source';
import { toOffset } from './reader';
import type { relocTypeNames as RelocTypeNames } from './relocNames';
import {
  ElfFile,
  ElfSection,
  EM_MIPS,
  ObjectReadError,
  SHT_ANDROID_REL,
  SHT_ANDROID_RELA,
  SHT_REL,
  SHT_RELA,
} from './types';

export interface Relocation {
  offset: bigint;
  type: number;
  /** e.g. R_AARCH64_CALL26, as llvm-readelf-19 prints it ("Unknown" when it has no name). */
  typeName: string;
  symbol: number;
  /** Present for RELA entries only. */
  addend?: bigint;
  /** Raw r_info (the Info column of llvm-readelf -r). */
  info: bigint;
}

let typeNames: typeof RelocTypeNames | undefined;

function relocTypeName(machine: number, type: number): string {
  // Loaded on first use: a section table alone never parses these tables (the CLI build keeps them in
  // their own file, scripts/build.mjs).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  typeNames ??= (require('./relocNames') as { relocTypeNames: typeof RelocTypeNames }).relocTypeNames;
  return typeNames[machine]?.[type] ?? 'Unknown';
}

export function isRelocationSection(s: ElfSection): boolean {
  return s.type === SHT_REL || s.type === SHT_RELA || s.type === SHT_ANDROID_REL || s.type === SHT_ANDROID_RELA;
}

/**
 * Where a relocation section's entries lie in the file, checked first: within the file and a whole
 * number of entries (`truncated` / `malformed` otherwise).
 */
export function relocationExtent(src: ByteSource, elf: ElfFile, section: ElfSection): { off: number; size: number } {
  const { entsize } = relocEntrySize(elf, section);
  const where = `relocation section [${section.index}] "${section.name}"`;
  const off = toOffset(section.offset, `${where} sh_offset`);
  const size = toOffset(section.size, `${where} sh_size`);
  if (off + size > src.size)
    throw new ObjectReadError(
      'truncated',
      `${where} at offset 0x${off.toString(16)} size 0x${size.toString(16)} goes past the end of the file (size 0x${src.size.toString(16)})`,
    );
  if (size % entsize !== 0)
    throw new ObjectReadError(
      'malformed',
      `${where}: sh_size 0x${size.toString(16)} is not a multiple of the entry size ${entsize}`,
    );
  return { off, size };
}

/** Entry size of a relocation section (sh_entsize 0 means the natural size); ObjectReadError when it lies. */
export function relocEntrySize(elf: ElfFile, s: ElfSection): { entsize: number; rela: boolean } {
  const rela = s.type === SHT_RELA || s.type === SHT_ANDROID_RELA;
  if (!isRelocationSection(s))
    throw new ObjectReadError(
      'malformed',
      `section [${s.index}] "${s.name}" (${s.typeName}) is not a REL/RELA section`,
    );
  const natural = (elf.class === 64 ? 8 : 4) * (rela ? 3 : 2);
  if (s.entsize !== 0n && s.entsize !== BigInt(natural)) {
    throw new ObjectReadError(
      'malformed',
      `section [${s.index}] "${s.name}": sh_entsize ${s.entsize} is not ${natural}`,
    );
  }
  return { entsize: natural, rela };
}

export async function* readRelocations(
  src: ByteSource,
  elf: ElfFile,
  section: ElfSection,
  chunkEntries = 4096,
): AsyncIterable<Relocation[]> {
  const { entsize, rela } = relocEntrySize(elf, section);
  const { off, size } = relocationExtent(src, elf, section);
  const count = size / entsize;
  const per = Math.max(1, Math.min(Math.floor(chunkEntries), 1 << 20));
  const is64 = elf.class === 64;
  const little = elf.endian === 'little';
  const mips64el = elf.machine === EM_MIPS && is64 && little;
  for (let i = 0; i < count; i += per) {
    const n = Math.min(per, count - i);
    const buf = await src.read(off + i * entsize, n * entsize);
    const out: Relocation[] = new Array<Relocation>(n);
    for (let j = 0; j < n; j++) {
      const o = j * entsize;
      let offset: bigint;
      let info: bigint;
      let addend: bigint | undefined;
      let symbol: number;
      let type: number;
      if (is64) {
        offset = little ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o);
        info = little ? buf.readBigUInt64LE(o + 8) : buf.readBigUInt64BE(o + 8);
        if (rela) addend = little ? buf.readBigInt64LE(o + 16) : buf.readBigInt64BE(o + 16);
        if (mips64el) {
          symbol = Number(info & 0xffffffffn);
          type = Number(info >> 56n);
        } else {
          symbol = Number(info >> 32n);
          type = Number(info & 0xffffffffn);
        }
      } else {
        offset = BigInt(little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
        const i32 = little ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4);
        info = BigInt(i32);
        if (rela) addend = BigInt(little ? buf.readInt32LE(o + 8) : buf.readInt32BE(o + 8));
        symbol = i32 >>> 8;
        type = i32 & 0xff;
      }
      out[j] = {
        offset,
        type,
        typeName: relocTypeName(elf.machine, type),
        symbol,
        info,
        ...(addend !== undefined ? { addend } : {}),
      };
    }
    yield out;
  }
}
