// Text and JSON renderings that match llvm-readelf-19 (GNU output style) byte for byte.
import { flagsLegend } from './names';
import { Fields, toOffset } from './reader';
import { isRelocationSection, Relocation, relocEntrySize, readRelocations } from './relocations';
import { ByteSource } from './source';
import { ElfFile, ElfSection, ObjectReadError } from './types';

// Text needing the per-character path: anything outside printable ASCII (line breaks, tabs, UTF-8).
const SPECIAL = /[^ -~]/;

/** Mimics LLVM's formatted_raw_ostream: tracks the column so PadToColumn can pad (always at least one space). */
export class ColumnWriter {
  private out: string[] = [];
  private col = 0;
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

export const hexNoPrefix = (v: bigint | number, width: number): string => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0');
const rj = (s: string, w: number): string => s.padStart(w, ' ');

/** True when llvm-readelf would print `<no-strings>` for every name (no, or an empty, section name table). */
export function hasNoStrings(elf: ElfFile): boolean {
  if (elf.shstrndx === 0) return true;
  const st = elf.sections[elf.shstrndx];
  return st === undefined || st.size === 0n;
}

/** Exactly what `llvm-readelf-19 -S FILE` prints for one file (fileName is used only for the `File:` line when asked). */
export function formatSectionTable(elf: ElfFile, fileName: string, opts: { fileHeader?: boolean } = {}): string {
  const w = new ColumnWriter();
  if (opts.fileHeader) w.write(`\nFile: ${fileName}\n`);
  if (elf.sections.length === 0) {
    w.write('\nThere are no sections in this file.\n');
    return w.toString();
  }
  const bias = elf.class === 64 ? 0 : 8;
  w.write(`There are ${elf.sections.length} section headers, starting at offset 0x${(elf.shoff ?? 0n).toString(16)}:\n\n`);
  w.write('Section Headers:\n');
  const cols = [2, 7, 25, 41, 58 - bias, 65 - bias, 72 - bias, 75 - bias, 79 - bias, 82 - bias, 86 - bias];
  const heads = ['[Nr]', 'Name', 'Type', 'Address', 'Off', 'Size', 'ES', 'Flg', 'Lk', 'Inf', 'Al'];
  heads.forEach((h, i) => w.field(cols[i], h));
  w.write('\n');
  const noStrings = hasNoStrings(elf);
  // One small writer per row (the column restarts at every newline): keeps 65k-section tables cheap.
  const rows: string[] = [w.toString()];
  for (const s of elf.sections) {
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

/** A bigint as a JSON number when it is a safe integer, else as a decimal string. */
export type JsonInt = number | string;
const jsonInt = (v: bigint): JsonInt => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

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
    index: s.index, name: s.name, type: s.type, typeName: s.typeName, flags: jsonInt(s.flags), flagLetters: s.flagLetters,
    address: jsonInt(s.addr), offset: jsonInt(s.offset), size: jsonInt(s.size), entsize: jsonInt(s.entsize), link: s.link, info: s.info,
    alignment: jsonInt(s.addralign),
  };
}

/** Resolves symbol values and names for relocation listings, reading symbols on demand (cached). */
export class SymbolResolver {
  private cache = new Map<number, { value: bigint; name: string } | null>();
  private shndx: ElfSection | undefined;
  constructor(private readonly src: ByteSource, private readonly elf: ElfFile, private readonly symtab: ElfSection | undefined) {
    if (symtab) this.shndx = elf.sections.find((s) => s.type === 18 && s.link === symtab.index);
  }
  private async cString(sec: ElfSection, at: number): Promise<string> {
    const start = toOffset(sec.offset, 'string table') + at;
    const end = toOffset(sec.offset + sec.size, 'string table');
    if (at >= Number(sec.size) || end > this.src.size) throw new ObjectReadError('malformed', `string table [${sec.index}]: offset 0x${at.toString(16)} is outside the table`);
    const parts: Buffer[] = [];
    for (let p = start; p < end; p += 256) {
      const b = await this.src.read(p, Math.min(256, end - p));
      const z = b.indexOf(0);
      if (z >= 0) {
        parts.push(b.subarray(0, z));
        break;
      }
      parts.push(b);
    }
    return Buffer.concat(parts).toString('utf8');
  }
  /** null for symbol 0 (no symbol). */
  async get(index: number): Promise<{ value: bigint; name: string } | null> {
    if (index === 0) return null;
    const hit = this.cache.get(index);
    if (hit !== undefined) return hit;
    const st = this.symtab;
    if (!st) throw new ObjectReadError('malformed', `relocation refers to symbol ${index} but there is no symbol table`);
    const is64 = this.elf.class === 64;
    const es = is64 ? 24 : 16;
    if (BigInt(index + 1) * BigInt(es) > st.size) throw new ObjectReadError('malformed', `symbol index ${index} is past the end of symbol table [${st.index}]`);
    const b = new Fields(await this.src.read(toOffset(st.offset, 'symbol table') + index * es, es), this.elf.endian === 'little');
    const nameOff = b.u32(0);
    const value = is64 ? b.u64(8) : BigInt(b.u32(4));
    const info = is64 ? b.u8(4) : b.u8(12);
    let shndx = is64 ? b.u16(6) : b.u16(14);
    let name: string;
    if ((info & 0xf) === 3) {
      if (shndx === 0xffff && this.shndx) {
        shndx = new Fields(await this.src.read(toOffset(this.shndx.offset, 'SHT_SYMTAB_SHNDX') + index * 4, 4), this.elf.endian === 'little').u32(0);
      }
      const sec = this.elf.sections[shndx];
      if (!sec) throw new ObjectReadError('malformed', `section symbol ${index} refers to section ${shndx}, which does not exist`);
      name = sec.name;
    } else {
      const strtab = this.elf.sections[st.link];
      if (!strtab) throw new ObjectReadError('malformed', `symbol table [${st.index}] links to string table ${st.link}, which does not exist`);
      name = nameOff === 0 ? '' : await this.cString(strtab, nameOff);
    }
    const r = { value, name };
    this.cache.set(index, r);
    return r;
  }
}

/** One relocation line exactly as llvm-readelf -r prints it. */
export function formatRelocationLine(elf: ElfFile, r: Relocation, sym: { value: bigint; name: string } | null): string {
  const bias = elf.class === 64 ? 8 : 0;
  const width = elf.class === 64 ? 16 : 8;
  const w = new ColumnWriter();
  w.field(0, hexNoPrefix(r.offset, width));
  w.field(10 + bias, hexNoPrefix(r.info, width));
  w.field(19 + 2 * bias, r.typeName);
  w.field(42 + 2 * bias, sym ? hexNoPrefix(sym.value, width) : '');
  const name = sym ? (sym.name === '' ? '<null>' : sym.name) : '';
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
export async function formatRelocations(src: ByteSource, elf: ElfFile, section: ElfSection, onChunk?: (text: string) => void): Promise<string> {
  const { entsize, rela } = relocEntrySize(elf, section);
  const parts: string[] = [];
  const emit = (t: string): void => {
    if (onChunk) onChunk(t);
    else parts.push(t);
  };
  const count = section.size / BigInt(entsize);
  let head = `\nRelocation section '${section.name}' at offset 0x${section.offset.toString(16)} contains ${count} entries:\n`;
  head += elf.class === 64 ? '    Offset             Info             Type               Symbol\'s Value  Symbol\'s Name' : ' Offset     Info    Type                Sym. Value  Symbol\'s Name';
  head += rela ? ' + Addend\n' : '\n';
  emit(head);
  const symtab = elf.sections[section.link];
  const resolver = new SymbolResolver(src, elf, symtab && section.link !== 0 ? symtab : undefined);
  for await (const chunk of readRelocations(src, elf, section)) {
    const lines: string[] = [];
    for (const r of chunk) lines.push(formatRelocationLine(elf, r, await resolver.get(r.symbol)));
    emit(lines.join(''));
  }
  return parts.join('');
}

/** Everything `llvm-readelf -r FILE` prints for a relocatable object (REL and RELA sections). */
export async function formatAllRelocations(src: ByteSource, elf: ElfFile, onChunk?: (text: string) => void): Promise<string> {
  const parts: string[] = [];
  const emit = (t: string): void => {
    if (onChunk) onChunk(t);
    else parts.push(t);
  };
  const secs = elf.sections.filter(isRelocationSection);
  if (secs.length === 0) emit('\nThere are no relocations in this file.\n');
  for (const s of secs) await formatRelocations(src, elf, s, emit);
  return parts.join('');
}
