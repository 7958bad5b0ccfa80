// What a relocatable object offers a link's symbol resolution and what it asks of it: the global and
// weak symbols it defines, and the global symbols it leaves undefined (a weak undefined reference asks
// for nothing: a linker does not pull an archive member for it). Read from the object's .symtab
// (ELF32 and ELF64, either byte order); local symbols are skipped. No editor dependencies.
import { Fields, toOffset } from './reader';
import type { ByteSource } from './source';
import { ObjectReadError, SHN_UNDEF, SHT_SYMTAB, type ElfFile } from './types';

const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STT_SECTION = 3;
const STT_FILE = 4;
/** Bounds: a symbol table larger than this is not read (a kernel object holds a few thousand). */
const MAX_SYMTAB_BYTES = 64 * 1024 * 1024;
const MAX_STRTAB_BYTES = 64 * 1024 * 1024;

export interface LinkSymbols {
  defined: string[];
  undefined: string[];
}

/** The object's defined global/weak symbols and its undefined global ones (ObjectReadError when unreadable). */
export async function readLinkSymbols(src: ByteSource, elf: ElfFile): Promise<LinkSymbols> {
  const out: LinkSymbols = { defined: [], undefined: [] };
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return out;
  const strtab = elf.sections[symtab.link];
  if (!strtab) throw new ObjectReadError('malformed', `symbol table [${symtab.index}] has no string table`);
  if (symtab.size > BigInt(MAX_SYMTAB_BYTES) || strtab.size > BigInt(MAX_STRTAB_BYTES))
    throw new ObjectReadError('malformed', `symbol table [${symtab.index}] is too large to read`);
  const is64 = elf.class === 64;
  const es = is64 ? 24 : 16;
  const little = elf.endian === 'little';
  const syms = new Fields(await src.read(toOffset(symtab.offset, 'symbol table'), Number(symtab.size)), little);
  const strs = await src.read(toOffset(strtab.offset, 'string table'), Number(strtab.size));
  // Entry 0 is the null symbol; sh_info is the first non-local one (locals first, as ELF requires).
  for (let i = Math.max(1, symtab.info); (i + 1) * es <= syms.buf.length; i++) {
    const o = i * es;
    const nameOff = syms.u32(o);
    const info = is64 ? syms.u8(o + 4) : syms.u8(o + 12);
    const shndx = is64 ? syms.u16(o + 6) : syms.u16(o + 14);
    const bind = info >> 4;
    const type = info & 0xf;
    if ((bind !== STB_GLOBAL && bind !== STB_WEAK) || type === STT_SECTION || type === STT_FILE) continue;
    if (nameOff >= strs.length) throw new ObjectReadError('malformed', `symbol ${i}: name outside the string table`);
    const end = strs.indexOf(0, nameOff);
    const name = strs.toString('utf8', nameOff, end < 0 ? strs.length : end);
    if (name === '') continue;
    if (shndx !== SHN_UNDEF) out.defined.push(name);
    else if (bind === STB_GLOBAL) out.undefined.push(name);
  }
  return out;
}
