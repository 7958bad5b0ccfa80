// The orphan-sections rule in the section explorer: the stages of each link that reports orphans
// (its input objects -> the link's output, e.g. vdso.so.dbg -> what objcopy makes of it, vdso.so),
// the links themselves (script, inputs, orphan level) for the explorer's destinations, and the
// marks: a section the link's script does not place is marked with the link that refuses it and
// ld.lld's own line, an error where the link passes --orphan-handling=error, a warning otherwise.
import { normalizePath, patternRulesFrom, readRules } from '../../kbuild/recipes';
import { isObjcopy, objcopyEffect } from '../../kbuild/shellCommands';
import type { BuildLink } from '../../kbuild/linkPlacement';
import type { ExplorerSupport, LinkPlacements, MakefileContext, PipelineObject, SectionMarks, StageDef } from '../rule';
import type { OrphanVerdict } from './analysis';
import { lldLine } from './diagnostic';
import { orphanLinks } from './analysis';

const STAGES: readonly StageDef[] = [
  {
    id: 'orphan-link-input',
    label: 'input object of a link that reports orphan sections',
    short: 'link input',
    next: 'orphan-link-output',
  },
  {
    id: 'orphan-link-output',
    label: 'output of the link (ld --orphan-handling)',
    short: 'linked',
    next: 'orphan-link-copy',
  },
  { id: 'orphan-link-copy', label: "made from the link's output by objcopy", short: 'objcopy' },
];

/** The links of a verdict as the explorer places objects with them. */
function buildLinks(v: OrphanVerdict): BuildLink[] {
  return v.links.map(({ link }) => ({
    output: link.output,
    ...(link.script ? { script: link.script } : {}),
    inputs: link.inputs,
    relocatable: link.relocatable,
    orphanHandling: link.level,
  }));
}

/** What objcopy makes of each link output in the Makefile (`vdso.so` from `vdso.so.dbg`, by a pattern rule in 6.12). */
function copiesOf(ctx: MakefileContext, outputs: readonly string[]): string[] {
  const { ev } = orphanLinks(ctx);
  if (!ev) return [];
  const out: string[] = [];
  const rules = [...readRules(ctx.makefile, ev), ...outputs.flatMap((o) => patternRulesFrom(ctx.makefile, ev, o))];
  for (const rule of rules) {
    for (const c of rule.commands) {
      if (!isObjcopy(c.program)) continue;
      const eff = objcopyEffect(c.args);
      if (!eff.input || !eff.output) continue;
      const [input, output] = [normalizePath(eff.input), normalizePath(eff.output)];
      if (outputs.includes(input) && output !== input && !out.includes(output)) out.push(output);
    }
  }
  return out;
}

/** The finding's explorer part: the stages of every orphan-checked link, and the links. */
export function explorerFacts(
  ctx: MakefileContext,
  v: OrphanVerdict,
): { objects: PipelineObject[]; links: BuildLink[] } {
  const objects: PipelineObject[] = [];
  const push = (p: string, stage: string): void => {
    if (!objects.some((o) => o.path === p)) objects.push({ path: p, stage });
  };
  for (const { link } of v.links) for (const p of link.inputs) push(p, 'orphan-link-input');
  const outputs = v.links.map((l) => l.link.output);
  for (const o of outputs) push(o, 'orphan-link-output');
  for (const c of copiesOf(ctx, outputs)) push(c, 'orphan-link-copy');
  return { objects, links: buildLinks(v) };
}

function refusal(l: LinkPlacements, buildPath: string, section: string, output: string): string {
  const level = l.link.orphanHandling;
  const line = lldLine({ object: buildPath, section, output });
  const script = l.link.script ?? 'its linker script';
  if (level === 'error')
    return `the link of ${l.link.output} refuses it (--orphan-handling=error): ${script} does not place ${section}; ld.lld: error: ${line}`;
  if (level === 'warn')
    return `the link of ${l.link.output} warns (--orphan-handling=warn) and places it on its own: ${script} does not place ${section}; ld.lld: warning: ${line}`;
  return `the link of ${l.link.output} reports it (its --orphan-handling level is not known here: an error or a warning): ${script} does not place ${section}; ${line}`;
}

export const explorer: ExplorerSupport = {
  stages: STAGES,
  // The links are found by what the Makefiles run, never by directory or name.
  conventionalDirs: [],
  stageByName: () => undefined,
  // Whether a section is an orphan depends on the link that consumes it: nothing without one.
  sectionReason: () => undefined,
  async classify(report, _reader, _stage, buildPath, links): Promise<SectionMarks> {
    const sections = new Map<number, string>();
    const warnings = new Map<number, string>();
    const errors: string[] = [];
    if (report.object?.kind !== 'elf' || !buildPath) return { sections, warnings };
    const elf = report.object.elf;
    for (const l of links) {
      const level = l.link.orphanHandling;
      if (!l.hasSections || level === undefined || level === 'place') continue;
      for (const [index, p] of l.placements) {
        if (p.kind !== 'orphan') continue;
        const name = elf.sections[index]?.name ?? '';
        const why = refusal(l, buildPath, name, p.output);
        if (level === 'error') {
          if (!sections.has(index)) sections.set(index, why);
          errors.push(`ld.lld: error: ${lldLine({ object: buildPath, section: name, output: p.output })}`);
        } else if (!warnings.has(index)) warnings.set(index, why);
      }
    }
    return { sections, warnings, ...(errors.length > 0 ? { objectProblem: errors.join('\n') } : {}) };
  },
};
