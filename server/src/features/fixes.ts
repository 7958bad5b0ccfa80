// Shared by the code actions, the fix commands and the patch command: the edits of one rule's fix
// for a make file, built against the exact document version they were computed from.
import * as path from 'node:path';
import type { FixResult } from '../make/edits';
import { MAX_ANALYZED_CHARS, type FixRef, type VersionedEdit } from '../lspExt';
import { fixesNamed, rulesFixes, type FixDef, type MakefileContext, type Rule, type RuleFix } from '../rules/rule';
import { pathToUri, type Workspace } from '../workspace';
import { AnalysisCache, buildAccessFor } from '../analysis';

export interface FixForFile {
  file: string;
  version: number | null;
  oldText: string;
  rule: Rule;
  def: FixDef;
  fix: FixResult;
  ctx: MakefileContext;
}

/** The candidates' fixes that clear a problem in the file's current text (the first only, when `first`). */
async function fixesFor(ws: Workspace, file: string, candidates: RuleFix[], first: boolean): Promise<FixForFile[]> {
  const source = await ws.textOf(file);
  // Files too large to analyze get no fix either: computing one would hold the server for seconds.
  if ('failure' in source || source.text.length > MAX_ANALYZED_CHARS) return [];
  const ctx = await ws.contextOf(file, source.text);
  const out: FixForFile[] = [];
  const { build } = buildAccessFor(
    ctx.kernelRoot,
    ctx.objDir,
    { reader: ws.reader, buildDirectory: ws.settings.buildDirectory || undefined, searchRoots: ws.roots },
    ws.cache ?? new AnalysisCache(),
  );
  for (const { rule, def } of candidates) {
    const fix = await rule.fix(ctx, def.id, build);
    if (fix) out.push({ file, version: source.version, oldText: source.text, rule, def, fix, ctx });
    if (first && out.length > 0) break;
  }
  return out;
}

/** The fix's edits for the file's current text; undefined when it is not needed or would not clear the rule. */
export async function fixForFile(ws: Workspace, file: string, ref: FixRef): Promise<FixForFile | undefined> {
  return (await fixesFor(ws, file, fixesNamed(ws.rules, ref.fix, ref.rule), true))[0];
}

/** Every fix that clears a problem in the file now. */
export function fixesForFile(ws: Workspace, file: string): Promise<FixForFile[]> {
  return fixesFor(ws, file, rulesFixes(ws.rules), false);
}

export function toVersionedEdit(f: FixForFile): VersionedEdit {
  return { uri: pathToUri(f.file), version: f.version, edits: f.fix.edits };
}

export function relativeToKernel(f: FixForFile): string {
  return f.ctx.kernelRoot ? path.relative(f.ctx.kernelRoot, f.file) : path.basename(f.file);
}
