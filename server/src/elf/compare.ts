// Compares the sections of two ELF objects by name: what only one has, and what changed in type or size.
import * as path from 'node:path';
import type { ElfFile, ElfSection } from './types';

export interface SectionComparison {
  onlyLeft: string[];
  onlyRight: string[];
  changed: string[];
  text: string;
}

/**
 * `marked(side, section)` says whether to flag a section with '!' (and `legend` what that means).
 */
export function compareSections(
  left: { file: string; elf: ElfFile },
  right: { file: string; elf: ElfFile },
  marked: (side: 'left' | 'right', s: ElfSection) => boolean,
  legend: string,
): SectionComparison {
  const ls = left.elf.sections.filter((s) => s.index !== 0);
  const rs = right.elf.sections.filter((s) => s.index !== 0);
  const byName = (xs: ElfSection[]) => new Map(xs.map((s) => [s.name, s] as const));
  const lm = byName(ls);
  const rm = byName(rs);
  const onlyLeft = [...lm.keys()].filter((n) => !rm.has(n));
  const onlyRight = [...rm.keys()].filter((n) => !lm.has(n));
  const changed = [...lm.keys()].filter(
    (n) => rm.has(n) && (lm.get(n)?.size !== rm.get(n)?.size || lm.get(n)?.type !== rm.get(n)?.type),
  );
  const row = (side: 'left' | 'right', s: ElfSection) =>
    `  ${marked(side, s) ? '!' : ' '} ${s.name.padEnd(36)} ${s.typeName.padEnd(26)} size 0x${s.size.toString(16)}`;
  const lines = [
    `Sections of ${left.file}`,
    `     and of ${right.file}`,
    '',
    `Only in ${path.basename(left.file)} (${onlyLeft.length}):`,
    ...onlyLeft.map((n) => row('left', lm.get(n) as ElfSection)),
    '',
    `Only in ${path.basename(right.file)} (${onlyRight.length}):`,
    ...onlyRight.map((n) => row('right', rm.get(n) as ElfSection)),
    '',
    `In both, type or size changed (${changed.length}):`,
    ...changed.map((n) => {
      const a = lm.get(n) as ElfSection;
      const b = rm.get(n) as ElfSection;
      return `    ${n.padEnd(36)} ${a.typeName} 0x${a.size.toString(16)} -> ${b.typeName} 0x${b.size.toString(16)}`;
    }),
    '',
    `In both, unchanged: ${ls.length - onlyLeft.length - changed.length}`,
    '',
    `! = ${legend}`,
    '',
  ];
  return { onlyLeft, onlyRight, changed, text: lines.join('\n') };
}
