// Rule orphan-sections as a unit: what the generic layers call. Links: links.ts; analysis: analysis.ts;
// diagnostics: diagnostic.ts; fixes: fixes.ts; patch text: patchText.ts; the flag table:
// sectionFlags.ts; the explorer: explorer.ts; the script fix: scriptFix.ts; hover notes: hover.ts;
// explanation: explanation.md.
import * as path from 'node:path';
import { splitLines } from '../../make/edits';
import type { Rule, RuleFinding } from '../rule';
import { analyzeOrphans, liveFindings, RULE_CODE, STALE_CODE } from './analysis';
import { anchorOf, lldLine, orphanDiagnostics } from './diagnostic';
import { explorer, explorerFacts } from './explorer';
import { hoverNote } from './hover';
import { computeFix, FIXES } from './fixes';
import { patchText, scriptPatchText } from './patchText';
import { effectiveSectionFlags } from './sectionFlags';
import { SCRIPT_SECTION } from './scriptFix';

const ZERO = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** `arch/arm64/kernel/vdso` -> `arm64: vdso` (the kernel's subject prefix style). */
function subjectPrefix(objDir: string): string {
  const parts = objDir.split('/');
  return parts[0] === 'arch' && parts.length > 2
    ? `${parts[1]}: ${parts[parts.length - 1]}`
    : parts[parts.length - 1] || 'kbuild';
}

export const orphanSections: Rule = {
  id: RULE_CODE,
  codes: [RULE_CODE, STALE_CODE],
  rebuildCodes: [STALE_CODE],
  buildFlags: (words) => effectiveSectionFlags(words).map((f) => f.flag),
  prefilter: ['--orphan-handling'],
  fixes: FIXES,
  explorer,

  async analyze(ctx, build, links) {
    const access = await build();
    const v = await analyzeOrphans(ctx, access);
    if (!v) return undefined;
    if ('cut' in v) return { diagnostics: [], problem: false, anchor: ZERO, objects: [], incomplete: [v.cut] };
    const lines = splitLines(ctx.text);
    const lineLength = (l: number) => lines[l]?.length ?? 0;
    const live = liveFindings(v);
    const first = live[0]?.link ?? v.links[0];
    const { diagnostics, buildOutput } = orphanDiagnostics(ctx, v, links, lineLength);
    const finding: RuleFinding = {
      diagnostics,
      buildOutput,
      problem: live.length > 0,
      anchor: anchorOf(ctx, first, [...new Set(live.flatMap((l) => l.finding.flags.map((f) => f.flag)))], lineLength),
      ...explorerFacts(ctx, v),
      incomplete: v.incomplete,
      hoverNote: hoverNote(ctx.makefile, v),
    };
    return finding;
  },

  fix(ctx, fixId, build) {
    return computeFix(ctx, fixId, build);
  },

  patchText(ctx, fixId, fix) {
    if (fixId === SCRIPT_SECTION) {
      // The sections the fix names, read back from its own lines.
      const text = (fix?.files ?? []).flatMap((f) => f.edits.map((e) => e.newText)).join('\n');
      const sections = [...new Set([...text.matchAll(/\*\(([^)\s]+)\)/g)].map((m) => m[1]))];
      const scripts = (fix?.files ?? []).map((f) => path.basename(f.file));
      // The fix places the sections exactly where it is the preferred one (links of kernel objects).
      return scriptPatchText(subjectPrefix(ctx.objDir), sections, scripts, fix?.preferred === true);
    }
    // The patterns and objects the fix adds, read back from its own lines.
    const added = (fix?.edits ?? [])
      .flatMap((e) => e.newText.split(/\r?\n/))
      .filter((l) => /^[A-Za-z0-9_.-]+ \+= /.test(l));
    const patterns = [...new Set(added.flatMap((l) => l.split(' += ')[1].split(/\s+/)))].filter(Boolean);
    return patchText(subjectPrefix(ctx.objDir), patterns);
  },
};

export { lldLine };
