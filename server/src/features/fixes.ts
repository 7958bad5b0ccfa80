// Shared by the code actions, the fix commands and the patch command: the edits of one rule's fix
// for a make file, built against the exact document version they were computed from.
import * as path from 'node:path';
import type { FixResult } from '../make/edits';
import { MAX_ANALYZED_CHARS, type FixRef, type VersionedEdit } from '../lspExt';
import type { FixDef, MakefileContext, Rule } from '../rules/rule';
import { pathToUri, type Workspace } from '../workspace';

export interface FixForFile {
  file: string;
  version: number | null;
  oldText: string;
  rule: Rule;
  def: FixDef;
  fix: FixResult;
  ctx: MakefileContext;
}

/** The rules and fix definitions a reference names (every rule with that fix id when no rule is given). */
export function resolveFix(ws: Workspace, ref: FixRef): { rule: Rule; def: FixDef }[] {
  const out: { rule: Rule; def: FixDef }[] = [];
  for (const rule of ws.rules) {
    if (ref.rule && rule.id !== ref.rule) continue;
    const def = rule.fixes.find((f) => f.id === ref.fix);
    if (def) out.push({ rule, def });
  }
  return out;
}

/** The fix's edits for the file's current text; undefined when it is not needed or would not clear the rule. */
export async function fixForFile(ws: Workspace, file: string, ref: FixRef): Promise<FixForFile | undefined> {
  const source = await ws.textOf(file);
  // Files too large to analyze get no fix either: computing one would hold the server for seconds.
  if ('failure' in source || source.text.length > MAX_ANALYZED_CHARS) return undefined;
  const ctx = await ws.contextOf(file, source.text);
  for (const { rule, def } of resolveFix(ws, ref)) {
    const fix = rule.fix(ctx, def.id);
    if (fix) return { file, version: source.version, oldText: source.text, rule, def, fix, ctx };
  }
  return undefined;
}

/** Every fix that clears a problem in the file now. */
export async function fixesForFile(ws: Workspace, file: string): Promise<FixForFile[]> {
  const source = await ws.textOf(file);
  if ('failure' in source || source.text.length > MAX_ANALYZED_CHARS) return [];
  const ctx = await ws.contextOf(file, source.text);
  const out: FixForFile[] = [];
  for (const rule of ws.rules) {
    for (const def of rule.fixes) {
      const fix = rule.fix(ctx, def.id);
      if (fix) out.push({ file, version: source.version, oldText: source.text, rule, def, fix, ctx });
    }
  }
  return out;
}

export function toVersionedEdit(f: FixForFile): VersionedEdit {
  return { uri: pathToUri(f.file), version: f.version, edits: f.fix.edits };
}

export function relativeToKernel(f: FixForFile): string {
  return f.ctx.kernelRoot ? path.relative(f.ctx.kernelRoot, f.file) : path.basename(f.file);
}
