// The section explorer's ELF-to-wire conversion: an ELF section with the rules' marks and its
// destinations in the links that consume the object (lspExt's SectionInfo), what a non-ELF object
// is in one line, and the section table / relocation text handed to the client (bounded).
import type { ElfFile, ElfSection, ObjectKind } from '../elf/types';
import { isDebugSection } from '../elf/debugSections';
import { formatAllRelocations, formatSectionTable, hexNoPrefix } from '../elf/format';
import type { ByteSource } from '../elf/source';
import type { Placement } from '../lds/placement';
import type { SectionDestination, SectionInfo } from '../lspExt';
import type { LinkPlacements, SectionMarks } from '../rules/rule';

/** Largest section table / relocation text handed to the client. */
const MAX_TABLE_CHARS = 8 * 1024 * 1024;

/** A link whose script could not be read: every section's destination is unknown, with why. */
export interface UnreadableLink {
  link: string;
  script: string;
  problem: string;
}

export function objectKindProblem(obj: ObjectKind | undefined): string | undefined {
  if (!obj) return undefined;
  switch (obj.kind) {
    case 'elf':
      return undefined;
    case 'bitcode':
      return 'LLVM bitcode (an LTO build): no ELF sections until the final link';
    case 'archive':
      return `${obj.thin ? 'thin ' : ''}archive with ${obj.members.length} members`;
    case 'empty':
      return 'empty file';
    case 'unknown':
      return obj.description;
  }
}

function destinationOf(l: LinkPlacements, p: Placement): SectionDestination {
  const base = { link: l.link.output, script: l.scriptFile };
  switch (p.kind) {
    case 'output':
      return { ...base, kind: 'output', output: p.output };
    case 'discard':
      return { ...base, kind: 'discard' };
    case 'orphan':
      // Without SECTIONS nothing is an orphan: the linker's own naming is the placement.
      return l.hasSections
        ? { ...base, kind: 'orphan', output: p.output }
        : { ...base, kind: 'output', output: p.output };
    case 'dropped':
      return { ...base, kind: 'dropped', why: p.why };
  }
}

/** The destinations of section `index` in every link that consumes its object. */
export function destinationsOf(
  index: number,
  links: readonly LinkPlacements[],
  unreadable: readonly UnreadableLink[],
): SectionDestination[] {
  const out: SectionDestination[] = [];
  for (const l of links) {
    const p = l.placements.get(index);
    if (p) out.push(destinationOf(l, p));
  }
  for (const u of unreadable) out.push({ link: u.link, script: u.script, kind: 'unknown', why: u.problem });
  return out;
}

export function toSectionInfo(
  s: ElfSection,
  marks: SectionMarks,
  destinations: SectionDestination[] | undefined,
): SectionInfo {
  const hex = (v: bigint): string => `0x${hexNoPrefix(v, 1)}`;
  const offending = marks.sections.get(s.index);
  const warning = marks.warnings?.get(s.index);
  return {
    index: s.index,
    name: s.name,
    type: s.type,
    typeName: s.typeName,
    flags: BigInt.asUintN(64, s.flags).toString(),
    flagLetters: s.flagLetters,
    address: hex(s.addr),
    offset: hex(s.offset),
    size: hex(s.size),
    entsize: hex(s.entsize),
    link: s.link,
    info: s.info,
    alignment: s.addralign.toString(),
    ...(offending ? { offending } : {}),
    ...(warning ? { warning } : {}),
    ...(destinations && destinations.length > 0 ? { destinations } : {}),
    debug: isDebugSection(s.name),
  };
}

/** llvm-readelf's -S layout, then (when asked) its -r text, cut at MAX_TABLE_CHARS. */
export async function sectionTableText(
  src: ByteSource,
  elf: ElfFile,
  file: string,
  relocations: boolean,
): Promise<string> {
  const text = formatSectionTable(elf, file);
  if (!relocations) return text;
  const parts: string[] = [];
  let size = 0;
  const stop = new Error('cut');
  try {
    await formatAllRelocations(src, elf, (chunk) => {
      parts.push(chunk);
      size += chunk.length;
      if (size > MAX_TABLE_CHARS) throw stop;
    });
  } catch (e) {
    if (e !== stop) throw e;
    parts.push(`\n[... relocations cut at ${MAX_TABLE_CHARS} characters; run llvm-readelf -r for all]\n`);
  }
  return text + parts.join('');
}
