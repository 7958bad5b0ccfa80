// Shared by the code actions, the fix commands and the patch command: the edits of one rule's fix
// for a make file, built against the exact document version they were computed from.
import * as path from 'node:path';
import type { FixResult } from '../make/edits';
import { type FixRef, type VersionedEdit } from '../lspExt';
import { fixesNamed, rulesFixes, type FixDef, type MakefileContext, type Rule, type RuleFix } from '../rules/rule';
import { pathToUri, type Workspace } from '../workspace';
import { AnalysisCache, buildAccessFor } from '../analysis';
import { tooLargeToAnalyze } from './documentModel';

export interface FixForFile {
  file: string;
  version: number | null;
  oldText: string;
  rule: Rule;
  def: FixDef;
  fix: FixResult;
  ctx: MakefileContext;
  /** Every file the fix edits, each with the version of the open document it was computed on. */
  changes: VersionedEdit[];
}

/** The fix's title and whether it is preferred, for this finding (the fix's own, else its definition's). */
export function titleOf(f: FixForFile): string {
  return f.fix.title ?? f.def.title;
}
export function isPreferred(f: FixForFile): boolean {
  return f.fix.preferred ?? !!f.def.preferred;
}

/**
 * The edits of every file a fix changes: the make file's (when it has any), then each other file's,
 * versioned as the editor holds it. undefined when another file is open with text other than the text
 * the fix was computed on (its edits would land in the wrong place).
 */
function changesOf(ws: Workspace, file: string, version: number | null, fix: FixResult): VersionedEdit[] | undefined {
  const out: VersionedEdit[] = fix.edits.length > 0 ? [{ uri: pathToUri(file), version, edits: fix.edits }] : [];
  for (const other of fix.files ?? []) {
    const uri = pathToUri(other.file);
    const open = ws.documents.get(uri);
    if (open && open.getText() !== other.oldText) return undefined;
    out.push({ uri, version: open?.version ?? null, edits: other.edits });
  }
  return out.length > 0 ? out : undefined;
}

/** The candidates' fixes that clear a problem in the file's current text (the first only, when `first`). */
async function fixesFor(ws: Workspace, file: string, candidates: RuleFix[], first: boolean): Promise<FixForFile[]> {
  const source = await ws.textOf(file);
  // Files too large to analyze get no fix either: computing one would hold the server for seconds.
  if ('failure' in source || tooLargeToAnalyze(source.text)) return [];
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
    const changes = fix && changesOf(ws, file, source.version, fix);
    if (fix && changes) out.push({ file, version: source.version, oldText: source.text, rule, def, fix, ctx, changes });
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

/** The fix's first edit (the make file's, when it edits the make file) and the others. */
export function toVersionedEdits(f: FixForFile): { edit: VersionedEdit; others: VersionedEdit[] } {
  const [edit, ...others] = f.changes;
  return { edit, others };
}

/** A file the fix edits (the make file by default), relative to the kernel tree. */
export function relativeToKernel(f: FixForFile, file = f.file): string {
  return f.ctx.kernelRoot ? path.relative(f.ctx.kernelRoot, file) : path.basename(file);
}
