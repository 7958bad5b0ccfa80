// Text and JSON renderings that match llvm-readelf-19 (GNU output style) byte for byte.
import { flagsLegend } from './names';
import { ElfFile, ElfSection } from './types';

/** Mimics LLVM's formatted_raw_ostream: tracks the column so PadToColumn can pad (always at least one space). */
export class ColumnWriter {
  private out: string[] = [];
  private col = 0;
  write(s: string): this {
    this.out.push(s);
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
  for (const s of elf.sections) {
    w.pad(cols[0]).write(`[${rj(String(s.index), 2)}]`);
    w.field(cols[1], noStrings ? '<no-strings>' : s.name);
    w.field(cols[2], s.typeName);
    w.field(cols[3], hexNoPrefix(s.addr, elf.class === 64 ? 16 : 8));
    w.field(cols[4], hexNoPrefix(s.offset, 6));
    w.field(cols[5], hexNoPrefix(s.size, 6));
    w.field(cols[6], hexNoPrefix(s.entsize, 2));
    w.pad(cols[7]).write(rj(s.flagLetters, 3));
    w.pad(cols[8]).write(rj(String(s.link), 2));
    w.pad(cols[9]).write(rj(String(s.info), 3));
    w.pad(cols[10]).write(rj(s.addralign.toString(), 2));
    w.write('\n');
  }
  w.write(flagsLegend(elf.machine));
  return w.toString();
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
