// Generators for kernel-scale ELF objects used by the benchmarks (written to a temp dir, never committed).
//  - manySectionsElf: a relocatable AArch64 ELF64 with N sections laid out like a vmlinux.o built with
//    -ffunction-sections -fdata-sections: .text.<fn> (AX), .rela.text.<fn> (I, one entry each),
//    .data.<var> (WA), .bss.<var> (NOBITS WA), .rodata.str1.1 pieces (AMS), then .symtab/.strtab/.shstrtab.
//    Uses extended numbering (e_shnum = 0, e_shstrndx = SHN_XINDEX) when N >= 0xff00, as the linker does.
//  - manyRelocsElf: one .text and one .rela.text with N RELA entries over M symbols (written in chunks).
import { closeSync, openSync, writeSync } from 'node:fs';

const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8 };

interface Shdr {
  name: number;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

class Writer {
  readonly fd: number;
  pos = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  write(b: Buffer): number {
    const at = this.pos;
    writeSync(this.fd, b, 0, b.length, at);
    this.pos += b.length;
    return at;
  }
  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    if (pad) this.write(Buffer.alloc(pad));
  }
  close(): void {
    closeSync(this.fd);
  }
}

function ehdr(shoff: number, shnum: number, shstrndx: number): Buffer {
  const h = Buffer.alloc(64);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = 2;
  h[5] = 1;
  h[6] = 1;
  h.writeUInt16LE(1, 16); // ET_REL
  h.writeUInt16LE(183, 18); // EM_AARCH64
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(BigInt(shoff), 40);
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(64, 58);
  h.writeUInt16LE(shnum >= 0xff00 ? 0 : shnum, 60);
  h.writeUInt16LE(shstrndx >= 0xff00 ? 0xffff : shstrndx, 62);
  return h;
}

function writeTable(w: Writer, shdrs: Shdr[]): number {
  w.align(8);
  const shoff = w.pos;
  const CH = 8192;
  for (let i = 0; i < shdrs.length; i += CH) {
    const n = Math.min(CH, shdrs.length - i);
    const b = Buffer.alloc(n * 64);
    for (let j = 0; j < n; j++) {
      const s = shdrs[i + j];
      const o = j * 64;
      b.writeUInt32LE(s.name, o);
      b.writeUInt32LE(s.type, o + 4);
      b.writeBigUInt64LE(s.flags, o + 8);
      b.writeBigUInt64LE(0n, o + 16);
      b.writeBigUInt64LE(BigInt(s.offset), o + 24);
      b.writeBigUInt64LE(BigInt(s.size), o + 32);
      b.writeUInt32LE(s.link, o + 40);
      b.writeUInt32LE(s.info, o + 44);
      b.writeBigUInt64LE(BigInt(s.align), o + 48);
      b.writeBigUInt64LE(BigInt(s.entsize), o + 56);
    }
    w.write(b);
  }
  return shoff;
}

class StrTab {
  parts: Buffer[] = [Buffer.from([0])];
  len = 1;
  add(s: string): number {
    const at = this.len;
    const b = Buffer.from(s + '\0', 'utf8');
    this.parts.push(b);
    this.len += b.length;
    return at;
  }
  buf(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Writes a relocatable object with exactly `total` section headers (including section 0). */
export function manySectionsElf(path: string, total: number): void {
  const w = new Writer(path);
  w.write(Buffer.alloc(64));
  const shstr = new StrTab();
  const shdrs: Shdr[] = [
    {
      name: 0,
      type: 0,
      flags: 0n,
      offset: 0,
      size: total >= 0xff00 ? total : 0,
      link: 0,
      info: 0,
      align: 0,
      entsize: 0,
    },
  ];
  // Shared contents: 16 bytes of code and one RELA entry (symbol 1, R_AARCH64_CALL26 = 283).
  const code = w.write(Buffer.alloc(16, 0x1f));
  w.align(8);
  const rela = Buffer.alloc(24);
  rela.writeBigUInt64LE(4n, 0);
  rela.writeBigUInt64LE((1n << 32n) | 283n, 8);
  const relaOff = w.write(rela);
  const str1 = w.write(Buffer.from('kernel\0', 'latin1'));
  // Reserve the last three: .symtab, .strtab, .shstrtab.
  const body = total - 1 - 3;
  const symtabIndex = total - 3;
  let k = 0;
  while (shdrs.length - 1 < body) {
    const left = body - (shdrs.length - 1);
    const kind = k % 8;
    if (kind < 6 && left >= 2) {
      const fn = `${['do_sys', 'kvm_vcpu', 'ext4_inode', 'tcp_v4', 'drm_atomic', 'pci_bus'][kind]}_fn_${k}`;
      shdrs.push({
        name: shstr.add(`.text.${fn}`),
        type: SHT.PROGBITS,
        flags: 6n,
        offset: code,
        size: 16,
        link: 0,
        info: 0,
        align: 4,
        entsize: 0,
      });
      const ti = shdrs.length - 1;
      shdrs.push({
        name: shstr.add(`.rela.text.${fn}`),
        type: SHT.RELA,
        flags: 0x40n,
        offset: relaOff,
        size: 24,
        link: symtabIndex,
        info: ti,
        align: 8,
        entsize: 24,
      });
    } else if (kind === 6) {
      shdrs.push({
        name: shstr.add(`.data.var_${k}`),
        type: SHT.PROGBITS,
        flags: 3n,
        offset: code,
        size: 8,
        link: 0,
        info: 0,
        align: 8,
        entsize: 0,
      });
    } else if (left >= 1 && k % 16 === 7) {
      shdrs.push({
        name: shstr.add(`.rodata.str1.1`),
        type: SHT.PROGBITS,
        flags: 0x32n,
        offset: str1,
        size: 7,
        link: 0,
        info: 0,
        align: 1,
        entsize: 1,
      });
    } else {
      shdrs.push({
        name: shstr.add(`.bss.var_${k}`),
        type: SHT.NOBITS,
        flags: 3n,
        offset: code,
        size: 64,
        link: 0,
        info: 0,
        align: 8,
        entsize: 0,
      });
    }
    k++;
  }
  // .symtab: null symbol + one global function symbol "do_sys_fn_0" in section 1.
  const strtab = new StrTab();
  const symName = strtab.add('do_sys_fn_0');
  w.align(8);
  const sym = Buffer.alloc(48);
  sym.writeUInt32LE(symName, 24);
  sym[24 + 4] = 0x12; // STB_GLOBAL | STT_FUNC
  sym.writeUInt16LE(1, 24 + 6);
  const symOff = w.write(sym);
  shdrs.push({
    name: shstr.add('.symtab'),
    type: SHT.SYMTAB,
    flags: 0n,
    offset: symOff,
    size: 48,
    link: total - 2,
    info: 1,
    align: 8,
    entsize: 24,
  });
  const strBuf = strtab.buf();
  const strOff = w.write(strBuf);
  shdrs.push({
    name: shstr.add('.strtab'),
    type: SHT.STRTAB,
    flags: 0n,
    offset: strOff,
    size: strBuf.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  const shstrName = shstr.add('.shstrtab');
  const shstrBuf = shstr.buf();
  const shstrOff = w.write(shstrBuf);
  shdrs.push({
    name: shstrName,
    type: SHT.STRTAB,
    flags: 0n,
    offset: shstrOff,
    size: shstrBuf.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  if (total >= 0xff00) shdrs[0].link = total - 1;
  const shoff = writeTable(w, shdrs);
  writeSync(w.fd, ehdr(shoff, total, total - 1), 0, 64, 0);
  w.close();
}

/** Writes a relocatable object whose .rela.text has `count` RELA entries over `symbols` symbols. */
export function manyRelocsElf(path: string, count: number, symbols = 50000): void {
  const w = new Writer(path);
  w.write(Buffer.alloc(64));
  const shstr = new StrTab();
  const strtab = new StrTab();
  const textSize = 4096;
  const text = w.write(Buffer.alloc(textSize, 0x1f));
  w.align(8);
  const syms = Buffer.alloc(24 * (symbols + 1));
  for (let i = 1; i <= symbols; i++) {
    const o = i * 24;
    syms.writeUInt32LE(strtab.add(`kernel_symbol_number_${i}`), o);
    syms[o + 4] = i % 10 === 0 ? 0x03 : 0x12; // some section symbols (STT_SECTION), mostly global functions
    syms.writeUInt16LE(1, o + 6);
    syms.writeBigUInt64LE(BigInt((i * 4) % textSize), o + 8);
  }
  const symOff = w.write(syms);
  const strBuf = strtab.buf();
  const strOff = w.write(strBuf);
  w.align(8);
  const relaOff = w.pos;
  const CH = 1 << 16;
  const types = [283, 282, 275, 257, 258, 311, 312];
  for (let i = 0; i < count; i += CH) {
    const n = Math.min(CH, count - i);
    const b = Buffer.alloc(n * 24);
    for (let j = 0; j < n; j++) {
      const e = i + j;
      const o = j * 24;
      b.writeBigUInt64LE(BigInt((e * 4) % textSize), o);
      const sym = 1 + ((e * 7919) % symbols);
      b.writeUInt32LE(types[e % types.length], o + 8);
      b.writeUInt32LE(sym, o + 12);
      b.writeBigInt64LE(BigInt((e % 64) - 8), o + 16);
    }
    w.write(b);
  }
  const relaSize = count * 24;
  const shdrs: Shdr[] = [{ name: 0, type: 0, flags: 0n, offset: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 }];
  shdrs.push({
    name: shstr.add('.text'),
    type: SHT.PROGBITS,
    flags: 6n,
    offset: text,
    size: textSize,
    link: 0,
    info: 0,
    align: 4,
    entsize: 0,
  });
  shdrs.push({
    name: shstr.add('.rela.text'),
    type: SHT.RELA,
    flags: 0x40n,
    offset: relaOff,
    size: relaSize,
    link: 3,
    info: 1,
    align: 8,
    entsize: 24,
  });
  shdrs.push({
    name: shstr.add('.symtab'),
    type: SHT.SYMTAB,
    flags: 0n,
    offset: symOff,
    size: syms.length,
    link: 4,
    info: 1,
    align: 8,
    entsize: 24,
  });
  shdrs.push({
    name: shstr.add('.strtab'),
    type: SHT.STRTAB,
    flags: 0n,
    offset: strOff,
    size: strBuf.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  const shstrName = shstr.add('.shstrtab');
  const shstrBuf = shstr.buf();
  const shstrOff = w.write(shstrBuf);
  shdrs.push({
    name: shstrName,
    type: SHT.STRTAB,
    flags: 0n,
    offset: shstrOff,
    size: shstrBuf.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  const shoff = writeTable(w, shdrs);
  writeSync(w.fd, ehdr(shoff, shdrs.length, shdrs.length - 1), 0, 64, 0);
  w.close();
}

if (/genElf\.js$/.test(process.argv[1] ?? '')) {
  const [what, path, n] = process.argv.slice(2);
  if (what === 'sections') manySectionsElf(path, Number(n));
  else if (what === 'relocs') manyRelocsElf(path, Number(n));
  else {
    process.stderr.write('usage: node out/bench/genElf.js sections|relocs PATH N\n');
    process.exitCode = 2;
  }
}
