// The rule's diagnostics: per link and section, the lines ld.lld will print (exactly), the severity
// of the link's orphan level (error / warning), and related locations for the objects, the flag
// and its .cmd line, the linker script, and the lines that set the level.
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { Span } from '../../make/ast';
import { allStatements } from '../../kbuild/recipes';
import { displayValue } from '../../make/values';
import { ruleDiagnostic, type BuildOutputLine, type Links, type MakefileContext } from '../rule';
import { RULE_CODE, STALE_CODE, type LinkVerdict, type OrphanFinding, type OrphanVerdict } from './analysis';
import { levelOrigin } from './levelOrigin';

const ZERO: Span = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
const MAX_LINES = 8;

/** ld.lld's own line for an orphan (without its `ld.lld: error: ` prefix). */
export function lldLine(f: Pick<OrphanFinding, 'object' | 'section' | 'output'>): string {
  return `${f.object}:(${f.section}) is being placed in '${f.output}'`;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The Makefile line that adds the flag, when this Makefile adds it itself; else the link's recipe line. */
export function anchorOf(
  ctx: MakefileContext,
  l: LinkVerdict,
  flags: string[],
  lineLength: (line: number) => number,
): Span {
  for (const s of allStatements(ctx.makefile.statements)) {
    if (s.kind !== 'assignment') continue;
    if (/REMOVE/.test(s.nameText)) continue;
    if (flags.some((f) => s.valueText.includes(f))) return firstLine(s.span, lineLength);
  }
  const recipe = l.link.anchor ?? l.link.rule.rule.recipe[0]?.span ?? l.link.rule.rule.span;
  return firstLine(recipe, lineLength);
}

function firstLine(span: Span, lineLength: (line: number) => number): Span {
  if (span.end.line === span.start.line) return span;
  return { start: span.start, end: { line: span.start.line, character: lineLength(span.start.line) } };
}

function related(
  ctx: MakefileContext,
  l: LinkVerdict,
  findings: OrphanFinding[],
  links: Links,
  buildDir?: string,
): DiagnosticRelatedInformation[] {
  const out: DiagnosticRelatedInformation[] = [];
  const at = (uri: string, range: Span, message: string) => out.push({ location: { uri, range }, message });
  for (const f of findings.slice(0, MAX_LINES)) {
    // Not built yet: where an in-tree build puts it (the kernel tree's root).
    const base = buildDir ?? ctx.kernelRoot;
    const file = base ? `${base}/${f.file ?? f.object}` : (f.file ?? f.object);
    at(
      links.fileUri(file),
      ZERO,
      `${baseName(f.file ?? f.object)}: section ${f.section}${f.from === 'object' ? '' : ' (predicted from its flags)'}, placed by no rule of ${baseName(l.link.script ?? 'the script')}.`,
    );
  }
  for (const f of findings.slice(0, 3)) {
    const flag = f.flags.find((x) => x.cmdFile);
    if (flag?.cmdFile && flag.span)
      at(links.fileUri(flag.cmdFile), flag.span, `${baseName(f.file ?? f.object)} was compiled with ${flag.flag}.`);
  }
  if (l.script)
    at(
      links.fileUri(l.script.source ?? l.script.file),
      ZERO,
      `${baseName(l.script.source ?? l.script.file)}: the linker script of ${baseName(l.link.output)}; nothing in it places ${[...new Set(findings.map((f) => f.section))].join(', ')}.`,
    );
  if (l.link.levelLine)
    at(
      links.makefileUri,
      l.link.levelLine.span,
      `The link passes --orphan-handling=${l.link.level}${l.link.levelConfig ? ` (from ${l.link.levelConfig})` : ''}.`,
    );
  for (const c of levelOrigin(ctx, l.link.levelConfig, l.link.level))
    at(
      links.fileUri(c.file),
      { start: { line: c.line, character: 0 }, end: { line: c.line, character: c.text.length } },
      `${c.text} in the build's configuration.`,
    );
  return out;
}

function levelWords(l: LinkVerdict): { severity: DiagnosticSeverity; verb: string } {
  if (l.link.level === 'error')
    return {
      severity: DiagnosticSeverity.Error,
      verb: `ld.lld will stop the link of ${baseName(l.link.output)} (--orphan-handling=error)`,
    };
  if (l.link.level === 'warn')
    return {
      severity: DiagnosticSeverity.Warning,
      verb: `ld.lld will warn in the link of ${baseName(l.link.output)} (--orphan-handling=warn)`,
    };
  return {
    severity: DiagnosticSeverity.Warning,
    verb: `ld.lld will report orphans in the link of ${baseName(l.link.output)} (--orphan-handling=${l.link.levelConfig ? `$(${l.link.levelConfig})` : 'unknown'}: an error when the configuration makes it "error", e.g. CONFIG_WERROR=y)`,
  };
}

function linkDiagnostics(
  ctx: MakefileContext,
  l: LinkVerdict,
  links: Links,
  lineLength: (line: number) => number,
  buildDir?: string,
): Diagnostic[] {
  const live = l.findings.filter((f) => !f.stale);
  const out: Diagnostic[] = [];
  if (live.length > 0 && l.link.level !== 'place') {
    const { severity, verb } = levelWords(l);
    const flags = [...new Set(live.flatMap((f) => f.flags.map((x) => x.flag)))];
    const shown = flags.map(displayValue);
    const predicted = live.every((f) => f.from === 'flags');
    const lines = live.slice(0, MAX_LINES).map(lldLine);
    const more = live.length > MAX_LINES ? ` (and ${live.length - MAX_LINES} more)` : '';
    const cause =
      flags.length > 0
        ? ` ${shown.join(', ')} ${flags.length === 1 ? 'makes' : 'make'} ${flags.length === 1 && live.every((f) => f.section === live[0].section) ? 'it' : 'them'}.`
        : '';
    out.push(
      ruleDiagnostic(links, RULE_CODE, {
        range: anchorOf(ctx, l, flags, lineLength),
        severity,
        message:
          `${verb}${predicted ? ', for each of these objects that holds the section' : ''}: ${lines.join('; ')}${more}. ` +
          `${baseName(l.link.script ?? 'The linker script')} places no such section.${cause} Remove the flag for these objects, or place or discard the section in the linker script.`,
        relatedInformation: related(ctx, l, live, links, buildDir),
      }),
    );
  }
  const stale = l.findings.filter((f) => f.stale);
  if (stale.length > 0) {
    const flags = [...new Set(stale.flatMap((f) => f.flags.map((x) => x.flag)))];
    out.push(
      ruleDiagnostic(links, STALE_CODE, {
        range: anchorOf(ctx, l, [], lineLength),
        severity: DiagnosticSeverity.Information,
        message: `The build's ${[...new Set(stale.map((f) => baseName(f.file ?? f.object)))].join(', ')} ${stale.length === 1 ? 'was' : 'were'} compiled with ${flags.join(', ')}, which this Makefile no longer passes to ${stale.length === 1 ? 'it' : 'them'}: the orphan sections in them (${[...new Set(stale.map((f) => f.section))].join(', ')}) go away when they are rebuilt. Rebuild to confirm.`,
        relatedInformation: related(ctx, l, stale, links, buildDir),
      }),
    );
  }
  return out;
}

export function orphanDiagnostics(
  ctx: MakefileContext,
  v: OrphanVerdict,
  links: Links,
  lineLength: (line: number) => number,
): { diagnostics: Diagnostic[]; buildOutput: BuildOutputLine[] } {
  const diagnostics: Diagnostic[] = [];
  const buildOutput: BuildOutputLine[] = [];
  for (const l of v.links) {
    const start = diagnostics.length;
    const ds = linkDiagnostics(ctx, l, links, lineLength, v.buildDir);
    diagnostics.push(...ds);
    // ld.lld's own lines for the orphans the build's objects hold, explained by this link's diagnostic.
    const severity = l.link.level === 'error' ? 'error' : l.link.level === 'warn' ? 'warning' : undefined;
    if (!severity || !v.buildDir) continue;
    for (const f of l.findings) {
      if (f.from !== 'object') continue;
      const i = ds.findIndex((d) => d.code === (f.stale ? STALE_CODE : RULE_CODE));
      if (i >= 0)
        buildOutput.push({ file: `${v.buildDir}/${f.object}`, text: lldLine(f), severity, diagnostic: start + i });
    }
  }
  return { diagnostics, buildOutput };
}
