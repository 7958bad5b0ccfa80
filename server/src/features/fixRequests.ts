// Custom requests around fixes: the fixes available for a file (for a picker), the edit of one fix
// (for commands and the panel), the patch for `git am`, and the line that lets a problem through
// (for "reveal"). Generic over the rules.
import { readRegularText } from '../fs/safeRead';
import * as os from 'node:os';
import * as path from 'node:path';
import { availableFixes, fixEdit, fixLocation, makePatch } from '../lspExt';
import { makePatch as writePatch } from '../patch';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { fixesForFile, fixForFile, isPreferred, relativeToKernel, titleOf, toVersionedEdits } from './fixes';
import { onRequest } from './requests';

/**
 * The file a request is about: the one named; else, among files a rule applies to whose build
 * directory holds `inBuild` (an object or build directory the panel points at) when given, one with
 * a problem (or any).
 */
function pickFile(ws: Workspace, uri?: string, inBuild?: string): string | undefined {
  if (uri) return uriToPath(uri);
  const within = (f: string) => {
    const dir = ws.analyses.get(f)?.buildDir;
    return !inBuild || (dir !== undefined && (inBuild === dir || inBuild.startsWith(dir + path.sep)));
  };
  const candidates = [...ws.ruleFiles].filter(within);
  const hasProblem = (f: string) => [...(ws.analyses.get(f)?.findings.values() ?? [])].some((x) => x.problem);
  return candidates.find(hasProblem) ?? candidates[0];
}

/** `Name <email>` from ~/.gitconfig, read as text (no program is run). */
async function gitAuthor(): Promise<string> {
  const read = await readRegularText(path.join(os.homedir(), '.gitconfig'), { maxBytes: 1024 * 1024 });
  if (read.ok) {
    const text = read.text;
    const user = /\[user\]([^[]*)/.exec(text)?.[1] ?? '';
    const name = /^\s*name\s*=\s*(.+)$/m.exec(user)?.[1]?.trim();
    const email = /^\s*email\s*=\s*(.+)$/m.exec(user)?.[1]?.trim();
    if (name && email) return `${name} <${email}>`;
  }
  return 'Kbuild Diagnostics <kbuild-diagnostics@localhost>';
}

export function registerFixRequests(ws: Workspace): void {
  onRequest(ws.connection, availableFixes, async (p) => {
    const file = pickFile(ws, p.makefileUri);
    if (!file) return { fixes: [] };
    const fixes = await fixesForFile(ws, file);
    return {
      fixes: fixes.map((f) => ({
        rule: f.rule.id,
        fix: f.def.id,
        title: titleOf(f),
        uri: f.changes[0].uri,
        preferred: isPreferred(f),
      })),
    };
  });

  onRequest(ws.connection, fixEdit, async (p) => {
    const file = pickFile(ws, p.makefileUri);
    if (!file) return { edit: null, reason: 'No make file in the workspace has a problem these rules fix.' };
    const f = await fixForFile(ws, file, p);
    if (!f)
      return {
        edit: null,
        reason: `No fix needed: ${path.basename(file)} has no problem fix ${p.fix} clears (or the fix cannot be applied to it).`,
      };
    return toVersionedEdits(f);
  });

  onRequest(ws.connection, makePatch, async (p) => {
    const file = uriToPath(p.makefileUri);
    if (!file) return { patch: null, reason: 'Not a file URI.' };
    const f = await fixForFile(ws, file, p);
    if (!f) return { patch: null, reason: 'No fix needed for this file.' };
    const text = f.rule.patchText(f.ctx, f.def.id, f.fix);
    const files = [
      ...(f.fix.edits.length > 0
        ? [{ relativePath: relativeToKernel(f), oldText: f.oldText, newText: f.fix.newText }]
        : []),
      ...(f.fix.files ?? []).map((o) => ({
        relativePath: relativeToKernel(f, o.file),
        oldText: o.oldText,
        newText: o.newText,
      })),
    ];
    const out = writePatch({ ...text, files, author: await gitAuthor(), date: new Date() });
    return { patch: out.patch, fileName: out.fileName };
  });

  onRequest(ws.connection, fixLocation, async (p) => {
    const target = p.objectUri ?? p.buildUri;
    const file = pickFile(ws, undefined, target ? uriToPath(target) : undefined);
    const findings = file ? [...(ws.analyses.get(file)?.findings.values() ?? [])] : [];
    const finding = findings.find((x) => x.problem) ?? findings[0];
    if (!file || !finding) return { location: null };
    return { location: { uri: pathToUri(file), range: finding.anchor } };
  });
}
