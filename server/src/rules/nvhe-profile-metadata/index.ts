// Rule nvhe-profile-metadata as a unit: what the generic layers call. Analysis: analysis.ts;
// diagnostics: diagnostic.ts; fixes: fixes.ts; patch text: patchText.ts; sections and stages:
// sections.ts; explanation: explanation.md.
import * as path from 'node:path';
import { splitLines } from '../../make/edits';
import { inlineCode } from '../../make/hover';
import { flagShape, COMPILE_FLAG_VARIABLE } from '../../kbuild/compileFlags';
import { profileFlagsOf } from '../../kbuild/cmdFile';
import { effectiveProfileUse } from '../../kbuild/profileFlags';
import { listBuildFiles } from '../../kbuild/buildModel';
import { linksOfRules } from '../../kbuild/linkPlacement';
import type { BuildAccess, MakefileContext, Rule, RuleFinding } from '../rule';
import { ALIAS_CODE, analyzeNvheOrCut, RULE_CODE, type NvheVerdict } from './analysis';
import { nvheDiagnostics, STALE_CODE, type BuildEvidence, type FlagEvidence, type ObjectEvidence } from './diagnostic';
import { computeFix, FIXES, type FixForm } from './fixes';
import { patchText } from './patchText';
import { explorer, genHyprelMessage, offendingSections } from './sections';
import { producerOf } from './pipeline';

/** Most hyp objects read for evidence. */
const MAX_EVIDENCE_OBJECTS = 500;

function verdictOf(ctx: MakefileContext): { verdict?: NvheVerdict; cut?: string } {
  const lines = splitLines(ctx.text);
  return analyzeNvheOrCut(ctx, (l) => lines[l]?.length ?? 0);
}

/** The object gen-hyprel reads and the hyp objects linked into it, read from a build directory. */
async function collectEvidence(v: NvheVerdict, build: BuildAccess, objDir: string): Promise<BuildEvidence> {
  const input = v.pipeline.genHyprelInput;
  const objects: ObjectEvidence[] = [];
  const withMarks = async (file: string, buildPath?: string): Promise<ObjectEvidence | undefined> => {
    const report = await build.reader.readObject(file);
    if (report.error === 'file not found') return undefined;
    const message =
      buildPath && report.object?.kind === 'elf' ? await genHyprelMessage(build.reader, file, buildPath) : undefined;
    return { ...report, offending: offendingSections(report), genHyprelMessage: message };
  };
  const tmp = await withMarks(path.join(build.buildDir, input), input);
  if (tmp) objects.push(tmp);
  const hypObjects = (producerOf(v.pipeline, input)?.prerequisites ?? []).filter((p) => p.endsWith('.o'));
  for (const o of hypObjects.slice(0, MAX_EVIDENCE_OBJECTS)) {
    const e = await withMarks(path.join(build.buildDir, o));
    if (e) objects.push(e);
  }
  const { cmdFiles } = await listBuildFiles(path.join(build.buildDir, objDir));
  const wanted = new Set(hypObjects.map((o) => `.${path.basename(o)}.cmd`));
  const flags: FlagEvidence[] = [];
  const incomplete = objects.filter((o) => o.error).map((o) => `${o.path}: ${o.error}`);
  for (const c of cmdFiles) {
    if (!wanted.has(path.basename(c))) continue;
    const read = await build.reader.readCmdFile(c);
    if (!read.ok) {
      incomplete.push(read.message);
      continue;
    }
    if (read.incomplete) incomplete.push(read.incomplete.message);
    for (const record of read.records) flags.push(...profileFlagsOf(c, record));
  }
  return { buildDir: build.buildDir, objects, flags, incomplete };
}

/** gen-hyprel's own error line on the object it reads, when the build's object makes it fail (explained by the first diagnostic). */
function genHyprelOutput(evidence: BuildEvidence | undefined, diagnostics: number): RuleFinding['buildOutput'] {
  const tmp = evidence?.objects.find((o) => o.genHyprelMessage);
  const printed = tmp?.genHyprelMessage && /^error: (.*)$/.exec(tmp.genHyprelMessage);
  if (!tmp || !printed || diagnostics === 0) return undefined;
  return [{ file: tmp.path, text: printed[1], severity: 'error', diagnostic: 0 }];
}

function hoverNote(v: NvheVerdict): (variable: string) => string | undefined {
  return (variable) => {
    if (!COMPILE_FLAG_VARIABLE.test(variable)) return undefined;
    const through = [...new Set(v.leakingFlags.map(flagShape))];
    if (v.sectionRemoval)
      return `**nVHE:** ${v.sectionRemoval.how}, so profile flags${through.length ? ` (${through.join(', ')} get through)` : ''} do no harm.`;
    if (through.length === 0) return '**nVHE:** no profile-use flag reaches the hyp compiles.';
    return `**nVHE:** these profile-use flags reach the hyp compiles: ${through.map(inlineCode).join(', ')} (see the \`${RULE_CODE}\` diagnostic).`;
  };
}

function pipelineObjects(v: NvheVerdict): RuleFinding['objects'] {
  const p = v.pipeline;
  const out: RuleFinding['objects'] = [];
  const push = (rel: string, stage: string) => {
    if (!out.some((o) => o.path === rel)) out.push({ path: rel, stage });
  };
  for (const o of producerOf(p, p.genHyprelInput)?.prerequisites ?? []) if (o.endsWith('.o')) push(o, 'hyp-object');
  push(p.genHyprelInput, 'tmp');
  const hypcopy = p.hypcopy;
  const copyRule = hypcopy ? p.rules.find((r) => r.commands.includes(hypcopy)) : undefined;
  for (const o of copyRule?.prerequisites ?? []) if (o.endsWith('.o')) push(o, 'rel');
  for (const t of copyRule?.targets ?? []) if (t.endsWith('.o')) push(t, 'final');
  return out;
}

export const nvheProfileMetadata: Rule = {
  id: RULE_CODE,
  codes: [RULE_CODE, ALIAS_CODE, STALE_CODE],
  rebuildCodes: [STALE_CODE],
  buildFlags: (words) => effectiveProfileUse(words).map((f) => f.flag),
  prefilter: ['gen-hyprel'],
  fixes: FIXES,
  explorer,

  async analyze(ctx, build, links) {
    const { verdict: v, cut } = verdictOf(ctx);
    if (!v) {
      // No pipeline found; when the evaluation was cut short that is not a verdict.
      return cut
        ? {
            diagnostics: [],
            problem: false,
            anchor: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
            objects: [],
            incomplete: [cut],
          }
        : undefined;
    }
    let evidence: BuildEvidence | undefined;
    // Also without a leak: objects compiled with a flag the Makefile now filters (a fix applied since
    // the last build) say "rebuild to confirm".
    if (v.leaks || v.aliasLeak || !v.dependsOn) {
      const access = await build();
      if (access) {
        const producer = producerOf(v.pipeline, v.pipeline.genHyprelInput);
        const key = [
          RULE_CODE,
          access.buildDir,
          ctx.objDir,
          v.pipeline.genHyprelInput,
          ...(producer?.prerequisites ?? []),
        ].join('\0');
        evidence = await access.memo(key, () => collectEvidence(v, access, ctx.objDir));
      }
    }
    const diagnostics = nvheDiagnostics(v, links, evidence);
    const incomplete = [
      ...(v.incomplete ? [v.incomplete] : []),
      ...(v.dependsOn
        ? [
            `${ctx.file}: the nVHE verdict depends on Kbuild probes the build's records do not answer (${v.probesAssumed.join(', ')})`,
          ]
        : []),
      ...(evidence?.incomplete ?? []),
    ];
    return {
      incomplete,
      diagnostics,
      buildOutput: genHyprelOutput(evidence, diagnostics.length),
      problem: v.leaks || v.aliasLeak,
      anchor: v.anchor,
      objects: pipelineObjects(v),
      links: linksOfRules(v.pipeline.rules),
      hoverNote: hoverNote(v),
    };
  },

  fix(ctx, fixId) {
    if (!FIXES.some((f) => f.id === fixId)) return undefined;
    return computeFix(ctx.text, ctx, fixId as FixForm);
  },

  patchText(ctx, fixId) {
    const input = verdictOf(ctx).verdict?.pipeline.genHyprelInput ?? path.posix.join(ctx.objDir, 'kvm_nvhe.tmp.o');
    return patchText(fixId, input);
  },
};
