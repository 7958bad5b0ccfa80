// Shared by the code actions, the panel's "apply fix" and the patch command: the edits of a fix form
// for a Makefile, built against the exact document version they were computed from.
import * as path from 'node:path';
import { kernelRootOf } from '../build/buildModel';
import type { VersionedEdit } from '../lspExt';
import { ruleInputFor } from '../nvheAnalysis';
import { computeFix, type FixForm, type FixResult } from '../rules/nvheFixes';
import { pathToUri, type Workspace } from '../workspace';

export interface FixForFile {
  file: string;
  version: number | null;
  oldText: string;
  fix: FixResult;
  kernelRoot?: string;
}

export async function fixForFile(ws: Workspace, file: string, form: FixForm): Promise<FixForFile | undefined> {
  const source = await ws.textOf(file);
  if (!source) return undefined;
  const kernelRoot = ws.analyses.get(file)?.kernelRoot ?? (await kernelRootOf(file));
  const fix = computeFix(source.text, ruleInputFor(file, source.text, kernelRoot), form);
  if (!fix) return undefined;
  return { file, version: source.version, oldText: source.text, fix, kernelRoot };
}

export function toVersionedEdit(f: FixForFile): VersionedEdit {
  return { uri: pathToUri(f.file), version: f.version, edits: f.fix.edits };
}

export function relativeToKernel(f: FixForFile): string {
  return f.kernelRoot ? path.relative(f.kernelRoot, f.file) : path.basename(f.file);
}
