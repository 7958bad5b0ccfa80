// Reads what `llvm-readelf -S` needs and nothing more: the ELF header, the section header table and
// the section name table. Also recognises LLVM bitcode (LTO builds), archives and empty files.
import { ByteSource, openFileSource } from './source';
import { ElfFile, ElfSection, ObjectKind, ObjectReadError, SHN_XINDEX, SHT_NOBITS } from './types';
import { fileTypeName, flagLetters, machineName, sectionTypeName } from './names';

export { ObjectReadError } from './types';
export type { ElfFile, ElfSection, ObjectKind } from './types';

/** Upper bound on sections we materialise (16M): a lying count fails instead of exhausting memory. */
const MAX_SECTIONS = 1 << 24;
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** Endian/class-aware field access on a buffer. */
export class Fields {
  constructor(
    readonly buf: Buffer,
    readonly little: boolean,
  ) {}
  u8(o: number): number {
    return this.buf[o];
  }
  u16(o: number): number {
    return this.little ? this.buf.readUInt16LE(o) : this.buf.readUInt16BE(o);
  }
  u32(o: number): number {
    return this.little ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o);
  }
  u64(o: number): bigint {
    return this.little ? this.buf.readBigUInt64LE(o) : this.buf.readBigUInt64BE(o);
  }
  /** A word of the file's class: 4 bytes for ELF32, 8 for ELF64. */
  word(o: number, is64: boolean): bigint {
    return is64 ? this.u64(o) : BigInt(this.u32(o));
  }
}

/** A bigint file offset as a number, or ObjectReadError when it cannot be one. */
export function toOffset(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ObjectReadError('malformed', `${what}: offset ${hex(v)} is out of range`);
  return Number(v);
}

function cString(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 ? buf.length : end);
}

/**
 * An ELF file's section header table kept as bytes (nothing decoded per section yet): what the
 * `sections` command formats straight into its output, and what readElf turns into ElfSection objects.
 * Every check readElf makes (counts, the name table, each sh_name) has been made when this is returned.
 */
export interface ElfTable {
  /** The file with `sections` still empty. */
  elf: ElfFile;
  /** Number of section headers (0: no table). */
  count: number;
  is64: boolean;
  little: boolean;
  /** 64 (ELF64) or 40 (ELF32). */
  shdrSize: number;
  /** Header 0 alone, then the rest in blocks of TABLE_BLOCK headers (see entryAt). */
  blocks: Buffer[];
  /** The section name table, when there is one. */
  names: Buffer | undefined;
}

/** Section headers per block of ElfTable.blocks (after header 0). */
const TABLE_BLOCK = 65536;

/** The buffer and byte offset of section header `i` of the table. */
export function entryAt(t: ElfTable, i: number): [Buffer, number] {
  if (i === 0) return [t.blocks[0], 0];
  return [t.blocks[1 + Math.floor((i - 1) / TABLE_BLOCK)], ((i - 1) % TABLE_BLOCK) * t.shdrSize];
}

/** The ELF header's fields that locate the section header table. */
interface HeaderFields {
  shoff: bigint;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

/** The ELF header: class and data checked, the file's description and where its section table is. */
async function readElfHeader(src: ByteSource, ident: Buffer): Promise<{ elf: ElfFile; hdr: HeaderFields }> {
  const cls = ident[4];
  const data = ident[5];
  if (cls !== 1 && cls !== 2)
    throw new ObjectReadError('malformed', `ELF header: invalid EI_CLASS ${cls} at offset 0x4`);
  if (data !== 1 && data !== 2)
    throw new ObjectReadError('malformed', `ELF header: invalid EI_DATA ${data} at offset 0x5`);
  const is64 = cls === 2;
  const little = data === 1;
  const ehsize = is64 ? 64 : 52;
  if (src.size < ehsize)
    throw new ObjectReadError(
      'truncated',
      `ELF header: file is ${src.size} bytes, the ELF${is64 ? 64 : 32} header needs ${ehsize} at offset 0x0`,
    );
  const h = new Fields(await src.read(0, ehsize), little);
  const type = h.u16(16);
  const machine = h.u16(18);
  const shoff = h.word(is64 ? 40 : 32, is64);
  const hdr: HeaderFields = {
    shoff,
    shentsize: h.u16(is64 ? 58 : 46),
    shnum: h.u16(is64 ? 60 : 48),
    shstrndx: h.u16(is64 ? 62 : 50),
  };
  const elf: ElfFile = {
    class: is64 ? 64 : 32,
    endian: little ? 'little' : 'big',
    type,
    typeName: fileTypeName(type),
    machine,
    machineName: machineName(machine),
    osabi: ident[7],
    shstrndx: 0,
    sections: [],
    shoff,
  };
  return { elf, hdr };
}

/** Checks a section count (after extended numbering) against the file size, the limit and e_shstrndx. */
function checkSectionCount(src: ByteSource, shoff: number, shdrSize: number, shnum: number, shstrndx: number): void {
  const maxByFile = Math.floor((src.size - shoff) / shdrSize);
  if (shnum > maxByFile) {
    throw new ObjectReadError(
      'truncated',
      `section header table at ${hex(shoff)}: ${shnum} entries of ${shdrSize} bytes go past the end of the file (size ${hex(src.size)})`,
    );
  }
  if (shnum > MAX_SECTIONS)
    throw new ObjectReadError(
      'malformed',
      `section header table at ${hex(shoff)}: ${shnum} sections is more than the supported ${MAX_SECTIONS}`,
    );
  if (shstrndx !== 0 && shstrndx >= shnum) {
    throw new ObjectReadError(
      'malformed',
      `ELF header: section name table index ${shstrndx} does not exist (${shnum} sections)`,
    );
  }
}

/** The bytes of the section name table [shstrndx] of a table whose blocks are read. */
async function readNameTable(src: ByteSource, table: ElfTable, shstrndx: number): Promise<Buffer> {
  const { is64, little } = table;
  const [b, o] = entryAt(table, shstrndx);
  const f = new Fields(b, little);
  if (f.u32(o + 4) === SHT_NOBITS)
    throw new ObjectReadError('malformed', `section name table [${shstrndx}] is SHT_NOBITS`);
  const off = toOffset(f.word(o + (is64 ? 24 : 16), is64), `section name table [${shstrndx}] sh_offset`);
  const size = toOffset(f.word(o + (is64 ? 32 : 20), is64), `section name table [${shstrndx}] sh_size`);
  if (off + size > src.size) {
    throw new ObjectReadError(
      'truncated',
      `section name table [${shstrndx}] at offset ${hex(off)} size ${hex(size)} goes past the end of the file (size ${hex(src.size)})`,
    );
  }
  return src.read(off, size);
}

/** Every sh_name must point into the name table (checked before anything is printed). */
function checkNameOffsets(table: ElfTable, names: Buffer, shoff: number): void {
  const { little, shdrSize } = table;
  const limit = names.length;
  for (let bi = 0; bi < table.blocks.length; bi++) {
    const b = table.blocks[bi];
    for (let o = 0; o < b.length; o += shdrSize) {
      const nameOff = little ? b.readUInt32LE(o) : b.readUInt32BE(o);
      if (nameOff >= limit) {
        const index = bi === 0 ? 0 : 1 + (bi - 1) * TABLE_BLOCK + o / shdrSize;
        throw new ObjectReadError(
          'malformed',
          `section header ${index} at ${hex(shoff + index * shdrSize)}: sh_name ${hex(nameOff)} is past the end of the section name table (size ${hex(names.length)})`,
        );
      }
    }
  }
}

async function readElfTable(src: ByteSource, ident: Buffer): Promise<ElfTable> {
  const { elf, hdr } = await readElfHeader(src, ident);
  const is64 = elf.class === 64;
  const little = elf.endian === 'little';
  let { shnum, shstrndx } = hdr;
  const shdrSize = is64 ? 64 : 40;
  const table: ElfTable = { elf, count: 0, is64, little, shdrSize, blocks: [], names: undefined };
  if (hdr.shoff === 0n) {
    // No section header table at all (llvm-readelf: "There are no sections in this file.").
    return table;
  }
  if (hdr.shentsize !== shdrSize)
    throw new ObjectReadError(
      'malformed',
      `ELF header: e_shentsize is ${hdr.shentsize}, expected ${shdrSize} (at offset ${hex(is64 ? 58 : 46)})`,
    );
  const shoff = toOffset(hdr.shoff, 'ELF header e_shoff');
  if (shoff + shdrSize > src.size)
    throw new ObjectReadError(
      'truncated',
      `section header table: e_shoff ${hex(shoff)} is past the end of the file (size ${hex(src.size)})`,
    );
  const firstBuf = await src.read(shoff, shdrSize);
  const first = new Fields(firstBuf, little);
  if (shnum === 0) {
    // Extended numbering: the real count lives in section 0's sh_size.
    const s0size = first.word(is64 ? 32 : 20, is64);
    if (s0size > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ObjectReadError(
        'malformed',
        `section header 0 at ${hex(shoff)}: sh_size (extended section count) ${hex(s0size)} is out of range`,
      );
    shnum = Number(s0size);
    if (shnum === 0) return table;
  }
  if (shstrndx === SHN_XINDEX) shstrndx = first.u32(is64 ? 40 : 24);
  checkSectionCount(src, shoff, shdrSize, shnum, shstrndx);
  table.blocks.push(firstBuf);
  for (let i = 1; i < shnum; i += TABLE_BLOCK) {
    const n = Math.min(TABLE_BLOCK, shnum - i);
    table.blocks.push(await src.read(shoff + i * shdrSize, n * shdrSize));
  }
  table.count = shnum;
  const names = shstrndx !== 0 ? await readNameTable(src, table, shstrndx) : undefined;
  elf.shstrndx = shstrndx;
  table.names = names;
  if (names && names.length > 0) checkNameOffsets(table, names, shoff);
  return table;
}

/** Per-file caches of the per-section names that only depend on a few values (type, flags). */
export class SectionNameCache {
  private types = new Map<number, string>();
  private flags = new Map<number, string>();
  constructor(
    readonly osabi: number,
    readonly machine: number,
  ) {}
  typeName(type: number): string {
    let s = this.types.get(type);
    if (s === undefined) {
      s = sectionTypeName(this.machine, type);
      this.types.set(type, s);
    }
    return s;
  }
  /** Flag letters of a 64-bit flags word given as its two 32-bit halves. */
  flagLetters(hi: number, lo: number): string {
    if (hi !== 0) return flagLetters(this.osabi, this.machine, (BigInt(hi) << 32n) | BigInt(lo));
    let s = this.flags.get(lo);
    if (s === undefined) {
      s = flagLetters(this.osabi, this.machine, BigInt(lo));
      this.flags.set(lo, s);
    }
    return s;
  }
}

/** Decodes every header of the table into ElfSection objects. */
export function sectionsOf(t: ElfTable): ElfSection[] {
  const { is64, little, names, shdrSize } = t;
  const cache = new SectionNameCache(t.elf.osabi, t.elf.machine);
  const out: ElfSection[] = new Array<ElfSection>(t.count);
  const u32 = (b: Buffer, o: number): number => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number): bigint => (little ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  let index = 0;
  for (const b of t.blocks) {
    for (let o = 0; o < b.length; o += shdrSize, index++) {
      const nameOff = u32(b, o);
      const type = u32(b, o + 4);
      let flags: bigint;
      let flagLetters: string;
      if (is64) {
        const lo = u32(b, o + (little ? 8 : 12));
        const hi = u32(b, o + (little ? 12 : 8));
        flags = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
        flagLetters = cache.flagLetters(hi, lo);
      } else {
        const lo = u32(b, o + 8);
        flags = BigInt(lo);
        flagLetters = cache.flagLetters(0, lo);
      }
      out[index] = is64
        ? {
            index,
            name: names && names.length > 0 ? cString(names, nameOff) : '',
            type,
            typeName: cache.typeName(type),
            flags,
            flagLetters,
            addr: u64(b, o + 16),
            offset: u64(b, o + 24),
            size: u64(b, o + 32),
            link: u32(b, o + 40),
            info: u32(b, o + 44),
            addralign: u64(b, o + 48),
            entsize: u64(b, o + 56),
          }
        : {
            index,
            name: names && names.length > 0 ? cString(names, nameOff) : '',
            type,
            typeName: cache.typeName(type),
            flags,
            flagLetters,
            addr: BigInt(u32(b, o + 12)),
            offset: BigInt(u32(b, o + 16)),
            size: BigInt(u32(b, o + 20)),
            link: u32(b, o + 24),
            info: u32(b, o + 28),
            addralign: BigInt(u32(b, o + 32)),
            entsize: BigInt(u32(b, o + 36)),
          };
    }
  }
  return out;
}

async function readElf(src: ByteSource, ident: Buffer): Promise<ElfFile> {
  const t = await readElfTable(src, ident);
  t.elf.sections = sectionsOf(t);
  return t.elf;
}

function parseDecimal(s: string): number {
  const t = s.trim();
  return /^\d+$/.test(t) ? Number(t) : NaN;
}

async function readArchive(src: ByteSource, thin: boolean): Promise<ObjectKind> {
  const members: { name: string; size: number }[] = [];
  let longNames: Buffer | undefined;
  let off = 8;
  while (off < src.size) {
    if (off + 60 > src.size)
      throw new ObjectReadError(
        'truncated',
        `archive member header at ${hex(off)}: needs 60 bytes, file size ${hex(src.size)}`,
      );
    const hdr = await src.read(off, 60);
    if (hdr[58] !== 0x60 || hdr[59] !== 0x0a)
      throw new ObjectReadError('malformed', `archive member header at ${hex(off)}: bad terminator (expected "\`\\n")`);
    const rawName = hdr.toString('latin1', 0, 16);
    const size = parseDecimal(hdr.toString('latin1', 48, 58));
    if (!Number.isSafeInteger(size))
      throw new ObjectReadError(
        'malformed',
        `archive member header at ${hex(off)}: bad size field "${hdr.toString('latin1', 48, 58).trim()}"`,
      );
    const dataOff = off + 60;
    const special = rawName.startsWith('/ ') || rawName.startsWith('/SYM64/') || rawName.startsWith('// ');
    // In a thin archive, only the symbol table and the name table have their data inside the archive.
    const dataInside = !thin || special;
    if (dataInside && dataOff + size > src.size)
      throw new ObjectReadError(
        'truncated',
        `archive member at ${hex(off)}: size ${size} goes past the end of the file (size ${hex(src.size)})`,
      );
    if (rawName.startsWith('// ')) {
      longNames = await src.read(dataOff, size);
    } else if (!special) {
      let name: string;
      if (rawName.startsWith('/') && /^\/\d+/.test(rawName)) {
        const idx = parseDecimal(rawName.slice(1));
        if (!longNames || !Number.isSafeInteger(idx) || idx >= longNames.length)
          throw new ObjectReadError(
            'malformed',
            `archive member header at ${hex(off)}: long name offset ${rawName.trim()} is outside the name table`,
          );
        let end = longNames.indexOf('/\n', idx, 'latin1');
        if (end < 0) end = longNames.indexOf('\n', idx);
        name = longNames.toString('utf8', idx, end < 0 ? longNames.length : end);
      } else if (rawName.startsWith('#1/')) {
        const len = parseDecimal(rawName.slice(3));
        if (!Number.isSafeInteger(len) || len > size)
          throw new ObjectReadError('malformed', `archive member header at ${hex(off)}: bad BSD name length`);
        name = (await src.read(dataOff, len)).toString('utf8').replace(/\0+$/, '');
      } else {
        name = rawName.trimEnd().replace(/\/$/, '');
      }
      members.push({ name, size });
    }
    const next = dataInside ? dataOff + size + (size & 1) : dataOff;
    off = next;
  }
  return { kind: 'archive', thin, members };
}

/** Like readObject, but an ELF object comes back as its undecoded table (see ElfTable). */
export async function readObjectTable(
  src: ByteSource,
): Promise<Exclude<ObjectKind, { kind: 'elf' }> | { kind: 'elf-table'; table: ElfTable }> {
  const head = src.size === 0 ? undefined : await src.read(0, Math.min(16, src.size));
  if (head && head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    return { kind: 'elf-table', table: await readElfTable(src, head) };
  }
  const obj = await readObject(src);
  if (obj.kind === 'elf') throw new Error('unreachable: ELF objects are handled above');
  return obj;
}

/** Classifies an object and, for ELF, reads its header, section header table and section name table. */
export async function readObject(src: ByteSource): Promise<ObjectKind> {
  if (src.size === 0) return { kind: 'empty' };
  const head = await src.read(0, Math.min(16, src.size));
  if (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    if (head.length < 16)
      throw new ObjectReadError('truncated', `ELF header: file is ${src.size} bytes, e_ident needs 16 at offset 0x0`);
    return { kind: 'elf', elf: await readElf(src, head) };
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x4243c0de) return { kind: 'bitcode', wrapper: false };
  if (head.length >= 4 && head.readUInt32LE(0) === 0x0b17c0de) return { kind: 'bitcode', wrapper: true };
  if (src.size >= 8) {
    const magic = (await src.read(0, 8)).toString('latin1');
    if (magic === '!<arch>\n') return readArchive(src, false);
    if (magic === '!<thin>\n') return readArchive(src, true);
  }
  const shown = head.subarray(0, Math.min(4, head.length)).toString('hex');
  return { kind: 'unknown', description: `not an ELF object, LLVM bitcode or archive (first bytes 0x${shown})` };
}

export async function readObjectFile(path: string): Promise<ObjectKind & { bytesRead: number }> {
  const src = await openFileSource(path);
  try {
    const obj = await readObject(src);
    return { ...obj, bytesRead: src.bytesRead };
  } finally {
    await src.close();
  }
}
