// Turns the nvhe rule's verdict and the build evidence into LSP diagnostics: the message a kernel
// developer reads at a glance, severity (error once the build shows the metadata, else warning),
// a stable code with a link to the explanation, and related locations for every line involved.
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { CmdFlagEvidence } from '../../kbuild/cmdFile';
import type { ObjectReport } from '../../kbuild/buildModel';
import { flagShape } from '../../kbuild/compileFlags';
import type { ElfSection } from '../../elf/types';
import { ruleDiagnostic, type Links } from '../rule';
import { ALIAS_CODE, RULE_CODE, type NvheVerdict } from './analysis';
import { CALL_GRAPH_SECTION } from './sections';

/** Evidence from objects built before the Makefile changed (information only). */
export const STALE_CODE = 'nvhe-stale-build';

export interface ObjectEvidence extends ObjectReport {
  offending: { section: ElfSection; reason: string }[];
  /** What gen-hyprel would print for this object, when it would reject it. */
  genHyprelMessage?: string;
}

export type FlagEvidence = CmdFlagEvidence;

export interface BuildEvidence {
  buildDir: string;
  /** The object gen-hyprel reads, and the hyp objects linked into it. */
  objects: ObjectEvidence[];
  flags: FlagEvidence[];
  /** Build files that could not be read in full (the evidence may be missing something). */
  incomplete: string[];
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Evidence is stale when every profile flag the build's .cmd files show is one the current Makefile
 * no longer lets through: the objects were built before the Makefile changed.
 */
function isStale(v: NvheVerdict, evidence: BuildEvidence): boolean {
  const through = new Set(v.leakingFlags.map(flagShape));
  return evidence.flags.length > 0 && evidence.flags.every((f) => !through.has(flagShape(f.flag)));
}

/** The rule's diagnostics: the verdict, with the build's evidence when it is current. */
export function nvheDiagnostics(v: NvheVerdict, ctx: Links, evidence?: BuildEvidence): Diagnostic[] {
  if (v.dependsOn) return [dependenceDiagnostic(v, ctx)];
  // Without a leak, only objects built before a fix (compiled with flags now filtered), or a stale
  // generated script the next build regenerates without the section, are worth a word.
  if (!v.leaks && !v.aliasLeak && !(evidence && isStale(v, evidence)))
    return v.sectionRemoval?.staleGenerated ? [staleScriptDiagnostic(v, ctx)] : [];
  if (evidence && isStale(v, evidence)) {
    const main = v.leaks || v.aliasLeak ? nvheDiagnostic(v, ctx, undefined) : undefined;
    const objects = [...new Set(evidence.flags.map((f) => baseName(f.target)))];
    const flags = [...new Set(evidence.flags.map((f) => flagShape(f.flag)))];
    const stale: Diagnostic = ruleDiagnostic(ctx, STALE_CODE, {
      range: v.anchor,
      severity: DiagnosticSeverity.Information,
      message:
        `The build in ${evidence.buildDir} was made before the Makefile changed: ${objects.slice(0, 5).join(', ')}${objects.length > 5 ? ` and ${objects.length - 5} more` : ''} ` +
        `were compiled with ${flags.join(', ')}, which this Makefile no longer passes to the hyp compiles. Rebuild to confirm.`,
      relatedInformation: evidence.flags.slice(0, 3).map((f) => ({
        location: { uri: ctx.fileUri(f.cmdFile), range: f.span },
        message: `${baseName(f.target)} was compiled with ${f.flag} (stale).`,
      })),
    });
    return main ? [main, stale] : [stale];
  }
  const d = nvheDiagnostic(v, ctx, evidence);
  return d ? [d] : [];
}

/**
 * The next build links with a script make regenerates (its source is newer, or the command changed),
 * and that script removes the section: no problem, but what the last build left (its script and
 * the objects linked with it) is stale evidence. Information, never a live error.
 */
function staleScriptDiagnostic(v: NvheVerdict, ctx: Links): Diagnostic {
  const removal = v.sectionRemoval as NonNullable<NvheVerdict['sectionRemoval']>;
  const stale = removal.staleGenerated as NonNullable<typeof removal.staleGenerated>;
  const why = stale.reasons.length > 0 ? ` (${stale.reasons.slice(0, 2).join('; ')})` : '';
  return ruleDiagnostic(ctx, STALE_CODE, {
    range: v.anchor,
    severity: DiagnosticSeverity.Information,
    message:
      `The build's ${stale.file} is from an earlier build: make will regenerate it${why}. ` +
      `The next build links ${baseName(v.pipeline.genHyprelInput)} with it, and ${removal.how}; ` +
      `objects the last build linked with the old ${stale.file} are stale evidence. Rebuild to confirm.`,
  });
}

/**
 * The verdict depends on probes the build's records do not answer (another compiler, an option the
 * table does not hold): information, not a warning, and never "clean".
 */
function dependenceDiagnostic(v: NvheVerdict, ctx: Links): Diagnostic {
  return ruleDiagnostic(ctx, RULE_CODE, {
    range: v.anchor,
    severity: DiagnosticSeverity.Information,
    message:
      `Whether profile metadata reaches gen-hyprel depends on what the build's toolchain accepts, which its configuration and commands do not say: ${v.dependsOn}. ` +
      `Kbuild runs these probes when it builds; Kbuild Diagnostics does not run them.`,
    relatedInformation: [genHyprelRelated(v, ctx)],
  });
}

/** Where gen-hyprel runs, the line every verdict of this rule leads to. */
function genHyprelRelated(v: NvheVerdict, ctx: Links): DiagnosticRelatedInformation {
  return {
    location: { uri: ctx.makefileUri, range: v.pipeline.genHyprel.span },
    message: `gen-hyprel reads ${v.pipeline.genHyprelInput} here and fails on any SHT_REL section.`,
  };
}

/** Related locations in the Makefile: gen-hyprel, what makes its input, HYPCOPY, ineffective fixes, caveats. */
function pipelineRelated(v: NvheVerdict, ctx: Links, input: string): DiagnosticRelatedInformation[] {
  const related: DiagnosticRelatedInformation[] = [];
  const here = (span: NvheVerdict['anchor'], message: string) =>
    related.push({ location: { uri: ctx.makefileUri, range: span }, message });
  related.push(genHyprelRelated(v, ctx));
  const producer = v.pipeline.rules.find((r) => r.targets.includes(v.pipeline.genHyprelInput));
  if (producer)
    here(producer.rule.span, `${input} is made here; ld -r keeps SHF_EXCLUDE sections such as ${CALL_GRAPH_SECTION}.`);
  if (v.pipeline.hypcopy)
    here(
      v.pipeline.hypcopy.span,
      'HYPCOPY (objcopy --prefix-symbols) copies the object with whatever sections reach it.',
    );
  for (const i of v.ineffective) here(i.span, i.message);
  if (v.spellingsDependOn)
    here(
      v.anchor,
      `Which spellings get through depends on probes the build's records do not answer (both answers were checked): ${v.spellingsDependOn}.`,
    );
  if (!v.flagsFromTree)
    here(
      v.anchor,
      'Flags judged with the built-in Kbuild formula (_c_flags of Linux 5.x/6.x): no scripts/Makefile.lib was found for this tree, so its own Kbuild lines (AutoFDO, Propeller) were not read.',
    );
  return related;
}

/** Related locations from the build's own files: offending sections, files not read in full, compile flags. */
function evidenceRelated(
  v: NvheVerdict,
  ctx: Links,
  evidence: BuildEvidence | undefined,
  offendingObjects: BuildEvidence['objects'],
  input: string,
): DiagnosticRelatedInformation[] {
  const related: DiagnosticRelatedInformation[] = [];
  // The gen-hyprel input first, then a few hyp objects: enough to show where the sections come from.
  const shown = [
    ...offendingObjects.filter((o) => baseName(o.path) === input),
    ...offendingObjects.filter((o) => baseName(o.path) !== input).slice(0, 3),
  ];
  for (const o of shown) {
    for (const s of o.offending.slice(0, 2)) {
      related.push({
        location: {
          uri: ctx.fileUri(o.path),
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        },
        message: `${baseName(o.path)}: section [${s.section.index}] ${s.section.name} (${s.section.typeName}): ${s.reason}`,
      });
    }
  }
  for (const why of (evidence?.incomplete ?? []).slice(0, 3)) {
    related.push({ location: { uri: ctx.makefileUri, range: v.anchor }, message: `Not read in full: ${why}` });
  }
  for (const f of (evidence?.flags ?? []).slice(0, 3)) {
    related.push({
      location: { uri: ctx.fileUri(f.cmdFile), range: f.span },
      message: `${baseName(f.target)} was compiled with ${f.flag}.`,
    });
  }
  return related;
}

/** The message when the build's own objects or .cmd files show the metadata (an error). */
function seenMessage(
  evidence: BuildEvidence | undefined,
  seen: BuildEvidence['objects'][number] | undefined,
  addedCount: number,
  advice: string,
): string {
  const tmp = evidence?.objects.find((o) => o.genHyprelMessage);
  const seenFlag = evidence?.flags[0];
  const parts: string[] = [];
  if (seen) {
    const rel = seen.offending.find((s) => s.section.typeName === 'REL') ?? seen.offending[0];
    parts.push(`the build's ${baseName(seen.path)} holds ${rel.section.name} (${rel.section.typeName})`);
  }
  if (seenFlag) parts.push(`${baseName(seenFlag.target)} was compiled with ${seenFlag.flag}`);
  return (
    `Profile metadata reaches gen-hyprel: ${parts.join('; ')}. ` +
    (tmp?.genHyprelMessage
      ? `gen-hyprel will print: ${tmp.genHyprelMessage}. `
      : `gen-hyprel rejects the SHT_REL section. `) +
    (addedCount === 0
      ? `Filter the profile flags out of KBUILD_CFLAGS (form A) or remove ${CALL_GRAPH_SECTION} before gen-hyprel (form B).`
      : advice)
  );
}

/** The message when the Makefile lets profile flags through (a warning). */
function leakMessage(v: NvheVerdict, fromKcflags: string[], added: Set<string>, input: string, advice: string): string {
  const ways: string[] = [];
  if (fromKcflags.length > 0)
    ways.push(
      `${fromKcflags.join(', ')} in KBUILD_CFLAGS (e.g. from KCFLAGS) survive${fromKcflags.length === 1 ? 's' : ''} into the nVHE hyp compiles`,
    );
  if (added.size > 0)
    ways.push(
      `${v.flagsFromTree ? "Kbuild's own c_flags (scripts/Makefile.lib, with this configuration, when a profile is given)" : 'the Makefile'} add${added.size === 1 ? 's' : ''} ${[...added].join(', ')} to the hyp compiles`,
    );
  return (
    `Profile metadata can reach gen-hyprel: ${ways.join('; ')}, ` +
    `and nothing removes ${CALL_GRAPH_SECTION} before gen-hyprel reads ${input}. With a profile, clang emits it with an SHT_REL section and gen-hyprel fails. ` +
    advice
  );
}

/** The hint when only clang's aliases of the filtered flags get through. */
function aliasDiagnostic(
  v: NvheVerdict,
  ctx: Links,
  flags: string[],
  related: DiagnosticRelatedInformation[],
): Diagnostic {
  return ruleDiagnostic(ctx, ALIAS_CODE, {
    range: v.anchor,
    severity: DiagnosticSeverity.Hint,
    message: `${flags.join(', ')} still reach${flags.length === 1 ? 'es' : ''} the nVHE hyp compiles: clang accepts ${flags.length === 1 ? 'this alias' : 'these aliases'} of the profile flags this Makefile filters, and gen-hyprel fails the same way if a build uses ${flags.length === 1 ? 'it' : 'them'}.`,
    relatedInformation: related,
  });
}

function nvheDiagnostic(v: NvheVerdict, ctx: Links, evidence?: BuildEvidence): Diagnostic | undefined {
  const input = baseName(v.pipeline.genHyprelInput);
  const flags = [...new Set(v.leakingFlags.map(flagShape))];
  const offendingObjects = (evidence?.objects ?? []).filter((o) => o.offending.length > 0);
  const related = [...pipelineRelated(v, ctx, input), ...evidenceRelated(v, ctx, evidence, offendingObjects, input)];

  // Which forms help depends on where the flags come from: Kbuild's own (c_flags) ones get past a
  // KBUILD_CFLAGS filter (form A), so the advice names form C for them, as the offered fixes do.
  const added = new Set(v.addedFlags.map(flagShape));
  const fromKcflags = flags.filter((f) => !added.has(f));
  const advice =
    added.size === 0
      ? 'Filter the flags (form A) or remove the section (form B).'
      : fromKcflags.length === 0
        ? "Remove the section (form B) or turn Kbuild's profile off for this directory (form C); filtering KBUILD_CFLAGS does not reach c_flags."
        : "Remove the section (form B), or turn Kbuild's profile off for this directory (form C) and filter the flags (form A).";

  const seen = offendingObjects.find((o) => baseName(o.path) === input) ?? offendingObjects[0];
  let message: string;
  let severity: DiagnosticSeverity;
  if (seen || evidence?.flags[0]) {
    severity = DiagnosticSeverity.Error;
    message = seenMessage(evidence, seen, added.size, advice);
  } else if (!v.leaks) {
    return aliasDiagnostic(v, ctx, flags, related);
  } else {
    severity = DiagnosticSeverity.Warning;
    message = leakMessage(v, fromKcflags, added, input, advice);
  }
  return ruleDiagnostic(ctx, RULE_CODE, {
    range: v.anchor,
    severity,
    message,
    relatedInformation: related,
  });
}
