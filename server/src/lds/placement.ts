// Where ld.lld (19) puts one input section of one object, given the linker script: an output
// section, /DISCARD/, an orphan (no description matches), or dropped by the linker itself before
// the script is consulted. The first matching description in script order wins, as in ld.lld's
// LinkerScript::computeInputSections. What is dropped was checked against `ld.lld-19 -Map`
// (test/kernel/linkMap.test.ts).
import { globMatch } from './glob';
import type { InputSectionDesc, LinkerScript } from './script';

export type Placement =
  | { kind: 'output'; output: string; line: number }
  | { kind: 'discard'; line: number }
  | { kind: 'orphan'; /** The output section ld.lld makes for it. */ output: string }
  | { kind: 'dropped'; why: string };

export interface InputSection {
  name: string;
  type: number;
  flags: number;
  /** For a relocation section: the section it relocates (ld -r writes it beside that one). */
  relocates?: InputSection;
}

export interface LinkKind {
  /** `ld -r` (a relocatable link). */
  relocatable: boolean;
}

export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  GROUP: 17,
  SYMTAB_SHNDX: 18,
  RELR: 19,
  LLVM_LINKER_OPTIONS: 0x6fff4c01,
  LLVM_ADDRSIG: 0x6fff4c03,
  LLVM_DEPENDENT_LIBRARIES: 0x6fff4c04,
  LLVM_CALL_GRAPH_PROFILE: 0x6fff4c09,
} as const;
export const SHF_EXCLUDE = 0x80000000;

/** Sections ld.lld consumes or rebuilds instead of placing, by what they are. */
function droppedByLinker(section: InputSection, link: LinkKind): string | undefined {
  const { type, name } = section;
  if (type === SHT.NULL) return 'the null section';
  if (type === SHT.SYMTAB || type === SHT.SYMTAB_SHNDX) return 'the linker writes its own symbol table';
  if (type === SHT.STRTAB) return 'the linker writes its own string tables';
  if (type === SHT.GROUP && !link.relocatable) return 'section groups are resolved in a final link';
  if (name === '.note.GNU-stack' || name === '.note.GNU-split-stack' || name === '.note.GNU-no-split-stack')
    return 'stack notes are read, not placed';
  if (type === SHT.LLVM_ADDRSIG && !link.relocatable) return 'the address-significance table is read, not placed';
  if (type === SHT.LLVM_LINKER_OPTIONS || type === SHT.LLVM_DEPENDENT_LIBRARIES)
    return 'linker options are read, not placed';
  if ((section.flags & SHF_EXCLUDE) !== 0 && !link.relocatable) return 'SHF_EXCLUDE: not placed in a final link';
  if (name === '.note.gnu.property' && type === SHT.NOTE) return "merged into the linker's own .note.gnu.property";
  if ((type === SHT.REL || type === SHT.RELA || type === SHT.RELR) && !link.relocatable)
    return 'relocations are applied in a final link';
  return undefined;
}

/**
 * ld.lld's orphan output-section name (LinkerScript::getOutputSectionName): its own name in `ld -r`
 * and whenever the script has a SECTIONS command; only without one (the default layout) does a final
 * link fold `.text.foo` into `.text`. Checked with ld.lld-19 (test/unit/ldsScript.test.ts).
 */
const ORPHAN_PREFIXES = [
  '.ldata',
  '.lrodata',
  '.lbss',
  '.text',
  '.data.rel.ro',
  '.data',
  '.rodata',
  '.bss.rel.ro',
  '.bss',
  '.gcc_except_table',
  '.init_array',
  '.fini_array',
  '.tbss',
  '.tdata',
  '.ARM.exidx',
  '.ARM.extab',
  '.ctors',
  '.dtors',
];
function orphanOutputName(name: string, link: LinkKind, hasSections: boolean): string {
  if (link.relocatable || hasSections) return name;
  for (const p of ORPHAN_PREFIXES) if (name === p || name.startsWith(p + '.')) return p;
  return name;
}

/** Whether the description matches the section of `objectPath`. */
function descMatches(d: InputSectionDesc, objectPath: string, section: InputSection): boolean {
  if ((section.flags & d.withoutFlags) !== 0 || (section.flags & d.withFlags) !== d.withFlags) return false;
  if (!globMatch(d.filePattern, objectPath)) return false;
  if (d.excludeFiles.some((f) => globMatch(f, objectPath))) return false;
  for (const g of d.groups) {
    if (!g.patterns.some((p) => globMatch(p, section.name))) continue;
    if (g.excludeFiles.some((f) => globMatch(f, objectPath))) continue;
    return true;
  }
  return false;
}

/** The first description (script order) that matches, if any. */
function firstMatch(script: LinkerScript, objectPath: string, section: InputSection): InputSectionDesc | undefined {
  for (const d of script.order) if (descMatches(d, objectPath, section)) return d;
  return undefined;
}

/** Where `section` of `objectPath` goes in this link. */
export function placeSection(
  script: LinkerScript,
  objectPath: string,
  section: InputSection,
  link: LinkKind,
): Placement {
  const why = droppedByLinker(section, link);
  if (why) return { kind: 'dropped', why };
  if (section.type === SHT.REL || section.type === SHT.RELA) {
    // ld -r: relocations go with the section they relocate, into `.rel[a]<its output>`.
    if (!section.relocates) return { kind: 'dropped', why: 'a relocation section goes with the section it relocates' };
    const target = placeSection(script, objectPath, section.relocates, link);
    const prefix = section.type === SHT.RELA ? '.rela' : '.rel';
    // Not an orphan even when its section is one: ld.lld names it after that section's output.
    if (target.kind === 'output') return { kind: 'output', output: prefix + target.output, line: target.line };
    if (target.kind === 'orphan') return { kind: 'output', output: prefix + target.output, line: -1 };
    return target;
  }
  if (!script.hasSections) return { kind: 'orphan', output: orphanOutputName(section.name, link, false) };
  const d = firstMatch(script, objectPath, section);
  if (!d) return { kind: 'orphan', output: orphanOutputName(section.name, link, true) };
  if (d.output === '/DISCARD/') return { kind: 'discard', line: d.line };
  return { kind: 'output', output: d.output, line: d.line };
}
