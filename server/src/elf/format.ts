// Text and JSON renderings that match llvm-readelf-19 (GNU output style) byte for byte.
import { flagsLegend } from './names';
import { entryAt, ElfTable, Fields, SectionNameCache, toOffset } from './reader';
import { isRelocationSection, Relocation, relocEntrySize, readRelocations } from './relocations';
import { ByteSource } from './source';
import { ElfFile, ElfSection, ObjectReadError } from './types';

// Text needing the per-character path: anything outside printable ASCII (line breaks, tabs, UTF-8).
const SPECIAL = /[^ -~]/;

/** Mimics LLVM's formatted_raw_ostream: tracks the column so PadToColumn can pad (always at least one space). */
class ColumnWriter {
  private out: string[] = [];
  private col = 0;
  /** The column after what was written so far. */
  get column(): number {
    return this.col;
  }
  write(s: string): this {
    this.out.push(s);
    if (!SPECIAL.test(s)) {
      this.col += s.length;
      return this;
    }
    for (const ch of s) {
      if (ch === '\n' || ch === '\r') this.col = 0;
      else if (ch === '\t') this.col += 8 - (this.col % 8);
      else this.col += 1;
    }
    return this;
  }
  pad(column: number): this {
    return this.write(' '.repeat(Math.max(column - this.col, 1)));
  }
  /** printField: pad to the column (unless it is 0), then the text. */
  field(column: number, s: string): this {
    if (column !== 0) this.pad(column);
    return this.write(s);
  }
  toString(): string {
    return this.out.join('');
  }
  /** Hands out what was written so far and starts over (column kept). */
  take(): string {
    const s = this.out.join('');
    this.out = [];
    return s;
  }
}

export const hexNoPrefix = (v: bigint | number, width: number): string =>
  BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0');
const rj = (s: string, w: number): string => s.padStart(w, ' ');
const SPACES: string[] = [];
for (let i = 0, s = ''; i <= 64; i++, s += ' ') SPACES.push(s);
/** At least one space, enough to reach `column` from `col` (LLVM's PadToColumn). */
const padTo = (col: number, column: number): string =>
  column - col <= 1 ? ' ' : column - col <= 64 ? SPACES[column - col] : ' '.repeat(column - col);
const ZEROS = '0000000000000000';
const hex64 = (v: bigint, width: number): string => {
  const h = (v >= 0n ? v : BigInt.asUintN(64, v)).toString(16);
  return h.length < width ? ZEROS.slice(16 - width + h.length) + h : h;
};

/** True when llvm-readelf would print `<no-strings>` for every name (no, or an empty, section name table). */
function hasNoStrings(elf: ElfFile): boolean {
  if (elf.shstrndx === 0) return true;
  const st = elf.sections[elf.shstrndx];
  return st === undefined || st.size === 0n;
}

const sectionColumns = (is64: boolean): number[] => {
  const bias = is64 ? 0 : 8;
  return [2, 7, 25, 41, 58 - bias, 65 - bias, 72 - bias, 75 - bias, 79 - bias, 82 - bias, 86 - bias];
};

/** Everything `llvm-readelf -S` prints before the first section row. */
function sectionTablePreamble(
  count: number,
  shoff: bigint | undefined,
  is64: boolean,
  fileName: string,
  fileHeader: boolean | undefined,
): string {
  const w = new ColumnWriter();
  if (fileHeader) w.write(`\nFile: ${fileName}\n`);
  if (count === 0) {
    w.write('\nThere are no sections in this file.\n');
    return w.toString();
  }
  w.write(`There are ${count} section headers, starting at offset 0x${(shoff ?? 0n).toString(16)}:\n\n`);
  w.write('Section Headers:\n');
  const cols = sectionColumns(is64);
  const heads = ['[Nr]', 'Name', 'Type', 'Address', 'Off', 'Size', 'ES', 'Flg', 'Lk', 'Inf', 'Al'];
  heads.forEach((h, i) => w.field(cols[i], h));
  w.write('\n');
  return w.toString();
}

/** Exactly what `llvm-readelf-19 -S FILE` prints for one file (fileName is used only for the `File:` line when asked). */
export function formatSectionTable(elf: ElfFile, fileName: string, opts: { fileHeader?: boolean } = {}): string {
  const pre = sectionTablePreamble(elf.sections.length, elf.shoff, elf.class === 64, fileName, opts.fileHeader);
  if (elf.sections.length === 0) return pre;
  const cols = sectionColumns(elf.class === 64);
  const noStrings = hasNoStrings(elf);
  const rows: string[] = [pre];
  // Printable ASCII rows (nearly all): plain concatenation, the column is the line's length.
  let line = '';
  const field = (column: number, text: string): void => {
    line +=
      (column - line.length <= 1
        ? ' '
        : column - line.length <= 64
          ? SPACES[column - line.length]
          : ' '.repeat(column - line.length)) + text;
  };
  const addrWidth = elf.class === 64 ? 16 : 8;
  for (const s of elf.sections) {
    const name = noStrings ? '<no-strings>' : s.name;
    if (!SPECIAL.test(name)) {
      line = s.index < 10 ? `  [ ${s.index}]` : `  [${s.index}]`;
      field(cols[1], name);
      field(cols[2], s.typeName);
      field(cols[3], hex64(s.addr, addrWidth));
      field(cols[4], hex64(s.offset, 6));
      field(cols[5], hex64(s.size, 6));
      field(cols[6], hex64(s.entsize, 2));
      field(cols[7], rj(s.flagLetters, 3));
      field(cols[8], rj(String(s.link), 2));
      field(cols[9], rj(String(s.info), 3));
      field(cols[10], rj(s.addralign.toString(), 2));
      rows.push(line + '\n');
      continue;
    }
    // Line breaks, tabs or UTF-8 in the name: ColumnWriter's rules (one writer per row).
    const r = new ColumnWriter();
    r.pad(cols[0]).write(`[${rj(String(s.index), 2)}]`);
    r.field(cols[1], noStrings ? '<no-strings>' : s.name);
    r.field(cols[2], s.typeName);
    r.field(cols[3], hexNoPrefix(s.addr, elf.class === 64 ? 16 : 8));
    r.field(cols[4], hexNoPrefix(s.offset, 6));
    r.field(cols[5], hexNoPrefix(s.size, 6));
    r.field(cols[6], hexNoPrefix(s.entsize, 2));
    r.pad(cols[7]).write(rj(s.flagLetters, 3));
    r.pad(cols[8]).write(rj(String(s.link), 2));
    r.pad(cols[9]).write(rj(String(s.info), 3));
    r.pad(cols[10]).write(rj(s.addralign.toString(), 2));
    r.write('\n');
    rows.push(r.toString());
  }
  rows.push(flagsLegend(elf.machine));
  return rows.join('');
}

/** Output bytes per chunk handed to `emit` by formatSectionTableBytes. */
const CHUNK_BYTES = 1 << 18;
const SPACE = 0x20;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Writes bytes into fresh chunk buffers; a chunk always ends at a row boundary (never inside a UTF-8 sequence). */
class ByteOut {
  buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  pos = 0;
  /** Byte position where column 0 of the current line is (moved back when a name's columns differ from its bytes). */
  lineStart = 0;
  constructor(private readonly emit: (chunk: Buffer) => void) {}
  /** Room for `n` more bytes in the current chunk (flushes first when needed). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }
  flush(): void {
    if (this.pos > 0) this.emit(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.pos = 0;
    this.lineStart = 0;
  }
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }
  /** Text outside printable ASCII: bytes as UTF-8, columns as ColumnWriter counts them. */
  special(s: string): void {
    let col = this.pos - this.lineStart;
    for (const ch of s) {
      if (ch === '\n' || ch === '\r') col = 0;
      else if (ch === '\t') col += 8 - (col % 8);
      else col += 1;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.lineStart = this.pos - col;
  }
}

/** An unsigned 32-bit value in decimal, right-justified in `width`, at buf[p]; returns the new position. */
function putDec(buf: Buffer, p: number, v: number, width: number): number {
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let z = width - digits; z > 0; z--) buf[p++] = SPACE;
  let q = p + digits - 1;
  for (let x = v; q >= p; q--, x = Math.floor(x / 10)) buf[q] = 0x30 + (x % 10);
  return p + digits;
}

/** Spaces from p up to column `col` of the line starting at `lineStart` (at least one); returns the new position. */
function padToCol(buf: Buffer, p: number, col: number, lineStart: number): number {
  let pad = col - (p - lineStart);
  if (pad < 1) pad = 1;
  while (pad-- > 0) buf[p++] = SPACE;
  return p;
}

/** The value (hi:lo) in lower-case hex, zero-padded to `width`, at buf[p]; returns the new position. */
function putHexWords(buf: Buffer, p: number, vlo: number, vhi: number, width: number): number {
  let digits = 1;
  if (vhi !== 0) {
    digits = 9;
    for (let x = vhi >>> 4; x !== 0; x >>>= 4) digits++;
  } else for (let x = vlo >>> 4; x !== 0; x >>>= 4) digits++;
  for (let z = width - digits; z > 0; z--) buf[p++] = 0x30;
  let q = p + digits - 1;
  let x = vlo;
  for (let d = 0; d < 8 && q >= p; d++, q--) {
    buf[q] = HEX_DIGITS[x & 0xf];
    x >>>= 4;
  }
  x = vhi;
  for (; q >= p; q--) {
    buf[q] = HEX_DIGITS[x & 0xf];
    x >>>= 4;
  }
  return p + digits;
}

/** A 64-bit value (hi:lo words) in decimal, right-justified in `width`, at buf[p]; returns the new position. */
function putDec64(buf: Buffer, p: number, vlo: number, vhi: number, width: number): number {
  if (vhi === 0) return putDec(buf, p, vlo, width);
  const v = ((BigInt(vhi) << 32n) | BigInt(vlo)).toString();
  for (let z = width - v.length; z > 0; z--) buf[p++] = SPACE;
  for (let i = 0; i < v.length; i++) buf[p++] = v.charCodeAt(i);
  return p;
}

/** True when the table has no section-name string table (shstrndx 0, or that section is empty). */
function tableHasNoStrings(t: ElfTable): boolean {
  const { elf, is64 } = t;
  if (elf.shstrndx === 0) return true;
  const [b, o] = entryAt(t, elf.shstrndx);
  return is64 ? b.readUInt32LE(o + 32) === 0 && b.readUInt32LE(o + 36) === 0 : b.readUInt32LE(o + 20) === 0;
}

/** A 32-bit view of a block (copied when unaligned or big-endian): each field is one load. */
function blockWords(blk: Buffer, little: boolean): Uint32Array {
  if (little && blk.byteOffset % 4 === 0) return new Uint32Array(blk.buffer, blk.byteOffset, blk.length >>> 2);
  const w = new Uint32Array(blk.length >>> 2);
  for (let i = 0; i < w.length; i++) w[i] = little ? blk.readUInt32LE(i * 4) : blk.readUInt32BE(i * 4);
  return w;
}

/** What every row of one table shares: the output, the name table, columns, field positions and caches. */
interface RowContext {
  out: ByteOut;
  names: Buffer;
  noStrings: boolean;
  haveNames: boolean;
  cols: number[];
  /** Field positions in 32-bit words; a 64-bit field is (lo, hi) words. */
  F: {
    type: number;
    flags: number;
    addr: number;
    off: number;
    size: number;
    link: number;
    info: number;
    align: number;
    es: number;
    wide: boolean;
  };
  lo: number;
  hi: number;
  addrWidth: number;
  cache: SectionNameCache;
  typeBytes: Map<number, Buffer>;
  flagBytes: Map<number, Buffer>;
}

/** The name at buf[p] (column c1 already reached); returns [new position, byte position of column 0]. */
function putName(ctx: RowContext, p: number, ls: number, nameOff: number, nameEnd: number): [number, number] {
  const { out, names } = ctx;
  const buf = out.buf;
  if (ctx.noStrings) return [p + buf.write('<no-strings>', p, 'latin1'), ls];
  const nameStart = p;
  for (let i = nameOff; i < nameEnd; i++) {
    const c = names[i];
    if (c < 0x20 || c > 0x7e) {
      // Rare: line breaks, tabs, UTF-8 in a name. Same rules as ColumnWriter.
      out.pos = nameStart;
      out.lineStart = ls;
      out.special(names.toString('utf8', nameOff, nameEnd));
      return [out.pos, out.lineStart];
    }
    buf[p++] = c;
  }
  return [p, ls];
}

/** The type name at buf[p]; returns the new position. */
function putType(ctx: RowContext, buf: Buffer, p: number, type: number): number {
  let tb = ctx.typeBytes.get(type);
  if (tb === undefined) {
    tb = Buffer.from(ctx.cache.typeName(type), 'latin1'); // always printable ASCII (a known name or a hex form)
    ctx.typeBytes.set(type, tb);
  }
  for (let i = 0; i < tb.length; i++) buf[p++] = tb[i];
  return p;
}

/** The flag letters (right-justified in 3) at buf[p]; returns the new position. */
function putFlags(ctx: RowContext, buf: Buffer, p: number, flo: number, fhi: number): number {
  let fb = fhi === 0 ? ctx.flagBytes.get(flo) : undefined;
  if (fb === undefined) {
    fb = Buffer.from(ctx.cache.flagLetters(fhi, flo), 'latin1');
    if (fhi === 0) ctx.flagBytes.set(flo, fb);
  }
  for (let z = 3 - fb.length; z > 0; z--) buf[p++] = SPACE;
  for (let i = 0; i < fb.length; i++) buf[p++] = fb[i];
  return p;
}

/** One section's row, from the header at w[o], written to ctx.out. */
function writeRow(ctx: RowContext, w: Uint32Array, o: number, index: number): void {
  const { out, names, F, lo, hi } = ctx;
  const [, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10] = ctx.cols;
  let nameOff = 0;
  let nameEnd = 0;
  if (ctx.haveNames) {
    nameOff = w[o];
    nameEnd = names.indexOf(0, nameOff);
    if (nameEnd < 0) nameEnd = names.length;
  }
  out.room((nameEnd - nameOff) * 3 + 512);
  const buf = out.buf;
  let p = out.pos;
  const ls = p;
  // "  [NN]"
  buf[p++] = SPACE;
  buf[p++] = SPACE;
  buf[p++] = 0x5b;
  p = putDec(buf, p, index, 2);
  buf[p++] = 0x5d;
  // Name at c1.
  const [afterName, lineStart] = putName(ctx, padToCol(buf, p, c1, ls), ls, nameOff, nameEnd);
  p = afterName;
  // Type at c2.
  p = putType(ctx, buf, padToCol(buf, p, c2, lineStart), w[o + F.type]);
  // Address, offset, size, entsize: hex at c3..c6.
  const hex: [number, number, number][] = [
    [c3, F.addr, ctx.addrWidth],
    [c4, F.off, 6],
    [c5, F.size, 6],
    [c6, F.es, 2],
  ];
  for (const [col, field, width] of hex) {
    p = padToCol(buf, p, col, lineStart);
    const at = o + field;
    p = putHexWords(buf, p, F.wide ? w[at + lo] : w[at], F.wide ? w[at + hi] : 0, width);
  }
  // Flags (right-justified in 3) at c7.
  p = padToCol(buf, p, c7, lineStart);
  p = putFlags(ctx, buf, p, F.wide ? w[o + F.flags + lo] : w[o + F.flags], F.wide ? w[o + F.flags + hi] : 0);
  // Link (2), info (3), alignment (2): decimal, right-justified, at c8..c10.
  p = putDec(buf, padToCol(buf, p, c8, lineStart), w[o + F.link], 2);
  p = putDec(buf, padToCol(buf, p, c9, lineStart), w[o + F.info], 3);
  p = padToCol(buf, p, c10, lineStart);
  p = F.wide ? putDec64(buf, p, w[o + F.align + lo], w[o + F.align + hi], 2) : putDec(buf, p, w[o + F.align], 2);
  buf[p++] = 0x0a;
  out.pos = p;
  out.lineStart = p;
}

/**
 * The same bytes as formatSectionTable, formatted straight from the undecoded table (no ElfSection
 * objects, no bigints on the common path) and handed to `emit` in chunks of about 256 KiB that always
 * end at a row boundary. One loop over 32-bit words with a few small helpers per row: this runs once
 * per CLI call, mostly before the JIT has optimized anything.
 */
export function formatSectionTableBytes(
  t: ElfTable,
  fileName: string,
  opts: { fileHeader?: boolean },
  emit: (chunk: Buffer) => void,
): void {
  const { elf, is64, little, shdrSize } = t;
  const names = t.names ?? Buffer.alloc(0);
  const out = new ByteOut(emit);
  const pre = sectionTablePreamble(t.count, elf.shoff, is64, fileName, opts.fileHeader);
  out.room(Buffer.byteLength(pre, 'utf8'));
  out.special(pre);
  if (t.count === 0) {
    out.flush();
    return;
  }
  const noStrings = tableHasNoStrings(t);
  const ctx: RowContext = {
    out,
    names,
    noStrings,
    haveNames: !noStrings && names.length > 0,
    cols: sectionColumns(is64),
    F: is64
      ? { type: 1, flags: 2, addr: 4, off: 6, size: 8, link: 10, info: 11, align: 12, es: 14, wide: true }
      : { type: 1, flags: 2, addr: 3, off: 4, size: 5, link: 6, info: 7, align: 8, es: 9, wide: false },
    lo: little ? 0 : 1,
    hi: little ? 1 : 0,
    addrWidth: is64 ? 16 : 8,
    cache: new SectionNameCache(elf.osabi, elf.machine),
    typeBytes: new Map<number, Buffer>(),
    flagBytes: new Map<number, Buffer>(),
  };
  const words = shdrSize >>> 2;
  let index = 0;
  for (const blk of t.blocks) {
    const w = blockWords(blk, little);
    for (let o = 0; o < w.length; o += words, index++) writeRow(ctx, w, o, index);
  }
  const legend = flagsLegend(elf.machine);
  out.room(legend.length);
  out.ascii(legend);
  out.flush();
}

/** A bigint as a JSON number when it is a safe integer, else as a decimal string. */
export type JsonInt = number | string;
const jsonInt = (v: bigint): JsonInt =>
  v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();

export interface SectionJson {
  index: number;
  name: string;
  type: number;
  typeName: string;
  flags: JsonInt;
  flagLetters: string;
  address: JsonInt;
  offset: JsonInt;
  size: JsonInt;
  entsize: JsonInt;
  link: number;
  info: number;
  alignment: JsonInt;
}

/**
 * One section as plain JSON. 64-bit fields (flags, address, offset, size, entsize, alignment) are JSON
 * numbers when they fit in Number.MAX_SAFE_INTEGER (2^53-1), otherwise decimal strings.
 */
export function sectionToJson(s: ElfSection): SectionJson {
  return {
    index: s.index,
    name: s.name,
    type: s.type,
    typeName: s.typeName,
    flags: jsonInt(s.flags),
    flagLetters: s.flagLetters,
    address: jsonInt(s.addr),
    offset: jsonInt(s.offset),
    size: jsonInt(s.size),
    entsize: jsonInt(s.entsize),
    link: s.link,
    info: s.info,
    alignment: jsonInt(s.addralign),
  };
}

/** Resolves symbol values and names for relocation listings, reading symbols on demand (cached). */
export class SymbolResolver {
  static readonly MAX_CACHED = 1 << 18;
  private cache = new Map<number, { value: bigint; name: string } | null>();
  private shndx: ElfSection | undefined;
  constructor(
    private readonly src: ByteSource,
    private readonly elf: ElfFile,
    private readonly symtab: ElfSection | undefined,
  ) {
    if (symtab) this.shndx = elf.sections.find((s) => s.type === 18 && s.link === symtab.index);
  }
  private async cString(sec: ElfSection, at: number): Promise<string> {
    const start = toOffset(sec.offset, 'string table') + at;
    const end = toOffset(sec.offset + sec.size, 'string table');
    if (at >= Number(sec.size) || end > this.src.size)
      throw new ObjectReadError(
        'malformed',
        `string table [${sec.index}]: offset 0x${at.toString(16)} is outside the table`,
      );
    const parts: Buffer[] = [];
    for (let p = start; p < end;) {
      // Through the block cache: a table's names are read once per block, not once per symbol.
      const blockStart = p - ((p - start + at) % SymbolResolver.BLOCK);
      const blk = await this.block(blockStart, Math.min(SymbolResolver.BLOCK, end - blockStart));
      const b = blk.subarray(p - blockStart);
      const z = b.indexOf(0);
      if (z >= 0) {
        parts.push(b.subarray(0, z));
        break;
      }
      parts.push(b);
      p = blockStart + blk.length;
    }
    return (parts.length === 1 ? parts[0] : Buffer.concat(parts)).toString('utf8');
  }
  /** Bytes of a symbol or string table are read in blocks of this size, a bounded number kept. */
  static readonly BLOCK = 49152;
  private static readonly MAX_BLOCKS = 64;
  private blocks = new Map<number, Buffer>();
  private async block(offset: number, length: number): Promise<Buffer> {
    let b = this.blocks.get(offset);
    if (b === undefined || b.length < length) {
      if (this.blocks.size >= SymbolResolver.MAX_BLOCKS) this.blocks.clear();
      b = await this.src.read(offset, length);
      this.blocks.set(offset, b);
    }
    return b;
  }
  /** What get(index) would answer, when that is known without reading (undefined otherwise). */
  peek(index: number): { value: bigint; name: string } | null | undefined {
    return index === 0 ? null : this.cache.get(index);
  }
  /** null for symbol 0 (no symbol). */
  async get(index: number): Promise<{ value: bigint; name: string } | null> {
    if (index === 0) return null;
    const hit = this.cache.get(index);
    if (hit !== undefined) return hit;
    // Bounded memory: a table with more distinct symbols than this starts over instead of growing.
    if (this.cache.size >= SymbolResolver.MAX_CACHED) this.cache.clear();
    const st = this.symtab;
    if (!st)
      throw new ObjectReadError('malformed', `relocation refers to symbol ${index} but there is no symbol table`);
    const is64 = this.elf.class === 64;
    const es = is64 ? 24 : 16;
    if (BigInt(index + 1) * BigInt(es) > st.size)
      throw new ObjectReadError('malformed', `symbol index ${index} is past the end of symbol table [${st.index}]`);
    const stOff = toOffset(st.offset, 'symbol table');
    const stSize = toOffset(st.size, 'symbol table');
    const rel = index * es;
    const blockRel = rel - (rel % SymbolResolver.BLOCK);
    let entry: Buffer;
    if (stOff + stSize <= this.src.size && rel + es <= stSize) {
      const blk = await this.block(stOff + blockRel, Math.min(SymbolResolver.BLOCK, stSize - blockRel));
      entry = blk.subarray(rel - blockRel, rel - blockRel + es);
    } else entry = await this.src.read(stOff + rel, es); // reports the bad range as before
    const b = new Fields(entry, this.elf.endian === 'little');
    const o = 0;
    const nameOff = b.u32(o);
    const value = is64 ? b.u64(o + 8) : BigInt(b.u32(o + 4));
    const info = is64 ? b.u8(o + 4) : b.u8(o + 12);
    let shndx = is64 ? b.u16(o + 6) : b.u16(o + 14);
    let name = '';
    const strtab = this.elf.sections[st.link];
    // llvm-readelf prints a section symbol's own name when it has one, else its section's name.
    if ((info & 0xf) === 3 && nameOff !== 0 && strtab) {
      try {
        name = await this.cString(strtab, nameOff);
      } catch (e) {
        if (!(e instanceof ObjectReadError)) throw e;
        name = ''; // an unreadable name: fall back to the section's, as before
      }
    }
    if ((info & 0xf) === 3 && name === '') {
      if (shndx === 0xffff && this.shndx) {
        shndx = new Fields(
          await this.src.read(toOffset(this.shndx.offset, 'SHT_SYMTAB_SHNDX') + index * 4, 4),
          this.elf.endian === 'little',
        ).u32(0);
      }
      const sec = this.elf.sections[shndx];
      if (!sec)
        throw new ObjectReadError(
          'malformed',
          `section symbol ${index} refers to section ${shndx}, which does not exist`,
        );
      name = sec.name;
    } else if ((info & 0xf) !== 3) {
      if (!strtab)
        throw new ObjectReadError(
          'malformed',
          `symbol table [${st.index}] links to string table ${st.link}, which does not exist`,
        );
      name = nameOff === 0 ? '' : await this.cString(strtab, nameOff);
    }
    const r = { value, name };
    this.cache.set(index, r);
    return r;
  }
}

/** One relocation line exactly as llvm-readelf -r prints it. */
function formatRelocationLine(elf: ElfFile, r: Relocation, sym: { value: bigint; name: string } | null): string {
  const bias = elf.class === 64 ? 8 : 0;
  const width = elf.class === 64 ? 16 : 8;
  const name = sym ? (sym.name === '' ? '<null>' : sym.name) : '';
  if (!SPECIAL.test(name) && !SPECIAL.test(r.typeName)) {
    // Printable ASCII throughout: columns are string lengths (the common case, no ColumnWriter).
    let line = hex64(r.offset, width);
    let col = line.length;
    const info = hex64(r.info, width);
    line += padTo(col, 10 + bias) + info;
    col = Math.max(col + 1, 10 + bias) + info.length;
    line += padTo(col, 19 + 2 * bias) + r.typeName;
    col = Math.max(col + 1, 19 + 2 * bias) + r.typeName.length;
    const value = sym ? hex64(sym.value, width) : '';
    line += padTo(col, 42 + 2 * bias) + value;
    col = Math.max(col + 1, 42 + 2 * bias) + value.length;
    line += padTo(col, 53 + 2 * bias) + name;
    if (r.addend !== undefined) {
      let a = r.addend;
      let sign = '';
      if (name !== '') {
        if (a < 0n) {
          sign = ' - ';
          a = -a;
        } else sign = ' + ';
      }
      line += sign + BigInt.asUintN(64, a).toString(16);
    }
    return line + '\n';
  }
  const w = new ColumnWriter();
  w.field(0, hexNoPrefix(r.offset, width));
  w.field(10 + bias, hexNoPrefix(r.info, width));
  w.field(19 + 2 * bias, r.typeName);
  w.field(42 + 2 * bias, sym ? hexNoPrefix(sym.value, width) : '');
  w.field(53 + 2 * bias, name);
  if (r.addend !== undefined) {
    let a = r.addend;
    let s = '';
    if (name !== '') {
      if (a < 0n) {
        s = ' - ';
        a = -a;
      } else s = ' + ';
    }
    w.write(s + BigInt.asUintN(64, a).toString(16));
  }
  return w.write('\n').toString();
}

/**
 * The `llvm-readelf -r` block for one relocation section: blank line, "Relocation section ..." header,
 * column header, one line per entry. Streams the entries; `onChunk` receives text as it is produced
 * (when given, the returned string is empty).
 */
async function formatRelocations(
  src: ByteSource,
  elf: ElfFile,
  section: ElfSection,
  onChunk?: (text: string) => void | Promise<void>,
): Promise<string> {
  const { entsize, rela } = relocEntrySize(elf, section);
  const parts: string[] = [];
  const emit = async (t: string): Promise<void> => {
    if (onChunk) await onChunk(t);
    else parts.push(t);
  };
  const count = section.size / BigInt(entsize);
  let head = `\nRelocation section '${section.name}' at offset 0x${section.offset.toString(16)} contains ${count} entries:\n`;
  head +=
    elf.class === 64
      ? "    Offset             Info             Type               Symbol's Value  Symbol's Name"
      : " Offset     Info    Type                Sym. Value  Symbol's Name";
  head += rela ? ' + Addend\n' : '\n';
  await emit(head);
  const symtab = elf.sections[section.link];
  const resolver = new SymbolResolver(src, elf, symtab && section.link !== 0 ? symtab : undefined);
  for await (const chunk of readRelocations(src, elf, section)) {
    const lines: string[] = [];
    for (const r of chunk) {
      const known = resolver.peek(r.symbol);
      lines.push(formatRelocationLine(elf, r, known !== undefined ? known : await resolver.get(r.symbol)));
    }
    await emit(lines.join(''));
  }
  return parts.join('');
}

/** Everything `llvm-readelf -r FILE` prints for a relocatable object (REL and RELA sections). */
export async function formatAllRelocations(
  src: ByteSource,
  elf: ElfFile,
  onChunk?: (text: string) => void | Promise<void>,
): Promise<string> {
  const parts: string[] = [];
  const emit = async (t: string): Promise<void> => {
    if (onChunk) await onChunk(t);
    else parts.push(t);
  };
  const secs = elf.sections.filter(isRelocationSection);
  if (secs.length === 0) await emit('\nThere are no relocations in this file.\n');
  for (const s of secs) await formatRelocations(src, elf, s, emit);
  return parts.join('');
}
