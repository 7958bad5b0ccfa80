// A minimal ELF writer for tests and the benchmark: builds relocatable objects with arbitrary section
// headers (types, flags, sizes), ELF32/ELF64, either endianness. Section 0 and .shstrtab are added.
export interface SectionSpec {
  name: string;
  type: number;
  flags?: bigint;
  addr?: bigint;
  /** Contents written to the file (omit for SHT_NOBITS or to use `size` with no bytes). */
  data?: Uint8Array;
  /** Declared size when there is no data (e.g. SHT_NOBITS). */
  size?: bigint;
  link?: number;
  info?: number;
  addralign?: bigint;
  entsize?: bigint;
}

export interface ElfSpec {
  class?: 32 | 64;
  endian?: 'little' | 'big';
  type?: number;
  machine?: number;
  osabi?: number;
  sections: SectionSpec[];
}

class Out {
  constructor(
    readonly buf: Buffer,
    readonly little: boolean,
  ) {}
  u16(o: number, v: number): void {
    if (this.little) this.buf.writeUInt16LE(v, o);
    else this.buf.writeUInt16BE(v, o);
  }
  u32(o: number, v: number): void {
    if (this.little) this.buf.writeUInt32LE(v >>> 0, o);
    else this.buf.writeUInt32BE(v >>> 0, o);
  }
  u64(o: number, v: bigint): void {
    if (this.little) this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), o);
    else this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), o);
  }
  word(o: number, v: bigint, is64: boolean): void {
    if (is64) this.u64(o, v);
    else this.u32(o, Number(BigInt.asUintN(32, v)));
  }
}

/** Layout: header, section data (8-aligned), .shstrtab, section header table. */
export function buildElf(spec: ElfSpec): Buffer {
  const is64 = (spec.class ?? 64) === 64;
  const little = (spec.endian ?? 'little') === 'little';
  const ehsize = is64 ? 64 : 52;
  const shsize = is64 ? 64 : 40;
  const all: SectionSpec[] = [{ name: '', type: 0 }, ...spec.sections, { name: '.shstrtab', type: 3, addralign: 1n }];
  const names: number[] = [];
  const strParts: Buffer[] = [Buffer.from([0])];
  let strLen = 1;
  for (const s of all) {
    if (s.name === '') {
      names.push(0);
      continue;
    }
    names.push(strLen);
    const b = Buffer.from(s.name + '\0', 'utf8');
    strParts.push(b);
    strLen += b.length;
  }
  const shstrtab = Buffer.concat(strParts);
  all[all.length - 1].data = shstrtab;
  let off = ehsize;
  const offsets: number[] = [];
  for (const s of all) {
    off = (off + 7) & ~7;
    offsets.push(s.data ? off : 0);
    if (s.data) off += s.data.length;
  }
  const shoff = (off + 7) & ~7;
  const total = shoff + shsize * all.length;
  const buf = Buffer.alloc(total);
  const o = new Out(buf, little);
  buf.write('\x7fELF', 0, 'latin1');
  buf[4] = is64 ? 2 : 1;
  buf[5] = little ? 1 : 2;
  buf[6] = 1;
  buf[7] = spec.osabi ?? 0;
  o.u16(16, spec.type ?? 1);
  o.u16(18, spec.machine ?? 183);
  o.u32(20, 1);
  o.word(is64 ? 40 : 32, BigInt(shoff), is64);
  o.u16(is64 ? 52 : 40, ehsize);
  o.u16(is64 ? 58 : 46, shsize);
  o.u16(is64 ? 60 : 48, all.length);
  o.u16(is64 ? 62 : 50, all.length - 1);
  all.forEach((s, i) => {
    if (s.data) Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength).copy(buf, offsets[i]);
    const h = shoff + i * shsize;
    const size = s.data ? BigInt(s.data.length) : (s.size ?? 0n);
    o.u32(h, names[i]);
    o.u32(h + 4, s.type);
    if (is64) {
      o.u64(h + 8, s.flags ?? 0n);
      o.u64(h + 16, s.addr ?? 0n);
      o.u64(h + 24, BigInt(offsets[i]));
      o.u64(h + 32, size);
      o.u32(h + 40, s.link ?? 0);
      o.u32(h + 44, s.info ?? 0);
      o.u64(h + 48, s.addralign ?? (i === 0 ? 0n : 1n));
      o.u64(h + 56, s.entsize ?? 0n);
    } else {
      o.u32(h + 8, Number(s.flags ?? 0n));
      o.u32(h + 12, Number(s.addr ?? 0n));
      o.u32(h + 16, offsets[i]);
      o.u32(h + 20, Number(size));
      o.u32(h + 24, s.link ?? 0);
      o.u32(h + 28, s.info ?? 0);
      o.u32(h + 32, Number(s.addralign ?? (i === 0 ? 0n : 1n)));
      o.u32(h + 36, Number(s.entsize ?? 0n));
    }
  });
  return buf;
}
