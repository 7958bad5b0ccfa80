// `kbuild-diagnostics sections FILE... [--json] [--relocs]`: section tables exactly as `llvm-readelf -S`
// prints them (and `-r` with --relocs), or JSON. Exit 0 on success, 1 when a file is unreadable or not
// an ELF object (the other files are still printed), 2 on a usage error.
import { formatAllRelocations, SymbolResolver, formatSectionTable, SectionJson, sectionToJson } from '../elf/format';
import { ObjectReadError, readObject } from '../elf/reader';
import { isRelocationSection, readRelocations } from '../elf/relocations';
import { openFileSource, ByteSource } from '../elf/source';
import { ElfFile, ObjectKind } from '../elf/types';

/** Where the command writes (structurally the same as cli/io.ts's CliIo). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const sectionsUsage = 'usage: kbuild-diagnostics sections FILE... [--json] [--relocs]';

const describe = (obj: ObjectKind): string => {
  switch (obj.kind) {
    case 'bitcode':
      return `is LLVM bitcode${obj.wrapper ? ' (wrapper)' : ''}, not an ELF object (an LTO build: the sections exist only after code generation)`;
    case 'archive':
      return `is a${obj.thin ? ' thin' : 'n'} archive (${obj.members.length} members: ${obj.members.slice(0, 5).map((m) => m.name).join(', ')}${obj.members.length > 5 ? ', ...' : ''}), not an ELF object`;
    case 'empty':
      return 'is empty';
    case 'unknown':
      return obj.description;
    default:
      return 'is not an ELF object';
  }
};

interface RelocJson {
  section: string;
  index: number;
  entries: { offset: number | string; type: number; typeName: string; symbol: number; symbolName: string | null; addend?: number | string }[];
}

const jsonInt = (v: bigint): number | string => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

async function relocJson(src: ByteSource, elf: ElfFile): Promise<RelocJson[]> {
  const out: RelocJson[] = [];
  for (const s of elf.sections.filter(isRelocationSection)) {
    const symtab = s.link !== 0 ? elf.sections[s.link] : undefined;
    const res = new SymbolResolver(src, elf, symtab);
    const entries: RelocJson['entries'] = [];
    for await (const chunk of readRelocations(src, elf, s)) {
      for (const r of chunk) {
        const sym = await res.get(r.symbol);
        entries.push({ offset: jsonInt(r.offset), type: r.type, typeName: r.typeName, symbol: r.symbol, symbolName: sym ? sym.name : null, ...(r.addend !== undefined ? { addend: jsonInt(r.addend) } : {}) });
      }
    }
    out.push({ section: s.name, index: s.index, entries });
  }
  return out;
}

/** Why each section of an ELF object breaks a build (section index -> reason), from the rules. */
export type SectionMarker = (elf: ElfFile) => Map<number, string>;

export async function sectionsCommand(args: string[], io: CliIo, markSections: SectionMarker = () => new Map()): Promise<number> {
  let json = false;
  let relocs = false;
  const files: string[] = [];
  let optionsDone = false;
  for (const a of args) {
    if (!optionsDone && a === '--') optionsDone = true;
    else if (!optionsDone && a === '--json') json = true;
    else if (!optionsDone && (a === '--relocs' || a === '-r')) relocs = true;
    else if (!optionsDone && (a === '--help' || a === '-h')) {
      io.out(sectionsUsage + '\n');
      return 0;
    } else if (!optionsDone && a.startsWith('-') && a !== '-') {
      io.err(`kbuild-diagnostics sections: unknown option '${a}'\n${sectionsUsage}\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    io.err(`kbuild-diagnostics sections: no input files\n${sectionsUsage}\n`);
    return 2;
  }
  let status = 0;
  const results: {
    file: string; class: number; endian: string; type: string; machine: string; sections: (SectionJson & { offending?: string })[]; relocations?: RelocJson[];
  }[] = [];
  for (const file of files) {
    let src: ByteSource | undefined;
    try {
      src = await openFileSource(file);
      const obj = await readObject(src);
      if (obj.kind !== 'elf') {
        io.err(`kbuild-diagnostics: error: '${file}' ${describe(obj)}\n`);
        status = 1;
        continue;
      }
      const elf = obj.elf;
      if (json) {
        const marks = markSections(elf);
        results.push({
          file, class: elf.class, endian: elf.endian, type: elf.typeName, machine: elf.machineName,
          sections: elf.sections.map((s) => {
            const why = marks.get(s.index);
            return { ...sectionToJson(s), ...(why ? { offending: why } : {}) };
          }),
          ...(relocs ? { relocations: await relocJson(src, elf) } : {}),
        });
      } else {
        io.out(formatSectionTable(elf, file, { fileHeader: files.length > 1 }));
        if (relocs) await formatAllRelocations(src, elf, (t) => io.out(t));
      }
    } catch (e) {
      if (!(e instanceof ObjectReadError)) throw e;
      io.err(`kbuild-diagnostics: error: '${file}': ${e.message}\n`);
      status = 1;
    } finally {
      await src?.close();
    }
  }
  if (json) io.out(JSON.stringify(results, null, 2) + '\n');
  return status;
}
